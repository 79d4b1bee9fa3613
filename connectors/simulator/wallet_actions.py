"""Wallet actions on a simulated account — transfers, loans, funding and cross-margin trades —
each changing the book and returning the user-data events Binance pushes for it.

The simulator's choices where Binance's pages do not say (docs/binance-pm-notes.md, "User data
stream"): a transfer into a futures wallet is an ``ACCOUNT_UPDATE`` with reason ``DEPOSIT``, out
of one ``WITHDRAW``, with ``bc`` the amount; the cross-margin side of any transfer is a
``balanceUpdate`` plus an ``outboundAccountPosition``; a repayment pays the interest first, then
the principal. The caller holds the book's lock.
"""

from __future__ import annotations

from connectors.simulator import events
from connectors.simulator.actions import Ids, signed_qty
from connectors.simulator.book import AccountBook
from connectors.simulator.events import Event, Fill
from connectors.simulator.market import Quote
from connectors.simulator.params import UM_SYMBOLS
from connectors.simulator.wire import dec

WALLETS = ("spot", "margin", "um", "cm")
"""Where a transfer may go: ``spot`` is outside the PM account; ``margin`` its cross-margin
wallet; ``um`` / ``cm`` its futures wallets."""


def _positive(amount: float) -> float:
    if not amount > 0.0:
        raise ValueError(f"amount must be > 0, not {amount!r}")
    return amount


def transfer(
    book: AccountBook, now_ms: int, ids: Ids, asset: str, amount: float, source: str, to: str
) -> list[Event]:
    """Move ``amount`` of ``asset`` between wallets (``WALLETS``)."""
    _positive(amount)
    if source not in WALLETS or to not in WALLETS or source == to:
        raise ValueError(f"transfer between two of {', '.join(WALLETS)}, not {source}→{to}")
    h = book.holding(asset)
    out: list[Event] = []
    for wallet, sign in ((source, -1.0), (to, 1.0)):
        delta = sign * amount
        if wallet == "margin":
            h.cross_margin_asset += delta
            out += [
                events.balance_update(asset, delta, now_ms, ids.next()),
                events.outbound_account_position(book, [asset], now_ms, ids.next()),
            ]
        elif wallet in ("um", "cm"):
            reason = "DEPOSIT" if sign > 0 else "WITHDRAW"
            if wallet == "um":
                h.um_wallet += delta
                balance = events.um_balance(book, asset, delta)
            else:
                h.cm_wallet += delta
                balance = events.cm_balance(book, asset, delta)
            out.append(events.account_update(wallet.upper(), reason, [balance], [], now_ms))
    return out


def borrow(book: AccountBook, now_ms: int, ids: Ids, asset: str, amount: float) -> list[Event]:
    """A cross-margin loan: the principal owed and the asset held both grow by ``amount``."""
    h = book.holding(asset)
    h.cross_margin_borrowed += _positive(amount)
    h.cross_margin_asset += amount
    return [
        events.liability_change(book, asset, "BORROW", (amount, 0.0), now_ms, ids.next()),
        events.outbound_account_position(book, [asset], now_ms, ids.next()),
    ]


def repay(book: AccountBook, now_ms: int, ids: Ids, asset: str, amount: float) -> list[Event]:
    """Repay up to what is owed: the interest first, then the principal, from the asset held."""
    h = book.holding(asset)
    owed = h.cross_margin_borrowed + h.cross_margin_interest
    paid = min(_positive(amount), owed)
    if paid <= 0.0:
        raise ValueError(f"nothing to repay in {asset}")
    if paid > h.cross_margin_asset:
        raise ValueError(f"only {h.cross_margin_asset} {asset} held to repay {paid}")
    interest = min(paid, h.cross_margin_interest)
    principal = paid - interest
    h.cross_margin_interest -= interest
    h.cross_margin_borrowed -= principal
    h.cross_margin_asset -= paid
    return [
        events.liability_change(book, asset, "REPAY", (principal, interest), now_ms, ids.next()),
        events.outbound_account_position(book, [asset], now_ms, ids.next()),
    ]


def funding_events(
    book: AccountBook, paid: list[tuple[str, str, str, float]], now_ms: int
) -> list[Event]:
    """One ``ACCOUNT_UPDATE`` (reason FUNDING_FEE, the balance only, ``a.S`` the symbol) per
    payment ``(venue, symbol, asset, fee)``, as Binance pushes it for a cross position; each
    with the wallet as it stood after that payment (the book holds it after all of them)."""
    out: list[Event] = []
    later: dict[tuple[str, str], float] = {}
    for venue, symbol, asset, fee in reversed(paid):
        h = book.holding(asset)
        wallet = (h.um_wallet if venue == "UM" else h.cm_wallet) - later.get((venue, asset), 0.0)
        balance: Event = {"a": asset, "wb": dec(wallet), "cw": dec(wallet), "bc": dec(fee)}
        later[(venue, asset)] = later.get((venue, asset), 0.0) + fee
        out.append(events.account_update(venue, "FUNDING_FEE", [balance], [], now_ms, symbol))
    return out[::-1]


def pay_funding(book: AccountBook, q: Quote, now_ms: int) -> list[Event]:
    """Funding paid now, off schedule, at the market's current rates (also in the income
    history, as at a scheduled funding time)."""
    paid = book.ledger.pay_funding(book, q, now_ms)
    return funding_events(book, [(f.venue, f.symbol, f.asset, f.fee) for f in paid], now_ms)


def fill_margin(
    book: AccountBook,
    q: Quote,
    now_ms: int,
    ids: Ids,
    symbol: str,
    side: str,
    qty: float,
    price: float | None = None,
    client_id: str | None = None,
) -> list[Event]:
    """A cross-margin spot trade (``BTCUSDT``: BTC against USDT) at ``price`` (the index ratio
    unless given), paid from what the margin wallet holds (borrow first if short of it)."""
    if symbol not in UM_SYMBOLS:
        raise ValueError(f"unknown margin symbol {symbol!r}; listed: {', '.join(UM_SYMBOLS)}")
    base, quote = UM_SYMBOLS[symbol]
    delta = signed_qty(side, qty)
    px = q.index_usd[base] / q.index_usd[quote] if price is None else price
    b, c = book.holding(base), book.holding(quote)
    if b.cross_margin_asset + delta < 0.0 or c.cross_margin_asset - delta * px < 0.0:
        raise ValueError(f"not enough {base if delta < 0 else quote} in the margin wallet")
    b.cross_margin_asset += delta
    c.cross_margin_asset -= delta * px
    order_id = ids.next()
    fill = Fill(
        symbol, side, f"{qty:.8f}", px, order_id, ids.next(), client_id or f"sim-{order_id}"
    )
    return [
        events.execution_report(fill, "NEW", now_ms),
        events.execution_report(fill, "FILLED", now_ms),
        events.outbound_account_position(book, [base, quote], now_ms, ids.next()),
    ]
