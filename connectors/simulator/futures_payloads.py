"""A simulated account's futures positions as Binance's JSON: ``/papi/v1/um/positionRisk``,
``/papi/v1/cm/positionRisk``, ``/papi/v1/um/account`` and ``/papi/v1/cm/account``."""

from __future__ import annotations

from connectors.simulator.book import AccountBook
from connectors.simulator.market import Quote
from connectors.simulator.params import CM_SYMBOLS, UM_SYMBOLS
from connectors.simulator.wire import dec

Row = dict[str, object]


def um_position_risk_json(book: AccountBook, q: Quote, now_ms: int) -> list[Row]:
    rows: list[Row] = []
    for leg in book.um_legs:
        mark = q.mark(leg.symbol)
        rows.append(
            {
                "symbol": leg.symbol,
                "positionAmt": f"{leg.amount:.3f}",
                "entryPrice": dec(leg.entry_price),
                "markPrice": dec(mark),
                "unRealizedProfit": dec(leg.amount * (mark - leg.entry_price)),
                "liquidationPrice": dec(0.0),
                "leverage": str(leg.leverage),
                "maxNotionalValue": "20000000",
                "positionSide": "BOTH",
                "notional": dec(leg.amount * mark),
                "updateTime": now_ms,
            }
        )
    return rows


def cm_position_risk_json(book: AccountBook, q: Quote, now_ms: int) -> list[Row]:
    rows: list[Row] = []
    for leg in book.cm_legs:
        mark = q.mark(leg.symbol)
        rows.append(
            {
                "symbol": leg.symbol,
                "positionAmt": f"{leg.contracts:.0f}",
                "entryPrice": dec(leg.entry_price),
                "markPrice": dec(mark),
                "unRealizedProfit": dec(leg.pnl_coin(mark)),
                "liquidationPrice": dec(0.0),
                "leverage": str(leg.leverage),
                "positionSide": "BOTH",
                "updateTime": now_ms,
                "maxQty": "100",
                "notionalValue": dec(leg.size_usd / mark),
            }
        )
    return rows


def um_account_json(book: AccountBook, q: Quote, now_ms: int) -> Row:
    wallets = {a: h.um_wallet for a, h in book.holdings.items()}
    assets = _wallet_rows(wallets, book.um_upnl_by_asset(q))
    positions: list[Row] = []
    for leg in book.um_legs:
        mark = q.mark(leg.symbol)
        maint, initial = (
            book.um_leg_maint(leg, q),
            abs(leg.amount * mark) / leg.leverage,
        )
        a = assets.setdefault(
            UM_SYMBOLS[leg.symbol][1],
            {"wallet": 0.0, "upnl": 0.0, "maint": 0.0, "initial": 0.0},
        )
        a["maint"] += maint
        a["initial"] += initial
        positions.append(
            {
                "symbol": leg.symbol,
                "initialMargin": dec(initial),
                "maintMargin": dec(maint),
                "unrealizedProfit": dec(leg.amount * (mark - leg.entry_price)),
                "positionInitialMargin": dec(initial),
                "openOrderInitialMargin": "0",
                "leverage": str(leg.leverage),
                "entryPrice": dec(leg.entry_price),
                "maxNotional": "20000000",
                "bidNotional": "0",
                "askNotional": "0",
                "positionSide": "BOTH",
                "positionAmt": f"{leg.amount:.3f}",
                "updateTime": now_ms,
            }
        )
    return _futures_account_json(assets, positions, now_ms)


def cm_account_json(book: AccountBook, q: Quote, now_ms: int) -> Row:
    wallets = {a: h.cm_wallet for a, h in book.holdings.items()}
    assets = _wallet_rows(wallets, book.cm_upnl_by_asset(q))
    positions: list[Row] = []
    for leg in book.cm_legs:
        mark = q.mark(leg.symbol)
        maint = book.cm_leg_maint(leg, q)
        initial = leg.notional_coin(mark) / leg.leverage
        a = assets.setdefault(
            CM_SYMBOLS[leg.symbol][0],
            {"wallet": 0.0, "upnl": 0.0, "maint": 0.0, "initial": 0.0},
        )
        a["maint"] += maint
        a["initial"] += initial
        positions.append(
            {
                "symbol": leg.symbol,
                "positionAmt": f"{leg.contracts:.0f}",
                "initialMargin": dec(initial),
                "maintMargin": dec(maint),
                "unrealizedProfit": dec(leg.pnl_coin(mark)),
                "positionInitialMargin": dec(initial),
                "openOrderInitialMargin": "0",
                "leverage": str(leg.leverage),
                "positionSide": "BOTH",
                "entryPrice": dec(leg.entry_price),
                "maxQty": "100",
                "updateTime": now_ms,
            }
        )
    return _futures_account_json(assets, positions, now_ms)


def _wallet_rows(wallets: dict[str, float], upnl: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per asset with a futures wallet or PnL: wallet, PnL, and MM / IM to be summed in."""
    return {
        asset: {"wallet": wallets.get(asset, 0.0), "upnl": upnl.get(asset, 0.0)}
        | {"maint": 0.0, "initial": 0.0}
        for asset in dict.fromkeys([*(a for a, w in wallets.items() if w), *upnl])
    }


def _futures_account_json(
    assets: dict[str, dict[str, float]], positions: list[Row], now_ms: int
) -> Row:
    return {
        "assets": [
            {
                "asset": asset,
                "crossWalletBalance": dec(a["wallet"]),
                "crossUnPnl": dec(a["upnl"]),
                "maintMargin": dec(a["maint"]),
                "initialMargin": dec(a["initial"]),
                "positionInitialMargin": dec(a["initial"]),
                "openOrderInitialMargin": dec(0.0),
                "updateTime": now_ms,
            }
            for asset, a in assets.items()
        ],
        "positions": positions,
    }
