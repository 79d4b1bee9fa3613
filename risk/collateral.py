"""Adjusted equity: each asset's equity valued at its index price and its tiered collateral rate.

Binance FAQ "What Is the Unified Account Maintenance Margin Ratio (uniMMR) And How Is It
Calculated" (faq 4868b2f1aa6c4d08af973328462bb0bd):
    Σ equity = Σ min(x · p · collateralRate, x · p)
so a positive asset counts at its collateral rate and a negative one (debt) counts in full.
Tiered rates since 2024-09-11 (``GET /sapi/v2/portfolio/collateralRate``; cross-margin haircut
FAQ 4bec9126c021472285b20874f9380dfb): each USD slice counts at its tier's rate, and a tier's
row gives the whole value as value · rate + cum.
"""

from __future__ import annotations

import numpy as np

from risk.model import CollateralTier
from risk.tiers import FloatArray, tiered_linear


def collateral_value_usd(value_usd: FloatArray, tiers: tuple[CollateralTier, ...]) -> FloatArray:
    """Collateral value of positive USD values under one asset's tier table.

    An asset with no published tiers is not collateral (rate 0): the caller warns about it.
    """
    if not tiers:
        return np.zeros_like(value_usd)
    floors = np.array([t.floor_usd for t in tiers], dtype=np.float64)
    rates = np.array([t.collateral_rate for t in tiers], dtype=np.float64)
    cums = np.array([t.cum_usd for t in tiers], dtype=np.float64)
    return tiered_linear(value_usd, floors, rates, cums, cum_sign=1.0)


def adjusted_equity_usd(value_usd: FloatArray, tiers: tuple[CollateralTier, ...]) -> FloatArray:
    """min(x·p·rate, x·p) with tiered rates: haircut on the positive part, debt in full."""
    positive = np.maximum(value_usd, 0.0)
    return np.where(value_usd > 0.0, collateral_value_usd(positive, tiers), value_usd)
