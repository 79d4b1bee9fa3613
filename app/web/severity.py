"""One severity per account, the worst of every source. Pure.

``severity`` decides the colour, icon and words of every surface — hero, header, account tiles,
kiosk: the worst of the uniMMR band (the configured product's levels), the distance to
liquidation (``SeverityBands``), unknown figures, stale data and Binance's own
``accountStatus``, with the reasons in words; ``liquidation_words`` is the one spelling of the
liquidation distance. Fail closed: no report, or a report older than the staleness limit, is
never shown green.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.store.store import StoredReport
from app.web.format import (
    NO_LIQUIDATION,
    UNKNOWN_TEXT,
    fmt_age,
    fmt_distance,
    fmt_move,
    fmt_uni_mmr,
    is_unknown,
)
from app.web.ladder import UNKNOWN_STATUS, band_text, lv
from risk.liquidation import MAX_UP_MOVE
from risk.model import MarginBand, RiskRules

BEYOND_UP = NO_LIQUIDATION
"""No liquidation up to the largest rally the root search tries (``MAX_UP_MOVE``): said as
every other missing move is (``format.NO_LIQUIDATION``)."""
SEARCHED_MOVES = f"−100 % … +{100 * MAX_UP_MOVE:,.0f} %"
"""The moves the liquidation search tries, for the tooltips that say what "never" means."""


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

IN_LIQUIDATION = (MarginBand.LIQUIDATION, MarginBand.LIQUIDATION_WITH_LOSS)
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
    if status in IN_LIQUIDATION:
        return past_level_words(uni_mmr, rules)
    if unknown or status == MarginBand.UNKNOWN:
        return UNKNOWN_TEXT
    return f"↓ {_move(down_pct, NO_LIQUIDATION)}   ↑ {_move(up_pct, beyond)}"


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
    if band in IN_LIQUIDATION:
        return LIQUIDATION, past_level_words(uni, rules)
    if band is MarginBand.REDUCE_ONLY:
        return CRITICAL, f"uniMMR {u}{_under(u, rules.reduce_only_uni_mmr)} reduce only"
    if band is MarginBand.MARGIN_CALL:
        return WARNING, f"uniMMR {u}{_under(u, rules.margin_call_uni_mmr)} margin call"
    return OK, f"uniMMR {u} — {band_text(band, rules)[1].split(' — ', 1)[1]}"


def severity(
    report: StoredReport | None,
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
    in_liquidation = report.status in IN_LIQUIDATION
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
