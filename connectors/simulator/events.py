"""Binance's Portfolio Margin user-data events, built from a simulated account's book (pure).

Field names as Binance's pages and its generated JavaScript connector
(binance/binance-connector-js, clients/derivatives-trading-portfolio-margin/src/websocket-streams/
types/*.ts) give them; pages under
https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams/ :
- ``ACCOUNT_UPDATE`` (Event-Futures-Balance-and-Position-Update): ``fs`` UM|CM, ``E``, ``T``,
  ``i`` (account alias, "ignore for UM"), ``a.m`` reason, ``a.B[{a, wb, cw, bc}]``, ``a.P`` the
  changed positions only ``[{s, pa, ep, cr, up, ps, bep}]``; a FUNDING_FEE update carries the
  balance only (and ``a.S``, the symbol).
- ``ORDER_TRADE_UPDATE`` (Event-Futures-Order-update): ``fs``, ``E``, ``T``, ``i``, ``o`` with
  ``s c S o f q p ap sp x X i l z L T t b a m R ps rp``; ``N`` / ``n`` only with a commission (the
  simulator charges none); liquidation orders' ``c`` starts ``autoclose-``.
- ``executionReport`` (Event-Margin-Order-Update), ``outboundAccountPosition``
  (Event-Margin-Account-Update: ``u``, ``U``, ``B[{a, f, l}]``), ``balanceUpdate`` (``a d U T``),
  ``liabilityChange`` (Event-Liability-Update: ``a t T p i l``), ``riskLevelChange``
  (Event-riskLevelChange: ``u s eq ae m``), ``listenKeyExpired`` (Event-User-Data-Stream-Expired:
  ``e``, ``E``).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.simulator.book import AccountBook
from connectors.simulator.legs import CmLeg, UmLeg
from connectors.simulator.market import Quote
from connectors.simulator.wire import dec

Event = dict[str, object]


def um_qty(amount: float) -> str:
    """A USDⓈ-M quantity as ``/papi/v1/um/positionRisk`` writes ``positionAmt``."""
    return f"{amount:.3f}"


def cm_qty(contracts: float) -> str:
    """A COIN-M quantity in contracts, as ``/papi/v1/cm/positionRisk`` writes it."""
    return f"{contracts:.0f}"


def um_balance(book: AccountBook, asset: str, change: float = 0.0) -> Event:
    """``a.B`` row of a UM ``ACCOUNT_UPDATE``: the UM wallet (all cross in PM)."""
    wallet = book.holding(asset).um_wallet
    return {"a": asset, "wb": dec(wallet), "cw": dec(wallet), "bc": dec(change)}


def cm_balance(book: AccountBook, asset: str, change: float = 0.0) -> Event:
    wallet = book.holding(asset).cm_wallet
    return {"a": asset, "wb": dec(wallet), "cw": dec(wallet), "bc": dec(change)}


def um_position(symbol: str, leg: UmLeg | None, q: Quote) -> Event:
    """``a.P`` row: the position after the change; a closed one reads 0. No fees on the
    simulator, so the breakeven price is the entry price."""
    if leg is None:
        return _flat(symbol, um_qty(0.0))
    up = leg.amount * (q.mark(symbol) - leg.entry_price)
    return _position(symbol, um_qty(leg.amount), leg.entry_price, leg.realized, up)


def cm_position(symbol: str, leg: CmLeg | None, q: Quote) -> Event:
    if leg is None:
        return _flat(symbol, cm_qty(0.0))
    up = leg.pnl_coin(q.mark(symbol))
    return _position(symbol, cm_qty(leg.contracts), leg.entry_price, leg.realized, up)


def _position(symbol: str, pa: str, entry: float, realized: float, up: float) -> Event:
    return {
        "s": symbol,
        "pa": pa,
        "ep": dec(entry),
        "cr": dec(realized),
        "up": dec(up),
        "ps": "BOTH",
        "bep": dec(entry),
    }


def _flat(symbol: str, pa: str) -> Event:
    return _position(symbol, pa, 0.0, 0.0, 0.0)


def account_update(
    fs: str,
    reason: str,
    balances: list[Event],
    positions: list[Event],
    now_ms: int,
    symbol: str | None = None,
) -> Event:
    update: Event = {"m": reason, "B": balances, "P": positions}
    if symbol is not None:
        update["S"] = symbol  # "Symbol associated with FUNDING_FEE event"
    return {"e": "ACCOUNT_UPDATE", "fs": fs, "E": now_ms, "T": now_ms, "i": "", "a": update}


@dataclass(frozen=True)
class Fill:
    """One order and its (single, whole) trade, as the order events describe it."""

    symbol: str
    side: str  # BUY | SELL
    qty: str  # already in the venue's format
    price: float
    order_id: int
    trade_id: int
    client_id: str
    realized: float = 0.0
    order_type: str = "MARKET"
    time_in_force: str = "GTC"
    reduce_only: bool = False


def order_trade_update(fs: str, fill: Fill, status: str, now_ms: int) -> Event:
    """``ORDER_TRADE_UPDATE``: ``status`` NEW (accepted) or FILLED (its one trade)."""
    filled = status == "FILLED"
    zero = "0"
    return {
        "e": "ORDER_TRADE_UPDATE",
        "fs": fs,
        "E": now_ms,
        "T": now_ms,
        "i": "",
        "o": {
            "s": fill.symbol,
            "c": fill.client_id,
            "S": fill.side,
            "o": fill.order_type,
            "f": fill.time_in_force,
            "q": fill.qty,
            "p": zero if fill.order_type == "MARKET" else dec(fill.price),
            "ap": dec(fill.price) if filled else zero,
            "sp": zero,
            "x": _execution(fill) if filled else "NEW",
            "X": status,
            "i": fill.order_id,
            "l": fill.qty if filled else zero,
            "z": fill.qty if filled else zero,
            "L": dec(fill.price) if filled else zero,
            "T": now_ms,
            "t": fill.trade_id if filled else 0,
            "b": zero,
            "a": zero,
            "m": False,
            "R": fill.reduce_only,
            "ps": "BOTH",
            "rp": dec(fill.realized) if filled else zero,
        },
    }


def _execution(fill: Fill) -> str:
    """``x`` of a fill: "CALCULATED - Liquidation Execution" for the exchange's liquidation and
    ADL closes (the "Execution Type" list of Event-Futures-Order-update, whose Chinese copy
    says it covers ADL too), else TRADE."""
    return "CALCULATED" if fill.reduce_only and fill.client_id.startswith(_FORCED) else "TRADE"


_FORCED = ("autoclose-", "adl_autoclose")


def execution_report(fill: Fill, status: str, now_ms: int) -> Event:
    """``executionReport`` of a cross-margin order: NEW, then FILLED with its trade."""
    filled = status == "FILLED"
    qty = float(fill.qty)
    return {
        "e": "executionReport",
        "E": now_ms,
        "s": fill.symbol,
        "c": fill.client_id,
        "S": fill.side,
        "o": fill.order_type,
        "f": fill.time_in_force,
        "q": fill.qty,
        "p": dec(0.0) if fill.order_type == "MARKET" else dec(fill.price),
        "P": dec(0.0),
        "F": dec(0.0),
        "g": -1,
        "C": "",
        "x": "TRADE" if filled else "NEW",
        "X": status,
        "r": "NONE",
        "i": fill.order_id,
        "l": fill.qty if filled else dec(0.0),
        "z": fill.qty if filled else dec(0.0),
        "L": dec(fill.price) if filled else dec(0.0),
        "T": now_ms,
        "t": fill.trade_id if filled else -1,
        "I": fill.trade_id,
        "w": not filled,
        "m": False,
        "M": False,
        "O": now_ms,
        "Z": dec(qty * fill.price) if filled else dec(0.0),
        "Y": dec(qty * fill.price) if filled else dec(0.0),
        "Q": dec(0.0),
        "W": now_ms,
        "V": "NONE",
    }


def outbound_account_position(
    book: AccountBook, assets: list[str], now_ms: int, update_id: int
) -> Event:
    """Cross-margin balances free / locked (nothing is locked: no open orders)."""
    return {
        "e": "outboundAccountPosition",
        "E": now_ms,
        "u": now_ms,
        "U": update_id,
        "B": [
            {"a": a, "f": dec(book.holding(a).cross_margin_asset), "l": dec(0.0)} for a in assets
        ],
    }


def balance_update(asset: str, delta: float, now_ms: int, update_id: int) -> Event:
    """``d``: the balance delta; ``T``: the clear time."""
    return {
        "e": "balanceUpdate",
        "E": now_ms,
        "a": asset,
        "d": dec(delta),
        "U": update_id,
        "T": now_ms,
    }


def liability_change(
    book: AccountBook, asset: str, kind: str, moved: tuple[float, float], now_ms: int, tx: int
) -> Event:
    """``p`` / ``i``: the principal and interest this change moved; ``l``: what the asset's
    loan totals afterwards (principal + interest)."""
    h = book.holding(asset)
    principal, interest = moved
    return {
        "e": "liabilityChange",
        "E": now_ms,
        "a": asset,
        "t": kind,
        "T": tx,
        "p": dec(principal),
        "i": dec(interest),
        "l": dec(h.cross_margin_borrowed + h.cross_margin_interest),
    }


def risk_level_change(level: str, figures: dict[str, float], uni_mmr: str, now_ms: int) -> Event:
    return {
        "e": "riskLevelChange",
        "E": now_ms,
        "u": uni_mmr,
        "s": level,
        "eq": dec(figures["account_equity"]),
        "ae": dec(figures["actual_equity"]),
        "m": dec(figures["maint"]),
    }


def listen_key_expired(now_ms: int) -> Event:
    return {"e": "listenKeyExpired", "E": now_ms}
