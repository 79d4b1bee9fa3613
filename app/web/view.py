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
import time
from dataclasses import dataclass
from typing import Any

from app.feed_status import FeedStatus
from app.limits import LIMITS_PER_MINUTE
from app.store.store import StoredEvent, StoredReport
from app.web.format import (
    NO_LIQUIDATION,
    UNKNOWN_TEXT,
    fmt_age,
    fmt_clock,
    fmt_distance,
    fmt_leverage,
    fmt_move,
    fmt_price,
    fmt_rel,
    fmt_share,
    fmt_uni_mmr,
    fmt_usd,
    fmt_usd_whole,
    is_unknown,
    plain_words,
    uni_mmr_of,
)
from app.web.ladder import UNKNOWN_STATUS, band_text, lv
from risk.liquidation import MAX_UP_MOVE
from risk.model import MarginBand, ReduceAdvice, RiskReport, RiskRules

BEYOND_UP = NO_LIQUIDATION
"""No liquidation up to the largest rally the root search tries (``MAX_UP_MOVE``): said as
every other missing move is (``format.NO_LIQUIDATION``)."""
SEARCHED_MOVES = f"−100 % … +{100 * MAX_UP_MOVE:,.0f} %"
"""The moves the liquidation search tries, for the tooltips that say what "never" means."""


def utc_clock(ms: int) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(ms / 1000))


TimePref = dict[str, Any]
"""The viewer's time choice (the header's UTC/local toggle, kept in the browser):
``{"local": bool, "zone": IANA name, "offset_min": minutes east of UTC}``; None: UTC."""


def checked_pref(pref: Any) -> TimePref | None:
    """The browser's time choice as the toggle writes it, anything else (a tampered request)
    read as UTC: a dict, ``local`` true, a zone name, an offset within a day."""
    if not isinstance(pref, dict) or pref.get("local") is not True:
        return None
    zone, offset = pref.get("zone"), pref.get("offset_min")
    return {
        "local": True,
        "zone": zone if isinstance(zone, str) and len(zone) <= 64 else "",
        "offset_min": offset
        if isinstance(offset, int | float) and not isinstance(offset, bool) and abs(offset) <= 1440
        else None,
    }


def clock_text(ms: int, pref: TimePref | None = None) -> str:
    """A time of day in the viewer's choice, labelled: "12:34:56 UTC" (default) or local
    ("13:34:56 CET"). Every time on the desk's own surfaces goes through here."""
    pref = checked_pref(pref)
    if not pref:
        return utc_clock(ms)
    offset = pref.get("offset_min")
    return fmt_clock(
        ms, str(pref.get("zone") or "?"), int(offset) if isinstance(offset, int | float) else None
    )


def _local_zone(pref: TimePref | None) -> Any:
    """The viewer's zone (a ``tzinfo``) when they chose local time; None for UTC."""
    import datetime as _dt
    import zoneinfo

    pref = checked_pref(pref)
    if not pref:
        return None
    try:
        return zoneinfo.ZoneInfo(str(pref.get("zone") or ""))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        offset = pref.get("offset_min")
        minutes = int(offset) if isinstance(offset, int | float) else 0
        return _dt.timezone(_dt.timedelta(minutes=minutes))


def offset_ms(ms: int, pref: TimePref | None = None) -> int:
    """How far the viewer's wall clock is ahead of UTC at ``ms`` (0 in UTC): a chart adds it
    to draw its time axis in the viewer's choice (DST honoured point by point)."""
    import datetime as _dt

    zone = _local_zone(pref)
    if zone is None:
        return 0
    delta = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).astimezone(zone).utcoffset()
    return 0 if delta is None else int(delta.total_seconds() * 1000)


def zone_label(ms: int, pref: TimePref | None = None) -> str:
    """The zone the viewer's times are in at ``ms``: "UTC", "JST", "UTC+04:00"."""
    return clock_text(ms, pref).split(" ", 1)[1]


def datetime_text(ms: int, pref: TimePref | None = None) -> str:
    """A date and time in the viewer's choice, labelled: "2026-01-01 12:34:56 UTC"."""
    import datetime as _dt

    zone = _local_zone(pref) or _dt.UTC
    at = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).astimezone(zone)
    return f"{at:%Y-%m-%d} {clock_text(ms, pref)}"


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
) -> tuple[FeedStatus, str]:
    """The newest event's status if it came after the newest account poll (reports between
    polls only move marks; they do not clear a failing poll), or if it explains stale data
    (frozen prices); DOWN when the data is stale with no failure on record (the collector
    itself has stopped); else OK."""

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
    Over 100 % is shown as the real figure ("172.4 %"), never capped; adjusted equity ≤ 0 with
    some margin has no real figure and reads "> 100 %" whatever the MM; unknown stays unknown.
    The one spelling of margin usage on every surface — the alert banner included: call it with
    ``report.maint_margin.total_usd, report.adjusted_equity_usd``."""
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


# ---- Severity: one per account, the worst of every source --------------------------------------

OK, WARNING, CRITICAL, LIQUIDATION, UNKNOWN, STALE = (
    "ok",
    "warning",
    "critical",
    "liquidation",
    "unknown",
    "stale",
)
LEVELS = (OK, WARNING, CRITICAL, LIQUIDATION, UNKNOWN, STALE)

_WORST_OF = {OK: 0, WARNING: 1, CRITICAL: 2, LIQUIDATION: 3, UNKNOWN: 4}
"""Within one account, which source's level wins. Stale is not a source here: it wraps the
level of the data it shows (grey, "STALE — last …")."""

RANK = {OK: 0, WARNING: 1, STALE: 2, CRITICAL: 3, LIQUIDATION: 4, UNKNOWN: 5}
NO_DATA_RANK = 6
"""Across accounts, worst first (tiles, the account the screen opens on, the kiosk's cycle): no
data at all, then unknown figures (they may hide anything, liquidation included: fail closed),
in liquidation, critical, stale (never below the level of the data it last showed), warning,
ok; ties by the lower uniMMR."""

WORD = {
    OK: "NORMAL",
    WARNING: "WARNING",
    CRITICAL: "CRITICAL",
    LIQUIDATION: "LIQUIDATION",
    UNKNOWN: "UNKNOWN",
    STALE: "STALE",
}
ICON = {OK: "✔", WARNING: "⚠", CRITICAL: "✖", LIQUIDATION: "☠", UNKNOWN: "⊘", STALE: "◷"}
CSS = {
    OK: "band-normal",
    WARNING: "band-warning",
    CRITICAL: "band-critical",
    LIQUIDATION: "band-liquidation",
    UNKNOWN: "band-unknown",
    STALE: "band-stale",
}

BINANCE_CRITICAL = frozenset(
    {"REDUCE_ONLY", "ACTIVE_LIQUIDATION", "FORCE_LIQUIDATION", "BANKRUPTED"}
)
"""Binance's ``accountStatus`` values that are critical; any other but NORMAL is a warning."""

_IN_LIQUIDATION = (MarginBand.LIQUIDATION, MarginBand.LIQUIDATION_WITH_LOSS)
_TIE_ORDER = ("unknown", "distance", "uni_mmr", "binance")
"""Reasons of the same level, in this order: how near liquidation is says the most."""


@dataclass(frozen=True)
class SeverityBands:
    """How near liquidation is too near: the nearer of the uniform moves down and up that take
    uniMMR to the liquidation level, in % (settings ``liquidation_critical_pct``,
    ``liquidation_warn_pct``)."""

    critical_pct: float = 5.0
    warn_pct: float = 15.0

    def __post_init__(self) -> None:
        if not 0 <= self.critical_pct <= self.warn_pct:
            raise ValueError(
                "liquidation_critical_pct must be ≥ 0 and ≤ liquidation_warn_pct "
                f"(got {self.critical_pct:g} and {self.warn_pct:g})"
            )


@dataclass(frozen=True)
class Severity:
    """One account's severity: its level, the reasons in words (worst first; the first one is
    the headline's), the source of each (``uni_mmr``, ``distance``, ``binance``, ``unknown``,
    ``stale``, ``no_data``), its rank for worst-first order, and, when stale, the severity of
    the data still shown."""

    level: str
    reasons: tuple[str, ...]
    sources: tuple[str, ...]
    rank: int
    headline: str  # the hero's status line
    uni_mmr: float = math.nan
    last: Severity | None = None

    @property
    def icon(self) -> str:
        return "…" if self.sources[:1] == ("no_data",) else ICON[self.level]

    @property
    def word(self) -> str:
        return WORD[self.level]

    @property
    def css(self) -> str:
        return CSS[self.level]

    @property
    def source(self) -> str:
        """What decided the level (the first reason's source)."""
        return self.sources[0] if self.sources else ""

    @property
    def brief(self) -> str:
        """The level and its first reason on one line (the header, a tile's tooltip)."""
        if self.sources[:1] == ("no_data",):
            return "NO DATA YET"
        if self.level == STALE and self.last is not None:
            return f"STALE — last {self.last.last_words}"
        if self.level == OK:
            return WORD[OK]
        if self.level == UNKNOWN:
            return UNKNOWN_STATUS
        if self.level == LIQUIDATION:
            return self.reasons[0]
        return f"{WORD[self.level]}: {self.reasons[0]}"

    @property
    def last_words(self) -> str:
        """What this severity says after "STALE — last ": "NORMAL", "UNKNOWN", "CRITICAL: …"."""
        return self.word if self.level in (OK, UNKNOWN) else self.brief

    @property
    def short(self) -> str:
        """The level in a word or two (account tiles): "CRITICAL", "STALE — LIQUIDATION"."""
        if self.sources[:1] == ("no_data",):
            return "NO DATA"
        if self.level == STALE and self.last is not None:
            return f"STALE — {self.last.word}"
        return self.word

    def order_key(self, name: str = "") -> tuple[int, float, str]:
        """Worst first: rank, then the lower uniMMR (unknown first), then the name."""
        uni = -math.inf if math.isnan(self.uni_mmr) else self.uni_mmr
        return (-self.rank, uni, name)


def nearest_move(down_pct: float | None, up_pct: float | None) -> tuple[float, str] | None:
    """The nearer of the liquidating moves as (distance in %, "↓" or "↑"); None: neither."""
    moves = [(abs(m), arrow) for m, arrow in ((down_pct, "↓"), (up_pct, "↑")) if m is not None]
    moves = [m for m in moves if math.isfinite(m[0])]
    return min(moves) if moves else None


def past_level_words(uni_mmr: float, rules: RiskRules) -> str:
    """An account at or below the liquidation level, in words, instead of 0 % distances:
    "IN LIQUIDATION: 2.9 % past Binance's level" (how far uniMMR is below the level, as a
    share of it) or "IN LIQUIDATION: adjusted equity ≤ 0"."""
    if is_unknown(uni_mmr):
        return "IN LIQUIDATION: adjusted equity ≤ 0"  # only equity ≤ 0 is liquidation unknown
    if uni_mmr <= 0:
        return "IN LIQUIDATION: adjusted equity ≤ 0"
    level = rules.liquidation_uni_mmr
    past = 100 * (level - uni_mmr) / level
    if past <= 0:
        return f"IN LIQUIDATION: at Binance's level ({lv(level)})"
    return f"IN LIQUIDATION: {fmt_distance(past)} past Binance's level"


def _move(pct: float | None, none: str) -> str:
    """A signed move for the ↓/↑ pair (``format.fmt_move``; ``none`` for a missing one)."""
    return fmt_move(pct) if pct is not None else none


def liquidation_words(
    status: str,
    uni_mmr: float,
    down_pct: float | None,
    up_pct: float | None,
    rules: RiskRules,
    unknown: bool = False,
    beyond: str = BEYOND_UP,
) -> str:
    """The account-wide liquidation distance as every surface says it: "↓ −1.75 %   ↑ never"
    (``beyond``: what no liquidation within the searched rally reads as: ``NO_LIQUIDATION``);
    "IN LIQUIDATION: …" at or past the level, never a 0 % move; "unknown" when it cannot be
    said."""
    if status in _IN_LIQUIDATION:
        return past_level_words(uni_mmr, rules)
    if unknown or status == MarginBand.UNKNOWN:
        return UNKNOWN_TEXT
    return f"↓ {_move(down_pct, NO_LIQUIDATION)}   ↑ {_move(up_pct, beyond)}"


def _btc(price: float | None) -> str:
    """The BTC price where the account liquidates; none: ``NO_LIQUIDATION``."""
    return NO_LIQUIDATION if price is None else fmt_price(price)


def _under(shown: str, level: float | None) -> str:
    """ " — below 1.5" (or " — at 1.5" when the shown uniMMR rounds to the level itself)."""
    if level is None:
        return " —"
    return f" — {'at' if shown == f'{level:.2f}' else 'below'} {lv(level)}"


def _band_reason(report: StoredReport, rules: RiskRules) -> tuple[str, str]:
    band, uni = MarginBand(report.status), report.uni_mmr
    u = fmt_uni_mmr(uni)
    if band is MarginBand.UNKNOWN:
        return UNKNOWN, "figures unavailable"
    if band in _IN_LIQUIDATION:
        return LIQUIDATION, past_level_words(uni, rules)
    if band is MarginBand.REDUCE_ONLY:
        return CRITICAL, f"uniMMR {u}{_under(u, rules.reduce_only_uni_mmr)} reduce only"
    if band is MarginBand.MARGIN_CALL:
        return WARNING, f"uniMMR {u}{_under(u, rules.margin_call_uni_mmr)} margin call"
    return OK, f"uniMMR {u} — {band_text(band, rules)[1].split(' — ', 1)[1]}"


def severity(
    report: StoredReport | None,
    detail: dict[str, Any] | None,
    now_ms: int,
    *,
    stale_after_s: float,
    rules: RiskRules | None = None,
    bands: SeverityBands | None = None,
) -> Severity:
    """The account's one severity: the worst of its uniMMR band (the configured product's
    levels: PM publishes only liquidation, PM Pro margin call / reduce only / liquidation), the
    nearer liquidating move (``bands``: under ``critical_pct`` critical, under ``warn_pct`` a
    warning), unknown figures, Binance's own ``accountStatus`` (anything but NORMAL at least a
    warning; REDUCE_ONLY, ACTIVE_LIQUIDATION, FORCE_LIQUIDATION, BANKRUPTED critical); stale
    data wraps it (grey, "STALE — last …", ranked no lower than the data it shows). Pure."""
    rules = rules or RiskRules()
    bands = bands or SeverityBands()
    if report is None:
        return Severity(
            STALE, ("no data yet from the exchange",), ("no_data",), NO_DATA_RANK, "NO DATA YET"
        )
    found: list[tuple[str, str, str]] = []  # (level, source, words), in source order
    band_level, band_words = _band_reason(report, rules)
    found.append((band_level, "unknown" if band_level == UNKNOWN else "uni_mmr", band_words))
    in_liquidation = report.status in _IN_LIQUIDATION
    if report.unknown and band_level != UNKNOWN and not in_liquidation:
        found.append((UNKNOWN, "unknown", "figures unavailable"))  # never NORMAL (fail closed)
    if band_level not in (UNKNOWN, LIQUIDATION) and not report.unknown:
        nearest = nearest_move(report.liquidation_down_pct, report.liquidation_up_pct)
        if nearest is not None:
            distance, arrow = nearest
            level = (
                CRITICAL
                if distance < bands.critical_pct
                else WARNING
                if distance < bands.warn_pct
                else OK
            )
            found.append((level, "distance", f"{fmt_distance(distance)} from liquidation {arrow}"))
    status = (report.reported_status or "").strip().upper()
    if status and status != "NORMAL":
        level = CRITICAL if status in BINANCE_CRITICAL else WARNING
        found.append((level, "binance", f"Binance says {status}"))
    worst = max((f[0] for f in found), key=_WORST_OF.__getitem__)
    shown = found if worst == OK else [f for f in found if f[0] != OK]
    shown.sort(key=lambda f: (-_WORST_OF[f[0]], _TIE_ORDER.index(f[1])))
    reasons = tuple(f[2] for f in shown)
    if worst == OK:
        headline = band_text(MarginBand.NORMAL, rules)[1]
    elif worst == UNKNOWN:
        headline = UNKNOWN_STATUS
    elif worst == LIQUIDATION:
        headline = reasons[0]
    else:
        headline = f"{WORD[worst]}: {reasons[0]}"
    current = Severity(
        worst, reasons, tuple(f[1] for f in shown), RANK[worst], headline, report.uni_mmr
    )
    age_s = (now_ms - report.data_time_ms) / 1000
    if age_s <= stale_after_s:
        return current
    return Severity(
        STALE,
        (f"data {fmt_age(age_s)} old (limit {fmt_age(stale_after_s)})", *current.reasons),
        ("stale", *current.sources),
        max(RANK[STALE], current.rank),
        f"STALE — last {current.last_words}",
        report.uni_mmr,
        last=current,
    )


def worst_first(severities: dict[str, Severity]) -> list[str]:
    """Account names, worst first (``RANK``, then the lower uniMMR, then the name)."""
    return sorted(severities, key=lambda name: severities[name].order_key(name))


# ---- Figures every surface spells one way -------------------------------------------------------


def gross_leverage(detail: dict[str, Any] | None, adjusted_equity_usd: float) -> float | None:
    """Σ |position notional| ÷ adjusted equity from a report's positions; None without
    positions, NaN when a notional or the equity is unknown, ∞ when equity ≤ 0."""
    positions = [] if detail is None else detail.get("positions") or []
    if not positions:
        return None
    notionals = [p.get("notional_usd") for p in positions]
    if any(n is None or is_unknown(n) for n in notionals) or is_unknown(adjusted_equity_usd):
        return math.nan
    if adjusted_equity_usd <= 0:
        return math.inf
    return sum(abs(float(n)) for n in notionals if n is not None) / adjusted_equity_usd


def leverage_text(ratio: float | None) -> str:
    """Gross leverage in words: "45.7×"; "n/a" without positions; "∞ (equity ≤ 0)"."""
    if ratio == math.inf:
        return "∞ (equity ≤ 0)"
    return fmt_leverage(ratio)


def _reduce_parts(reduce: ReduceAdvice | dict[str, Any] | None) -> tuple[str, float | None]:
    if reduce is None:
        return "", 0.0
    if isinstance(reduce, dict):
        return str(reduce.get("symbol") or ""), reduce.get("fraction")
    return reduce.symbol, reduce.fraction


def _share_up(fraction: float) -> str:
    """A fraction to close, rounded up (never advise too little): 0.3474 → "35 %"."""
    pct = 100 * fraction
    if pct < 1:
        return f"{math.ceil(pct * 10) / 10:.1f} %"
    return f"{min(math.ceil(pct - 1e-9), 100)} %"


def top_up_advice(
    top_up_usd: float,
    target_uni_mmr: float,
    reduce: ReduceAdvice | dict[str, Any] | None = None,
    *,
    asset: str = "USDT",
    price_usd: float = 1.0,
    move_usd: float = 0.0,
    move_pct: float = 0.0,
) -> str:
    """What lifts uniMMR to the configured target (``rules.top_up_target_uni_mmr``) and keeps
    every uniform move of up to ``move_pct`` % clear of liquidation (``move_usd``, the report's
    ``top_up_move_usd``), in words: "to reach uniMMR 2.0: add 3,750 USDT, or close 35 % of
    BTCUSDT"; "to be 15 % from liquidation: add 9,120 USDT" when the distance needs more (the
    reduce suggestion is for the uniMMR target, so it is left out then). One amount: the larger
    meets both. Amounts round up."""
    t = lv(target_uni_mmr)
    symbol, fraction = _reduce_parts(reduce)
    if is_unknown(top_up_usd) or is_unknown(move_usd):
        return f"to reach uniMMR {t}: unknown"
    away = f"{move_pct:g} % from liquidation"
    if top_up_usd <= 0 and move_usd <= 0:
        return f"uniMMR above {t}" + (f" and {away}" if move_pct > 0 else "") + ": no top-up needed"
    distance_governs = move_usd > top_up_usd
    need = move_usd if distance_governs else top_up_usd
    if need == math.inf:
        add = f"no {asset} top-up gets there"
    else:
        qty = need / (price_usd if price_usd > 0 and math.isfinite(price_usd) else 1.0)
        add = f"add {math.ceil(qty - 1e-9):,} {asset}"
    if distance_governs:
        goal = f"to reach uniMMR {t} and be {away}" if top_up_usd > 0 else f"to be {away}"
        return f"{goal}: {add}"
    if symbol and fraction is None:
        return f"to reach uniMMR {t}: {add} (closing all of {symbol} is not enough)"
    if symbol and fraction is not None and fraction > 0:
        return f"to reach uniMMR {t}: {add}, or close {_share_up(fraction)} of {symbol}"
    return f"to reach uniMMR {t}: {add}"


def top_up_advice_for(report: RiskReport) -> str:
    """``top_up_advice`` for a fresh ``RiskReport`` (the alert banner's): the report's own
    top-up to ``rules.top_up_target_uni_mmr`` and to its clear move, and reduce suggestion — so
    the banner and the overview say the same amount for the same target."""
    asset = report.top_up_basis.asset or "USDT"
    price = next((a.index_price_usd for a in report.assets if a.asset == asset), 1.0)
    return top_up_advice(
        report.top_up_usd,
        report.top_up_target_uni_mmr,
        report.reduce,
        asset=asset,
        price_usd=price,
        move_usd=report.top_up_move_usd,
        move_pct=report.top_up_clear_move_pct,
    )


def top_up_move_of(report: StoredReport, detail: dict[str, Any] | None) -> float:
    """The stored report's ``top_up_move_usd``: NaN when its figures are unknown, ∞ when stored
    as null for a known report (strict JSON has no ∞), 0 for a report stored before it existed."""
    if report.unknown:
        return math.nan
    if detail is None or "top_up_move_usd" not in detail:
        return 0.0
    move = detail["top_up_move_usd"]
    return math.inf if move is None else float(move)


def top_up_needed_of(report: StoredReport, detail: dict[str, Any] | None) -> float:
    """The one top-up amount (``RiskReport.top_up_needed_usd``) of a stored report: the larger
    of the uniMMR target's and the clear move's."""
    move = top_up_move_of(report, detail)
    if is_unknown(report.top_up_usd) or is_unknown(move):
        return math.nan
    return max(report.top_up_usd, move)


def _top_up_figure(usd: float) -> str:
    """The top-up tile's figure: ∞ when no stablecoin top-up gets there (the note says so)."""
    return "∞" if usd == math.inf else fmt_usd(usd)


def top_up_advice_of(report: StoredReport, detail: dict[str, Any] | None) -> str:
    """``top_up_advice`` for a stored report and its detail (the overview's)."""
    if detail is None:
        return top_up_advice(report.top_up_usd, report.top_up_target_uni_mmr)
    asset = (detail.get("top_up_basis") or {}).get("asset") or "USDT"
    price = next(
        (a.get("index_price_usd") for a in detail.get("assets") or [] if a.get("asset") == asset),
        None,
    )
    return top_up_advice(
        report.top_up_usd,
        report.top_up_target_uni_mmr,
        detail.get("reduce"),
        asset=asset,
        price_usd=1.0 if price is None else float(price),
        move_usd=top_up_move_of(report, detail),
        move_pct=float(detail.get("top_up_clear_move_pct") or 0.0),
    )


def buffer_words(net_usd: float | None, gross_usd: float | None) -> tuple[str, str, bool]:
    """(value, note, owes): the net stablecoin buffer (held minus stablecoin debts) as such —
    "owes $52,767" when the account owes more stablecoin than it holds — with the gross held in
    the note."""
    if net_usd is None:
        return ("—" if gross_usd is None else fmt_usd(gross_usd)), "stablecoins held", False
    if is_unknown(net_usd):
        return UNKNOWN_TEXT, "stablecoins held minus stablecoin debts", False
    held = "—" if gross_usd is None else fmt_usd_whole(gross_usd)
    debts = None if gross_usd is None else gross_usd - net_usd
    if net_usd < 0:
        return (
            f"owes {fmt_usd_whole(-net_usd)}",
            f"stablecoin debts {fmt_usd_whole(debts)} exceed the {held} held",
            True,
        )
    if debts is not None and debts > 0.005:
        return fmt_usd(net_usd), f"net: {held} held − {fmt_usd_whole(debts)} owed", False
    return fmt_usd(net_usd), f"net: {held} held, no stablecoin debt", False


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
    detail: dict[str, Any] | None = None,
    bands: SeverityBands | None = None,
    time_pref: TimePref | None = None,
) -> DeskView:
    """The overview and the header from the newest report. ``buffer_usd`` (the gross buffer)
    is read from ``detail`` when given; the net buffer is shown as such."""
    rules = rules or RiskRules()
    sev = severity(report, detail, now_ms, stale_after_s=stale_after_s, rules=rules, bands=bands)
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
    feed, feed_message = feed_state(report, event, stale, pref=time_pref)
    uni = fmt_uni_mmr(report.uni_mmr)
    in_liquidation = report.status in _IN_LIQUIDATION
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
    net = None if detail is None else detail.get("net_stablecoin_buffer_usd")
    gross = buffer_usd if detail is None else detail.get("stablecoin_buffer_usd", buffer_usd)
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
        leverage=leverage_text(gross_leverage(detail, report.adjusted_equity_usd)),
        buffer_owes=owes,
        in_liquidation=in_liquidation,
    )
