"""Time the kline cache against the simulator over real HTTP (keyless python-binance, SQLite):
the first fill of one basis account's series under the default policy (1 h bars over 180 days,
1 m bars over 3 days and the episodes' windows), a refresh one minute later (what the collector
does each minute), a read of 180 days of hourly bars, and one simulator page of each size.
The budget is lifted (share 1) to time the work, not the waiting. Prints figures, no pass/fail.

    .venv/bin/python -m bench.bench_klines
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from app.store.klines import KlineCache, KlinePolicy
from app.store.store import Store
from connectors.binance.klines import KlineBudget, KlineFetcher, keyless_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.market_history import SPOT, UM_MARK, KlineKey, needed_series

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
HOUR_MS = 3_600_000


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    clock = ManualClock(START_MS)
    server = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = Store(f"sqlite:///{Path(folder) / 'klines.db'}")
            store.create_schema()
            cache = KlineCache(store, KlinePolicy())
            keys = needed_series(["BTC"], ["BTCUSDT"], [], "1h")
            keys += needed_series(["BTC"], ["BTCUSDT"], [], "1m")
            f = KlineFetcher(
                keyless_client(server.base_url), now_ms=clock.now_ms, budget=KlineBudget(1.0)
            )
            t = time.perf_counter()
            first = cache.refresh(f, keys, clock.now_ms())
            print(
                f"first fill, {len(keys)} series: {first.words()}: {time.perf_counter() - t:.2f} s"
            )
            clock.advance(60)
            t = time.perf_counter()
            again = cache.refresh(f, keys, clock.now_ms())
            ms = 1000 * (time.perf_counter() - t)
            print(f"a minute later: {again.words()}: {ms:.0f} ms")
            t = time.perf_counter()
            read = cache.read(keys[:3], START_MS - 180 * 24 * HOUR_MS, START_MS)
            ms = 1000 * (time.perf_counter() - t)
            print(f"read {[len(s.open_time_ms) for s in read]} hourly bars: {ms:.0f} ms")
            for key in (KlineKey(SPOT, "ETHUSDT", "1h"), KlineKey(UM_MARK, "ETHUSDT", "1m")):
                lo = START_MS - 400 * 24 * HOUR_MS
                step = HOUR_MS if key.interval == "1h" else 60_000
                t = time.perf_counter()
                page = f.page(key, lo, lo + 999 * step)
                ms = 1000 * (time.perf_counter() - t)
                print(f"one page of {len(page.bars)} {key.venue} {key.interval} bars: {ms:.0f} ms")
            store.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
