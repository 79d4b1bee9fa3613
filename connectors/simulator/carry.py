"""Carry on a simulated account as the clock passes: loan interest, negative-wallet interest
and funding, each written as the row Binance's history endpoints return.

A loan is charged one hour of interest when the book opens (``ON_BORROW``) and again at every
whole UTC hour (``PERIODIC``), principal · daily rate / 24, added to ``crossMarginInterest``; a
negative futures wallet is charged a day's interest at 00:00 UTC (``PORTFOLIO``), taken from that
wallet; funding is paid at 00:00, 08:00 and 16:00 UTC (``FUNDING_FEE``): −size · mark · rate into
the futures wallet of the asset it settles in, at the market's funding rate then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from connectors.simulator.legs import CmLeg, Holding, UmLeg
from connectors.simulator.market import FUNDING_HOURS_MS, Quote, funding_rate
from connectors.simulator.params import CM_SYMBOLS, MARGIN_DAILY_INTEREST, UM_SYMBOLS
from connectors.simulator.wire import dec

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
KEEP_HISTORY_MS = 30 * DAY_MS  # Binance serves at most 30 days of interest history a query

Row = dict[str, object]


@dataclass(frozen=True)
class Funding:
    """One funding payment into a futures wallet: venue ``UM`` / ``CM``, fee in ``asset``."""

    venue: str
    symbol: str
    asset: str
    fee: float


class CarriedBook(Protocol):
    """What the ledger charges and pays into: an account book's holdings and legs."""

    holdings: dict[str, Holding]
    um_legs: list[UmLeg]
    cm_legs: list[CmLeg]

    def holding(self, asset: str) -> Holding: ...

    def borrowed_assets(self) -> list[str]: ...


def _boundaries(after_ms: int, until_ms: int, step_ms: int) -> Iterator[int]:
    """Multiples of ``step_ms`` in (after, until]."""
    t = (after_ms // step_ms + 1) * step_ms
    while t <= until_ms:
        yield t
        t += step_ms


@dataclass
class CarryLedger:
    """What one book was charged and paid since it opened, and up to when."""

    opened_ms: int | None = None
    interest_rows: list[Row] = field(default_factory=list)
    income_rows: dict[str, list[Row]] = field(default_factory=lambda: {"UM": [], "CM": []})
    _interest_ms: int = 0
    _negative_ms: int = 0
    _funding_ms: int = 0
    _next_id: int = 1_000_000

    def settle(self, book: CarriedBook, q: Quote, now_ms: int) -> list[Funding]:
        """Charge interest and pay funding for every hour, day and funding time that passed
        since the last call (the first call opens the book: each loan's ON_BORROW charge).
        The caller holds the book's lock. Returns the funding paid (the stream pushes it)."""
        if self.opened_ms is None:
            self.opened_ms = now_ms
            self._interest_ms = self._negative_ms = self._funding_ms = now_ms
            for asset in book.borrowed_assets():
                self._charge_loan(book, asset, "ON_BORROW", now_ms)
            return []
        paid: list[Funding] = []
        for t in _boundaries(self._interest_ms, now_ms, HOUR_MS):
            for asset in book.borrowed_assets():
                self._charge_loan(book, asset, "PERIODIC", t)
        for t in _boundaries(self._negative_ms, now_ms, DAY_MS):
            self._charge_negative_wallets(book, t)
        for t in _boundaries(self._funding_ms, now_ms, FUNDING_HOURS_MS):
            paid += self.pay_funding(book, q, t)
        self._interest_ms = max(self._interest_ms, now_ms)
        self._negative_ms = max(self._negative_ms, now_ms)
        self._funding_ms = max(self._funding_ms, now_ms)
        old = now_ms - KEEP_HISTORY_MS
        self.interest_rows = [r for r in self.interest_rows if _time(r) >= old]
        for venue, rows in self.income_rows.items():
            self.income_rows[venue] = [r for r in rows if _time(r) >= old]
        return paid

    def _tx(self) -> int:
        self._next_id += 1
        return self._next_id

    def _charge_loan(self, book: CarriedBook, asset: str, kind: str, at_ms: int) -> None:
        """An hour of interest: principal · daily rate / 24 (the docs' sample row: 45.3313 USDT
        at 0.00013233 a day → 0.00024995), added to the interest owed."""
        h = book.holdings[asset]
        rate = MARGIN_DAILY_INTEREST.get(asset, 0.0)
        interest = h.cross_margin_borrowed * rate / 24.0
        h.cross_margin_interest += interest
        self.interest_rows.append(
            _interest_row(self._tx(), at_ms, asset, h.cross_margin_borrowed, interest, rate, kind)
        )

    def _charge_negative_wallets(self, book: CarriedBook, at_ms: int) -> None:
        """A day's interest on each negative futures wallet, taken from that wallet."""
        for asset, h in book.holdings.items():
            owed = -(min(h.um_wallet, 0.0) + min(h.cm_wallet, 0.0))
            if owed <= 0.0:
                continue
            rate = MARGIN_DAILY_INTEREST.get(asset, 0.0)
            interest = owed * rate
            if h.um_wallet < 0.0:
                h.um_wallet -= interest
            else:
                h.cm_wallet -= interest
            self.interest_rows.append(
                _interest_row(self._tx(), at_ms, asset, owed, interest, rate, "PORTFOLIO")
            )

    def pay_funding(self, book: CarriedBook, q: Quote, at_ms: int) -> list[Funding]:
        """Longs pay shorts when the rate is positive: −size · mark · rate (USDⓈ-M, in the
        margin asset) and −contracts · size / mark · rate (COIN-M, in the coin). Also called
        off schedule by the simulator's control endpoint ("pay funding now")."""
        paid: list[Funding] = []
        for leg in book.um_legs:
            mark, rate = q.mark(leg.symbol), funding_rate(q.basis[leg.symbol])
            margin = UM_SYMBOLS[leg.symbol][1]
            fee = -leg.amount * mark * rate
            book.holding(margin).um_wallet += fee
            self.income_rows["UM"].append(_income_row(self._tx(), at_ms, leg.symbol, margin, fee))
            paid.append(Funding("UM", leg.symbol, margin, fee))
        for cm in book.cm_legs:
            mark, rate = q.mark(cm.symbol), funding_rate(q.basis[cm.symbol])
            coin = CM_SYMBOLS[cm.symbol][0]
            fee = -cm.size_usd / mark * rate
            book.holding(coin).cm_wallet += fee
            self.income_rows["CM"].append(_income_row(self._tx(), at_ms, cm.symbol, coin, fee))
            paid.append(Funding("CM", cm.symbol, coin, fee))
        return paid


def _time(row: Row) -> int:
    t = row.get("interestAccuredTime", row.get("time"))
    return t if isinstance(t, int) else 0


def _interest_row(
    tx: int, at_ms: int, asset: str, principal: float, interest: float, rate: float, kind: str
) -> Row:
    """One row of ``/papi/v1/margin/marginInterestHistory``, shaped like the docs' sample."""
    return {
        "txId": tx,
        "interestAccuredTime": at_ms,
        "asset": asset,
        "rawAsset": asset,
        "principal": dec(principal),
        "interest": dec(interest),
        "interestRate": f"{rate:.8f}",
        "type": kind,
    }


def _income_row(tx: int, at_ms: int, symbol: str, asset: str, income: float) -> Row:
    """One ``FUNDING_FEE`` row of ``/papi/v1/um/income`` / ``/papi/v1/cm/income``."""
    return {
        "symbol": symbol,
        "incomeType": "FUNDING_FEE",
        "income": dec(income),
        "asset": asset,
        "info": "FUNDING_FEE",
        "time": at_ms,
        "tranId": str(tx),
        "tradeId": "",
    }
