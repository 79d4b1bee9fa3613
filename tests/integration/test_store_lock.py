"""A store another process keeps locked past the busy timeout (issue 17): said in one line with
SQLite's own words — whether the lock only stops writes (WAL: readers go on, the data would just
go stale) or reads too — and no longer said once the lock is let go."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from binance.client import Client

from app.collector.collector import Collector
from app.metrics import StoreMetrics
from app.store.store import LOCKED_BY_OTHER, Store
from app.web.context import WebContext
from connectors.simulator.clock import ManualClock
from risk.model import RiskRules

BUSY_MS = 200  # small: each locked read or write gives up after this long
DEADLINE_S = 30.0  # generous: a busy 2-core machine
ACCOUNT = "sim-basis"
T = TypeVar("T")


def _until(probe: Callable[[], T], done: Callable[[T], bool]) -> T:
    """``probe()`` until ``done`` holds, bounded by DEADLINE_S (a wait on a condition)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = probe()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def _store(tmp_path: Path) -> tuple[Store, Path]:
    path = tmp_path / "locked.db"
    store = Store(f"sqlite:///{path}", busy_timeout_ms=BUSY_MS)
    store.create_schema()
    return store, path


def test_a_store_locked_for_writing_is_said_and_clears(
    tmp_path: Path, client: Client, clock: ManualClock
) -> None:
    store, path = _store(tmp_path)
    collector = Collector(store, client, RiskRules(), ACCOUNT, now_ms=clock.now_ms)
    assert collector.run_once().report_id is not None
    assert store.health() is None

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a sqlite3 shell or a backup holding a transaction
    try:
        assert store.latest_report(ACCOUNT) is not None  # WAL: reading goes on …
        clock.advance(2)
        assert collector.run_once().report_id is None  # … but nothing can be saved
        said = _until(store.health, lambda h: h is not None)
        assert said is not None and said.startswith(LOCKED_BY_OTHER)
        assert "new data cannot be saved" in said and said.endswith("(database is locked)")
        scraped = {m.name: m.samples for m in StoreMetrics(store, [ACCOUNT], 10.0).collect()}
        assert [s.value for s in scraped["pmdesk_store_ok"]] == [0.0]  # /metrics says it too
        assert [s.value for s in scraped["pmdesk_store_up"]] == [1.0]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _until(store.health, lambda h: h is None) is None
    clock.advance(2)
    assert collector.run_once().report_id is not None
    store.close()


def test_a_store_locked_for_reading_keeps_the_last_read_and_says_why(
    tmp_path: Path, client: Client, clock: ManualClock
) -> None:
    store, path = _store(tmp_path)
    collector = Collector(store, client, RiskRules(), ACCOUNT, now_ms=clock.now_ms)
    assert collector.run_once().report_id is not None
    ctx = WebContext(store, [ACCOUNT], 10.0, clock.now_ms)
    before = ctx.newest(ACCOUNT)
    assert before.unreadable is None and before.reports[ACCOUNT] is not None

    store.engine.dispose()  # the pool lets go of the file: the holder can take all of it
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # readers locked out too
    holder.execute("BEGIN EXCLUSIVE")
    try:
        during = ctx.newest(ACCOUNT)
        assert during.unreadable is not None
        assert during.unreadable.startswith(f"{LOCKED_BY_OTHER}: the screen cannot read new data")
        assert during.unreadable.endswith("(database is locked)")
        assert during.reports == before.reports  # the last read stays (and ages) on screen
        said = _until(store.health, lambda h: h is not None)
        assert said is not None and said.startswith(LOCKED_BY_OTHER)
    finally:
        holder.execute("ROLLBACK")
        holder.close()  # the exclusive locking mode holds the file until closed
    after = ctx.newest(ACCOUNT)
    assert after.unreadable is None and after.reports == before.reports
    assert _until(store.health, lambda h: h is None) is None
    store.close()
