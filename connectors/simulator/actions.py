"""Futures fills on a simulated account (a trader's, or the exchange's own: liquidation and ADL
closes, ``liquidation.py``), each changing the book and returning the user-data events Binance
pushes for it, in Binance's order.

One-way mode (position side BOTH), no fees. A fill that adds to a position moves the entry price
to the size-weighted average (USDⓈ-M: of prices; COIN-M: of 1/price, the inverse contract's
average); one that reduces it realizes PnL into the futures wallet of the asset the position
settles in, at the fill price: USDⓈ-M closed · (price − entry), COIN-M closed contracts · size ·
(1/entry − 1/price), signed by the position's side; a fill through zero opens the rest at the fill
price. The caller holds the book's lock.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from connectors.simulator import events
from connectors.simulator.book import AccountBook
from connectors.simulator.events import Event, Fill
from connectors.simulator.legs import CmLeg, UmLeg
from connectors.simulator.market import Quote
from connectors.simulator.params import CM_SYMBOLS, UM_SYMBOLS

SIDES = ("BUY", "SELL")
AUTOCLOSE_PREFIX = "autoclose-"
"""Binance's client order id prefix of a liquidation order (Event-Futures-Order-update)."""
ADL_CLIENT_ID = "adl_autoclose"
"""Binance's client order id of an auto-deleveraging close (Event-Futures-Order-update)."""


@dataclass
class Ids:
    """Order, trade and update ids, increasing for the whole simulator."""

    _next: itertools.count[int] = field(default_factory=lambda: itertools.count(8_886_774))

    def next(self) -> int:
        return next(self._next)


def signed_qty(side: str, qty: float) -> float:
    if side not in SIDES:
        raise ValueError(f"side must be BUY or SELL, not {side!r}")
    if not qty > 0.0:
        raise ValueError(f"quantity must be > 0, not {qty!r}")
    return qty if side == "BUY" else -qty


def _split(old: float, delta: float) -> tuple[float, float]:
    """(the part of ``delta`` that closes ``old``, the part that opens or adds)."""
    if old == 0.0 or old * delta > 0.0:
        return 0.0, delta
    closing = -old if abs(delta) >= abs(old) else delta
    return closing, delta - closing


def fill_um(
    book: AccountBook,
    q: Quote,
    now_ms: int,
    ids: Ids,
    symbol: str,
    side: str,
    qty: float,
    price: float | None = None,
    client_id: str | None = None,
    liquidation: bool = False,
) -> list[Event]:
    """A USDⓈ-M order filled whole at ``price`` (the mark unless given)."""
    if symbol not in UM_SYMBOLS:
        raise ValueError(f"unknown USDⓈ-M symbol {symbol!r}; listed: {', '.join(UM_SYMBOLS)}")
    delta = signed_qty(side, qty)
    px = q.mark(symbol) if price is None else price
    leg = next((x for x in book.um_legs if x.symbol == symbol), None)
    old = leg.amount if leg else 0.0
    closing, opening = _split(old, delta)
    realized = -closing * (px - leg.entry_price) if leg and closing else 0.0
    margin = UM_SYMBOLS[symbol][1]
    book.holding(margin).um_wallet += realized
    new = old + delta
    if leg is None:
        leg = UmLeg(symbol, new, px)
        book.um_legs.append(leg)
    elif opening and closing:
        leg.amount, leg.entry_price = new, px  # through zero: the rest opens at the fill
    elif opening:
        leg.entry_price = (old * leg.entry_price + opening * px) / new
        leg.amount = new
    else:
        leg.amount = new
    leg.realized += realized
    kept: UmLeg | None = leg
    if abs(new) < 1e-12:
        book.um_legs.remove(leg)
        kept = None
    fill = _fill(ids, symbol, side, events.um_qty(qty), px, realized, client_id, liquidation)
    update = events.account_update(
        "UM",
        "ORDER",
        [events.um_balance(book, margin)],
        [events.um_position(symbol, kept, q)],
        now_ms,
    )
    return _order_events("UM", fill, update, now_ms)


def fill_cm(
    book: AccountBook,
    q: Quote,
    now_ms: int,
    ids: Ids,
    symbol: str,
    side: str,
    qty: float,
    price: float | None = None,
    client_id: str | None = None,
    liquidation: bool = False,
) -> list[Event]:
    """A COIN-M order for ``qty`` contracts filled whole at ``price`` (the mark unless given)."""
    if symbol not in CM_SYMBOLS:
        raise ValueError(f"unknown COIN-M symbol {symbol!r}; listed: {', '.join(CM_SYMBOLS)}")
    if qty != round(qty):
        raise ValueError(f"COIN-M quantities are whole contracts, not {qty!r}")
    delta = signed_qty(side, qty)
    px = q.mark(symbol) if price is None else price
    coin, size = CM_SYMBOLS[symbol]
    leg = next((x for x in book.cm_legs if x.symbol == symbol), None)
    old = leg.contracts if leg else 0.0
    closing, opening = _split(old, delta)
    realized = -closing * size * (1.0 / leg.entry_price - 1.0 / px) if leg and closing else 0.0
    book.holding(coin).cm_wallet += realized
    new = old + delta
    if leg is None:
        leg = CmLeg(symbol, new, px)
        book.cm_legs.append(leg)
    elif opening and closing:
        leg.contracts, leg.entry_price = new, px
    elif opening:
        leg.entry_price = new / (old / leg.entry_price + opening / px)
        leg.contracts = new
    else:
        leg.contracts = new
    leg.realized += realized
    kept: CmLeg | None = leg
    if new == 0.0:
        book.cm_legs.remove(leg)
        kept = None
    fill = _fill(ids, symbol, side, events.cm_qty(qty), px, realized, client_id, liquidation)
    update = events.account_update(
        "CM",
        "ORDER",
        [events.cm_balance(book, coin)],
        [events.cm_position(symbol, kept, q)],
        now_ms,
    )
    return _order_events("CM", fill, update, now_ms)


def _fill(
    ids: Ids,
    symbol: str,
    side: str,
    qty: str,
    px: float,
    realized: float,
    client_id: str | None,
    liquidation: bool,
) -> Fill:
    order_id = ids.next()
    adl = client_id == ADL_CLIENT_ID
    if liquidation and client_id is None:
        client_id = f"{AUTOCLOSE_PREFIX}{order_id}"
    # An ADL close is the exchange's too, but not a liquidation order: MARKET, reduce only (the
    # simulator's choice; Binance documents only its client order id).
    return Fill(
        symbol,
        side,
        qty,
        px,
        order_id,
        ids.next(),
        client_id or f"sim-{order_id}",
        realized,
        order_type="LIQUIDATION" if liquidation and not adl else "MARKET",
        time_in_force="IOC" if liquidation else "GTC",
        reduce_only=liquidation,
    )


def _order_events(fs: str, fill: Fill, update: Event, now_ms: int) -> list[Event]:
    """The order accepted (NEW), the balance and position it changed, then its trade."""
    return [
        events.order_trade_update(fs, fill, "NEW", now_ms),
        update,
        events.order_trade_update(fs, fill, "FILLED", now_ms),
    ]
