"""The simulation machinery against closed forms (``--model gbm``): one long BTCUSDT
perpetual, so uniMMR reaches Binance's liquidation level exactly when BTC's price reaches a
price worked out by hand, and the probability of touching it within T is the first-passage
probability of a geometric Brownian motion.

The book: 1 BTC long at P0 = 50,000, W USDT in the UM wallet (collateral rate 1), BTCUSDT's
first bracket (notional < 300,000: maintenance margin rate 0.4 %, cum 0). At price P:
    adjusted equity = W + (P - P0)          (linear PnL in USDT)
    MM              = 0.004 * P
    uniMMR          = (W - P0 + P) / (0.004 P)
which rises with P (W < P0), and equals the PM Pro liquidation level 1.05 at
    P* = (P0 - W) / (1 - 1.05 * 0.004).
So for a distance d = ln(P0 / P*) the wallet is W = P0 - P* (1 - 0.0042).

Driftless GBM (E[P_T] = P0): ln(P_t / P0) = mu t + sigma B_t with mu = -sigma^2 / 2. The
first passage below -d within T (reflection principle with drift):
    P = N((-d - mu T) / (sigma sqrt T)) + exp(2 mu (-d) / sigma^2) N((-d + mu T) / (sigma sqrt T))
and exp(2 mu (-d) / sigma^2) = exp(d).

Discrete monitoring: the engine looks at uniMMR every step (here 1 minute), and misses touches
between steps. Broadie-Glasserman-Kou's continuity correction: a barrier monitored every dt
is hit like a continuous one moved away by 0.5826 sigma sqrt(dt); the expected figure below
uses that shifted distance.
"""

from __future__ import annotations

import math

import pytest

from risk.model import AccountSnapshot, RiskRules
from risk.outlook import OutlookSettings, compute_outlook
from tests.support.books import bal, market, perp

P0 = 50_000.0
MMR = 0.004
LIQ = 1.05
HOURS_PER_YEAR = 8760.0
BGK = 0.5826


def phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def first_passage(d: float, sigma: float, t_years: float) -> float:
    mu = -0.5 * sigma**2
    s = sigma * math.sqrt(t_years)
    return phi((-d - mu * t_years) / s) + math.exp(2 * mu * -d / sigma**2) * phi(
        (-d + mu * t_years) / s
    )


def long_perp(distance: float) -> AccountSnapshot:
    liquidation_price = P0 * math.exp(-distance)
    wallet = P0 - liquidation_price * (1 - LIQ * MMR)
    return AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=wallet),),
        um_positions=(perp("BTCUSDT", 1.0, P0),),
    )


@pytest.mark.parametrize("distance", [0.008, 0.015, 0.025])
def test_touch_probability_is_the_first_passage_of_gbm(distance: float) -> None:
    sigma, step_min, n = 1.0, 1.0, 6_000
    settings = OutlookSettings(
        n_paths=n,
        horizons_h=(1.0,),
        model="gbm",
        vol_annualised={"BTC": sigma},
        first_hour_step_min=step_min,
        seed=int(distance * 1000),
    )
    outlook = compute_outlook(long_perp(distance), market(), RiskRules(), None, settings, 0)
    assert outlook.unknown == ""
    h = outlook.horizon(1.0)
    assert h is not None
    dt_years = step_min / 60 / HOURS_PER_YEAR
    shifted = distance + BGK * sigma * math.sqrt(dt_years)
    expected = first_passage(shifted, sigma, 1.0 / HOURS_PER_YEAR)
    stderr = math.sqrt(expected * (1 - expected) / n)
    assert h.stderr == pytest.approx(math.sqrt(h.p_liquidation * (1 - h.p_liquidation) / n))
    assert abs(h.p_liquidation - expected) <= 3 * stderr, (h.p_liquidation, expected, stderr)


def test_the_continuity_correction_matters_at_coarse_steps() -> None:
    """The check above can fail: monitored every 15 minutes, the touch probability is clearly
    below the continuous one (the grid misses touches between its steps)."""
    sigma, distance, n = 1.0, 0.012, 6_000
    settings = OutlookSettings(
        n_paths=n,
        horizons_h=(1.0,),
        model="gbm",
        vol_annualised={"BTC": sigma},
        first_hour_step_min=15.0,
    )
    h = compute_outlook(long_perp(distance), market(), RiskRules(), None, settings, 0).horizons[0]
    continuous = first_passage(distance, sigma, 1 / HOURS_PER_YEAR)
    se = math.sqrt(continuous * (1 - continuous) / n)
    assert continuous - h.p_liquidation > 5 * se
