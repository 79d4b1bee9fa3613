"""The issue's trust failures, each by hand: what pmdesk showed ("NORMAL — trade freely") and
what it must show; calibration of what Binance does not publish, from Binance's own figures.

Rules: uniMMR FAQ (4868b2f1aa6c4d08af973328462bb0bd): Σ equity = Σ min(x·p·rate, x·p);
Σ MM = Σ UM MM·p + Σ CM MM·p + Σ loan·MMR·p. PM liquidates below uniMMR 1.05 and whenever
adjusted equity falls below 0 (FAQ d0c3558829fa41eabeeaf3c32dbe1dad).
"""

from __future__ import annotations

import math

import pytest

from risk import RiskRules, evaluate
from risk.model import (
    AccountSnapshot,
    Bracket,
    CmPosition,
    CollateralTier,
    MarginBand,
    MarketState,
    Product,
    ReportedAccount,
    ReportedPositionMargin,
)
from tests.support.books import BTC_95, BTCUSDT, FLAT_100, bal, market, perp

PM = RiskRules.for_product(Product.PM)


def reported(equity: float | None, mm: float | None, uni: float | None = None) -> ReportedAccount:
    return ReportedAccount(
        uni_mmr=uni,
        account_equity_usd=equity,
        actual_equity_usd=None,
        account_maint_margin_usd=mm,
        account_initial_margin_usd=None,
        account_status="NORMAL",
        total_margin_open_loss_usd=0.0,
        update_time_ms=0,
    )


def test_negative_equity_with_no_mm_is_liquidation_not_infinity() -> None:
    # A negative USDⓈ-M wallet against 0.5 BTC, no futures position, no loan: MM = 0.
    # BTC 0.5 · 50,000 = 25,000 at 95 % = 23,750; USDT −24,750 in full → adjusted −1,000.
    # pmdesk used to show "∞ — NORMAL — trade freely"; Binance liquidates below 0.
    snapshot = AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=0.5), bal("USDT", um_wallet_qty=-24_750.0)),
        um_positions=(),
    )
    report = evaluate(snapshot, market(), PM)
    assert report.adjusted_equity_usd == pytest.approx(-1_000.0)
    assert report.maint_margin.total_usd == 0.0
    assert report.uni_mmr == -math.inf and not report.no_risk  # "≤ 0", never ∞
    assert report.status is MarginBand.LIQUIDATION
    assert report.state == "OK"
    assert report.withdrawable_usd == 0.0  # max(−1,000 − 1.2 · 0, 0)


def test_no_mm_with_positive_equity_stays_no_mm() -> None:
    snapshot = AccountSnapshot(
        balances=(bal("USDT", cross_margin_asset_qty=100.0),), um_positions=()
    )
    report = evaluate(snapshot, market(), PM)
    assert report.uni_mmr == math.inf and report.no_risk and report.status is MarginBand.NORMAL


def test_a_zero_index_price_is_unknown_not_a_calm_figure() -> None:
    # BTC at 0 made pmdesk show uniMMR 14.4 NORMAL: the BTC held counted for nothing and the
    # short's MM for nothing either. The parser refuses a zero price; without one it is unknown.
    snapshot = AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=1.0), bal("USDT", um_wallet_qty=5_000.0)),
        um_positions=(perp("BTCUSDT", -1.0, 50_000.0),),
    )
    m = market()
    no_btc = MarketState(
        index_price_usd={"USDT": 1.0},
        mark_price=m.mark_price,
        um_brackets=m.um_brackets,
        collateral_tiers=m.collateral_tiers,
    )
    report = evaluate(snapshot, no_btc, PM)
    assert report.state == "UNKNOWN" and report.status is MarginBand.UNKNOWN
    assert math.isnan(report.uni_mmr) and math.isnan(report.adjusted_equity_usd)
    assert [(r.item, r.field) for r in report.unknown_reasons] == [("BTC", "assetIndexPrice")]
    # Per-asset figures that can still be computed are still there: USDT's.
    (usdt,) = [a for a in report.assets if a.asset == "USDT"]
    assert usdt.adjusted_equity_usd == pytest.approx(5_000.0)


def test_a_coin_m_position_without_a_mark_is_unknown_not_nan_normal() -> None:
    # Binance's shape for a delisted/quarterly row: markPrice "0.00000000", no premium-index
    # mark. Its MM was 0/0 = NaN, the total NaN, uniMMR ∞ and NORMAL.
    snapshot = AccountSnapshot(
        balances=(bal("BTC", cm_wallet_qty=1.0),),
        um_positions=(),
        cm_positions=(
            CmPosition("BTCUSD_250328", "BOTH", -100.0, 50_000.0, 0.0, 0.0, 100.0, "BTC"),
        ),
    )
    m = MarketState(
        index_price_usd={"BTC": 50_000.0},
        cm_brackets={"BTCUSD_250328": (Bracket(0, 5, 0.004, 0, 125),)},
        collateral_tiers={"BTC": BTC_95},
    )
    report = evaluate(snapshot, m, PM)
    assert report.state == "UNKNOWN" and report.status is MarginBand.UNKNOWN
    assert math.isnan(report.maint_margin.total_usd) and math.isnan(report.uni_mmr)
    ((item, field),) = [(r.item, r.field) for r in report.unknown_reasons]
    assert (item, field) == ("BTCUSD_250328", "markPrice")
    assert report.adjusted_equity_usd == pytest.approx(47_500.0)  # equity needs no mark
    assert math.isnan(report.liquidation_shock.down_pct or 0.0)  # unknown, not "never"


def test_a_new_symbol_without_brackets_is_unknown_until_they_arrive() -> None:
    snapshot = AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=5_000.0),),
        um_positions=(perp("ETHUSDT", 10.0, 3_000.0),),
    )
    m = market()
    no_eth = MarketState(
        index_price_usd=m.index_price_usd,
        mark_price=m.mark_price,
        um_brackets={"BTCUSDT": BTCUSDT},
        collateral_tiers=m.collateral_tiers,
    )
    report = evaluate(snapshot, no_eth, PM)
    assert [(r.item, r.field) for r in report.unknown_reasons] == [("ETHUSDT", "brackets")]
    assert report.status is MarginBand.UNKNOWN


def test_loan_mmr_implied_by_binances_mm() -> None:
    # 2 BTC held, 20,000 USDT borrowed, a BTCUSDT short of 1 at 50,000.
    # Binance's figures: accountMaintMargin 1,800; its BTCUSDT maintMargin 200 USDT
    # (50,000 · 0.4 % — the same as pmdesk's brackets). Loan MM = 1,800 − 200 = 1,600 over
    # 20,000 USD of loans → MMR 8 %. pmdesk's conservative default (10 %) would say 2,000.
    snapshot = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=2.0),
            bal("USDT", cross_margin_asset_qty=20_000.0, cross_margin_borrowed_qty=20_000.0),
        ),
        um_positions=(perp("BTCUSDT", -1.0, 50_000.0),),
        reported=reported(equity=95_000.0, mm=1_800.0),
        reported_position_margins=(ReportedPositionMargin("UM", "BTCUSDT", "BOTH", 200.0, "USDT"),),
    )
    report = evaluate(snapshot, market(), PM)
    assert report.assumptions is not None
    assert report.assumptions.loan_mmr == {"USDT": pytest.approx(0.08)}
    assert report.assumptions.loan_mmr_source == "implied by Binance's MM"
    assert report.maint_margin.margin_usd == pytest.approx(1_600.0)
    # Equity: 2 · 50,000 · 0.95 = 95,000; USDT 20,000 − 20,000 = 0. uniMMR 95,000 / 1,800.
    assert report.uni_mmr == pytest.approx(95_000 / 1_800)
    rec = report.reconciliation
    assert rec is not None and rec.agrees
    assert rec.binance_loan_mm_usd == pytest.approx(1_600.0)
    assert report.assumptions.calibrated


def test_a_residual_binances_positions_do_not_explain_is_not_trusted() -> None:
    # Binance's BTCUSDT MM (260) is not what the brackets give (200): the residual 1,540 cannot
    # be told apart from a bracket difference; the loan MMR stays at the conservative 10 %.
    snapshot = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=2.0),
            bal("USDT", cross_margin_asset_qty=20_000.0, cross_margin_borrowed_qty=20_000.0),
        ),
        um_positions=(perp("BTCUSDT", -1.0, 50_000.0),),
        reported=reported(equity=95_000.0, mm=1_800.0),
        reported_position_margins=(ReportedPositionMargin("UM", "BTCUSDT", "BOTH", 260.0, "USDT"),),
    )
    report = evaluate(snapshot, market(), PM)
    assert report.assumptions is not None
    assert report.assumptions.loan_mmr_source == "assumed"
    assert report.maint_margin.margin_usd == pytest.approx(2_000.0)  # 20,000 · 10 %
    rec = report.reconciliation
    assert rec is not None and rec.agrees is False  # 2,200 vs 1,800
    assert rec.explained_by.startswith("loan MM")  # 2,000 vs Binance's 1,540: the bigger part


def test_flat_or_tiered_chosen_by_binances_account_equity() -> None:
    # 100 BTC at 50,000 = 5,000,000 USD. Tiered (/sapi/v2): 95 % to 1 M, 90 % above
    # (cum = 1,000,000 · (0.95 − 0.90) = 50,000): 5,000,000 · 0.90 + 50,000 = 4,550,000.
    # Flat (/sapi/v1): 92 % → 4,600,000. The tables differ by 50,000 USD on this book.
    tiered = (CollateralTier(0, 1e6, 0.95, 0), CollateralTier(1e6, 1e12, 0.90, 50_000))
    flat = (CollateralTier(0, math.inf, 0.92, 0),)
    m = MarketState(
        index_price_usd={"BTC": 50_000.0, "USDT": 1.0},
        collateral_tiers={"BTC": tiered, "USDT": FLAT_100},
        collateral_flat={"BTC": flat, "USDT": FLAT_100},
    )

    def book(binance_equity: float | None) -> AccountSnapshot:
        return AccountSnapshot(
            balances=(bal("BTC", cross_margin_asset_qty=100.0),),
            um_positions=(),
            reported=None if binance_equity is None else reported(binance_equity, 0.0),
        )

    for binance, table, equity in (
        (4_600_000.0, "flat", 4_600_000.0),
        (4_550_000.0, "tiered", 4_550_000.0),
    ):
        report = evaluate(book(binance), m, PM)
        assert report.assumptions is not None
        assert report.assumptions.collateral_table == table
        assert report.adjusted_equity_usd == pytest.approx(equity)
        assert report.assumptions.collateral_source == "reproduces Binance's accountEquity"
        # The other table's distance from Binance's figure is shown: ±50,000 / Binance's.
        other = "tiered" if table == "flat" else "flat"
        assert abs(report.assumptions.equity_rel_diff[other]) == pytest.approx(50_000 / binance)
    # Neither (Binance says 4,400,000): the lower one, and not calibrated.
    report = evaluate(book(4_400_000.0), m, PM)
    assert report.assumptions is not None
    assert (report.assumptions.collateral_table, report.assumptions.calibrated) == (
        "tiered",
        False,
    )
    assert report.adjusted_equity_usd == pytest.approx(4_550_000.0)
    # No Binance figure at all: the lower one, said so.
    report = evaluate(book(None), m, PM)
    assert report.assumptions is not None
    assert report.assumptions.collateral_table == "tiered"
    assert "unavailable" in report.assumptions.collateral_source


def test_binances_no_mm_sentinel_agrees_with_no_mm() -> None:
    snapshot = AccountSnapshot(
        balances=(bal("USDT", cross_margin_asset_qty=100.0),),
        um_positions=(),
        reported=reported(equity=100.0, mm=0.0, uni=math.inf),  # "99999999" as parsed
    )
    report = evaluate(snapshot, market(), PM)
    rec = report.reconciliation
    assert rec is not None and rec.agrees and rec.rel_diff_uni_mmr == 0.0


def test_product_levels() -> None:
    # PM publishes only liquidation below 1.05: 1.3 is not "margin call" there; PM Pro's is.
    assert PM.band(1.3) is MarginBand.NORMAL
    assert PM.band(1.05) is MarginBand.LIQUIDATION
    assert PM.band(-1.0) is MarginBand.LIQUIDATION
    pro = RiskRules.for_product(Product.PM_PRO)
    assert pro.band(1.3) is MarginBand.MARGIN_CALL
    assert pro.band(1.0) is MarginBand.LIQUIDATION_WITH_LOSS
    assert PM.band(math.nan) is MarginBand.UNKNOWN
