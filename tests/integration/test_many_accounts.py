"""Several accounts of one desk: the simulator serves one book per API key, each account is
collected on its own schedule, and an account stuck at the exchange never holds up another."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from app.collector.collector import Collector
from app.collector.gate import IpGate
from app.store.store import CycleRecord, Store, Written
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from connectors.simulator.wsgi import CONTROL_PREFIX
from risk import RiskRules

ACCOUNTS = {"desk-a": "basis", "desk-b": "directional"}


@pytest.fixture
def desk(clock: ManualClock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(Simulator(accounts=ACCOUNTS, clock=clock)).start()
    yield server
    for account in server.simulator.accounts:
        account.released.set()
    server.stop()


class NotifyingStore(Store):
    """Tells waiting tests about every write (the wait is on this, not on time)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.written = threading.Condition()

    def write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> Written:
        out = super().write_cycle(cycle, computed_at_ms)
        with self.written:
            self.written.notify_all()
        return out


def test_each_key_reads_its_own_book(desk: SimulatorServer, store: Store) -> None:
    sim = desk.simulator
    for account in sim.accounts:
        client = make_client(account.api_key, account.api_secret, desk.base_url)
        c = Collector(
            store, client, RiskRules(), account.name, policy=RetryPolicy(sleep=lambda _: None)
        )
        assert c.run_once().failure is None
    a, b = store.latest_report("desk-a"), store.latest_report("desk-b")
    assert a is not None and b is not None
    # basis (hedged) and directional (≈ 30x long) are different books: hand-worked in
    # test_presets (directional: uniMMR 15,000 / 3,075 = 4.878).
    assert b.uni_mmr == pytest.approx(15_000 / 3_075)
    assert a.uni_mmr != pytest.approx(b.uni_mmr)


def test_a_stuck_account_never_stalls_the_others(
    desk: SimulatorServer, tmp_path: Path, clock: ManualClock
) -> None:
    store = NotifyingStore(f"sqlite:///{tmp_path}/many.db")
    store.create_schema()
    sim = desk.simulator
    sim.account("desk-a").released.clear()  # desk-a's requests hang at the exchange
    gate = IpGate()
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(4)})
    for account in sim.accounts:
        client = make_client(account.api_key, account.api_secret, desk.base_url, timeout_s=120)
        Collector(
            store,
            client,
            RiskRules(),
            account.name,
            clock.now_ms,
            gate=gate,
            policy=RetryPolicy(sleep=lambda _: None),
        ).schedule(scheduler, interval_s=0.05)
    scheduler.start()
    try:
        with store.written:
            assert store.written.wait_for(lambda: store.count_reports("desk-b") >= 3, timeout=30)
        assert store.count_reports("desk-a") == 0  # still stuck, and desk-b went on regardless
        sim.account("desk-a").released.set()
        with store.written:
            assert store.written.wait_for(lambda: store.count_reports("desk-a") >= 1, timeout=30)
    finally:
        scheduler.shutdown(wait=False)
        store.close()


def test_one_account_with_a_bad_key_fails_alone(desk: SimulatorServer, store: Store) -> None:
    sim = desk.simulator
    bad = make_client(sim.api_key, "not-the-secret", desk.base_url)
    good = sim.account("desk-b")
    policy = RetryPolicy(sleep=lambda _: None)
    failure = Collector(store, bad, RiskRules(), "desk-a", policy=policy).run_once().failure
    assert failure is not None and failure.status.value == "AUTH_ERROR"
    ok = Collector(
        store,
        make_client(good.api_key, good.api_secret, desk.base_url),
        RiskRules(),
        "desk-b",
        policy=policy,
    ).run_once()
    assert ok.failure is None and store.count_reports("desk-b") == 1


def test_scenario_and_faults_switch_at_run_time(desk: SimulatorServer) -> None:
    url = desk.base_url + CONTROL_PREFIX
    assert requests.get(url + "/scenario", timeout=5).json()["scenario"] == "calm"
    switched = requests.post(url + "/scenario", params={"name": "crash"}, timeout=5)
    assert switched.status_code == 200 and switched.json()["scenario"] == "crash"
    assert desk.simulator.market.scenario.name == "crash"
    bad = requests.post(url + "/scenario", params={"name": "meltdown"}, timeout=5)
    assert bad.status_code == 400 and "calm, crash, recovery, basis_blowout" in bad.json()["error"]

    assert requests.post(url + "/faults", params={"fail_5xx": "2"}, timeout=5).ok
    assert desk.simulator.faults.fail_5xx == 2
    unknown = requests.post(url + "/faults", params={"explode": "1"}, timeout=5)
    assert unknown.status_code == 400 and "unknown fault 'explode'" in unknown.json()["error"]
    assert requests.post(url + "/faults", params={"clear": "1"}, timeout=5).ok
    assert desk.simulator.faults.fail_5xx == 0
