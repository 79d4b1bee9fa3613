"""The kline cache: Binance's bars for the series the Outlook needs, kept in the store and
refreshed incrementally.

What is kept (``KlinePolicy``): 1 h bars for ``hourly_days`` back, 1 m bars for the last
``minute_days``, and both for each named episode's window (``data/episodes.csv``). What is
asked: only what is wanted and was never asked (``kline_checked`` holds the windows asked,
merged), newest first; the bar still open when it was read counts as not asked, so the next
refresh reads it again with the bars after it. A window asked stays asked: a gap Binance has
stays a gap (counted in ``kline_series.gap_bars``), the time before a symbol's listing is not
asked again. Bars and windows that fall out of the policy (1 m bars older than
``minute_days`` outside the episodes) are deleted as the refresh goes.

Reads go through a ``KlineFetcher`` (``connectors/binance/klines.py``: keyless python-binance,
its own 10 % weight budget, the IP gate); a refresh stops where the budget or a pause stops it,
each page already stored, and the next refresh goes on from there. Every write failure is a
``StoreWriteError``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    and_,
    delete,
    func,
    insert,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.store.kline_policy import KlinePolicy, Span, intersect, merge, subtract
from app.store.kline_tables import KlineBarRow, KlineCheckedRow, KlineSeriesRow
from app.store.lifecycle import StoreCore
from app.store.writer import write_error
from connectors.binance.client import Client
from connectors.binance.errors import ExchangeError
from connectors.binance.klines import PAGE_LIMIT, BudgetSpent, KlineFetcher, KlinePage, windows
from risk.market_history import INTERVAL_MS, KlineKey, KlineSeries, series_from_payload

log = logging.getLogger(__name__)

__all__ = [
    "KeyRefresh",
    "KlineCache",
    "KlinePages",
    "KlinePolicy",
    "RefreshSummary",
    "SeriesState",
    "Span",
    "intersect",
    "merge",
    "subtract",
]


class KlinePages(Protocol):
    """Where pages come from: a ``KlineFetcher`` (or a stand-in in tests)."""

    def page(self, key: KlineKey, start_ms: int, end_ms: int) -> KlinePage: ...


@dataclass(frozen=True)
class SeriesState:
    """What the cache knows of one series (``kline_series``)."""

    key: KlineKey
    listing_ms: int | None  # the earliest bar Binance has, once asked from before it
    newest_ms: int | None  # the newest bar cached
    checked_to_ms: int | None  # the end of the newest window asked
    gap_bars: int  # bars missing between the first and the newest cached bar
    updated_at_ms: int


@dataclass
class KeyRefresh:
    """One series' part of a refresh."""

    key: KlineKey
    requests: int = 0
    weight: int = 0
    bars_added: int = 0  # bars new to the cache (the re-read open bar is not new)
    gap_bars: int = 0  # bars missing between the series' first and newest cached bar
    listing_ms: int | None = None  # the earliest bar Binance has, when known
    refused: str = ""  # the exchange's words when it does not serve the series (4xx)


@dataclass
class RefreshSummary:
    per_key: dict[KlineKey, KeyRefresh]
    stopped: str = ""  # why not everything wanted was read ("" when it was)
    failure: ExchangeError | None = None  # the exchange's error that stopped it

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.per_key.values())

    @property
    def weight(self) -> int:
        return sum(k.weight for k in self.per_key.values())

    @property
    def bars_added(self) -> int:
        return sum(k.bars_added for k in self.per_key.values())

    @property
    def complete(self) -> bool:
        return not self.stopped

    def words(self) -> str:
        done = f"{self.requests} requests, weight {self.weight}, {self.bars_added} new bars"
        return f"klines: {done}" + (f"; stopped: {self.stopped}" if self.stopped else "")


class KlineCache:
    """``KlineCache(store)``; ``refresh`` from the exchange, ``read`` for the model."""

    def __init__(self, store: StoreCore, policy: KlinePolicy | None = None) -> None:
        self.engine = store.engine
        self.policy = policy or KlinePolicy()

    # ---- refresh -----------------------------------------------------------------------------
    def refresh(
        self,
        source: Client | KlinePages,
        keys: Sequence[KlineKey],
        now_ms: int,
        progress: Callable[[KeyRefresh], None] | None = None,
    ) -> RefreshSummary:
        """Read what ``keys`` lack under the policy, newest first, every series' recent bars
        before any older ones; store each page as it comes. A python-binance ``Client`` is
        wrapped in a ``KlineFetcher`` of its own (keep a fetcher to share the budget across
        calls)."""
        fetcher = KlineFetcher(source) if isinstance(source, Client) else source
        summary = RefreshSummary({k: KeyRefresh(k) for k in keys})
        pages = {k: self._pages(k, now_ms) for k in keys}
        newest = [
            (k, p[0]) for k, p in pages.items() if p and p[0][1] >= now_ms // _step(k) * _step(k)
        ]
        rest = [(k, page) for k, p in pages.items() for page in p if (k, page) not in newest]
        try:
            for key, (lo, hi) in newest + rest:
                done = summary.per_key[key]
                if done.refused:
                    continue
                try:
                    self._read_page(fetcher, key, lo, hi, now_ms, done, progress)
                except ExchangeError as exc:
                    if not exc.refused:
                        raise
                    # Binance does not serve this series (an unknown symbol: -1121): the
                    # others go on; it is asked again at the next refresh.
                    done.refused = exc.message
        except BudgetSpent as exc:
            summary.stopped = str(exc)
        except ExchangeError as exc:
            summary.stopped, summary.failure = f"{exc.path}: {exc.message}", exc
        for key in keys:
            self._settle(key, now_ms, summary.per_key[key])
        log.info("%s", summary.words())
        return summary

    def _pages(self, key: KlineKey, now_ms: int) -> list[Span]:
        """The pages (first and last bar open time) of what is wanted and not yet asked,
        newest first."""
        step = _step(key)
        missing = subtract(self.policy.wanted(key.interval, now_ms), self.checked(key))
        return [
            page
            for a, b in reversed(missing)
            for page in reversed(windows(a, b - 1, step, PAGE_LIMIT[key.venue]))
        ]

    def _read_page(
        self,
        fetcher: KlinePages,
        key: KlineKey,
        lo: int,
        hi: int,
        now_ms: int,
        done: KeyRefresh,
        progress: Callable[[KeyRefresh], None] | None,
    ) -> None:
        step = _step(key)
        closed_to = now_ms // step * step  # bars opening before this are closed
        page = fetcher.page(key, lo, hi)
        done.requests += 1
        done.weight += page.weight
        try:
            series = series_from_payload(key, page.bars)
        except ValueError as exc:
            raise ExchangeError(key.file_name(), f"unreadable klines: {exc}") from None
        inside = (series.open_time_ms >= lo) & (series.open_time_ms <= hi)
        done.bars_added += self._store_page(key, series, inside, (lo, min(hi + step, closed_to)))
        if progress is not None:
            progress(done)

    def _store_page(self, key: KlineKey, s: KlineSeries, inside: np.ndarray, asked: Span) -> int:
        rows = [
            {
                **_key(key),
                "open_time_ms": int(t),
                "o": float(o),
                "h": float(h),
                "l": float(lo),
                "c": float(c),
            }
            for t, o, h, lo, c in zip(
                s.open_time_ms[inside],
                s.open[inside],
                s.high[inside],
                s.low[inside],
                s.close[inside],
                strict=True,
            )
        ]
        try:
            with self.engine.begin() as conn:
                before = self._count(conn, key)
                if rows:
                    conn.execute(_upsert(conn, KlineBarRow, ["o", "h", "l", "c"]), rows)
                if asked[0] < asked[1]:
                    self._mark_checked(conn, key, [asked])
                return self._count(conn, key) - before
        except SQLAlchemyError as exc:
            raise write_error(exc) from exc

    def _mark_checked(self, conn: Connection, key: KlineKey, add: Sequence[Span]) -> None:
        spans = merge([*self._checked(conn, key), *add])
        self._replace_checked(conn, key, spans)

    def _replace_checked(self, conn: Connection, key: KlineKey, spans: Sequence[Span]) -> None:
        conn.execute(delete(KlineCheckedRow).where(*_where(KlineCheckedRow, key)))
        if spans:
            conn.execute(
                insert(KlineCheckedRow),
                [{**_key(key), "from_ms": a, "to_ms": b} for a, b in spans],
            )

    def _settle(self, key: KlineKey, now_ms: int, done: KeyRefresh) -> None:
        """Drop what left the policy; note the series' listing, newest bar and gaps."""
        step = INTERVAL_MS[key.interval]
        wanted = self.policy.wanted(key.interval, now_ms)
        t = KlineBarRow.open_time_ms
        try:
            with self.engine.begin() as conn:
                keep = or_(*(and_(t >= a, t < b) for a, b in wanted)) if wanted else None
                gone = delete(KlineBarRow).where(*_where(KlineBarRow, key))
                conn.execute(gone if keep is None else gone.where(not_(keep)))
                checked = intersect(self._checked(conn, key), wanted)
                self._replace_checked(conn, key, checked)
                first, newest, n = conn.execute(
                    select(func.min(t), func.max(t), func.count()).where(*_where(KlineBarRow, key))
                ).one()
                listing = None
                if first is not None and any(a < first < b for a, b in checked):
                    listing = int(first)
                slots = 0 if first is None else (newest - first) // step + 1
                done.gap_bars = max(slots - int(n), 0)
                done.listing_ms = listing
                values = {
                    "listing_ms": listing,
                    "newest_ms": newest,
                    "checked_to_ms": checked[-1][1] if checked else None,
                    "gap_bars": done.gap_bars,
                    "updated_at_ms": now_ms,
                }
                conn.execute(_upsert(conn, KlineSeriesRow, list(values)), [{**_key(key), **values}])
        except SQLAlchemyError as exc:
            raise write_error(exc) from exc

    # ---- reads -------------------------------------------------------------------------------
    def checked(self, key: KlineKey) -> list[Span]:
        """The windows already asked for ``key``, merged."""
        with self.engine.connect() as conn:
            return self._checked(conn, key)

    @staticmethod
    def _checked(conn: Connection, key: KlineKey) -> list[Span]:
        rows = conn.execute(
            select(KlineCheckedRow.from_ms, KlineCheckedRow.to_ms)
            .where(*_where(KlineCheckedRow, key))
            .order_by(KlineCheckedRow.from_ms)
        ).all()
        return merge([(int(a), int(b)) for a, b in rows])

    @staticmethod
    def _count(conn: Connection, key: KlineKey) -> int:
        n = conn.execute(select(func.count()).where(*_where(KlineBarRow, key))).scalar_one()
        return int(n)

    def read(self, keys: Sequence[KlineKey], start_ms: int, end_ms: int) -> list[KlineSeries]:
        """Each key's cached bars opening in [start_ms, end_ms], oldest first (gaps allowed;
        empty when none), in the order of ``keys``."""
        out: list[KlineSeries] = []
        t = KlineBarRow.open_time_ms
        with self.engine.connect() as conn:
            for key in keys:
                rows = conn.execute(
                    select(t, KlineBarRow.o, KlineBarRow.h, KlineBarRow.l, KlineBarRow.c)
                    .where(*_where(KlineBarRow, key), t >= start_ms, t <= end_ms)
                    .order_by(t)
                ).all()
                cols = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), 4)
                out.append(
                    KlineSeries(
                        key,
                        np.array([r[0] for r in rows], dtype=np.int64),
                        cols[:, 0].copy(),
                        cols[:, 1].copy(),
                        cols[:, 2].copy(),
                        cols[:, 3].copy(),
                    )
                )
        return out

    def states(self, keys: Sequence[KlineKey]) -> dict[KlineKey, SeriesState]:
        """Each key's ``kline_series`` row (listing, newest bar, gaps, last refresh), when any."""
        out: dict[KlineKey, SeriesState] = {}
        r = KlineSeriesRow
        cols = (r.listing_ms, r.newest_ms, r.checked_to_ms, r.gap_bars, r.updated_at_ms)
        with self.engine.connect() as conn:
            for key in keys:
                row = conn.execute(select(*cols).where(*_where(r, key))).first()
                if row is not None:
                    out[key] = SeriesState(key, *row)
        return out


def _step(key: KlineKey) -> int:
    return INTERVAL_MS[key.interval]


def _key(key: KlineKey) -> dict[str, str]:
    return {"venue": key.venue, "symbol": key.symbol, "interval": key.interval}


Table = type[KlineBarRow] | type[KlineCheckedRow] | type[KlineSeriesRow]


def _where(table: Table, key: KlineKey) -> list[ColumnElement[bool]]:
    return [table.venue == key.venue, table.symbol == key.symbol, table.interval == key.interval]


def _upsert(conn: Connection, table: Table, update: list[str]) -> Executable:
    """INSERT … ON CONFLICT (primary key) DO UPDATE, on SQLite and PostgreSQL alike."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(table)
    keys = [c.name for c in table.__mapper__.primary_key]
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={c: stmt.excluded[c] for c in update}
    )
