"""Number formats for the desk screen: one format per unit, thousands separators, fixed decimals,
a true minus sign (−, as the grids' d3 formats print it) and +/− on PnL."""

from __future__ import annotations

import math

MINUS = "−"
NONE = "—"


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def fmt_uni_mmr(value: float | None) -> str:
    """uniMMR with two decimals; no maintenance margin at all reads as ∞."""
    if value is None or (math.isinf(value) and value > 0):
        return "∞"
    return _minus(f"{value:,.2f}")


def fmt_num(value: float | None, decimals: int = 2) -> str:
    """A plain figure: ``d3.format(",.2f")`` in the grids."""
    return NONE if value is None else _minus(f"{value:,.{decimals}f}")


def fmt_signed(value: float | None, decimals: int = 2) -> str:
    """A change or a PnL, always signed: ``d3.format("+,.2f")`` in the grids."""
    return NONE if value is None else _minus(f"{value:+,.{decimals}f}")


def fmt_usd(value: float) -> str:
    sign = MINUS if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def fmt_share(fraction: float | None, decimals: int = 1) -> str:
    """A fraction of a whole as a percentage."""
    return NONE if fraction is None else f"{100 * fraction:,.{decimals}f} %"


def fmt_age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fmt_pct(value: float | None, *, none: str = "none") -> str:
    """A signed move in %, two decimals; None (no such move) reads as ``none``."""
    if value is None:
        return none
    sign = MINUS if value < 0 else "+"
    return f"{sign}{abs(value):,.2f} %"


def fmt_price(value: float | None) -> str:
    return NONE if value is None else fmt_num(value)
