"""A key that can do more than read is refused before any account data is read."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules

ACCOUNT = "sim-basis"


@pytest.fixture
def server(clock: ManualClock) -> Iterator[SimulatorServer]:
    s = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    yield s
    s.stop()


def collector(
    server: SimulatorServer, store: Store, clock: ManualClock, *, allow: bool = False
) -> Collector:
    sim = server.simulator
    client = make_client(sim.api_key, sim.api_secret, server.base_url)
    return Collector(
        store,
        client,
        RiskRules(),
        ACCOUNT,
        now_ms=clock.now_ms,
        policy=RetryPolicy(sleep=lambda _: None),
        allow_unsafe_key=allow,
    )


@pytest.mark.parametrize(
    ("permission", "words"),
    [
        ("enableFutures", "can trade (enableFutures)"),
        ("enableSpotAndMarginTrading", "can trade (enableSpotAndMarginTrading)"),
        ("enableWithdrawals", "can withdraw"),
        ("permitsUniversalTransfer", "can move funds (permitsUniversalTransfer)"),
    ],
)
def test_a_key_that_can_act_is_refused_and_never_polls(
    server: SimulatorServer, store: Store, clock: ManualClock, permission: str, words: str
) -> None:
    seen: list[str] = []
    server.simulator.on_request = seen.append
    server.simulator.key_permissions[permission] = True
    c = collector(server, store, clock)
    result = c.run_once()
    assert result.failure is not None and result.failure.status == "AUTH_ERROR"
    event = store.latest_event(ACCOUNT)
    assert event is not None and event.kind == "AUTH_ERROR"
    assert words in event.message and "read-only" in event.message
    assert not any(p.startswith("/papi") for p in seen)  # no account data was read
    clock.advance(60)
    before = len(seen)
    c.run_once()
    assert len(seen) == before  # a refused key is never used again
    assert store.count_reports(ACCOUNT) == 0


def test_the_loud_override_accepts_it_with_a_warning(
    server: SimulatorServer, store: Store, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.simulator.key_permissions["enableFutures"] = True
    with caplog.at_level(logging.WARNING):
        result = collector(server, store, clock, allow=True).run_once()
    assert result.failure is None and result.report_id is not None
    assert any(
        "ACCEPTED ANYWAY (--allow-key-that-can-trade)" in r.getMessage() for r in caplog.records
    )


def test_a_key_without_ip_restriction_is_used_with_a_warning(
    server: SimulatorServer, store: Store, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    server.simulator.key_permissions["ipRestrict"] = False
    with caplog.at_level(logging.WARNING):
        result = collector(server, store, clock).run_once()
    assert result.report_id is not None
    assert any("no IP restriction" in r.getMessage() for r in caplog.records)
