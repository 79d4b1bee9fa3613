"""Properties of the Outlook's probabilities (hypothesis, few examples; GBM, common random
numbers: every compared pair shares its seed, so the comparison is exact path by path), and a
perfectly hedged basis book against the same notional unhedged."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk.model import AccountSnapshot, RiskRules
from risk.outlook import OutlookSettings, compute_outlook
from tests.support.books import bal, market, perp

FEW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
N = 600


def long_perp(wallet: float) -> AccountSnapshot:
    return AccountSnapshot((bal("USDT", um_wallet_qty=wallet),), (perp("BTCUSDT", 1.0, 50_000.0),))


def p_liquidation(wallet: float, vol: float, seed: int) -> tuple[float, ...]:
    s = OutlookSettings(n_paths=N, model="gbm", vol_annualised={"BTC": vol}, seed=seed)
    outlook = compute_outlook(long_perp(wallet), market(), RiskRules(), None, s, 0)
    return tuple(h.p_liquidation for h in outlook.horizons)


@FEW
@given(
    wallet=st.floats(2_000, 6_000),
    vol=st.floats(0.3, 1.2),
    more=st.floats(1.2, 2.0),
    seed=st.integers(0, 10_000),
)
def test_probability_rises_with_volatility_and_horizon(
    wallet: float, vol: float, more: float, seed: int
) -> None:
    calm = p_liquidation(wallet, vol, seed)
    wild = p_liquidation(wallet, vol * more, seed)
    assert all(w >= c for w, c in zip(wild, calm, strict=True))
    assert calm[0] <= calm[1] <= calm[2] and wild[0] <= wild[1] <= wild[2]


@FEW
@given(wallet=st.floats(2_000, 6_000), extra=st.floats(500, 3_000), seed=st.integers(0, 10_000))
def test_probability_falls_with_distance(wallet: float, extra: float, seed: int) -> None:
    near = p_liquidation(wallet, 0.8, seed)
    far = p_liquidation(wallet + extra, 0.8, seed)
    assert all(f <= n for f, n in zip(far, near, strict=True))


def test_a_hedged_basis_book_is_far_safer_than_the_same_notional_unhedged() -> None:
    """10 BTC spot bought with 450,000 borrowed USDT and 110,000 of the account's own (60,000
    USDT left).
    Hedged: short 10 BTCUSDT against it. Unhedged: the same spot and loan, no short.
    Hedged: equity 10 * 50,000 * 0.95 + 60,000 - 450,000 = 85,000; MM 450,000 * 10 % (the
    conservative loan MMR) + 500,000 * 0.5 % - 300 = 47,200; uniMMR 1.80.
    Unhedged: equity 85,000, MM 45,000, uniMMR 1.89: a 10 % fall takes 47,500 off the
    equity (uniMMR 0.83), while the hedged book gains 2,500 on it."""
    spot = bal("BTC", cross_margin_asset_qty=10.0)
    cash = bal("USDT", cross_margin_asset_qty=60_000.0, cross_margin_borrowed_qty=450_000.0)
    hedged = AccountSnapshot((spot, cash), (perp("BTCUSDT", -10.0, 50_000.0),))
    unhedged = AccountSnapshot((spot, cash), ())
    s = OutlookSettings(n_paths=4_000, model="gbm", vol_annualised={"BTC": 0.8})
    h = compute_outlook(hedged, market(), RiskRules(), None, s, 0).horizon(24.0)
    u = compute_outlook(unhedged, market(), RiskRules(), None, s, 0).horizon(24.0)
    assert h is not None and u is not None
    assert u.p_liquidation > 10 * u.stderr  # clearly non-zero
    assert h.p_liquidation < u.p_liquidation / 20
    assert u.uni_mmr_q01 < 1.05 < h.uni_mmr_q01
    assert h.drivers == () or h.drivers[0].asset == "BTC"
    assert u.drivers[0].asset == "BTC" and math.isclose(u.drivers[0].share, 1.0)
