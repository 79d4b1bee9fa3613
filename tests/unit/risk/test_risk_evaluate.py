"""uniMMR, adjusted equity and maintenance margin against numbers worked out by hand.

Rules: Binance FAQ "What Is the Unified Account Maintenance Margin Ratio (uniMMR) And How Is It
Calculated" (faq 4868b2f1aa6c4d08af973328462bb0bd) — Σ equity = Σ min(x·p·rate, x·p);
Σ MM = Σ UM MM·p + Σ CM MM·p + Σ loan·MMR·p; uniMMR = Σ adjusted equity / Σ MM.
Brackets and collateral tiers in the "quick addition" form: value · rate ∓ cum.
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
    UmPosition,
)
from tests.support.books import BTC_95, BTCUSDT, FLAT_100, bal

BTC_TIERS = BTC_95
USDT_TIERS = FLAT_100


def market(**extra: object) -> MarketState:
    base: dict[str, object] = {
        "index_price_usd": {"BTC": 50_000.0, "USDT": 1.0},
        "mark_price": {"BTCUSDT": 50_000.0},
        "um_brackets": {"BTCUSDT": BTCUSDT},
        "collateral_tiers": {"BTC": BTC_TIERS, "USDT": USDT_TIERS},
    }
    base.update(extra)
    return MarketState(**base)  # type: ignore[arg-type]


def test_small_basis_book_by_hand() -> None:
    # Long 2 BTC spot, short 2 BTCUSDT perp entered at 49,750, mark 50,000, 10,000 USDT wallet.
    snapshot = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=2.0),
            bal("USDT", um_wallet_qty=10_000.0, um_unrealized_pnl_qty=-500.0),
        ),
        um_positions=(
            UmPosition("BTCUSDT", "BOTH", -2.0, 49_750.0, 50_000.0, -500.0, "BTC", "USDT"),
        ),
    )
    report = evaluate(snapshot, market(), RiskRules())
    # BTC: x = 2, x·p = 100,000, at 95 % → 95,000.
    # USDT: x = 10,000 − 500 = 9,500 at 100 % → 9,500.
    assert report.adjusted_equity_usd == pytest.approx(95_000 + 9_500)
    assert report.actual_equity_usd == pytest.approx(100_000 + 9_500)
    # UM: notional |−2 · 50,000| = 100,000 in bracket 1 → 100,000 · 0.004 − 0 = 400 USDT · 1.0.
    assert report.maint_margin.um_usd == pytest.approx(400.0)
    assert report.maint_margin.total_usd == pytest.approx(400.0)
    # uniMMR = 104,500 / 400 = 261.25
    assert report.uni_mmr == pytest.approx(261.25)
    assert report.status is MarginBand.NORMAL


def um_mm(btc: float) -> float:
    """USDⓈ-M MM of a BTCUSDT long of ``btc`` at 50,000, through evaluate()."""
    snapshot = AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=1_000_000.0),),
        um_positions=(UmPosition("BTCUSDT", "BOTH", btc, 50_000.0, 50_000.0, 0.0, "BTC", "USDT"),),
    )
    return evaluate(snapshot, market(), RiskRules()).maint_margin.um_usd


def test_bracket_boundary_is_continuous_and_uses_upper_bracket() -> None:
    # 6 BTC · 50,000 = 300,000, the boundary: upper bracket 300,000 · 0.005 − 300 = 1,200,
    # the same as the lower one would give (300,000 · 0.004), so MM is continuous.
    assert um_mm(6.0) == pytest.approx(1_200.0)
    # 8 BTC = 400,000: 400,000 · 0.005 − 300 = 1,700 (the lower bracket alone would say 1,600).
    assert um_mm(8.0) == pytest.approx(1_700.0)
    # Just below: 5.99 BTC = 299,500 · 0.004 = 1,198.
    assert um_mm(5.99) == pytest.approx(1_198.0)


def test_collateral_tier_boundary_binance_faq_example() -> None:
    # Cross-margin haircut FAQ (4bec9126c021472285b20874f9380dfb): 6,000 BTC at 20,000 =
    # 120,000,000 USD; tiers 100 % to 100 M, 97.5 % to 120 M. cum(tier 2) =
    # 100,000,000 · (1 − 0.975) = 2,500,000 → 120,000,000 · 0.975 + 2,500,000 = 119,500,000.
    tiers = (
        CollateralTier(0, 100_000_000, 1.0, 0),
        CollateralTier(100_000_000, 120_000_000, 0.975, 2_500_000),
    )
    m = market(index_price_usd={"BTC": 20_000.0, "USDT": 1.0}, collateral_tiers={"BTC": tiers})

    def equity(btc: float) -> float:
        snap = AccountSnapshot(balances=(bal("BTC", cross_margin_asset_qty=btc),), um_positions=())
        return evaluate(snap, m, RiskRules()).adjusted_equity_usd

    assert equity(6_000.0) == pytest.approx(119_500_000.0)
    assert equity(5_000.0) == pytest.approx(100_000_000.0)  # both tiers agree at the boundary


def test_negative_balance_counts_in_full_without_haircut() -> None:
    # USDT x = 1,000 − 3,000 borrowed = −2,000: min(−2,000 · 0.9, −2,000) = −2,000.
    haircut_usdt = (CollateralTier(0, 1e12, 0.9, 0),)
    snapshot = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=1.0),
            bal("USDT", cross_margin_asset_qty=1_000.0, cross_margin_borrowed_qty=3_000.0),
        ),
        um_positions=(),
    )
    m = market(collateral_tiers={"BTC": BTC_TIERS, "USDT": haircut_usdt})
    report = evaluate(snapshot, m, RiskRules())
    # BTC 50,000 · 0.95 = 47,500; USDT −2,000 in full → 45,500.
    assert report.adjusted_equity_usd == pytest.approx(45_500.0)
    # Margin loan MM, nothing from Binance to tell the MMR: the conservative 10 % (3x):
    # 3,000 · 0.10 · 1.0 = 300 → uniMMR = 45,500 / 300.
    assert report.maint_margin.margin_usd == pytest.approx(300.0)
    assert report.uni_mmr == pytest.approx(45_500 / 300)
    assert report.assumptions is not None
    assert report.assumptions.loan_mmr_source == "assumed"


def test_coin_m_position_in_coin_brackets() -> None:
    # 10 contracts of BTCUSD_PERP (100 USD each) at mark 50,000: 10 · 100 / 50,000 = 0.02 BTC.
    # Coin bracket [0, 5 BTC) 0.4 %: MM = 0.02 · 0.004 − 0 = 0.00008 BTC · 50,000 = 4 USD.
    snapshot = AccountSnapshot(
        balances=(bal("BTC", cm_wallet_qty=0.1),),
        um_positions=(),
        cm_positions=(
            CmPosition("BTCUSD_PERP", "BOTH", 10.0, 50_000.0, 50_000.0, 0.0, 100.0, "BTC"),
        ),
    )
    m = market(
        mark_price={"BTCUSD_PERP": 50_000.0},
        cm_brackets={"BTCUSD_PERP": (Bracket(0, 5, 0.004, 0, 125),)},
    )
    report = evaluate(snapshot, m, RiskRules())
    assert report.maint_margin.cm_usd == pytest.approx(4.0)
    # Equity: 0.1 BTC · 50,000 · 0.95 = 4,750 → uniMMR = 4,750 / 4 = 1,187.5
    assert report.uni_mmr == pytest.approx(1_187.5)


def test_no_positions_no_debt_is_infinite_not_an_error() -> None:
    snapshot = AccountSnapshot(
        balances=(bal("USDT", cross_margin_asset_qty=100.0),), um_positions=()
    )
    report = evaluate(snapshot, market(), RiskRules())
    assert math.isinf(report.uni_mmr) and report.no_risk
    assert report.status is MarginBand.NORMAL


@pytest.mark.parametrize(
    ("uni_mmr", "band"),
    [
        (1.51, MarginBand.NORMAL),
        (1.5, MarginBand.MARGIN_CALL),
        (1.2, MarginBand.REDUCE_ONLY),
        (1.05, MarginBand.LIQUIDATION),
        (1.0, MarginBand.LIQUIDATION_WITH_LOSS),
        (0.4, MarginBand.LIQUIDATION_WITH_LOSS),
    ],
)
def test_ladder_bands_at_their_boundaries(uni_mmr: float, band: MarginBand) -> None:
    # FAQ ladder: > 1.5 normal; (1.2, 1.5] margin call; (1.05, 1.2] reduce only;
    # (1.0, 1.05] liquidation; ≤ 1.0 liquidation with a possible claim.
    assert RiskRules().band(uni_mmr) is band


def test_missing_index_price_is_unknown_never_a_figure() -> None:
    snapshot = AccountSnapshot(balances=(bal("ETH", cross_margin_asset_qty=1.0),), um_positions=())
    report = evaluate(snapshot, market(), RiskRules())
    assert report.state == "UNKNOWN" and report.status is MarginBand.UNKNOWN
    assert math.isnan(report.uni_mmr) and math.isnan(report.adjusted_equity_usd)
    (reason,) = report.unknown_reasons
    assert (reason.item, reason.field) == ("ETH", "assetIndexPrice")


def test_asset_without_collateral_rate_counts_zero_and_warns() -> None:
    snapshot = AccountSnapshot(balances=(bal("BTC", cross_margin_asset_qty=1.0),), um_positions=())
    report = evaluate(snapshot, market(collateral_tiers={}), RiskRules())
    assert report.adjusted_equity_usd == 0.0
    assert report.actual_equity_usd == pytest.approx(50_000.0)
    assert any("BTC" in w for w in report.warnings)


@pytest.mark.parametrize(("leverage", "mmr"), [(3, 0.10), (5, 0.08), (10, 0.05)])
def test_margin_loan_mmr_from_the_leverage_binance_reports(leverage: int, mmr: float) -> None:
    # The account answers /sapi/v1/portfolio/margin-asset-leverage; with no MM of Binance's to
    # confirm it, the leverage maps through the FAQ's table: 3x 10 %, 5x 8 %, 10x 5 %.
    snapshot = AccountSnapshot(
        balances=(bal("USDT", cross_margin_asset_qty=2_000.0, cross_margin_borrowed_qty=1_000.0),),
        um_positions=(),
    )
    m = market(margin_asset_leverage={"USDT": float(leverage)})
    report = evaluate(snapshot, m, RiskRules())
    assert report.maint_margin.margin_usd == pytest.approx(1_000 * mmr)
    assert report.assumptions is not None
    assert report.assumptions.loan_mmr_source == "from Binance"
