"""A full or read-only store: one clear line and event (if it can be stored), the screen says it,
every cycle retries, nothing crashes, and collection resumes by itself once space is back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from binance.client import Client

from app.collector.collector import Collector
from app.store.retention import Retention
from app.store.store import Store
from connectors.simulator.clock import ManualClock
from risk.model import RiskRules

PAGE = 4096


def _pages(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)


def test_full_store_is_said_once_retried_and_recovers(
    tmp_path: Path, client: Client, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    Store(url).create_schema()
    # Capped a few pages above what the empty schema takes: fills within a few polls.
    store = Store(url, max_mb=(_pages(Store(url)) + 12) * PAGE / 1e6)
    collector = Collector(store, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
    results = []
    with caplog.at_level(logging.INFO):
        for _ in range(60):  # bounded: the cap is hit long before
            clock.advance(2)
            results.append(collector.run_once().report_id)
            if results[-1] is None and len(results) > 1 and results[-2] is None:
                break
        assert results[0] is not None and results[-1] is None
        for _ in range(3):  # more failing cycles: still one line, still no crash
            clock.advance(2)
            assert collector.run_once().report_id is None
        full = [r for r in caplog.records if "store full" in r.getMessage()]
        assert len(full) == 1 and "collection retries every cycle" in full[0].getMessage()
        assert store.health() is not None and "store full" in str(store.health())

        # Space comes back (here: retention frees pages inside the capped file) …
        freed = store.prune(Retention(raw_h=1e-9, weight_h=1e-9), clock.now_ms() + 1)
        assert freed.reports + freed.weights > 0
        clock.advance(2)
        assert collector.run_once().report_id is not None  # … and collection goes on by itself
        assert any("store writable again" in r.getMessage() for r in caplog.records)
    store.close()


def test_read_only_store_is_said_once_and_retried(
    tmp_path: Path, client: Client, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "ro.db"
    Store(f"sqlite:///{path}").create_schema()
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    collector = Collector(read_only, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            clock.advance(2)
            assert collector.run_once().report_id is None
    lines = [r for r in caplog.records if "store is read-only" in r.getMessage()]
    assert len(lines) == 1
    read_only.close()
