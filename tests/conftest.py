"""Shared fixtures: a simulator on a manual clock over real HTTP, a store, a collector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from binance.client import Client

from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.client import make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules

# 2026-01-01T00:00:00Z: a fixed start so every run sees the same prices.
START_MS = 1_767_225_600_000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_MS)


@pytest.fixture
def sim_server(clock: ManualClock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    yield server
    server.stop()


@pytest.fixture
def client(sim_server: SimulatorServer) -> Client:
    sim = sim_server.simulator
    return make_client(sim.api_key, sim.api_secret, sim_server.base_url)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'pmdesk.db'}")
    s.create_schema()
    yield s
    s.close()


@pytest.fixture
def collector(store: Store, client: Client, clock: ManualClock) -> Collector:
    return Collector(store, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
