"""The store at scale: 30 days of history for 5 accounts at 2 s resolution.

Prints the database size; the time to write one collector cycle (snapshot + report + buckets
in one transaction, real payloads from the simulator) into that store against the same write
into an empty store (the baseline, same run); the time to load each history range for the
chart; then retention: what it drops and how long it takes, and — after two more days of
history and another retention pass — that the live size stays flat.

    .venv/bin/python -m bench.bench_store [--accounts 5] [--days 30] [--db-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from app.clock import now_ms
from app.collector.collector import Collector
from app.store.retention import DAY_MS, Retention
from app.store.schema import ReportRow
from app.store.store import CycleRecord, Store, Written
from app.web.pages.history_figure import RANGES, Range, load_series
from bench.history import generate
from connectors.binance.client import make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import RiskRules

WRITES = 200
LOADS = 20


class TimedStore(Store):
    """Times each cycle write, and only the write."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.write_s: list[float] = []

    def write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> Written:
        t = time.perf_counter()
        out = super().write_cycle(cycle, computed_at_ms)
        self.write_s.append(time.perf_counter() - t)
        return out


def live_mb(store: Store) -> tuple[float, float]:
    """(file size, size in use) in MB: SQLite reuses freed pages before growing the file."""
    with store.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
            return float(size or 0) / 1e6, float(size or 0) / 1e6
        page = int(conn.exec_driver_sql("PRAGMA page_size").scalar() or 0)
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
        free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
    return pages * page / 1e6, (pages - free) * page / 1e6


def cycle_writes(store: TimedStore, account: str) -> list[float]:
    """Real polls of the simulator on a manual clock (2 s apart: within its weight limits)."""
    clock = ManualClock(now_ms())
    sim = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    try:
        client = make_client(sim.simulator.api_key, sim.simulator.api_secret, sim.base_url)
        collector = Collector(store, client, RiskRules(), account, now_ms=clock.now_ms)
        store.write_s.clear()
        for _ in range(WRITES):
            assert collector.run_once().report_id is not None
            clock.advance(2)
    finally:
        sim.stop()
    return list(store.write_s)


def ms(xs: list[float]) -> str:
    p95 = statistics.quantiles(xs, n=100, method="inclusive")[94]
    return f"p50 {1000 * statistics.median(xs):6.1f} ms  p95 {1000 * p95:6.1f} ms"


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def count_reports(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ReportRow)) or 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=5)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--db-url", help="default: a SQLite file in a temporary directory")
    args = ap.parse_args()
    accounts = [f"desk-{i + 1}" for i in range(args.accounts)]

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        empty = TimedStore(f"sqlite:///{Path(tmp) / 'empty.db'}")
        empty.create_schema()
        store = TimedStore(url)
        store.create_schema()
        end = now_ms() - 60_000
        print(f"generating {args.days:g} days at 2 s for {len(accounts)} accounts …", flush=True)
        t = time.perf_counter()
        n = generate(store, accounts, args.days, 2.0, end)
        size, used = live_mb(store)
        print(f"  {n:,} reports in {time.perf_counter() - t:.0f} s; database {size:,.0f} MB")

        base = cycle_writes(empty, accounts[0])
        full = cycle_writes(store, accounts[0])
        ratio = statistics.median(full) / statistics.median(base)
        print(
            "\nwrite one cycle (snapshot + report + its position and asset rows + 3 buckets, "
            f"one transaction), {WRITES}×:"
        )
        print(f"  empty store   {ms(base)}")
        print(f"  30-day store  {ms(full)}   (×{ratio:.2f} the empty store's median)")

        print(f"\nload a history range for the chart ({accounts[0]}), {LOADS}×:")
        for rng in RANGES.values():

            def load(r: Range = rng) -> object:
                return load_series(store, accounts[0], r, now_ms())

            print(f"  {rng.label:>5}  {ms(timed(load, LOADS))}")

        print("\nretention (48 h of every report; buckets; worst samples and changes kept):")
        t = time.perf_counter()
        pruned = store.prune(Retention(), now_ms())
        took = time.perf_counter() - t
        size, used = live_mb(store)
        print(
            f"  dropped {pruned.reports:,} reports, {pruned.snapshots:,} snapshots in {took:.0f} s"
        )
        print(
            f"  kept {count_reports(store):,} reports; file {size:,.0f} MB, in use {used:,.0f} MB"
        )

        print("two more days of history, then retention again:")
        generate(store, accounts, 2, 2.0, end + 2 * DAY_MS)
        grown, grown_used = live_mb(store)
        t = time.perf_counter()
        store.prune(Retention(), now_ms() + 2 * DAY_MS)
        took = time.perf_counter() - t
        size2, used2 = live_mb(store)
        print(f"  before retention: file {grown:,.0f} MB, in use {grown_used:,.0f} MB")
        print(
            f"  after ({took:.0f} s): kept {count_reports(store):,} reports; file {size2:,.0f} MB, "
            f"in use {used2:,.0f} MB (was {used:,.0f} MB two days earlier)"
        )
        store.close()
        empty.close()


if __name__ == "__main__":
    main()
