"""Number formats for the desk screen: one format per unit, thousands separators, fixed decimals."""

from __future__ import annotations

import math


def fmt_uni_mmr(value: float) -> str:
    """uniMMR with two decimals; no maintenance margin at all reads as ∞."""
    if math.isinf(value) and value > 0:
        return "∞"
    return f"{value:,.2f}"


def fmt_usd(value: float) -> str:
    sign = "−" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


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
    sign = "−" if value < 0 else "+"
    return f"{sign}{abs(value):,.2f} %"


def fmt_price(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"
