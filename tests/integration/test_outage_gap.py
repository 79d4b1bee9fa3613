"""An exchange outage of minutes leaves a gap in history: no report is invented for it, the
charts break their lines across it, and the failures are on record in the same window."""

from __future__ import annotations

from app.collector.collector import Collector
from app.store.rollup import MINUTE_S
from app.store.store import Store
from app.web.pages.history import series_of_buckets, series_of_samples
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import SimulatorServer
from tests.support.start_time import START_MS

OUTAGE_S = 180


def test_outage_is_a_gap_not_invented_data(
    collector: Collector, store: Store, clock: ManualClock, sim_server: SimulatorServer
) -> None:
    for _ in range(3):  # 0 s, 2 s, 4 s
        assert collector.run_once().report_id is not None
        clock.advance(2)
    down_from = clock.now_ms()
    sim_server.simulator.faults.outage = True
    for _ in range(OUTAGE_S // 10):  # the collector keeps trying every 10 s: all fail
        assert collector.run_once().failure is not None
        clock.advance(10)
    sim_server.simulator.faults.outage = False
    back_at = clock.now_ms()
    assert collector.run_once().report_id is not None

    samples = store.history_samples("sim-basis", START_MS)
    assert [s.at_ms for s in samples if down_from <= s.at_ms < back_at] == []  # nothing invented
    assert len(samples) == 4
    raw = series_of_samples(samples)
    assert raw.t_ms[3] is None and raw.t_ms[4] == back_at  # the line breaks across the outage
    events = store.events_since("sim-basis", down_from)
    assert len(events) >= 1 and all(down_from <= e.at_ms < back_at for e in events)

    minutes = store.history_buckets("sim-basis", MINUTE_S, START_MS)
    assert sum(b.n for b in minutes) == 4  # buckets hold the 4 reports and nothing else
    assert None in series_of_buckets(minutes, MINUTE_S).t_ms  # missing minutes break the line
