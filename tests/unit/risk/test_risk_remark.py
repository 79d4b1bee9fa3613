"""Mark updates applied to a poll's snapshot and market (``risk.remark``): linear (USDⓈ-M) and
inverse (COIN-M) PnL, index prices moved by their driver, fail closed on a bad price. Expected
numbers are worked out by hand from Binance's published formulas (risk/remark.py cites them):
USDⓈ-M PnL = size · direction · (mark − entry); COIN-M PnL = contracts · multiplier · direction
· (1/entry − 1/mark)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from risk.evaluate import evaluate
from risk.model import AccountSnapshot, CmPosition, RiskRules, UnknownReason
from risk.remark import MarkBasis, MarkUpdate, index_driver, remark
from tests.support.books import bal, market, perp

NO_BASIS = MarkBasis({})


def cm_short_btc() -> CmPosition:
    """Short 100 BTCUSD_PERP contracts of 100 USD at a mark of 95,020; PnL 0.001 BTC."""
    return CmPosition("BTCUSD_PERP", "BOTH", -100.0, 94_930.0, 95_020.0, 0.001, 100.0, "BTC")


def cm_long_eth() -> CmPosition:
    """Long 50 ETHUSD_PERP contracts of 10 USD, entered at 2,000, marked at 2,000: PnL 0."""
    return CmPosition("ETHUSD_PERP", "BOTH", 50.0, 2_000.0, 2_000.0, 0.0, 10.0, "ETH")


def book() -> AccountSnapshot:
    return AccountSnapshot(
        balances=(
            bal("USDT", um_wallet_qty=10_000.0, um_unrealized_pnl_qty=1_000.0),
            bal("BTC", cross_margin_asset_qty=1.0, cm_unrealized_pnl_qty=0.001),
            bal("ETH", cross_margin_asset_qty=2.0),
        ),
        # Long 2 BTC entered at 94,500, marked 95,000: PnL 2 · 500 = 1,000 USDT.
        um_positions=(perp("BTCUSDT", 2.0, 95_000.0, entry=94_500.0),),
        cm_positions=(cm_short_btc(), cm_long_eth()),
    )


def test_linear_pnl_moves_by_amount_times_the_mark_change() -> None:
    s, _ = remark(book(), market(), NO_BASIS, [MarkUpdate("BTCUSDT", 96_500.0, 96_480.0, 7)])
    (p,) = s.um_positions
    # 2 · (96,500 − 95,000) = +3,000 → 1,000 + 3,000 = 4,000 = 2 · (96,500 − 94,500), the
    # formula from the entry price.
    assert p.mark_price == 96_500.0
    assert p.unrealized_pnl_qty == pytest.approx(4_000.0)
    assert p.unrealized_pnl_qty == pytest.approx(2.0 * (96_500.0 - p.entry_price))
    usdt = next(b for b in s.balances if b.asset == "USDT")
    assert usdt.um_unrealized_pnl_qty == pytest.approx(4_000.0)  # the quote asset carries it
    assert usdt.equity_qty == pytest.approx(10_000.0 + 4_000.0)


def test_a_short_linear_position_loses_as_the_mark_rises() -> None:
    s = AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=50_000.0, um_unrealized_pnl_qty=-10.0),),
        um_positions=(perp("ETHUSDT", -10.0, 3_501.0, entry=3_500.0),),
    )
    out, _ = remark(s, market(), NO_BASIS, [MarkUpdate("ETHUSDT", 3_535.0, 3_535.0, 2)])
    # −10 · (3,535 − 3,501) = −340 → −10 − 340 = −350 = −10 · (3,535 − 3,500).
    assert out.um_positions[0].unrealized_pnl_qty == pytest.approx(-350.0)
    assert out.balances[0].um_unrealized_pnl_qty == pytest.approx(-350.0)


def test_inverse_pnl_moves_in_the_coin_by_contracts_size_and_reciprocal_marks() -> None:
    updates = [
        MarkUpdate("BTCUSD_PERP", 94_100.0, 94_090.0, 7),
        MarkUpdate("ETHUSD_PERP", 2_500.0, 2_499.0, 7),
    ]
    s, _ = remark(book(), market(), NO_BASIS, updates)
    btc, eth = s.cm_positions
    # Short 100 · 100 USD: −10,000 · (1/95,020 − 1/94,100)
    # = −10,000 · (1.05240997e-5 − 1.06269926e-5) = −10,000 · −1.0289295e-7 = +0.00102893 BTC
    # (a short gains in the coin as the price falls).
    change = -100 * 100 * (1 / 95_020 - 1 / 94_100)
    assert change == pytest.approx(0.00102893, rel=1e-5)
    assert btc.unrealized_pnl_qty == pytest.approx(0.001 + change)
    # Long 50 · 10 USD from 2,000 to 2,500: 500 · (1/2,000 − 1/2,500) = 500 · 0.0001 = 0.05 ETH,
    # the formula from the entry price (2,000) too.
    assert eth.unrealized_pnl_qty == pytest.approx(0.05)
    assert eth.unrealized_pnl_qty == pytest.approx(50 * 10 * (1 / eth.entry_price - 1 / 2_500))
    balances = {b.asset: b for b in s.balances}
    assert balances["BTC"].cm_unrealized_pnl_qty == pytest.approx(0.001 + change)
    assert balances["ETH"].cm_unrealized_pnl_qty == pytest.approx(0.05)  # no row before: 0 + 0.05
    assert (btc.mark_price, eth.mark_price) == (94_100.0, 2_500.0)


def test_market_marks_and_driven_index_prices_move_and_the_inputs_stay() -> None:
    m = dataclasses.replace(
        market({"BTC": 95_002.0, "ETH": 3_499.3}),
        mark_price={"BTCUSDT": 95_010.0, "BTCUSD_PERP": 95_020.0, "ETHUSDT": 3_501.0},
        time_ms=1,
    )
    basis = MarkBasis({"BTCUSDT": 95_000.0, "BTCUSD_PERP": 95_004.0, "ETHUSDT": 3_500.0})
    before = dataclasses.replace(m, mark_price=dict(m.mark_price))
    updates = [
        MarkUpdate("ETHUSDT", 3_535.0, 3_535.0, 2_000),  # ETH's driver index +1 %
        MarkUpdate("BTCUSD_PERP", 94_100.0, 94_053.96, 2_500),  # BTC's driver index −1 %
    ]
    _, out = remark(book(), m, basis, updates)
    assert out.mark_price == {"BTCUSDT": 95_010.0, "BTCUSD_PERP": 94_100.0, "ETHUSDT": 3_535.0}
    # ETH: 3,499.3 · 3,535 / 3,500 = 3,499.3 · 1.01 = 3,534.293
    assert out.index_price_usd["ETH"] == pytest.approx(3_534.293)
    # BTC: 95,002 · 94,053.96 / 95,004 = 95,002 · 0.99 = 94,051.98 (the COIN-M perpetual drives
    # it: a USD index, like the asset's)
    assert out.index_price_usd["BTC"] == pytest.approx(94_051.98)
    assert out.index_price_usd["USDT"] == 1.0  # no driver: as polled
    assert out.time_ms == 2_500  # the newest update applied
    assert m == before  # pure: the poll's market is not changed


def test_updates_apply_from_the_poll_never_chained() -> None:
    u = [MarkUpdate("BTCUSDT", 96_500.0, 96_480.0, 7)]
    once, _ = remark(book(), market(), NO_BASIS, u)
    twice, _ = remark(book(), market(), NO_BASIS, [MarkUpdate("BTCUSDT", 99.0, 99.0, 6), *u])
    assert once == twice  # the newest per symbol wins; each applies to the poll's prices


def test_re_marked_figures_evaluate_by_hand() -> None:
    # 10,000 USDT wallet, long 1 BTCUSDT entered at 50,000. Mark 55,000: PnL +5,000 USDT.
    s = AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=10_000.0),),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0),),
    )
    out = evaluate(
        *remark(s, market(), NO_BASIS, [MarkUpdate("BTCUSDT", 55_000.0, 55_000.0, 1)]),
        RiskRules(),
    )
    # Equity: (10,000 + 5,000) USDT at rate 1 = 15,000. MM: 55,000 · 0.4 % − 0 = 220
    # (first BTCUSDT bracket). uniMMR = 15,000 / 220 = 68.18…
    assert out.adjusted_equity_usd == pytest.approx(15_000.0)
    assert out.maint_margin.um_usd == pytest.approx(220.0)
    assert out.uni_mmr == pytest.approx(15_000.0 / 220.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_a_bad_mark_makes_the_position_unknown_never_the_polls_calm_value(bad: float) -> None:
    s = AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=10_000.0),),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0),),
    )
    out_s, out_m = remark(s, market(), NO_BASIS, [MarkUpdate("BTCUSDT", bad, 50_000.0, 1)])
    assert "BTCUSDT" not in out_m.mark_price  # dropped, not left at 50,000
    assert math.isnan(out_s.um_positions[0].unrealized_pnl_qty)
    assert math.isnan(out_s.balances[0].um_unrealized_pnl_qty)
    report = evaluate(out_s, out_m, RiskRules())
    assert math.isnan(report.uni_mmr) and report.state == "UNKNOWN"
    assert any(r.item == "BTCUSDT" and r.field == "markPrice" for r in report.unknown_reasons)


@pytest.mark.parametrize("bad", [0.0, math.nan, math.inf])
def test_a_bad_driver_index_makes_the_asset_index_unknown(bad: float) -> None:
    s = AccountSnapshot(balances=(bal("BTC", cross_margin_asset_qty=1.0),), um_positions=())
    m = dataclasses.replace(market(), mark_price={"BTCUSD_PERP": 50_010.0})
    basis = MarkBasis({"BTCUSD_PERP": 50_000.0})
    _, out = remark(s, m, basis, [MarkUpdate("BTCUSD_PERP", 50_010.0, bad, 1)])
    assert "BTC" not in out.index_price_usd
    report = evaluate(s, out, RiskRules())
    assert math.isnan(report.adjusted_equity_usd) and report.state == "UNKNOWN"
    assert any(r.item == "BTC" and r.field == "assetIndexPrice" for r in report.unknown_reasons)


def test_a_valid_mark_replaces_the_polls_bad_one() -> None:
    # The poll's premium index had an unusable BTCUSDT mark; the update's value replaces it (as
    # a poll at the update's prices would read it), so the poll's reason about it goes.
    bad = UnknownReason("/fapi/v1/premiumIndex", "markPrice", "not positive", "BTCUSDT")
    other = UnknownReason("/fapi/v1/premiumIndex", "markPrice", "not positive", "SOLUSDT")
    m = dataclasses.replace(market(), mark_price={"ETHUSDT": 3_000.0}, problems=(bad, other))
    s = AccountSnapshot(balances=(bal("USDT", um_wallet_qty=1.0),), um_positions=())
    basis = MarkBasis({"BTCUSDT": 50_000.0, "SOLUSDT": 180.0})
    _, out = remark(s, m, basis, [MarkUpdate("BTCUSDT", 1.0, 1.0, 1)])
    assert out.problems == (other,) and out.mark_price["BTCUSDT"] == 1.0


def test_index_driver_prefers_the_coin_m_perpetual() -> None:
    assert index_driver("BTC", ["BTCUSDT", "BTCUSD_PERP"]) == "BTCUSD_PERP"
    assert index_driver("ETH", ["BTCUSDT", "ETHUSDT"]) == "ETHUSDT"
    assert index_driver("USDT", ["BTCUSDT"]) is None
