"""Real time over real websockets on 127.0.0.1: mark prices streamed from the simulator move the
figures between account polls at no API weight; a dropped stream falls back to REST and comes
back; frozen prices are noticed. Waits are on events (each stream message), never on sleeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from binance.client import Client

from app.collector.collector import Collector
from app.collector.gate import IpGate
from app.collector.marks_hub import MarkHub
from app.replay import report_inputs
from app.store.store import Store
from app.web.view import build_view
from connectors.binance.client import RetryPolicy, make_client
from connectors.binance.marks import MarkUpdate
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules, evaluate

SILENCE_S = 5.0
WAIT_S = 60.0  # wall time for a condition that needs a few stream messages (ms apart when idle)


@dataclass
class Probe:
    """Subscribed after the collector: sees each update once the collector has taken it."""

    arrived: threading.Event = field(default_factory=threading.Event)
    states: list[bool] = field(default_factory=list)

    def on_marks(self, updates: tuple[MarkUpdate, ...], source: str) -> None:
        self.arrived.set()

    def on_marks_state(self, live: bool, message: str) -> None:
        self.states.append(live)

    def until(
        self,
        condition: Callable[[], bool],
        what: str,
        state: Callable[[], str] = lambda: "",
        within_s: float = WAIT_S,
    ) -> None:
        """Check ``condition`` after each mark update, up to ``within_s`` of wall time.

        Bounded in time, not in updates: on a busy machine one stream can deliver a backlog of
        updates in a burst while the other is still handshaking, so a count of updates says
        nothing about how long the other stream had to come back."""
        deadline = time.monotonic() + within_s
        while not condition():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: not within {within_s:g} s {state()}".rstrip())
            self.arrived.wait(min(left, 1.0))  # woken by each update; re-checked at least 1/s
            self.arrived.clear()


@dataclass
class Live:
    sim: Simulator
    server: SimulatorServer
    client: Client
    hub: MarkHub
    collector: Collector
    probe: Probe
    store: Store
    paths: list[str]

    def latest_source(self) -> str | None:
        r = self.store.latest_report("sim-basis")
        return None if r is None else r.marks_source

    def both_delivering(self, now_ms: int) -> bool:
        return len(self.hub.streams) == 2 and all(
            not s.down.is_set() and s.healthy(now_ms) for s in self.hub.streams
        )

    def state(self, now_ms: int) -> str:
        """What a failed wait saw: each stream's connections and health, the latest source."""
        streams = ", ".join(
            f"{s.name}: {s.connects} connections, {'healthy' if s.healthy(now_ms) else 'silent'}"
            for s in self.hub.streams
        )
        return f"({streams}; latest report from {self.latest_source()})"


@pytest.fixture
def live(clock: ManualClock, store: Store) -> Iterator[Live]:
    server = SimulatorServer(Simulator(preset="basis", clock=clock), stream_interval_s=0.02)
    server.start()
    sim = server.simulator
    paths: list[str] = []
    sim.on_request = paths.append
    client = make_client(sim.api_key, sim.api_secret, server.base_url)
    gate = IpGate()
    policy = RetryPolicy(sleep=lambda _: None)
    hub = MarkHub(
        client,
        server.um_stream_url,
        server.cm_stream_url,
        clock.now_ms,
        gate=gate,
        policy=policy,
        silence_s=SILENCE_S,
        max_backoff_s=0.05,
    )
    collector = Collector(
        store, client, RiskRules(), "sim-basis", clock.now_ms, gate=gate, policy=policy, hub=hub
    )
    probe = Probe()
    hub.subscribe(probe)
    try:
        yield Live(sim, server, client, hub, collector, probe, store, paths)
    finally:
        hub.stop()
        server.stop()


def test_streamed_marks_move_the_figures_without_a_request(live: Live) -> None:
    assert live.collector.run_once().failure is None  # the poll opens the streams
    live.probe.until(lambda: live.latest_source() == "stream", "a report from the stream")
    before = live.store.latest_report("sim-basis")
    assert before is not None
    requests_before = len(live.paths)

    live.sim.market.shock("BTC", -0.05)
    q = live.sim.market.quote()
    shocked = {"BTCUSDT": q.mark("BTCUSDT"), "BTCUSD_PERP": q.mark("BTCUSD_PERP")}

    def both_streams_applied() -> bool:
        r = live.store.latest_report("sim-basis")
        if r is None or r.marks_source != "stream":
            return False
        marks = live.store.snapshot_payloads(live.store.report_snapshot_id(r.id))["marks"]
        assert isinstance(marks, list)
        applied = {m["symbol"]: m["mark_price"] for m in marks}
        return all(applied.get(s) == pytest.approx(p) for s, p in shocked.items())

    # The USDⓈ-M stream moves the perpetual's mark, the COIN-M one BTC's (USD) index.
    live.probe.until(both_streams_applied, "both streams' post-shock marks applied")
    streamed = live.store.latest_report("sim-basis")
    assert streamed is not None and streamed.marks_source == "stream"
    assert len(live.paths) == requests_before  # no REST request, no API weight
    assert streamed.positions_at_ms == before.positions_at_ms  # same positions, new marks

    # Nothing lost: the poll's stored payloads plus the stored updates replay to the figures.
    snap = live.store.report_snapshot_id(streamed.id)
    assert live.store.snapshot_base(snap) is not None
    replayed = report_inputs(live.store, streamed.id)  # the poll's payloads + the updates
    assert evaluate(*replayed, RiskRules()).uni_mmr == streamed.uni_mmr

    # A full REST poll at the same prices gives the same figures as the streamed marks did.
    assert live.collector.run_once().failure is None
    polled = live.store.latest_report("sim-basis")
    assert polled is not None
    assert live.store.snapshot_base(live.store.report_snapshot_id(polled.id)) is None  # a poll
    assert polled.uni_mmr == pytest.approx(streamed.uni_mmr, rel=1e-9)
    assert polled.adjusted_equity_usd == pytest.approx(streamed.adjusted_equity_usd, rel=1e-9)

    assert set(live.store.snapshot_payloads(snap)) == {"marks"}  # only the updates stored


def test_dropped_stream_falls_back_to_rest_then_comes_back(live: Live, clock: ManualClock) -> None:
    assert live.collector.run_once().failure is None
    # Both streams open and delivering before the cut: one report from the stream says only that
    # one of them is (on a busy machine the other can still be handshaking, and would then come
    # back with its first connection, not a second).
    live.probe.until(
        lambda: live.both_delivering(clock.now_ms()) and live.latest_source() == "stream",
        "both streams delivering",
        state=lambda: live.state(clock.now_ms()),
    )
    live.hub.check()
    assert live.probe.states == [True]
    connects = {s.name: s.connects for s in live.hub.streams}

    live.sim.faults.set(stream_outage=True)  # every websocket cut, new ones refused (503)
    assert all(s.down.wait(10) for s in live.hub.streams)
    clock.advance(SILENCE_S + 1)  # ... and the streams stay silent past their limit
    live.paths.clear()
    live.hub.check()
    assert live.probe.states == [True, False]
    assert {"/fapi/v1/premiumIndex", "/dapi/v1/premiumIndex"} <= set(live.paths)
    assert live.latest_source() == "rest"
    event = live.store.latest_event("sim-basis")
    assert event is not None and event.kind == "DEGRADED"
    assert event.endpoint == "markPrice stream" and "REST every 2 s" in event.message

    live.sim.faults.set(stream_outage=False)
    live.probe.until(
        lambda: (
            all(
                s.connects > connects[s.name] and s.healthy(clock.now_ms())
                for s in live.hub.streams
            )
            and live.latest_source() == "stream"
        ),
        "both streams to come back",
        state=lambda: live.state(clock.now_ms()),
    )
    live.hub.check()
    assert live.probe.states == [True, False, True]


def test_a_cut_connection_reconnects_by_itself(live: Live) -> None:
    assert live.collector.run_once().failure is None
    live.probe.until(
        lambda: live.both_delivering(live.sim.clock.now_ms()),
        "both streams open",
        state=lambda: live.state(live.sim.clock.now_ms()),
    )
    connects = {s.name: s.connects for s in live.hub.streams}
    # The next two pushes find their connection cut: both streams' or one stream's twice (which
    # one's push comes first is the scheduler's choice); each cut is a reconnect, none by hand.
    live.sim.faults.set(stream_drop=2)
    live.probe.until(
        lambda: (
            sum(s.connects - connects[s.name] for s in live.hub.streams) >= 2
            and live.both_delivering(live.sim.clock.now_ms())
        ),
        "two reconnects, both streams delivering",
        state=lambda: live.state(live.sim.clock.now_ms()),
    )


def test_frozen_prices_raise_one_event_and_turn_the_figures_stale(
    store: Store, collector: Collector, sim_server: SimulatorServer, clock: ManualClock
) -> None:
    sim_server.simulator.faults.set(frozen_prices=True)
    t0 = clock.now_ms()
    assert collector.run_once().failure is None
    clock.advance(31)
    assert collector.run_once().failure is None  # the exchange answers ...
    report, event = store.latest_report("sim-basis"), store.latest_event("sim-basis")
    assert report is not None and event is not None
    assert "prices frozen" in event.message and event.kind == "DEGRADED"
    assert report.data_time_ms == t0  # ... but its prices are as old as their last change
    view = build_view(report, event, clock.now_ms(), stale_after_s=10)
    assert view.stale and view.feed_status == "DEGRADED"
    assert "prices frozen" in view.feed_message

    sim_server.simulator.faults.set(frozen_prices=False)
    clock.advance(1)
    assert collector.run_once().failure is None
    report = store.latest_report("sim-basis")
    assert report is not None and report.data_time_ms == clock.now_ms()
