"""Stress, liquidation distance, top-up, reduce, hedges and initial margin, worked by hand.

Rules as in test_risk_evaluate.py (uniMMR FAQ 4868b2f1aa6c4d08af973328462bb0bd). Collateral
tiers and brackets are re-applied at the moved prices; liquidation level 1.05 (FAQ ladder).
"""

from __future__ import annotations

import math

import pytest

from risk import RiskRules, evaluate
from risk.model import (
    AccountSnapshot,
    CmPosition,
    CollateralTier,
    MarginBand,
    MarketState,
    RiskReport,
)
from tests.support.books import BTCUSDT, bal, basis, directional_long, market, perp


def grid_point(report: RiskReport, pct: int) -> tuple[float, float, float]:
    i = report.stress.shock_pct.index(pct)
    s = report.stress
    return s.uni_mmr[i], s.equity_usd[i], s.maint_margin_usd[i]


def scenario(report: RiskReport, name: str) -> float:
    return next(s.uni_mmr for s in report.scenarios if s.name == name)


def test_stress_grid_basis_book_up_and_down() -> None:
    r = evaluate(basis(), market(), RiskRules())
    assert len(r.stress.shock_pct) == 121 and r.stress.shock_pct[0] == -60
    # +10 %: BTC 55,000. Spot 2 · 55,000 · 0.95 = 104,500. Perp PnL −2 · 5,000 = −10,000 on
    # USDT 9,500 → −500, a debt counted in full. Equity 104,000. MM 110,000 · 0.4 % = 440.
    uni, eq, mm = grid_point(r, 10)
    assert (eq, mm) == pytest.approx((104_000.0, 440.0))
    assert uni == pytest.approx(104_000 / 440)
    # −10 %: spot 90,000 · 0.95 = 85,500; USDT 9,500 + 10,000 = 19,500 → 105,000; MM 360.
    uni, eq, mm = grid_point(r, -10)
    assert (eq, mm) == pytest.approx((105_000.0, 360.0))
    # The carry is short the haircut: the rally hurts it more than the fall.
    assert grid_point(r, 10)[0] < grid_point(r, -10)[0]


def test_liquidation_distance_directional_long() -> None:
    r = evaluate(directional_long(), market(), RiskRules())
    # equity(t) = 5,000 + 50,000 t; MM(t) = 50,000 (1 + t) · 0.004 = 200 (1 + t)
    # 5,000 + 50,000 t = 1.05 · 200 (1 + t) → 4,790 + 49,790 t = 0 → t = −4,790 / 49,790
    t = -4_790 / 49_790
    assert r.liquidation_shock.down_pct == pytest.approx(100 * t, abs=1e-5)
    assert r.liquidation_shock.btc_down_price_usd == pytest.approx(50_000 * (1 + t), abs=0.01)
    assert r.liquidation_shock.up_pct is None  # a long only gains as prices rise
    (btc,) = r.asset_liquidations
    assert btc.asset == "BTC" and btc.down_price_usd == pytest.approx(50_000 * (1 + t), abs=0.01)


def test_per_asset_liquidation_prices_hold_other_prices() -> None:
    snap = AccountSnapshot(
        balances=(bal("ETH", cross_margin_asset_qty=10.0),),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0),),
    )
    r = evaluate(snap, market(), RiskRules())
    # ETH 10 · 3,000 · 0.90 = 27,000; MM 200 → uniMMR 135.
    assert r.uni_mmr == pytest.approx(135.0)
    by = {a.asset: a for a in r.asset_liquidations}
    # BTC alone: 27,000 + 50,000 t = 210 (1 + t) → t = −26,790 / 49,790
    t_btc = -26_790 / 49_790
    assert by["BTC"].down_price_usd == pytest.approx(50_000 * (1 + t_btc), abs=0.01)
    # ETH alone: 27,000 (1 + s) = 210 → s = −26,790 / 27,000 → 3,000 · 210 / 27,000 = 23.33
    assert by["ETH"].down_price_usd == pytest.approx(3_000 * 210 / 27_000, abs=0.001)
    assert by["BTC"].up_price_usd is None and by["ETH"].up_price_usd is None
    # Single-asset shocks, the other price held. BTC −10 %: 27,000 − 5,000 = 22,000 over
    # 45,000 · 0.4 % = 180 → 122.22. ETH −30 %: 18,900 over 200 → 94.5.
    single = r.single_asset
    assert single.moves_pct == (-30, -20, -10, 10, 20, 30)
    row = dict(zip(single.assets, single.uni_mmr, strict=True))
    assert row["BTC"][2] == pytest.approx(22_000 / 180)
    assert row["ETH"][0] == pytest.approx(18_900 / 200)
    # All together: 27,000 (1 + t) + 50,000 t = 210 (1 + t) → t = −26,790 / 76,790
    t_all = -26_790 / 76_790
    assert r.liquidation_shock.down_pct == pytest.approx(100 * t_all, abs=1e-5)


def test_basis_break_scenario() -> None:
    r = evaluate(basis(), market(), RiskRules())
    # Perp mark +5 % (52,500) with spot held: PnL −2 · 2,500 = −5,000 → USDT 4,500;
    # spot 95,000; equity 99,500; MM 105,000 · 0.4 % = 420.
    assert scenario(r, "futures vs spot +5%") == pytest.approx(99_500 / 420)


def test_historical_crash_on_directional_long() -> None:
    r = evaluate(directional_long(), market(), RiskRules())
    crash = next(s for s in r.scenarios if s.name.startswith("Black Thursday"))
    # BTC −46 %: PnL −23,000 → USDT −18,000 (in full); MM 27,000 · 0.4 % = 108.
    assert crash.equity_usd == pytest.approx(-18_000.0)
    assert crash.uni_mmr == pytest.approx(-18_000 / 108)
    assert crash.status is MarginBand.LIQUIDATION_WITH_LOSS
    assert "2020-03-12" in crash.name and crash.source


def test_coin_m_stress_point() -> None:
    snap = AccountSnapshot(
        balances=(bal("BTC", cm_wallet_qty=0.1),),
        um_positions=(),
        cm_positions=(
            CmPosition("BTCUSD_PERP", "BOTH", 10.0, 50_000.0, 50_000.0, 0.0, 100.0, "BTC"),
        ),
    )
    m = MarketState(
        index_price_usd={"BTC": 50_000.0},
        mark_price={"BTCUSD_PERP": 50_000.0},
        cm_brackets={"BTCUSD_PERP": BTCUSDT[:1]},
        collateral_tiers={"BTC": (CollateralTier(0, 1e12, 0.95, 0),)},
    )
    r = evaluate(snap, m, RiskRules())
    # −10 %: mark 45,000. PnL in coin 1,000 · (1/50,000 − 1/45,000) = −0.0022222 BTC, so
    # x = 0.0977778 BTC · 45,000 = 4,400 · 0.95 = 4,180. MM: 1,000 / 45,000 BTC · 0.4 %
    # = 0.0000888889 BTC · 45,000 = 4.00 USD. uniMMR = 1,045.
    uni, eq, mm = grid_point(r, -10)
    assert eq == pytest.approx(4_180.0)
    assert mm == pytest.approx(4.0)
    assert uni == pytest.approx(1_045.0)


def test_top_up_to_target_flat_and_tiered() -> None:
    r = evaluate(directional_long(), market(), RiskRules())
    assert r.uni_mmr == pytest.approx(25.0)  # 5,000 / 200
    assert r.top_up_to(30.0) == pytest.approx(1_000.0)  # need equity 6,000
    assert r.top_up_to(20.0) == 0.0
    # USDT tiers: 100 % to 10,000, then 50 % (cum = 10,000 · (1 − 0.5) = 5,000).
    tiered = (CollateralTier(0, 10_000, 1.0, 0), CollateralTier(10_000, 1e12, 0.5, 5_000))
    r = evaluate(directional_long(), market(tiers={"USDT": tiered}), RiskRules())
    assert r.top_up_to(50.0) == pytest.approx(5_000.0)  # 10,000 of collateral = 10,000 USDT
    # 11,000 = v · 0.5 + 5,000 → v = 12,000 → add 7,000
    assert r.top_up_to(55.0) == pytest.approx(7_000.0)


def test_reduce_largest_contributor() -> None:
    r = evaluate(directional_long(), market(), RiskRules(top_up_target_uni_mmr=30.0))
    # Keep MM ≤ 5,000 / 30 = 166.67 → notional 41,666.67 of 50,000 → close 1/6.
    assert r.reduce is not None and r.reduce.symbol == "BTCUSDT"
    assert r.reduce.fraction == pytest.approx(1 - (5_000 / 30 / 0.004) / 50_000)
    assert r.top_up_usd == pytest.approx(1_000.0)


def test_hedge_rows() -> None:
    (btc,) = evaluate(basis(), market(), RiskRules()).hedges
    assert (btc.spot_qty, btc.um_qty, btc.net_qty, btc.gross_qty) == (2.0, -2.0, 0.0, 4.0)
    assert btc.hedge_ratio == 1.0
    # The short perp's IM: 100,000 / 10 = 10,000; the 2 BTC count 95,000 under PM, against
    # every leg (2 · 50,000 · 95 %).
    assert btc.futures_initial_usd == pytest.approx(10_000.0)
    assert btc.own_collateral_usd == pytest.approx(95_000.0)
    (btc,) = evaluate(directional_long(), market(), RiskRules()).hedges
    assert (btc.net_qty, btc.hedge_ratio) == (1.0, 0.0)
    assert btc.own_collateral_usd == 0.0  # nothing in BTC to back the long


def test_initial_margin_and_withdrawable() -> None:
    snap = AccountSnapshot(
        balances=(
            bal(
                "USDT",
                um_wallet_qty=5_000.0,
                cross_margin_asset_qty=3_000.0,
                cross_margin_borrowed_qty=3_000.0,
            ),
        ),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0, leverage=10.0),),
    )
    r = evaluate(snap, market(), RiskRules(margin_leverage=10.0))
    # Futures 50,000 / 10 = 5,000; margin loan 3,000 / (10 − 1) = 333.33.
    assert r.initial_margin_usd == pytest.approx(5_000 + 3_000 / 9)
    # Equity 5,000; MM 200 + 3,000 · 10 % (loan MMR assumed: Binance's figures absent) = 500.
    assert r.maint_margin.total_usd == pytest.approx(500.0)
    # Binance FAQ 446ce2c3…: Maxwithdraw = max(account equity − 1.2 · MM, 0) = 5,000 − 600.
    assert r.withdrawable_usd == pytest.approx(4_400.0)


def test_stablecoin_buffer() -> None:
    r = evaluate(basis(), market(), RiskRules())
    assert r.stablecoin_buffer_usd == pytest.approx(9_500.0)


def test_net_stablecoin_buffer_shows_stablecoin_debt() -> None:
    # A basis book that owes USDT: 2 BTC held, USDT x = 1,000 − 53,767 borrowed = −52,767.
    # The buffer (stablecoins held) is 0; the net buffer is the debt, shown as such.
    snap = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=2.0),
            bal("USDT", cross_margin_asset_qty=1_000.0, cross_margin_borrowed_qty=53_767.0),
        ),
        um_positions=(perp("BTCUSDT", -2.0, 50_000.0),),
    )
    r = evaluate(snap, market(), RiskRules())
    assert r.stablecoin_buffer_usd == 0.0
    assert r.net_stablecoin_buffer_usd == pytest.approx(-52_767.0)


def test_top_up_also_clears_the_warning_distance() -> None:
    r = evaluate(directional_long(), market(), RiskRules())  # clear move 15 % by default
    # uniMMR 25 is far above the target 2.0: nothing for the target.
    assert r.top_up_usd == 0.0
    # But −9.62 % liquidates it. At −15 % (the grid's edge of the band, BTC 42,500): equity
    # 5,000 − 7,500 = −2,500 (a USDT debt, counted in full); MM 42,500 · 0.4 % = 170. Staying
    # above 1.05 there needs 1.05 · 170 + 2,500 = 2,678.5 USDT more; at −14 % only
    # 1.05 · 172 + 2,000 = 2,180.6; rallies only help a long.
    assert r.top_up_clear_move_pct == 15.0
    assert r.top_up_move_usd == pytest.approx(2_678.5)
    assert r.top_up_needed_usd == pytest.approx(2_678.5)
    # With it the account liquidates at exactly −15 %: 7,678.5 + 50,000 t = 210 (1 + t)
    # → t = −7,468.5 / 49,790 = −0.15.
    topped = AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=5_000.0 + 2_678.5),),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0),),
    )
    after = evaluate(topped, market(), RiskRules())
    assert after.liquidation_shock.down_pct == pytest.approx(-15.0, abs=1e-5)
    assert after.top_up_move_usd == pytest.approx(0.0, abs=1e-6)
    # The uniMMR target needs more than the distance: the larger is the one top-up.
    r = evaluate(directional_long(), market(), RiskRules(top_up_target_uni_mmr=40.0))
    assert r.top_up_usd == pytest.approx(3_000.0)  # 40 · 200 − 5,000
    assert r.top_up_needed_usd == pytest.approx(3_000.0)
    # 0 %: only the account as it stands (already above 1.05): nothing.
    assert (
        evaluate(directional_long(), market(), RiskRules(top_up_clear_move_pct=0.0)).top_up_move_usd
        == 0.0
    )


def test_top_up_for_distance_is_unknown_when_a_move_cannot_be_valued() -> None:
    # A NaN anywhere in the band must not vanish in max() and leave a calm 0.
    from risk.topup import move_top_up_usd

    flat = (CollateralTier(0, 1e12, 1.0, 0),)
    shocks, mm = (-1, 0, 1), (100.0, 100.0, 100.0)
    assert move_top_up_usd(shocks, (0.0, 50.0, 200.0), mm, 15.0, 1.05, 50.0, flat) == (
        pytest.approx(105.0)  # at −1 %: 1.05 · 100 − 0
    )
    assert math.isnan(
        move_top_up_usd(shocks, (0.0, float("nan"), 200.0), mm, 15.0, 1.05, 50.0, flat)
    )
    # Outside the band a move does not count, valued or not.
    assert move_top_up_usd(shocks, (float("nan"), 500.0, 500.0), mm, 0.5, 1.05, 50.0, flat) == 0.0
