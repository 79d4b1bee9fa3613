"""Maintenance margin of futures positions from Binance's leverage brackets.

USDⓈ-M: MM = |position · markPrice| · maintMarginRatio − cum, with the bracket the notional
falls in (uniMMR FAQ 4868b2f1aa6c4d08af973328462bb0bd; ``GET /papi/v1/um/leverageBracket``).
COIN-M: MM (in coin) = |notional in coin| · maintMarginRatio − cum, brackets in coin quantity
(``qtyFloor``/``qtyCap`` of ``GET /papi/v1/cm/leverageBracket``), notional = contracts ·
contract size / mark.
"""

from __future__ import annotations

import numpy as np

from risk.model import Bracket
from risk.tiers import FloatArray, tier_index, tiered_linear


def bracket_arrays(brackets: tuple[Bracket, ...]) -> tuple[FloatArray, FloatArray, FloatArray]:
    floors = np.array([b.floor for b in brackets], dtype=np.float64)
    ratios = np.array([b.maint_margin_ratio for b in brackets], dtype=np.float64)
    cums = np.array([b.cum for b in brackets], dtype=np.float64)
    return floors, ratios, cums


def maint_margin(notional: FloatArray, brackets: tuple[Bracket, ...]) -> FloatArray:
    """MM for absolute notionals (in the bracket's unit) under one symbol's bracket table."""
    floors, ratios, cums = bracket_arrays(brackets)
    return tiered_linear(np.abs(notional), floors, ratios, cums, cum_sign=-1.0)


def bracket_floor(notional: float, brackets: tuple[Bracket, ...]) -> float:
    """The floor of the bracket a notional falls in (shown beside the position)."""
    floors, _, _ = bracket_arrays(brackets)
    return float(floors[int(tier_index(np.array([abs(notional)]), floors)[0])])
