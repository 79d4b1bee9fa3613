"""What-if (pre-trade check) and PM-versus-classic, worked by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest

from risk import RiskRules, evaluate
from risk.classic import ClassicComparison
from risk.model import (
    FLAT,
    LOAN_MMR_IMPLIED,
    AccountSnapshot,
    Bracket,
    CmPosition,
    CollateralTier,
    MarketState,
    ReportedAccount,
    ReportedPositionMargin,
)
from risk.serialize import report_to_dict
from risk.whatif import Borrow, FuturesTrade, SpotTrade, Transfer, WhatIfError, what_if
from tests.support.books import bal, basis10, borrower, directional_long, hedged, market, perp

# BTCUSD_PERP brackets in coin: [0, 5) BTC 0.4 %; [5, 50) BTC 0.5 %, cum 5 · (0.005 − 0.004).
BTCUSD = (Bracket(0, 5, 0.004, 0, 125), Bracket(5, 50, 0.005, 0.005, 100))


def cm_market() -> MarketState:
    m = market()
    return dataclasses.replace(
        m,
        mark_price={**m.mark_price, "BTCUSD_PERP": 50_000.0},
        cm_brackets={"BTCUSD_PERP": BTCUSD},
    )


def coinm_hedger() -> AccountSnapshot:
    """10 BTC spot hedged with 5,000 BTCUSD_PERP contracts (100 USD each) short at 50,000."""
    short = CmPosition("BTCUSD_PERP", "BOTH", -5_000, 50_000.0, 50_000.0, 0.0, 100.0, "BTC", 5)
    return AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=10.0),), um_positions=(), cm_positions=(short,)
    )


# --- PM vs classic --------------------------------------------------------------------------


def test_classic_basis_book_needs_its_own_usdm_collateral() -> None:
    c = evaluate(basis10(), market(), RiskRules()).classic
    # Short 10 BTCUSDT at 50,000 = 500,000 notional, bracket 2: 0.5 % · 500,000 − 300 = 2,200.
    assert c.um_maint_usd == pytest.approx(2_200.0)
    # Entered at the mark: no unrealized PnL, so the USDⓈ-M wallet must hold 2,200 counted:
    # 2,200 / 0.9999 USDT or 2,200 / 0.95 = 2,315.79 USD of BTC moved there.
    assert c.um_upnl_usd == 0.0
    assert c.um_need_usd == pytest.approx(2_200.0)
    # PM: one MM of 2,200 → line 1.05 · 2,200 = 2,310 of adjusted equity;
    # the book has 10 · 50,000 · 0.95 + 20,000 = 495,000.
    assert c.pm_line_usd == pytest.approx(2_310.0)
    assert c.pm_equity_usd == pytest.approx(495_000.0)
    assert c.classic_line_usd == pytest.approx(2_200.0)
    assert (c.coin_wallets, c.has_loans) == ((), False)
    # Where the holdings count: BTC 500,000 → PM 475,000 (95 %), USDⓈ-M wallet 95 % = 475,000
    # once moved there; USDT 20,000 → PM 20,000, USDⓈ-M wallet 99.99 % = 19,998.
    btc, usdt = c.holdings
    assert (btc.asset, btc.value_usd, btc.pm_counted_usd) == ("BTC", 500_000.0, 475_000.0)
    assert btc.multi_assets_usd == pytest.approx(475_000.0)
    assert usdt.asset == "USDT"
    assert usdt.multi_assets_usd == pytest.approx(19_998.0)
    assert not btc.coin_m


def test_classic_basis_book_legs_land_apart() -> None:
    c = evaluate(basis10(), market(), RiskRules()).classic
    # +10 %: the short loses 10 · 50,000 · 10 % = 50,000 in the USDⓈ-M wallet; the spot BTC
    # gains 50,000 where it sits. PM: BTC 550,000 · 0.95 = 522,500, USDT 20,000 − 50,000 =
    # −30,000 (a debt counts in full) → 492,500, i.e. −2,500 (the 5 % haircut on the gain).
    assert (c.um_move_up_usd, c.holdings_move_up_usd) == (-50_000.0, 50_000.0)
    assert c.pm_equity_move_up_usd == pytest.approx(-2_500.0)
    # −10 %: 427,500 + 70,000 = 497,500 → +2,500.
    assert (c.um_move_down_usd, c.holdings_move_down_usd) == (50_000.0, -50_000.0)
    assert c.pm_equity_move_down_usd == pytest.approx(2_500.0)


def test_classic_coin_m_hedger() -> None:
    c = evaluate(coinm_hedger(), cm_market(), RiskRules()).classic
    # 5,000 contracts · 100 USD / 50,000 = 10 BTC of notional, bracket 2:
    # 10 · 0.5 % − 0.005 = 0.045 BTC = 2,250 USD, to be held in BTC in the COIN-M BTC wallet.
    (w,) = c.coin_wallets
    assert w.coin == "BTC"
    assert (w.maint_qty, w.need_qty) == pytest.approx((0.045, 0.045))
    assert w.need_usd == pytest.approx(2_250.0)
    assert not c.has_um and c.holdings[0].coin_m
    # PM: 1.05 · 2,250 = 2,362.5; equity 10 · 50,000 · 0.95 = 475,000.
    assert c.pm_line_usd == pytest.approx(2_362.5)
    assert c.pm_equity_usd == pytest.approx(475_000.0)
    # +10 %: the contracts lose 500,000 · (1/50,000 − 1/55,000) = 0.90909 BTC, at 55,000 =
    # 50,000 USD; −10 %: gain 500,000 · (1/45,000 − 1/50,000) = 1.1111 BTC · 45,000 = 50,000.
    assert (w.move_up_usd, w.move_down_usd) == pytest.approx((-50_000, 50_000))
    # PM: BTC 10 − 0.90909 = 9.0909 at 55,000 = 500,000 · 0.95: unchanged either way — an
    # inverse short of the coin's value is USD-neutral, so the haircut costs nothing.
    assert c.pm_equity_move_up_usd == pytest.approx(0.0, abs=1e-6)
    assert c.pm_equity_move_down_usd == pytest.approx(0.0, abs=1e-6)


def test_classic_borrower_margin_level() -> None:
    c = evaluate(borrower(), market(), RiskRules()).classic
    # Debt 200,000 + 1,000 interest = 201,000; assets 100 ETH · 3,000 = 300,000.
    assert (c.margin_debt_usd, c.margin_assets_usd) == (201_000.0, 300_000.0)
    # Margin level 300,000 / 201,000 = 1.4925; Classic line 1.1 · 201,000 = 221,100 of assets,
    # i.e. 20,100 beyond the debt; above it now, so nothing to add.
    assert c.margin_level == pytest.approx(300_000 / 201_000)
    assert c.margin_need_assets_usd == pytest.approx(221_100.0)
    assert c.margin_need_equity_usd == pytest.approx(20_100.0)
    assert c.margin_shortfall_usd == 0.0
    # ETH at −t: 300,000 (1 + t) = 221,100 → t = −78,900 / 300,000 = −26.3 %.
    assert c.margin_liquidation_move_pct == pytest.approx(-26.3)
    # PM: loan MM 200,000 · 10 % (assumed: no Binance figures) = 20,000 → line 21,000;
    # equity 300,000 · 0.9 − 201,000 = 69,000; ±10 %: ±30,000 · 0.9 = ±27,000.
    assert c.pm_line_usd == pytest.approx(21_000.0)
    assert c.pm_equity_usd == pytest.approx(69_000.0)
    assert c.pm_equity_move_up_usd == pytest.approx(27_000.0)
    assert c.holdings_move_down_usd == pytest.approx(-30_000.0)
    assert c.classic_line_usd == pytest.approx(20_100.0)


def test_classic_unknown_is_nan_not_zero() -> None:
    # No BTCUSDT brackets: maintenance margin unknown, so every MM-based figure is NaN while
    # the holdings (equity inputs) stay known.
    m = dataclasses.replace(market(), um_brackets={})
    r = evaluate(basis10(), m, RiskRules())
    assert r.state == "UNKNOWN"
    c = r.classic
    for figure in (c.um_maint_usd, c.um_need_usd, c.pm_maint_usd, c.pm_line_usd):
        assert math.isnan(figure)
    assert math.isnan(c.classic_line_usd) and math.isnan(c.pm_equity_move_up_usd)
    assert c.holdings[0].value_usd == 500_000.0
    # No BTC index price: equity unknown too; the holdings' values are NaN, never 0.
    m = dataclasses.replace(market(), index_price_usd={"USDT": 1.0, "ETH": 3_000.0})
    c = evaluate(basis10(), m, RiskRules()).classic
    assert math.isnan(c.pm_equity_usd) and math.isnan(c.margin_assets_usd)
    assert all(math.isnan(h.value_usd) for h in c.holdings)


def test_classic_survives_the_store_round_trip() -> None:
    r = evaluate(coinm_hedger(), cm_market(), RiskRules())
    back = ClassicComparison.from_dict(report_to_dict(r)["classic"])
    assert back == r.classic
    # NaN is stored as null and read back as NaN; an old report's shape reads as None.
    m = dataclasses.replace(market(), um_brackets={})
    stored = report_to_dict(evaluate(basis10(), m, RiskRules()))["classic"]
    assert stored["um_maint_usd"] == "NaN"  # risk.serialize version 2: NaN kept as "NaN"
    again = ClassicComparison.from_dict(stored)
    assert again is not None and math.isnan(again.um_maint_usd)
    old = {"um_initial_usd": 1.0, "cm_initial_usd": 0.0, "margin_initial_usd": 0.0}
    assert ClassicComparison.from_dict(old) is None


# --- what-if --------------------------------------------------------------------------------


def test_adding_usdt_and_halving_the_long() -> None:
    w = what_if(
        directional_long(),
        market(),
        RiskRules(),
        [Transfer("USDT", 1_000.0), FuturesTrade("UM", "BTCUSDT", -0.5)],
    )
    # Before: 5,000 / 200 = 25. After: equity 6,000; 0.5 BTC · 50,000 · 0.4 % = 100 → 60.
    assert w.before.uni_mmr == pytest.approx(25.0)
    assert w.after.uni_mmr == pytest.approx(60.0)
    assert w.uni_mmr_change == pytest.approx(35.0)
    assert w.maint_margin_change_usd == pytest.approx(-100.0)
    # Down: 6,000 + 25,000 t = 1.05 · 100 (1 + t) → t = −5,895 / 24,895
    assert w.after.liquidation_shock.down_pct == pytest.approx(-100 * 5_895 / 24_895, abs=1e-5)


def test_borrowing_adds_margin_loan_mm() -> None:
    w = what_if(directional_long(), market(), RiskRules(), [Borrow("USDT", 10_000.0)])
    # Equity unchanged (asset + 10,000, loan − 10,000); MM + 10,000 · 10 % (the assumed loan
    # MMR: no Binance figures here) = 1,000 → 5,000 / 1,200.
    assert w.equity_change_usd == pytest.approx(0.0)
    assert w.after.uni_mmr == pytest.approx(5_000 / 1_200)


def test_spot_buy_costs_the_haircut() -> None:
    w = what_if(directional_long(), market(), RiskRules(), [SpotTrade("BTC", 0.02)])
    # 0.02 BTC for 1,000 USDT: BTC counts 1,000 · 0.95 = 950, so equity −50.
    assert w.equity_change_usd == pytest.approx(-50.0)


def test_new_symbol_and_unknown_symbol() -> None:
    w = what_if(directional_long(), market(), RiskRules(), [FuturesTrade("UM", "ETHUSDT", -10)])
    # ETH short 10 · 3,000 = 30,000 at 0.5 % = 150 → MM 350 → 5,000 / 350.
    assert w.after.uni_mmr == pytest.approx(5_000 / 350)
    with pytest.raises(WhatIfError, match="DOGEUSDT"):
        what_if(directional_long(), market(), RiskRules(), [FuturesTrade("UM", "DOGEUSDT", 1)])


def test_hedge_mode_sell_on_the_short_side_only() -> None:
    w = what_if(hedged(), market(), RiskRules(), [FuturesTrade("UM", "BTCUSDT", -1, side="SHORT")])
    rows = {p.position_side: p for p in w.after.positions}
    # SHORT −1 → −2; LONG stays 2.
    assert (rows["LONG"].amount, rows["SHORT"].amount) == (2.0, -2.0)
    # MM before: LONG 100,000 · 0.4 % = 400, SHORT 50,000 · 0.4 % = 200 → 600.
    # After: 400 + 100,000 · 0.4 % = 800. Equity 14,000 both times → 14,000 / 800 = 17.5.
    assert w.before.maint_margin.total_usd == pytest.approx(600.0)
    assert w.after.maint_margin.total_usd == pytest.approx(800.0)
    assert w.after.uni_mmr == pytest.approx(17.5)
    # The LONG row keeps its entry and PnL: 2 · (50,000 − 48,000) = 4,000.
    assert (rows["LONG"].entry_price, rows["LONG"].unrealized_pnl_usd) == (48_000.0, 4_000.0)


def test_hedge_mode_buy_on_the_long_side_averages_the_entry() -> None:
    w = what_if(hedged(), market(), RiskRules(), [FuturesTrade("UM", "BTCUSDT", 2, side="LONG")])
    rows = {p.position_side: p for p in w.after.positions}
    # LONG 2 @ 48,000 + 2 @ 50,000 → 4 @ 49,000; PnL 4 · 1,000 = 4,000 (unchanged: the buy is
    # at the mark). SHORT unchanged at −1. MM 200,000 · 0.4 % + 200 = 1,000.
    assert (rows["LONG"].amount, rows["LONG"].entry_price) == (4.0, 49_000.0)
    assert rows["LONG"].unrealized_pnl_usd == pytest.approx(4_000.0)
    assert rows["SHORT"].amount == -1.0
    assert w.after.maint_margin.total_usd == pytest.approx(1_000.0)


def test_hedge_mode_errors_in_words() -> None:
    def run(trade: FuturesTrade, book: AccountSnapshot | None = None) -> None:
        what_if(book or hedged(), market(), RiskRules(), [trade])

    with pytest.raises(WhatIfError, match=r"hedge mode.*choose LONG or SHORT"):
        run(FuturesTrade("UM", "BTCUSDT", 1))
    with pytest.raises(WhatIfError, match="LONG holds 2: selling 3 would take it below zero"):
        run(FuturesTrade("UM", "BTCUSDT", -3, side="LONG"))
    with pytest.raises(WhatIfError, match="SHORT holds -1: buying 2 would take it above zero"):
        run(FuturesTrade("UM", "BTCUSDT", 2, side="SHORT"))
    with pytest.raises(WhatIfError, match=r"one-way mode.*choose BOTH"):
        run(FuturesTrade("UM", "BTCUSDT", 1, side="LONG"), directional_long())
    # A symbol the hedge-mode account does not hold yet: the venue's mode decides.
    with pytest.raises(WhatIfError, match="hedge mode"):
        run(FuturesTrade("UM", "ETHUSDT", -10))
    w = what_if(hedged(), market(), RiskRules(), [FuturesTrade("UM", "ETHUSDT", -10, side="SHORT")])
    # ETH SHORT −10 · 3,000 = 30,000 at 0.5 % = 150 → MM 750.
    assert w.after.maint_margin.total_usd == pytest.approx(750.0)
    # Closing a side exactly is fine: LONG 2 − 2 = 0, only the SHORT's 200 is left.
    w = what_if(hedged(), market(), RiskRules(), [FuturesTrade("UM", "BTCUSDT", -2, side="LONG")])
    assert w.after.maint_margin.total_usd == pytest.approx(200.0)


def test_hedge_mode_coin_m() -> None:
    long = CmPosition("BTCUSD_PERP", "LONG", 1_000, 50_000.0, 50_000.0, 0.0, 100.0, "BTC", 5)
    short = CmPosition("BTCUSD_PERP", "SHORT", -500, 50_000.0, 50_000.0, 0.0, 100.0, "BTC", 5)
    book = AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=1.0),),
        um_positions=(),
        cm_positions=(long, short),
    )
    trade = FuturesTrade("CM", "BTCUSD_PERP", -500, side="SHORT")
    w = what_if(book, cm_market(), RiskRules(), [trade])
    rows = {p.position_side: p for p in w.after.positions}
    # SHORT −500 → −1,000 contracts; LONG stays 1,000. Each is 1,000 · 100 / 50,000 = 2 BTC,
    # bracket 1: 2 · 0.4 % = 0.008 BTC = 400 USD → 800.
    assert (rows["LONG"].amount, rows["SHORT"].amount) == (1_000, -1_000)
    assert w.after.maint_margin.total_usd == pytest.approx(800.0)


def calibrated_base() -> tuple[AccountSnapshot, MarketState]:
    """A book whose Binance figures make calibration choose the flat table and an 8 % loan
    MMR (what the base report is calibrated to).

    1 BTC and 10 ETH on the margin side, a 10,000 USDT loan (spent), a 1 BTC BTCUSDT long,
    5,000 USDT in the USDⓈ-M wallet, 500 USDT of open-order loss.
    Tiered (tests/support/books.py): BTC 95 %, ETH 90 % → 47,500 + 27,000 − 5,000 − 500 = 69,000.
    Flat: BTC 98 %, ETH 95 % → 49,000 + 28,500 − 5,000 − 500 = 72,000 = Binance's accountEquity,
    so the flat table is the account's. Binance's MM 1,000 − its BTCUSDT maintMargin 200 = 800
    of loan MM over a 10,000 loan: 8 %.
    """
    flat: dict[str, tuple[CollateralTier, ...]] = {
        "USDT": (CollateralTier(0, 1e12, 1.0, 0),),
        "BTC": (CollateralTier(0, 1e12, 0.98, 0),),
        "ETH": (CollateralTier(0, 1e12, 0.95, 0),),
    }
    snapshot = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=1.0),
            bal("ETH", cross_margin_asset_qty=10.0),
            bal("USDT", cross_margin_borrowed_qty=10_000.0, um_wallet_qty=5_000.0),
        ),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0),),
        reported=ReportedAccount(
            uni_mmr=72.0,
            account_equity_usd=72_000.0,
            actual_equity_usd=75_000.0,
            account_maint_margin_usd=1_000.0,
            account_initial_margin_usd=None,
            account_status="NORMAL",
            total_margin_open_loss_usd=500.0,
            update_time_ms=1,
        ),
        open_margin_order_loss_usd=500.0,
        reported_position_margins=(ReportedPositionMargin("UM", "BTCUSDT", "BOTH", 200.0, "USDT"),),
    )
    return snapshot, dataclasses.replace(market(), collateral_flat=flat)


def test_what_if_keeps_the_base_calibration() -> None:
    snapshot, m = calibrated_base()
    w = what_if(snapshot, m, RiskRules(), [Borrow("USDT", 5_000.0)])
    a = w.before.assumptions
    assert a is not None
    assert (a.collateral_table, a.loan_mmr_source) == (FLAT, LOAN_MMR_IMPLIED)
    assert a.loan_mmr == {"USDT": pytest.approx(0.08)}
    assert w.before.uni_mmr == pytest.approx(72.0)  # 72,000 / (200 + 800)
    # After borrowing 5,000 more: equity still 72,000 (flat table, open loss kept);
    # MM 200 + 15,000 · 8 % = 1,400 → 72,000 / 1,400 = 51.43.
    # (Recalibrating against Binance's stale MM would imply 800 / 15,000 = 5.33 % and give 72;
    # no figures and no calibration would take the tiered table and 10 %: 69,000 / 1,700.)
    assert w.after.assumptions == a
    assert w.after.adjusted_equity_usd == pytest.approx(72_000.0)
    assert w.after.maint_margin.margin_usd == pytest.approx(1_200.0)
    assert w.after.uni_mmr == pytest.approx(72_000 / 1_400)
    # Binance's figures describe the book before the change: not compared with the new book.
    assert w.after.reconciliation is None or w.after.reconciliation.agrees is None
