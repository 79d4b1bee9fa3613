"""What the overview shows, decided on the server from the store and the clock. Pure.

Fail closed: no report, or a report older than the staleness limit, is never shown green.
Staleness is decided here, on the server, because browsers throttle timers in background tabs.
Unknown figures (state UNKNOWN) have their own band and say why, in words; a report whose
adjusted equity is ≤ 0 is in liquidation whatever else is unknown, and its uniMMR reads "≤ 0".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from app.collector.feed import FeedStatus
from app.store.store import StoredEvent, StoredReport
from app.web.format import (
    UNKNOWN_TEXT,
    fmt_age,
    fmt_pct,
    fmt_price,
    fmt_rel,
    fmt_share,
    fmt_uni_mmr,
    fmt_usd,
    is_unknown,
    plain_words,
    uni_mmr_of,
)
from app.web.ladder import band_text, band_word, lv
from connectors.binance.limits import LIMITS_PER_MINUTE
from risk.liquidation import MAX_UP_MOVE
from risk.model import MarginBand, RiskRules

BEYOND_UP = f"> +{100 * MAX_UP_MOVE:,.0f} %"
"""No liquidation up to the largest rally the root search tries."""


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


def utc_clock(ms: int) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(ms / 1000))


MARKS_TEXT = {
    "stream": "marks: live stream",
    "rest": "marks: REST fallback (stream down)",
    "poll": "marks: with each account poll",
}
WEIGHT_FRESH_MS = 120_000


def feed_state(
    report: StoredReport | None, event: StoredEvent | None, stale: bool
) -> tuple[FeedStatus, str]:
    """The newest event's status if it came after the newest account poll (reports between
    polls only move marks; they do not clear a failing poll), or if it explains stale data
    (frozen prices); DOWN when the data is stale with no failure on record (the collector
    itself has stopped); else OK."""

    def shown(e: StoredEvent) -> tuple[FeedStatus, str]:
        where = f" ({e.endpoint})" if e.endpoint else ""
        return FeedStatus(e.kind), f"{e.message}{where} at {utc_clock(e.at_ms)}"

    if event is not None and (report is None or event.at_ms > report.positions_at_ms):
        return shown(event)
    if report is None:
        return FeedStatus.DOWN, "waiting for the first data from the exchange"
    if stale:
        if event is not None and event.at_ms >= report.data_time_ms:
            return shown(event)
        return FeedStatus.DOWN, "no new data: is the collector running?"
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


def margin_usage(maint_margin_usd: float, adjusted_equity_usd: float) -> str:
    """Maintenance margin as a share of adjusted equity (= 1 / uniMMR): 100 % is insolvent.
    Adjusted equity ≤ 0 with some margin is past 100 % whatever the MM; unknown stays unknown."""
    if is_unknown(adjusted_equity_usd):
        return UNKNOWN_TEXT
    if adjusted_equity_usd < 0 or (adjusted_equity_usd == 0 and maint_margin_usd > 0):
        return "> 100 %"
    if is_unknown(maint_margin_usd):
        return UNKNOWN_TEXT
    if maint_margin_usd <= 0:
        return "0.0 %"
    return fmt_share(maint_margin_usd / adjusted_equity_usd)


AFFECTS = {"equity": "adjusted equity", "mm": "maintenance margin"}


def reason_text(reason: dict[str, Any] | str) -> str:
    """One unknown reason in plain words: where (path, row), which field, what is wrong, and
    which headline figure it leaves unknown. A stored line (``str(UnknownReason)``) as is."""
    if isinstance(reason, str):
        return plain_words(reason)
    row = f", row {reason['item']}" if reason.get("item") else ""
    affects = [AFFECTS.get(a, a) for a in reason.get("affects", ())]
    tail = f" → {' and '.join(affects)} unknown" if affects else ""
    problem = plain_words(reason["problem"])
    return f"{reason['path']}{row}, field {reason['field']}: {problem}{tail}"


def unknown_reasons(report: StoredReport, detail: dict[str, Any] | None) -> tuple[str, ...]:
    """The report's unknown reasons in words: the detail's (structured) when read, else the
    stored lines."""
    if detail is not None and detail.get("unknown_reasons"):
        return tuple(reason_text(r) for r in detail["unknown_reasons"])
    return report.unknown_reasons


def detail_uni_mmr(detail: dict[str, Any]) -> float:
    """pmdesk's uniMMR from a stored detail (JSON null: ∞, ≤ 0 or unknown, by its flags)."""
    return uni_mmr_of(
        detail.get("uni_mmr"),
        no_risk=bool(detail.get("no_risk")),
        at_most_zero=bool(detail.get("uni_mmr_at_most_zero")),
    )


def binance_uni_mmr(rec: dict[str, Any]) -> float | None:
    """Binance's uniMMR from a stored reconciliation: ∞ for its "no MM" sentinel, None when
    Binance did not report it."""
    value = rec["binance"]["uni_mmr"]
    if value is None:
        return math.inf if rec.get("binance_no_mm") else None
    return float(value)


def _largest_diff(rec: dict[str, Any]) -> tuple[str, float] | None:
    """The figure pmdesk and Binance differ on most (uniMMR first when it is beyond the
    tolerance), with its relative difference; None when no difference is a number."""
    diffs = {k: v for k, v in rec["rel_diff"].items() if v is not None and math.isfinite(v)}
    tol = rec.get("tolerance") or 0.0
    if "uni_mmr" in diffs and abs(diffs["uni_mmr"]) > tol:
        return "uni_mmr", diffs["uni_mmr"]
    if not diffs:
        return None
    key = max(diffs, key=lambda k: abs(diffs[k]))
    return key, diffs[key]


FIGURE_WORDS = {
    "uni_mmr": "uniMMR",
    "adjusted_equity_usd": "adjusted equity",
    "maint_margin_usd": "maintenance margin",
}


def agreement(
    report: StoredReport, detail: dict[str, Any] | None, tolerance: float
) -> tuple[str, str]:
    """(mark, css class): does pmdesk's figure match Binance's own for the same poll?"""
    rec = None if detail is None else detail.get("reconciliation")
    tol = rec["tolerance"] if rec else tolerance
    agrees = report.recon_agrees if rec is None else rec["agrees"]
    if agrees is True:
        return f"✔ matches Binance (±{fmt_share(tol)})", "recon-ok"
    if agrees is None:
        if report.unknown:
            return "— cannot compare: pmdesk's figures unknown", "recon-na"
        return "— Binance's figures unavailable", "recon-na"
    largest = None if rec is None else _largest_diff(rec)
    if largest is None:
        d = report.recon_uni_mmr_rel_diff
        largest = None if d is None or not math.isfinite(d) else ("uni_mmr", d)
    if largest is None:
        return "✖ differs from Binance", "recon-differs"
    key, d = largest
    what = "" if key == "uni_mmr" else f" ({FIGURE_WORDS[key]})"
    return f"✖ differs from Binance by {fmt_share(abs(d))}{what}", "recon-differs"


def calibration_words(report: StoredReport, detail: dict[str, Any] | None) -> tuple[str, str]:
    """("calibrated" | "uncalibrated" | "", the uncalibrated sentence): whether pmdesk's
    assumptions (collateral table, loan MMR) reproduce Binance's figures, and when they do
    not, by how much pmdesk's base uniMMR differs from Binance's."""
    assumptions = None if detail is None else detail.get("assumptions")
    calibrated = report.calibrated if assumptions is None else assumptions["calibrated"]
    if calibrated is None:
        return "", ""
    if calibrated:
        return "calibrated", ""
    rec = None if detail is None else detail.get("reconciliation")
    how = "Binance's uniMMR is unavailable to compare"
    if report.unknown:
        how = "pmdesk's own figures are unknown"
    elif rec is not None:
        ours, theirs = detail_uni_mmr(detail or {}), binance_uni_mmr(rec)
        d = rec["rel_diff"]["uni_mmr"]
        if is_unknown(ours):
            how = "pmdesk's own figures are unknown"
        elif theirs is not None and d is not None and math.isfinite(d):
            side = "above" if d > 0 else "below"
            how = (
                f"pmdesk's base uniMMR {fmt_uni_mmr(ours)} is {fmt_share(abs(d))} {side} "
                f"Binance's {fmt_uni_mmr(theirs)}"
            )
            if d > rec["tolerance"]:
                how += " (pmdesk is the more optimistic)"
        elif theirs is not None:
            how = f"pmdesk's uniMMR {fmt_uni_mmr(ours)}, Binance's {fmt_uni_mmr(theirs)}"
    elif report.recon_uni_mmr_rel_diff is not None:
        d = report.recon_uni_mmr_rel_diff
        how = f"pmdesk's base uniMMR differs from Binance's by {fmt_rel(d)}"
    return "uncalibrated", (
        f"UNCALIBRATED — stress figures and liquidation distance rest on assumptions Binance's "
        f"own figures do not confirm: {how}."
    )


def _liquidation(report: StoredReport, rules: RiskRules) -> tuple[str, str]:
    if report.status in (MarginBand.LIQUIDATION, MarginBand.LIQUIDATION_WITH_LOSS):
        at_most_zero = not is_unknown(report.uni_mmr) and report.uni_mmr <= 0
        why = "adjusted equity ≤ 0" if at_most_zero else f"uniMMR ≤ {lv(rules.liquidation_uni_mmr)}"
        return "now", f"in liquidation: {why}"
    if report.unknown:
        return UNKNOWN_TEXT, "the stress figures are unknown"
    return (
        f"↓ {fmt_pct(report.liquidation_down_pct, none='never')}   "
        f"↑ {fmt_pct(report.liquidation_up_pct, none=BEYOND_UP)}",
        f"BTC at {fmt_price(report.btc_liquidation_down_usd)} / "
        f"{fmt_price(report.btc_liquidation_up_usd)}",
    )


def band_class(status: str, stale: bool) -> str:
    return "band-stale" if stale else f"band-{status.lower().replace('_', '-')}"


def build_view(
    report: StoredReport | None,
    event: StoredEvent | None,
    now_ms: int,
    stale_after_s: float,
    weight: tuple[int, dict[str, int]] | None = None,
    buffer_usd: float | None = None,
    *,
    rules: RiskRules | None = None,
    detail: dict[str, Any] | None = None,
) -> DeskView:
    rules = rules or RiskRules()
    if report is None:
        feed, feed_message = feed_state(None, event, stale=True)
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
        )
    age_s = (now_ms - report.data_time_ms) / 1000
    stale = age_s > stale_after_s
    feed, feed_message = feed_state(report, event, stale)
    icon, text = band_text(report.status, rules, report.uni_mmr)
    uni = fmt_uni_mmr(report.uni_mmr)
    liquidation, liquidation_note = _liquidation(report, rules)
    mark, mark_class = agreement(report, detail, rules.reconcile_tolerance)
    calibration, calibration_note = calibration_words(report, detail)
    if calibration == "uncalibrated" and not report.unknown and liquidation != "now":
        liquidation_note += " · uncalibrated"
    status_icon = "◷" if stale else icon
    if report.status == MarginBand.UNKNOWN:
        headline = text  # "UNKNOWN — figures unavailable": no number to lead with
    else:
        headline = f"uniMMR {uni}" + (
            f" · {band_word(report.status, rules)}" if uni == "≤ 0" else ""
        )
    top_up_unknown = is_unknown(report.top_up_usd)
    target = lv(report.top_up_target_uni_mmr)
    return DeskView(
        uni_mmr=uni,
        band_class=band_class(report.status, stale),
        status_icon=status_icon,
        status_text=f"STALE — last {report.status.replace('_', ' ')}" if stale else text,
        adjusted_equity=fmt_usd(report.adjusted_equity_usd),
        maint_margin=fmt_usd(report.maint_margin_usd),
        reported_uni_mmr=fmt_uni_mmr(report.reported_uni_mmr),
        reported_status=f"accountStatus {report.reported_status or '—'}",
        liquidation=liquidation,
        liquidation_note=liquidation_note,
        top_up=fmt_usd(report.top_up_usd),
        top_up_note=f"stablecoin to reach uniMMR {target}",
        age=fmt_age(age_s),
        stale=stale,
        as_of=f"as of {utc_clock(report.data_time_ms)}",
        feed_status=feed.value,
        feed_message=feed_message,
        simulated=report.simulated,
        marks_note=(
            f"{MARKS_TEXT.get(report.marks_source, report.marks_source)} · positions "
            f"{fmt_age((now_ms - report.positions_at_ms) / 1000)} old"
        ),
        weight_note=weight_note(weight, now_ms),
        margin_usage=margin_usage(report.maint_margin_usd, report.adjusted_equity_usd),
        buffer="—" if buffer_usd is None else fmt_usd(buffer_usd),
        buffer_note=(
            "stablecoins in the account"
            if top_up_unknown or report.top_up_usd <= 0
            else f"add {fmt_usd(report.top_up_usd)} for uniMMR {target}"
        ),
        unknown=report.unknown,
        reasons=unknown_reasons(report, detail) if report.unknown else (),
        summary=f"{status_icon} {headline} · {fmt_age(age_s)}"
        + (" · STALE" if stale else "")
        + (" · uncalibrated" if calibration == "uncalibrated" and not report.unknown else ""),
        recon_mark=mark,
        recon_class=mark_class,
        calibration=calibration,
        # UNKNOWN says more than "uncalibrated" already: no stress figure is shown at all.
        calibration_note="" if report.unknown else calibration_note,
    )
