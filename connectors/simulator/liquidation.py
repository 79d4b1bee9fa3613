"""The exchange's own forced closes on a simulated account: liquidation and auto-deleveraging,
each changing the book and returning the user-data events Binance pushes for it. The caller holds
the book's lock.

What Binance says (Portfolio Margin FAQ "How Does Liquidation Work in the Binance Portfolio Margin
Account", https://www.binance.com/en/support/faq/ff4b1ab6c27b4ed6b3ebe8e4ed1572f8): liquidation
starts when uniMMR falls below 105 %, the liquidation system takes over the account and does not
stop until done; "the margin liquidation engine will take over the assets on the account and sell
them to cover the liabilities"; futures positions are closed (by the Insurance Fund at the
bankruptcy price under continuous liquidation; ADL beyond its cover). Liquidation orders carry
client order ids ``autoclose-…``, an ADL close ``adl_autoclose`` (Event-Futures-Order-update,
https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams/Event-Futures-Order-update).

What the simulator does where the FAQ does not say (docs/binance-pm-notes.md, "User data
stream"): futures first — whole positions at the mark, the largest maintenance margin (USD)
first, until uniMMR is back above the level; then, if it is not, the margin loans, the largest
first, until it is: each repaid from the same asset held (``liabilityChange`` REPAY +
``outboundAccountPosition``, as a trader's repayment), the rest covered by selling other held
assets for it on their ``…USDT`` pair (``executionReport`` with an ``autoclose-`` id). No fees,
no Insurance Fund price; a forced fill's execution type is CALCULATED (events.py). There are no
open orders to cancel (the simulator keeps none: every order fills whole at once).
An ADL close (``adl``) closes all or part of one position at the mark.
"""

from __future__ import annotations

from connectors.simulator import wallet_actions
from connectors.simulator.actions import (
    ADL_CLIENT_ID,
    AUTOCLOSE_PREFIX,
    Ids,
    fill_cm,
    fill_um,
)
from connectors.simulator.book import AccountBook
from connectors.simulator.events import Event
from connectors.simulator.legs import CmLeg, UmLeg
from connectors.simulator.market import Quote
from connectors.simulator.params import CM_SYMBOLS, UM_SYMBOLS

DUST = 1e-9
"""Below this (asset units) a loan or a holding counts as none."""


def liquidate(
    book: AccountBook, q: Quote, now_ms: int, ids: Ids, liquidation_level: float
) -> list[Event]:
    """The futures closed (largest MM first) while uniMMR ≤ ``liquidation_level``; then, if still
    at or below it, every margin loan covered from the account's assets."""
    out: list[Event] = []
    while _at_or_below(book, q, liquidation_level):
        worst = _largest_maint(book, q)
        if worst is None:
            break
        out += _close(book, q, now_ms, ids, worst, None)
    if _at_or_below(book, q, liquidation_level):
        out += _cover_loans(book, q, now_ms, ids, liquidation_level)
    return out


def adl(
    book: AccountBook, q: Quote, now_ms: int, ids: Ids, symbol: str, qty: float | None
) -> list[Event]:
    """Auto-deleveraging: ``qty`` (all when None) of the position in ``symbol`` closed at the mark
    by the exchange, client order id ``adl_autoclose``."""
    legs: list[UmLeg | CmLeg] = [*book.um_legs, *book.cm_legs]
    leg = next((x for x in legs if x.symbol == symbol), None)
    if leg is None:
        raise ValueError(f"no position in {symbol!r} to deleverage")
    return _close(book, q, now_ms, ids, leg, ADL_CLIENT_ID, qty)


def _at_or_below(book: AccountBook, q: Quote, level: float) -> bool:
    return book.reported_figures(q)["uni_mmr"] <= level


def _close(
    book: AccountBook,
    q: Quote,
    now_ms: int,
    ids: Ids,
    leg: UmLeg | CmLeg,
    client_id: str | None,
    qty: float | None = None,
) -> list[Event]:
    held = leg.amount if isinstance(leg, UmLeg) else leg.contracts
    side = "SELL" if held > 0 else "BUY"
    size = abs(held) if qty is None else min(qty, abs(held))
    fill = fill_um if isinstance(leg, UmLeg) else fill_cm
    return fill(book, q, now_ms, ids, leg.symbol, side, size, None, client_id, liquidation=True)


def _largest_maint(book: AccountBook, q: Quote) -> UmLeg | CmLeg | None:
    rows: list[tuple[float, UmLeg | CmLeg]] = [
        (book.um_leg_maint(leg, q) * q.index_usd[UM_SYMBOLS[leg.symbol][1]], leg)
        for leg in book.um_legs
    ]
    rows += [
        (book.cm_leg_maint(leg, q) * q.index_usd[CM_SYMBOLS[leg.symbol][0]], leg)
        for leg in book.cm_legs
    ]
    return max(rows, key=lambda r: r[0])[1] if rows else None


def _cover_loans(
    book: AccountBook, q: Quote, now_ms: int, ids: Ids, liquidation_level: float
) -> list[Event]:
    """Each loan, the largest (USD) first, while uniMMR ≤ the level: what the asset itself
    holds repays it; other held assets are sold for the rest, the largest (USD) first, on a
    pair the simulator lists."""
    out: list[Event] = []
    loans = sorted(
        book.borrowed_assets(),
        key=lambda a: -_owed(book, a) * q.index_usd[a],
    )
    for asset in loans:
        if not _at_or_below(book, q, liquidation_level):
            break
        short = _owed(book, asset) - book.holding(asset).cross_margin_asset
        for other in _sellable(book, q, asset):
            if short <= DUST:
                break
            out += _sell_for(book, q, now_ms, ids, other, asset, short)
            short = _owed(book, asset) - book.holding(asset).cross_margin_asset
        paid = min(_owed(book, asset), book.holding(asset).cross_margin_asset)
        if paid > DUST:
            out += wallet_actions.repay(book, now_ms, ids, asset, paid)
    return out


def _owed(book: AccountBook, asset: str) -> float:
    h = book.holding(asset)
    return h.cross_margin_borrowed + h.cross_margin_interest


def _pair(base: str, quote: str) -> str | None:
    """The ``…USDT`` pair that trades ``base`` against ``quote``, if the simulator lists one."""
    for symbol, (b, margin) in UM_SYMBOLS.items():
        if {b, margin} == {base, quote}:
            return symbol
    return None


def _sellable(book: AccountBook, q: Quote, loan: str) -> list[str]:
    """Held assets that can be sold for ``loan`` (a listed pair, nothing owed in them), the
    largest (USD) first."""
    rows = [
        (h.cross_margin_asset * q.index_usd[a], a)
        for a, h in book.holdings.items()
        if a != loan
        and h.cross_margin_asset > DUST
        and _owed(book, a) <= DUST
        and _pair(a, loan) is not None
    ]
    return [a for _value, a in sorted(rows, reverse=True)]


def _sell_for(
    book: AccountBook, q: Quote, now_ms: int, ids: Ids, sold: str, wanted: str, amount: float
) -> list[Event]:
    """Sell ``sold`` for ``amount`` of ``wanted`` (all of ``sold`` if it is not enough) at the
    index ratio, as a cross-margin order of the exchange's (``autoclose-`` client id)."""
    symbol = _pair(sold, wanted)
    assert symbol is not None  # _sellable kept only listed pairs
    base, _quote = UM_SYMBOLS[symbol]
    price = q.index_usd[base] / q.index_usd[_quote]
    held = book.holding(sold).cross_margin_asset
    if base == sold:  # e.g. BTC sold for USDT on BTCUSDT: SELL base
        side, qty = "SELL", min(held, amount / price)
    else:  # e.g. USDT sold for BTC on BTCUSDT: BUY base with the quote
        side, qty = "BUY", min(amount, held / price * (1.0 - 1e-12))  # never above what is held
    client_id = f"{AUTOCLOSE_PREFIX}{ids.next()}"
    return wallet_actions.fill_margin(book, q, now_ms, ids, symbol, side, qty, price, client_id)
