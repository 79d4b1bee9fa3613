"""The Outlook's path valuation equals the engine's ``value_rows`` row by row: brackets crossed
in both directions, USDC-quoted perpetuals (the quote moves), COIN-M inverse positions, loans,
collateral tiers crossed (margin assets and held ones), an owed asset and a futures premium."""

from __future__ import annotations

import numpy as np
import pytest

from risk.book import compile_book
from risk.model import (
    AccountSnapshot,
    Bracket,
    CmPosition,
    CollateralTier,
    MarketState,
    RiskRules,
    UmPosition,
)
from risk.outlook_value import Premiums, path_book, premium_source, value_paths
from risk.valuation import base_margins, value_rows
from tests.support.books import bal

BRACKETS: tuple[Bracket, ...] = (
    Bracket(0, 50_000, 0.004, 0, 125),
    Bracket(50_000, 250_000, 0.005, 50, 100),
    Bracket(250_000, 1_000_000, 0.01, 1_300, 50),
    Bracket(1_000_000, 1e12, 0.025, 16_300, 20),
)
# Narrow brackets for SOLUSDT (45,060 today): a move of a few % crosses several edges.
# cum_k = cum_(k-1) + floor_k * (rate_k - rate_(k-1)): 44,000 * 0.001 = 44; + 46,000 * 0.002 = 136;
# + 48,000 * 0.005 = 376.
DENSE: tuple[Bracket, ...] = (
    Bracket(0, 44_000, 0.004, 0, 125),
    Bracket(44_000, 46_000, 0.005, 44, 100),
    Bracket(46_000, 48_000, 0.007, 136, 75),
    Bracket(48_000, 1e12, 0.012, 376, 50),
)
COIN_BRACKETS = (Bracket(0, 5, 0.01, 0, 50), Bracket(5, 1e9, 0.02, 0.05, 20))
TIERS = (CollateralTier(0, 100_000, 0.95, 0), CollateralTier(100_000, 1e12, 0.8, 15_000))


def mixed_book() -> tuple[AccountSnapshot, MarketState]:
    prices = {
        "BTC": 50_000.0,
        "ETH": 3_000.0,
        "SOL": 150.0,
        "BNB": 600.0,
        "USDT": 1.0,
        "USDC": 0.9998,
    }
    um = (
        UmPosition("BTCUSDT", "BOTH", 0.99, 50_000, 50_000, 0, "BTC", "USDT"),  # 49,500: edge
        UmPosition("BTCUSDC", "BOTH", -4.0, 50_010, 50_010, 0, "BTC", "USDC"),
        UmPosition("ETHUSDT", "LONG", 80.0, 3_000, 3_000, 0, "ETH", "USDT"),  # 240,000: edge
        UmPosition("ETHUSDT", "SHORT", -10.0, 3_000, 3_000, 0, "ETH", "USDT"),
        UmPosition("SOLUSDT", "BOTH", 300.0, 150.2, 150.2, 0, "SOL", "USDT"),
    )
    cm = (
        CmPosition("ETHUSD_PERP", "BOTH", -1_000.0, 3_001, 3_001, 0, 10.0, "ETH"),
        CmPosition("BTCUSD_PERP", "BOTH", 20.0, 50_020, 50_020, 0, 100.0, "BTC"),
    )
    balances = (
        bal("USDT", um_wallet_qty=60_000.0, cross_margin_borrowed_qty=20_000.0),
        bal("USDC", cross_margin_asset_qty=40_000.0),
        bal("BTC", cross_margin_asset_qty=1.5, cm_wallet_qty=0.2),
        bal("ETH", cross_margin_asset_qty=30.0, cross_margin_borrowed_qty=5.0),
        bal("SOL", cross_margin_asset_qty=600.0),  # 90,000: the 100,000 collateral tier edge
        bal("BNB", cross_margin_asset_qty=1.0, cross_margin_borrowed_qty=11.0),  # owed
    )
    symbols = ["BTCUSDT", "BTCUSDC", "ETHUSDT"]
    market = MarketState(
        index_price_usd=prices,
        mark_price={p.symbol: p.mark_price for p in (*um, *cm)},
        um_brackets={s: BRACKETS for s in symbols} | {"SOLUSDT": DENSE},
        cm_brackets=dict.fromkeys(["ETHUSD_PERP", "BTCUSD_PERP"], COIN_BRACKETS),
        collateral_tiers=dict.fromkeys(prices, TIERS),
    )
    return AccountSnapshot(balances, um, cm), market


@pytest.mark.parametrize("with_premium", [False, True])
def test_path_values_equal_value_rows(with_premium: bool) -> None:
    snapshot, market = mixed_book()
    book = compile_book(snapshot, market, RiskRules())
    rng = np.random.default_rng(7)
    n = 400
    logf = rng.normal(0.0, 0.08, (n, book.n_assets))
    logf[:, book.index("USDT")] = 0.0
    logf[:, book.index("USDC")] = rng.normal(0.0, 0.01, n)
    premium = rng.normal(0.0, 0.01, n) if with_premium else np.zeros(n)
    rows = value_rows(
        book,
        base_margins(book),
        np.expm1(logf),
        np.arange(n),
        np.ones(n),
        premium,
    )
    columns = len(book.um_symbol) + len(book.cm_symbol)
    pb = path_book(book)
    raw = np.repeat(premium[:, None], columns, axis=1)
    prem = Premiums(premium_source(pb, raw), np.arange(n)[:, None], np.ones(1))
    paths = value_paths(pb, logf[:, None, :], prem if with_premium else None)
    assert paths.equity_usd[:, 0] == pytest.approx(rows.equity_usd, rel=1e-10, abs=1e-6)
    assert paths.mm_usd[:, 0] == pytest.approx(rows.mm_usd, rel=1e-10, abs=1e-6)
    # The book's edges were crossed on some rows: the exact correction was exercised.
    notional = 0.99 * 50_000 * np.exp(logf[:, book.index("BTC")])
    assert (notional >= 50_000).any() and (notional < 50_000).any()
    sol = 600 * 150 * np.exp(logf[:, book.index("SOL")])
    assert (sol >= 100_000).any() and (sol < 100_000).any()
    sol_perp = 300 * 150.2 * np.exp(logf[:, book.index("SOL")])  # two edges and more
    assert (sol_perp >= 48_000).any() and (sol_perp < 44_000).any()


def test_premium_per_position_moves_only_its_own_mark() -> None:
    snapshot, market = mixed_book()
    book = compile_book(snapshot, market, RiskRules())
    pb = path_book(book)
    base = value_paths(pb, np.zeros((1, 1, book.n_assets)))
    source = np.zeros((1, len(book.um_symbol) + len(book.cm_symbol)))
    sol = book.um_symbol.index("SOLUSDT")
    source[0, sol] = 0.02  # SOLUSDT's mark +2 %: PnL 300 * 150.2 * 0.02 in USDT
    at = Premiums(premium_source(pb, source), np.zeros((1, 1), dtype=np.intp), np.ones(1))
    moved = value_paths(pb, np.zeros((1, 1, book.n_assets)), at)
    pnl = 300 * 150.2 * 0.02
    # USDT is held net 60,000 - 20,000 = 40,000 (< 100,000: rate 0.95 tier); +901.2 PnL.
    assert moved.equity_usd[0, 0] - base.equity_usd[0, 0] == pytest.approx(0.95 * pnl)
    # SOLUSDT's notional 45,060 -> 45,961.2, still in its [44,000, 46,000) bracket at 0.5 %.
    assert moved.mm_usd[0, 0] - base.mm_usd[0, 0] == pytest.approx(0.005 * pnl)
