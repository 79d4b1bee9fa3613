"""What the overview shows, decided on the server from the store and the clock. Pure.

Fail closed: no report, or a report older than the staleness limit, is never shown green.
Staleness is decided here, on the server, because browsers throttle timers in background tabs.
Unknown figures (state UNKNOWN) have their own band and say why, in words; a report whose
adjusted equity is ≤ 0 is in liquidation whatever else is unknown, and its uniMMR reads "≤ 0".

One severity per account (``severity``) decides the colour, icon and words of every surface —
hero, header, account tiles, kiosk: the worst of the uniMMR band (the configured product's
levels), the distance to liquidation (``SeverityBands``), unknown figures, stale data and
Binance's own ``accountStatus``, with the reasons in words. The banner-facing helpers
(``margin_usage``, ``top_up_advice_for``, ``liquidation_words``) are the one spelling of those
figures for every surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.feed_status import FeedStatus
from app.limits import LIMITS_PER_MINUTE
from app.store.store import StoredEvent, StoredReport
from app.web.figures import (
    agreement,
    buffer_words,
    calibration_words,
    gross_leverage,
    leverage_text,
    margin_usage,
    top_up_advice_for,
    top_up_advice_of,
    top_up_needed_of,
    unknown_reasons,
)
from app.web.format import (
    NO_LIQUIDATION,
    UNKNOWN_TEXT,
    fmt_age,
    fmt_price,
    fmt_uni_mmr,
    fmt_usd,
)
from app.web.ladder import lv
from app.web.severity import (
    IN_LIQUIDATION,
    OK,
    STALE,
    UNKNOWN,
    Severity,
    SeverityBands,
    liquidation_words,
    severity,
)
from app.web.times import TimePref, checked_pref, clock_text
from risk.model import RiskReport, RiskRules

# Names other packages import from here (the CLI, the alert rules, tests beyond the web's).
__all__ = [
    "NO_NEW_DATA",
    "DeskView",
    "SeverityBands",
    "build_view",
    "calibration_words",
    "checked_pref",
    "clock_text",
    "top_up_advice_for",
]

MARKS_TEXT = {
    "stream": "marks: live stream",
    "rest": "marks: REST fallback (stream down)",
    "poll": "marks: with each account poll",
}
WEIGHT_FRESH_MS = 120_000
# Stale data with no failure on record; a store in trouble (its banner) says why instead.
NO_NEW_DATA = "no new data: is the collector running?"


def feed_state(
    report: StoredReport | None,
    event: StoredEvent | None,
    stale: bool,
    pref: TimePref | None = None,
    stream_event: StoredEvent | None = None,
) -> tuple[FeedStatus, str]:
    """The newest event's status if it came after the newest account poll (reports between
    polls only move marks; they do not clear a failing poll), or if it explains stale data
    (frozen prices); DOWN when the data is stale with no failure on record (the collector
    itself has stopped); the account's user data stream down (``stream_event``, the newest
    about it) for as long as it is; else OK."""

    def shown(e: StoredEvent) -> tuple[FeedStatus, str]:
        where = f" ({e.endpoint})" if e.endpoint else ""
        return FeedStatus(e.kind), f"{e.message}{where} at {clock_text(e.at_ms, pref)}"

    if event is not None and (report is None or event.at_ms > report.positions_at_ms):
        return shown(event)
    if report is None:
        return FeedStatus.DOWN, "waiting for the first data from the exchange"
    if stale:
        if event is not None and event.at_ms >= report.data_time_ms:
            return shown(event)
        return FeedStatus.DOWN, NO_NEW_DATA
    if stream_event is not None and FeedStatus(stream_event.kind) is not FeedStatus.OK:
        e = stream_event
        return FeedStatus(e.kind), f"{e.message} (since {clock_text(e.at_ms, pref)})"
    return FeedStatus.OK, ""


def weight_note(weight: tuple[int, dict[str, int]] | None, now_ms: int) -> str:
    """The API weight the exchange last reported, as a share of each family's minute budget."""
    if weight is None or now_ms - weight[0] > WEIGHT_FRESH_MS:
        return "API weight: —"
    used = weight[1]
    parts = [
        f"{fam} {100 * used[fam] / LIMITS_PER_MINUTE[fam]:.0f} %"
        for fam in sorted(used)
        if fam in LIMITS_PER_MINUTE
    ]
    return "API weight (1 min): " + " · ".join(parts)


def _btc(price: float | None) -> str:
    """The BTC price where the account liquidates; none: ``NO_LIQUIDATION``."""
    return NO_LIQUIDATION if price is None else fmt_price(price)


def _top_up_figure(usd: float) -> str:
    """The top-up tile's figure: ∞ when no stablecoin top-up gets there (the note says so)."""
    return "∞" if usd == math.inf else fmt_usd(usd)


# ---- The overview's view model ------------------------------------------------------------------


@dataclass(frozen=True)
class DeskView:
    uni_mmr: str
    band_class: str
    status_icon: str
    status_text: str
    adjusted_equity: str
    maint_margin: str
    reported_uni_mmr: str
    reported_status: str
    liquidation: str
    liquidation_note: str
    top_up: str
    top_up_note: str
    age: str
    stale: bool
    as_of: str
    feed_status: str
    feed_message: str
    simulated: bool
    marks_note: str = ""
    weight_note: str = ""
    margin_usage: str = "—"
    buffer: str = "—"
    buffer_note: str = ""
    unknown: bool = False  # some figure could not be computed (state UNKNOWN)
    reasons: tuple[str, ...] = ()  # why, in words: path, row, field, problem
    summary: str = ""  # the top bar's one line, on every view
    recon_mark: str = ""  # "✔ matches Binance (±0.5 %)" / "✖ differs …" / "— …"
    recon_class: str = "recon-na"
    calibration: str = ""  # "calibrated" / "uncalibrated"
    calibration_note: str = ""  # uncalibrated: what that means and by how much, in words
    severity: Severity | None = None
    also: tuple[str, ...] = ()  # the severity's other reasons, under the hero's status line
    leverage: str = "n/a"  # gross: Σ |position notional| ÷ adjusted equity
    buffer_owes: bool = False  # the net stablecoin buffer is negative
    in_liquidation: bool = False


def build_view(
    report: StoredReport | None,
    event: StoredEvent | None,
    now_ms: int,
    stale_after_s: float,
    weight: tuple[int, dict[str, int]] | None = None,
    buffer_usd: float | None = None,
    *,
    rules: RiskRules | None = None,
    detail: RiskReport | None = None,
    bands: SeverityBands | None = None,
    time_pref: TimePref | None = None,
    stream_event: StoredEvent | None = None,
) -> DeskView:
    """The overview and the header from the newest report. ``buffer_usd`` (the gross buffer)
    is read from ``detail`` when given; the net buffer is shown as such. ``stream_event``: the
    newest event about the account's user data stream (``feed_state``)."""
    rules = rules or RiskRules()
    sev = severity(report, now_ms, stale_after_s=stale_after_s, rules=rules, bands=bands)
    if report is None:
        feed, feed_message = feed_state(None, event, stale=True, pref=time_pref)
        return DeskView(
            uni_mmr="—",
            band_class="band-stale",
            status_icon="…",
            status_text="NO DATA YET",
            adjusted_equity="—",
            maint_margin="—",
            reported_uni_mmr="—",
            reported_status="",
            liquidation="—",
            liquidation_note="",
            top_up="—",
            top_up_note="",
            age="—",
            stale=True,
            as_of="",
            feed_status=feed.value,
            feed_message=feed_message,
            simulated=False,
            weight_note=weight_note(weight, now_ms),
            summary="… NO DATA YET",
            severity=sev,
        )
    age_s = (now_ms - report.data_time_ms) / 1000
    stale = sev.level == STALE
    feed, feed_message = feed_state(report, event, stale, pref=time_pref, stream_event=stream_event)
    uni = fmt_uni_mmr(report.uni_mmr)
    in_liquidation = report.status in IN_LIQUIDATION
    liquidation = liquidation_words(
        report.status,
        report.uni_mmr,
        report.liquidation_down_pct,
        report.liquidation_up_pct,
        rules,
        unknown=report.unknown,
    )
    if in_liquidation:
        liquidation_note = f"uniMMR {uni}; Binance liquidates at {lv(rules.liquidation_uni_mmr)}"
    elif liquidation == UNKNOWN_TEXT:
        liquidation_note = "the stress figures are unknown"
    else:
        liquidation_note = (
            f"BTC at {_btc(report.btc_liquidation_down_usd)} / "
            f"{_btc(report.btc_liquidation_up_usd)}"
        )
    mark, mark_class = agreement(report, detail, rules.reconcile_tolerance)
    calibration, calibration_note = calibration_words(report, detail)
    if calibration == "uncalibrated" and not report.unknown and not in_liquidation:
        liquidation_note += " · uncalibrated"
    net = None if detail is None else detail.net_stablecoin_buffer_usd
    gross = buffer_usd if detail is None else detail.stablecoin_buffer_usd
    buffer, buffer_note, owes = buffer_words(net, gross)
    shows_uni = (
        sev.level != UNKNOWN
        and not (stale and sev.last and sev.last.level == UNKNOWN)
        and "uniMMR" not in sev.brief  # a band reason names it already
    )
    summary = (
        f"{sev.icon} {sev.brief}"
        + (f" · uniMMR {uni}" if shows_uni else "")
        + f" · {fmt_age(age_s)}"
        + (" · uncalibrated" if calibration == "uncalibrated" and not report.unknown else "")
    )
    if sev.level == OK:  # how far the calm goes: the nearer liquidating move
        also = tuple(
            r for r, src in zip(sev.reasons, sev.sources, strict=True) if src == "distance"
        )
    else:
        also = sev.reasons[1:] if sev.level != UNKNOWN else ()
    if stale:
        also = sev.reasons[:1] + sev.reasons[2:]  # the age, then what the old data said
    return DeskView(
        uni_mmr=uni,
        band_class=sev.css,
        status_icon=sev.icon,
        status_text=sev.headline,
        adjusted_equity=fmt_usd(report.adjusted_equity_usd),
        maint_margin=fmt_usd(report.maint_margin_usd),
        reported_uni_mmr=fmt_uni_mmr(report.reported_uni_mmr),
        reported_status=f"accountStatus {report.reported_status or '—'}",
        liquidation=liquidation,
        liquidation_note=liquidation_note,
        top_up=_top_up_figure(top_up_needed_of(report, detail)),
        top_up_note=top_up_advice_of(report, detail),
        age=fmt_age(age_s),
        stale=stale,
        as_of=f"as of {clock_text(report.data_time_ms, time_pref)}",
        feed_status=feed.value,
        feed_message=feed_message,
        simulated=report.simulated,
        marks_note=(
            f"{MARKS_TEXT.get(report.marks_source, report.marks_source)} · positions "
            f"{fmt_age((now_ms - report.positions_at_ms) / 1000)} old"
        ),
        weight_note=weight_note(weight, now_ms),
        margin_usage=margin_usage(report.maint_margin_usd, report.adjusted_equity_usd),
        buffer=buffer,
        buffer_note=buffer_note,
        unknown=report.unknown,
        reasons=unknown_reasons(report, detail) if report.unknown else (),
        summary=summary,
        recon_mark=mark,
        recon_class=mark_class,
        calibration=calibration,
        # UNKNOWN says more than "uncalibrated" already: no stress figure is shown at all.
        calibration_note="" if report.unknown else calibration_note,
        severity=sev,
        also=also,
        leverage=leverage_text(
            gross_leverage(() if detail is None else detail.positions, report.adjusted_equity_usd)
        ),
        buffer_owes=owes,
        in_liquidation=in_liquidation,
    )
