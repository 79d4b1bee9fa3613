"""Each injected fault → the behaviour the issue asks for, asserted on events and stored state.

Retries run with a recording no-op sleep (the backoff schedule is checked, not waited for);
waits that the exchange asks for (Retry-After, bans) are crossed by moving the manual clock.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from binance.exceptions import BinanceAPIException

from app.collector.collector import Collector
from app.collector.gate import IpGate
from app.store.store import Store
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules

ACCOUNT = "sim-basis"


class Harness:
    def __init__(self, server: SimulatorServer, store: Store, clock: ManualClock) -> None:
        self.server = server
        self.sim = server.simulator
        self.store = store
        self.clock = clock
        self.waits: list[float] = []
        self.requests: list[str] = []
        self.sim.on_request = self.requests.append
        self.gate = IpGate()
        self.collector = self.make_collector()

    def make_collector(self, timeout_s: float = 10.0, account: str = ACCOUNT) -> Collector:
        client = make_client(self.sim.api_key, self.sim.api_secret, self.server.base_url, timeout_s)
        return Collector(
            self.store,
            client,
            RiskRules(),
            account,
            now_ms=self.clock.now_ms,
            gate=self.gate,
            policy=RetryPolicy(sleep=self.waits.append),
        )

    def reports(self) -> int:
        return self.store.count_reports(ACCOUNT)


@pytest.fixture
def h(store: Store, clock: ManualClock) -> Iterator[Harness]:
    server = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    yield Harness(server, store, clock)
    server.stop()


def good_cycle(h: Harness) -> None:
    result = h.collector.run_once()
    assert result.failure is None and result.report_id is not None


def test_a_5xx_burst_is_retried_with_backoff_within_the_cycle(h: Harness) -> None:
    good_cycle(h)
    h.clock.advance(2)
    h.sim.faults.set(fail_5xx=2)
    good_cycle(h)
    assert h.requests.count("/papi/v1/account") == 1 + 3  # then: two 503s and the answer
    assert len(h.waits) == 2 and all(0.0 <= w <= 2.0 for w in h.waits)
    assert h.store.latest_event(ACCOUNT) is None


def test_a_lasting_5xx_is_an_event_and_the_last_good_report_stays(h: Harness) -> None:
    good_cycle(h)
    h.sim.faults.set(fail_5xx=100)
    result = h.collector.run_once()
    assert result.failure is not None and result.report_id is None
    event = h.store.latest_event(ACCOUNT)
    assert event is not None
    assert (event.kind, event.endpoint, event.code) == ("DOWN", "/papi/v1/account", -1001)
    assert "503" in event.message
    assert h.reports() == 1
    assert h.requests.count("/papi/v1/account") == 1 + 3  # bounded: three attempts


@pytest.mark.parametrize("fault", ["malformed", "truncated", "reset"])
def test_one_bad_answer_is_retried(h: Harness, fault: str) -> None:
    good_cycle(h)
    h.sim.faults.set(**{fault: 1})
    good_cycle(h)
    assert len(h.waits) == 1


@pytest.mark.parametrize(
    ("fault", "kind", "words"),
    [
        ("malformed", "DEGRADED", "unreadable response"),
        ("truncated", "DEGRADED", "unreadable response"),
        ("reset", "DOWN", "exchange unreachable"),
    ],
)
def test_repeated_bad_answers_are_one_event(h: Harness, fault: str, kind: str, words: str) -> None:
    good_cycle(h)
    h.sim.faults.set(**{fault: 100})
    assert h.collector.run_once().failure is not None
    event = h.store.latest_event(ACCOUNT)
    assert event is not None and event.kind == kind and words in event.message
    assert h.reports() == 1


def test_a_full_outage_then_recovery(h: Harness) -> None:
    good_cycle(h)
    h.sim.faults.set(outage=True)
    assert h.collector.run_once().failure is not None
    event = h.store.latest_event(ACCOUNT)
    assert event is not None and event.kind == "DOWN"
    h.sim.faults.set(outage=False)
    h.clock.advance(5)
    good_cycle(h)
    assert h.reports() == 2


def test_a_timeout_is_retried_then_reported(h: Harness) -> None:
    collector = h.make_collector(timeout_s=0.2)
    h.sim.faults.set(latency_s=0.5)
    assert collector.run_once().failure is not None
    event = h.store.latest_event(ACCOUNT)
    assert event is not None and (event.kind, event.message) == ("DOWN", "exchange timed out")
    assert len(h.waits) == 2


def test_429_pauses_every_account_on_the_ip_until_retry_after(h: Harness) -> None:
    good_cycle(h)
    other = h.make_collector(account="sim-other")
    h.sim.faults.set(rate_limit=1)  # the injected 429 says Retry-After: 30
    assert h.collector.run_once().failure is not None
    event = h.store.latest_event(ACCOUNT)
    assert event is not None and event.kind == "RATE_LIMITED" and "30 s" in event.message
    seen = len(h.requests)
    h.clock.advance(29)
    assert h.collector.run_once().report_id is None
    assert other.run_once().report_id is None
    assert len(h.requests) == seen  # nobody on the IP asked anything during the wait
    h.clock.advance(2)
    good_cycle(h)


def test_418_stops_polling_until_the_ban_ends(h: Harness) -> None:
    good_cycle(h)
    h.sim.faults.set(ban_s=300)
    assert h.collector.run_once().failure is not None
    event = h.store.latest_event(ACCOUNT)
    assert event is not None and event.kind == "BANNED" and "300 s" in event.message
    seen = len(h.requests)
    h.clock.advance(299)
    h.collector.run_once()
    assert len(h.requests) == seen
    h.clock.advance(2)
    good_cycle(h)


def test_the_real_weight_limit_answers_429_and_a_client_that_ignores_it_is_banned(
    store: Store, clock: ManualClock
) -> None:
    # A papi budget of 130 a minute: one cycle reads account 20 + balance 20 + positions 5 + 1
    # + um/account 5 + cm/account 5 = 56 (+ 2 brackets and the carry: interest history 1, UM
    # and CM income 30 each, first cycle: 119) → the second cycle's account call (139)
    # crosses it.
    server = SimulatorServer(
        Simulator(preset="basis", clock=clock, weight_limits={"papi": 130, "sapi": 10_000})
    ).start()
    try:
        h = Harness(server, store, clock)
        good_cycle(h)
        result = h.collector.run_once()
        assert result.failure is not None and result.failure.status == "RATE_LIMITED"
        assert result.failure.retry_after_s is not None
        assert 0 < result.failure.retry_after_s <= 60  # to the end of the minute window
        # Asking again during the wait (what pmdesk never does) earns the 418.
        raw = make_client(h.sim.api_key, h.sim.api_secret, server.base_url)
        with pytest.raises(BinanceAPIException) as err:
            raw.papi_get_balance()
        assert err.value.status_code == 418 and err.value.code == -1003
    finally:
        server.stop()


def test_clock_skew_is_resynced_and_the_cycle_retried_once(h: Harness) -> None:
    good_cycle(h)
    before = h.collector.client.exchange_minus_clock_ms  # against the collector's clock
    # The exchange's clock jumps 15 s ahead: past python-binance's 10 s recvWindow.
    h.sim.faults.set(clock_skew_ms=15_000)
    good_cycle(h)
    assert h.store.latest_event(ACCOUNT) is None
    assert h.requests.count("/api/v3/time") == 2  # the start, and the one resync
    # Up to half each sync's round trip: the wall time between the two syncs does not count.
    assert abs(h.collector.client.exchange_minus_clock_ms - before - 15_000) < 1_000


def test_used_weight_is_read_from_the_headers(h: Harness) -> None:
    good_cycle(h)
    used = h.gate.used_weight()
    # First cycle: papi account 20 + balance 20 + um positions 5 + cm positions 1 + um/account 5
    # + cm/account 5 + um/cm brackets 1 + 1 + interest history 1 + UM income 30 + CM income 30
    # = 119; sapi: the start's key check
    # (apiRestrictions) 1 + asset-index-price 50 + tiered collateral 50 + flat collateral 50
    # + margin-asset-leverage 50 (refused for this PM account, but counted) = 201.
    assert used["papi"] == 119
    assert used["sapi"] == 201


def test_frozen_prices_stop_the_market_and_thaw_again(h: Harness) -> None:
    h.sim.faults.set(frozen_prices=True)
    before = h.sim.market.index_prices_usd()
    h.clock.advance(600)
    assert h.sim.market.index_prices_usd() == before
    h.sim.faults.set(frozen_prices=False)
    h.clock.advance(600)
    assert h.sim.market.index_prices_usd()["BTC"] != before["BTC"]
