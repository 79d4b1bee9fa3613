"""Binance's own worked example, "Collateral Calculation and Liquidation Example" in the FAQ
"Binance Portfolio Margin Pro Maintenance Margin Ratio Calculation"
(https://www.binance.com/en/support/faq/5e33af8e6ac04d57a1d0a3398e0a0752).

The page's input table, as published:

    Coin  Margin Asset  Margin Loan  Equity = Asset − Loan  Margin MM
    USDT  1,000         0            1,000                  0
    BTC   0.1           0.04         0.06                   0.004
    ETH   20            15           5                      1.5

    Symbol           BTCUSDT_PERP   BTCUSDT_20220624   BTCUSD_PERP
    Asset            USDT           USDT               BTC
    Wallet balance   5,000 USDT     (shared)           0.1 BTC
    MMR bracket      0.5 %          0.5 %              0.5 %
    Position         0.05 BTC short 0.04 BTC long      10,000 USD long
    Entry / Mark     52,000/40,000  52,350/42,000      50,000/40,000
    Unrealized PnL   600 USDT       −414 USDT          (−0.05 BTC, worked below)

The rest of the page (its index prices, collateral rates and final uniMMR) was not reachable from
this machine, so the tests check every figure the table itself publishes — loan MM, futures MM,
unrealized PnL, equity per asset — through pmdesk's engine; the prices the table does not give
(ETH) are ours and marked as such.
"""

from __future__ import annotations

import numpy as np
import pytest

from risk import RiskRules, evaluate
from risk.book import compile_book
from risk.model import (
    AccountSnapshot,
    Bracket,
    CmPosition,
    CollateralTier,
    MarketState,
    UmPosition,
)
from risk.valuation import base_margins, value_rows
from tests.support.books import bal

MMR_05 = (Bracket(0, 1e9, 0.005, 0, 100),)  # "MMR bracket 0.5 %", cum 0
FULL = (CollateralTier(0, 1e12, 1.0, 0),)
BTC_INDEX = 40_000.0  # the perpetuals' mark; the page's BTC index is not in its table
ETH_INDEX = 3_000.0  # ours: the table gives no ETH price
# The loans' Margin MM is 10 % of the loan (0.004 / 0.04, 1.5 / 15): 3x margin leverage.
RULES = RiskRules(margin_leverage=3)


def perp_short() -> UmPosition:
    return UmPosition("BTCUSDT", "BOTH", -0.05, 52_000.0, 40_000.0, 600.0, "BTC", "USDT")


def quarterly_long() -> UmPosition:
    return UmPosition("BTCUSDT_220624", "BOTH", 0.04, 52_350.0, 42_000.0, -414.0, "BTC", "USDT")


def coin_perp_long() -> CmPosition:
    # 10,000 USD long = 100 contracts of 100 USD.
    return CmPosition("BTCUSD_PERP", "BOTH", 100.0, 50_000.0, 40_000.0, -0.05, 100.0, "BTC")


def example_account() -> tuple[AccountSnapshot, MarketState]:
    snapshot = AccountSnapshot(
        balances=(
            bal(
                "USDT",
                cross_margin_asset_qty=1_000.0,
                um_wallet_qty=5_000.0,
                um_unrealized_pnl_qty=600.0 - 414.0,
            ),
            bal(
                "BTC",
                cross_margin_asset_qty=0.1,
                cross_margin_borrowed_qty=0.04,
                cm_wallet_qty=0.1,
                cm_unrealized_pnl_qty=-0.05,
            ),
            bal("ETH", cross_margin_asset_qty=20.0, cross_margin_borrowed_qty=15.0),
        ),
        um_positions=(perp_short(), quarterly_long()),
        cm_positions=(coin_perp_long(),),
    )
    market = MarketState(
        index_price_usd={"USDT": 1.0, "BTC": BTC_INDEX, "ETH": ETH_INDEX},
        mark_price={"BTCUSDT": 40_000.0, "BTCUSDT_220624": 42_000.0, "BTCUSD_PERP": 40_000.0},
        um_brackets={"BTCUSDT": MMR_05, "BTCUSDT_220624": MMR_05},
        cm_brackets={"BTCUSD_PERP": MMR_05},
        collateral_tiers={"USDT": FULL, "BTC": FULL, "ETH": FULL},
    )
    return snapshot, market


def test_margin_loan_mm_as_published() -> None:
    # Margin MM = loan · 10 %: BTC 0.04 · 0.10 = 0.004 BTC, ETH 15 · 0.10 = 1.5 ETH (published);
    # in USD 0.004 · 40,000 = 160 plus 1.5 · 3,000 = 4,500 → 4,660.
    report = evaluate(*example_account(), RULES)
    assert report.maint_margin.margin_usd == pytest.approx(0.004 * 40_000 + 1.5 * 3_000)
    assert report.maint_margin.margin_usd == pytest.approx(4_660.0)


def test_futures_mm_from_the_published_bracket() -> None:
    # futuresMM_UM = |MMR · position · mark| − cum: 0.005 · 0.05 · 40,000 = 10 USDT and
    # 0.005 · 0.04 · 42,000 = 8.4 USDT. futuresMM_CM = MMR · contracts · multiplier / mark:
    # 0.005 · 10,000 / 40,000 = 0.00125 BTC, · 40,000 = 50 USD.
    report = evaluate(*example_account(), RULES)
    by_symbol = {p.symbol: p.maint_margin_usd for p in report.positions}
    assert by_symbol["BTCUSDT"] == pytest.approx(10.0)
    assert by_symbol["BTCUSDT_220624"] == pytest.approx(8.4)
    assert by_symbol["BTCUSD_PERP"] == pytest.approx(50.0)
    assert report.maint_margin.um_usd == pytest.approx(18.4)
    assert report.maint_margin.cm_usd == pytest.approx(50.0)


def test_equity_per_asset_from_the_published_table() -> None:
    # x = margin asset − loan + futures wallet + futures unrealized PnL:
    # USDT 1,000 − 0 + 5,000 + (600 − 414) = 6,186; BTC 0.1 − 0.04 + 0.1 − 0.05 = 0.11;
    # ETH 20 − 15 = 5 (the table's "Equity" column gives 0.06 BTC and 5 ETH before futures).
    report = evaluate(*example_account(), RULES)
    qty = {a.asset: a.equity_qty for a in report.assets}
    assert qty["USDT"] == pytest.approx(6_186.0)
    assert qty["BTC"] == pytest.approx(0.11)
    assert qty["ETH"] == pytest.approx(5.0)
    # At collateral rate 1 (ours): 6,186 + 0.11 · 40,000 + 5 · 3,000 = 6,186 + 4,400 + 15,000.
    assert report.adjusted_equity_usd == pytest.approx(25_586.0)
    # uniMMR = 25,586 / (18.4 + 50 + 4,660) = 25,586 / 4,728.4
    assert report.uni_mmr == pytest.approx(25_586.0 / 4_728.4)


def _pnl_after_move(position: UmPosition | CmPosition, wallet_asset: str, new_mark: float) -> float:
    """Change in the wallet asset's quantity when the mark moves from entry to ``new_mark``,
    as pmdesk's valuation accrues it (the position is opened at its entry price)."""
    if isinstance(position, UmPosition):
        um_at_entry = UmPosition(
            position.symbol,
            "BOTH",
            position.position_amt_qty,
            position.entry_price,
            position.entry_price,
            0.0,
            "BTC",
            "USDT",
        )
        snapshot = AccountSnapshot((bal("USDT", um_wallet_qty=5_000.0),), (um_at_entry,))
        market = MarketState(
            index_price_usd={"USDT": 1.0, "BTC": position.entry_price},
            mark_price={position.symbol: position.entry_price},
            um_brackets={position.symbol: MMR_05},
            collateral_tiers={"USDT": FULL, "BTC": FULL},
        )
    else:
        cm_at_entry = CmPosition(
            position.symbol,
            "BOTH",
            position.position_amt_contracts,
            position.entry_price,
            position.entry_price,
            0.0,
            position.contract_size_usd,
            "BTC",
        )
        snapshot = AccountSnapshot((bal("BTC", cm_wallet_qty=0.1),), (), (cm_at_entry,))
        market = MarketState(
            index_price_usd={"BTC": position.entry_price},
            mark_price={position.symbol: position.entry_price},
            cm_brackets={position.symbol: MMR_05},
            collateral_tiers={"BTC": FULL},
        )
    book = compile_book(snapshot, market, RULES)
    base = base_margins(book)
    t = new_mark / position.entry_price - 1.0
    btc = book.index("BTC")
    direction = np.zeros((1, book.n_assets))
    direction[0, btc] = 1.0
    moved = value_rows(book, base, direction, np.zeros(1, dtype=np.intp), np.array([t]))
    wallet = book.index(wallet_asset)
    price_after = book.price_usd[wallet] * (1.0 + t * direction[0, wallet])
    x_before = book.equity_qty[wallet]
    # Only the wallet asset is held: actual equity after = x_after · price_after.
    return float(moved.actual_equity_usd[0] / price_after - x_before)


def test_unrealized_pnl_as_published() -> None:
    # USDⓈ-M: amount · (mark − entry): −0.05 · (40,000 − 52,000) = +600 USDT;
    # 0.04 · (42,000 − 52,350) = −414 USDT (both published).
    assert _pnl_after_move(perp_short(), "USDT", 40_000.0) == pytest.approx(600.0)
    assert _pnl_after_move(quarterly_long(), "USDT", 42_000.0) == pytest.approx(-414.0)
    # COIN-M, inverse: contracts · size · (1/entry − 1/mark) = 10,000 · (1/50,000 − 1/40,000)
    # = 0.2 − 0.25 = −0.05 BTC.
    assert _pnl_after_move(coin_perp_long(), "BTC", 40_000.0) == pytest.approx(-0.05)
