"""Small books for risk tests, each simple enough to work out by hand."""

from __future__ import annotations

from risk.model import (
    AccountSnapshot,
    AssetBalance,
    Bracket,
    CollateralTier,
    MarketState,
    UmPosition,
)

# BTCUSDT's first two published brackets: [0, 300k) 0.4 % cum 0; [300k, 800k) 0.5 % cum 300
# (cum = 300,000 · (0.005 − 0.004) = 300).
BTCUSDT = (Bracket(0, 300_000, 0.004, 0, 125), Bracket(300_000, 800_000, 0.005, 300, 100))
ETHUSDT = (Bracket(0, 1_000_000, 0.005, 0, 100),)
FLAT_100 = (CollateralTier(0, 1e12, 1.0, 0),)
BTC_95 = (CollateralTier(0, 5_000_000, 0.95, 0),)
ETH_90 = (CollateralTier(0, 5_000_000, 0.90, 0),)


def bal(asset: str, **kw: float) -> AssetBalance:
    fields = dict.fromkeys(
        (
            "cross_margin_asset_qty",
            "cross_margin_borrowed_qty",
            "cross_margin_interest_qty",
            "um_wallet_qty",
            "um_unrealized_pnl_qty",
            "cm_wallet_qty",
            "cm_unrealized_pnl_qty",
        ),
        0.0,
    )
    fields.update(kw)
    return AssetBalance(asset=asset, **fields)


def perp(
    symbol: str, amt: float, mark: float, *, entry: float | None = None, leverage: float = 10.0
) -> UmPosition:
    base = symbol.removesuffix("USDT")
    e = mark if entry is None else entry
    return UmPosition(symbol, "BOTH", amt, e, mark, amt * (mark - e), base, "USDT", leverage)


def market(
    prices: dict[str, float] | None = None,
    tiers: dict[str, tuple[CollateralTier, ...]] | None = None,
) -> MarketState:
    p = {"BTC": 50_000.0, "ETH": 3_000.0, "USDT": 1.0} | (prices or {})
    return MarketState(
        index_price_usd=p,
        mark_price={"BTCUSDT": p["BTC"], "ETHUSDT": p["ETH"]},
        um_brackets={"BTCUSDT": BTCUSDT, "ETHUSDT": ETHUSDT},
        collateral_tiers={"USDT": FLAT_100, "BTC": BTC_95, "ETH": ETH_90} | (tiers or {}),
    )


def directional_long() -> AccountSnapshot:
    """1 BTC long BTCUSDT perp at 50,000 (10x), 5,000 USDT in the UM wallet."""
    return AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=5_000.0),),
        um_positions=(perp("BTCUSDT", 1.0, 50_000.0),),
    )


def basis() -> AccountSnapshot:
    """Long 2 BTC spot, short 2 BTCUSDT perp entered at 49,750 (mark 50,000), 10,000 USDT."""
    return AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=2.0),
            bal("USDT", um_wallet_qty=10_000.0, um_unrealized_pnl_qty=-500.0),
        ),
        um_positions=(perp("BTCUSDT", -2.0, 50_000.0, entry=49_750.0),),
    )


def basis10() -> AccountSnapshot:
    """Long 10 BTC spot (margin side), short 10 BTCUSDT perp at 50,000, 20,000 USDT."""
    return AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=10.0), bal("USDT", um_wallet_qty=20_000.0)),
        um_positions=(perp("BTCUSDT", -10.0, 50_000.0),),
    )


def borrower() -> AccountSnapshot:
    """100 ETH bought with 200,000 borrowed USDT; 1,000 USDT of interest owed."""
    return AccountSnapshot(
        balances=(
            bal("ETH", cross_margin_asset_qty=100.0),
            bal("USDT", cross_margin_borrowed_qty=200_000.0, cross_margin_interest_qty=1_000.0),
        ),
        um_positions=(),
    )


def hedged() -> AccountSnapshot:
    """Hedge mode: BTCUSDT LONG 2 and SHORT −1 side by side at 50,000; 10,000 USDT."""
    long = UmPosition("BTCUSDT", "LONG", 2.0, 48_000.0, 50_000.0, 4_000.0, "BTC", "USDT", 10)
    short = UmPosition("BTCUSDT", "SHORT", -1.0, 50_000.0, 50_000.0, 0.0, "BTC", "USDT", 10)
    return AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=10_000.0, um_unrealized_pnl_qty=4_000.0),),
        um_positions=(long, short),
    )
