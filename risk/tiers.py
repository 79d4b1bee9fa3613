"""One piecewise-linear tier table (leverage brackets, collateral tiers), evaluated and inverted.

The batched path over many items lives in ``risk/valuation.py``; this scalar form serves the
top-up and reduce inversions.

Both of Binance's tier tables use the same "quick addition" form: a value v that falls in the
tier [floor, cap) gives v · rate + cum for that tier, where cum makes the function continuous
at each boundary. Leverage brackets (``GET /papi/v1/um/leverageBracket``) publish
MM = notional · maintMarginRatio − cum; tiered collateral
(``GET /sapi/v2/portfolio/collateralRate``) publishes collateral = value · collateralRate + cum.
One function serves both.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def tier_index(values: FloatArray, floors: FloatArray) -> npt.NDArray[np.intp]:
    """Index of the tier each value falls in: the last tier whose floor is ≤ value.

    Floors must ascend and start at 0. A value at a boundary belongs to the upper tier
    (Binance's brackets are [floor, cap)); by continuity of cum both sides give the same result.
    Values above the last cap stay in the last tier.
    """
    idx = np.searchsorted(floors, values, side="right") - 1
    return np.clip(idx, 0, len(floors) - 1)


def tiered_linear(
    values: FloatArray, floors: FloatArray, rates: FloatArray, cums: FloatArray, cum_sign: float
) -> FloatArray:
    """v · rate(tier) + cum_sign · cum(tier), element-wise; values must be ≥ 0."""
    idx = tier_index(values, floors)
    return np.asarray(values * rates[idx] + cum_sign * cums[idx], dtype=np.float64)


def invert_tiered(
    target: float, floors: FloatArray, rates: FloatArray, cums: FloatArray, cum_sign: float
) -> float:
    """The value v ≥ 0 with v · rate(tier) + cum_sign · cum(tier) = target, for an increasing
    table (all rates > 0). Exact: find the tier whose range of outputs holds the target."""
    at_floor = floors * rates + cum_sign * cums  # output at each tier's floor
    k = int(np.searchsorted(at_floor, target, side="right") - 1)
    k = max(k, 0)
    if rates[k] <= 0.0:
        return float("inf")
    return float((target - cum_sign * cums[k]) / rates[k])
