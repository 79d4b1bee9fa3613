"""The account's own pushes collected over real HTTP/WS on 127.0.0.1: each control action on the
simulated account (fill, transfer, borrow/repay, funding) moves the stored figures with no REST
request, to exactly what a full REST poll then reads (relative 1e-9); a dropped event is found and
healed by the next reconciliation poll; a stream that goes down brings polling back to the
normal interval, and slows it again when it is back. Waits are on the store's writes and the
collector's events (bounded), never sleeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from app.collector.account_push import open_user_stream
from app.collector.collector import Collector
from app.collector.event_codec import EVENTS_KEY, decode_events
from app.feed_status import USER_STREAM
from app.replay import report_inputs
from app.store.store import Store, StoredReport
from app.web.view import feed_state
from connectors.binance.client import RetryPolicy, make_client
from connectors.binance.parse.events import parse_event
from connectors.binance.userstream import UserStream
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules, evaluate
from risk.serialize import report_from_dict
from tests.support.start_time import START_MS

ACCOUNT = "sim-basis"
T0 = START_MS + 3_600_000  # 01:00 UTC: no funding time passes within a test
WAIT_S = 60.0  # wall time for a push to reach the store on a busy machine
RECONCILE_S = 30.0
INTERVAL_S = 2.0


@dataclass
class Pushed:
    sim: Simulator
    server: SimulatorServer
    clock: ManualClock
    store: Store
    collector: Collector
    stream: UserStream
    paths: list[str]
    changed: threading.Condition = field(default_factory=threading.Condition)

    def control(self, action: str, **params: str) -> list[dict[str, Any]]:
        r = requests.post(
            f"{self.server.base_url}/_sim/user/{action}",
            params=params,  # the simulator's only account
            timeout=30,
        )
        assert r.status_code == 200, r.text
        out: list[dict[str, Any]] = r.json()["events"]
        return out

    def until(self, condition: Callable[[], bool], what: str) -> None:
        """Re-checked at every store write and stream event, up to ``WAIT_S`` of wall time."""
        deadline = time.monotonic() + WAIT_S
        with self.changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{what}: not within {WAIT_S:g} s ({self.state()})")
                self.changed.wait(min(left, 1.0))

    def state(self) -> str:
        r = self.latest()
        return (
            f"stream {self.stream.connects} connections, "
            f"{'down' if self.stream.down.is_set() else 'up'}; in sync "
            f"{self.collector.stream_in_sync()}; latest report {r.id if r else None}"
        )

    def latest(self) -> StoredReport | None:
        return self.store.latest_report(ACCOUNT)

    def quiet(self) -> bool:
        """In sync with the stream and no poll asked for or running."""
        return self.collector.stream_in_sync() and not self.collector.polls_pending()

    def between_polls(self) -> StoredReport | None:
        r = self.latest()
        if r is None or self.store.snapshot_base(self.store.report_snapshot_id(r.id)) is None:
            return None
        return r

    def pushed_events(self, report: StoredReport) -> int:
        payloads = self.store.snapshot_payloads(self.store.report_snapshot_id(report.id))
        return len(decode_events(payloads[EVENTS_KEY])[1]) if EVENTS_KEY in payloads else 0

    def amount(self, report: StoredReport, symbol: str) -> float:
        body = report_from_dict(self.store.report_detail(report.id))
        return sum(p.amount for p in body.positions if p.symbol == symbol)

    def full_poll(self) -> StoredReport:
        """A REST poll now, as a resync asks for one; waits for it to be stored."""
        before = self.latest()
        self.collector.request_poll("test: a full REST poll")
        self.until(
            lambda: (
                not self.collector.polls_pending()
                and (r := self.latest()) is not None
                and (before is None or r.id > before.id)
                and self.between_polls() is None
            ),
            "a full REST poll stored",
        )
        polled = self.latest()
        assert polled is not None
        return polled

    def messages(self) -> list[str]:
        return [e.message for e in self.store.events_since(ACCOUNT, 0)]


@pytest.fixture
def pushed(store: Store) -> Iterator[Pushed]:
    clock = ManualClock(T0)
    server = SimulatorServer(
        Simulator(preset="basis", clock=clock, still=True), watch_interval_s=0.05
    ).start()
    sim = server.simulator
    paths: list[str] = []
    sim.on_request = paths.append
    client = make_client(sim.api_key, sim.api_secret, server.base_url)
    collector = Collector(
        store,
        client,
        RiskRules(),
        ACCOUNT,
        clock.now_ms,
        policy=RetryPolicy(sleep=lambda _: None),
        reconcile_interval_s=RECONCILE_S,
    )
    collector.interval_s = INTERVAL_S  # as schedule() sets it
    changed = threading.Condition()

    def notify(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with changed:
                    changed.notify_all()

        return wrapped

    store.write_cycle = notify(store.write_cycle)  # type: ignore[method-assign]
    store.record_event = notify(store.record_event)  # type: ignore[method-assign]
    collector.on_account_event = notify(collector.on_account_event)  # type: ignore[method-assign]
    stream = open_user_stream(collector, client, server.pm_stream_url, clock.now_ms)
    stream.max_backoff_s = 0.05
    p = Pushed(sim, server, clock, store, collector, stream, paths, changed)
    try:
        # Connecting asks for a REST poll at once (events before it are not in the stream).
        p.until(lambda: p.quiet() and p.latest() is not None, "connected and polled")
        yield p
    finally:
        collector.stop()
        server.stop()


ACTIONS: dict[str, list[tuple[str, dict[str, str]]]] = {
    # basis: short 10 BTCUSDT @ 95,000; buying 2 at 94,000 → −8, wallet +2,000 realized.
    "fill": [("fill", {"symbol": "BTCUSDT", "side": "BUY", "quantity": "2", "price": "94000"})],
    "transfer": [("transfer", {"asset": "USDT", "amount": "1000", "from": "margin", "to": "um"})],
    "borrow_repay": [
        ("borrow", {"asset": "USDT", "amount": "500"}),
        ("repay", {"asset": "USDT", "amount": "200"}),
    ],
    "funding": [("funding", {})],
}


@pytest.mark.parametrize("case", list(ACTIONS))
def test_pushes_move_the_figures_with_no_request_and_rest_agrees(pushed: Pushed, case: str) -> None:
    polled = pushed.latest()
    assert polled is not None
    requests_before = len(pushed.paths)
    sent: list[dict[str, Any]] = []
    for action, params in ACTIONS[case]:
        sent += pushed.control(action, **params)
    assert sent, "the action pushed nothing"

    def all_applied() -> bool:
        r = pushed.between_polls()
        return r is not None and pushed.pushed_events(r) == len(sent)

    pushed.until(all_applied, f"{case}: {len(sent)} pushed events in a stored report")
    streamed = pushed.latest()
    assert streamed is not None
    assert len(pushed.paths) == requests_before  # no REST request: the stream alone
    assert streamed.positions_at_ms >= polled.positions_at_ms  # positions kept by the stream
    if case == "fill":
        assert pushed.amount(polled, "BTCUSDT") == -10.0
        assert pushed.amount(streamed, "BTCUSDT") == -8.0  # −10 + 2
    if case in ("fill", "borrow_repay", "funding"):
        assert streamed.uni_mmr != polled.uni_mmr  # the figures moved
    # Every case changes the report (a transfer at least the classic comparison's accounts).
    assert pushed.store.report_detail(streamed.id) != pushed.store.report_detail(polled.id)

    # Replay rebuilds the stored between-polls report from the poll's payloads + the events.
    replayed = evaluate(*report_inputs(pushed.store, streamed.id), RiskRules())
    assert replayed.uni_mmr == streamed.uni_mmr
    assert replayed.adjusted_equity_usd == streamed.adjusted_equity_usd

    # A full REST poll right after reads the same figures, and finds no difference.
    rest = pushed.full_poll()
    assert len(pushed.paths) > requests_before
    assert rest.uni_mmr == pytest.approx(streamed.uni_mmr, rel=1e-9)
    assert rest.adjusted_equity_usd == pytest.approx(streamed.adjusted_equity_usd, rel=1e-9)
    if case == "fill":
        assert pushed.amount(rest, "BTCUSDT") == -8.0
    assert not [m for m in pushed.messages() if "differ" in m]


def test_a_dropped_event_is_found_and_healed_by_the_reconciliation(pushed: Pushed) -> None:
    start = pushed.clock.now_ms()
    pushed.sim.faults.set(user_event_drop=2)  # the fill's NEW order and its ACCOUNT_UPDATE
    sent = pushed.control("fill", symbol="BTCUSDT", side="BUY", quantity="2", price="94000")
    assert [e["e"] for e in sent] == ["ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE"]
    pushed.until(
        lambda: (r := pushed.between_polls()) is not None and pushed.pushed_events(r) == 1,
        "the FILLED order update (the only event not dropped)",
    )
    streamed = pushed.latest()
    assert streamed is not None and pushed.amount(streamed, "BTCUSDT") == -10.0  # the gap
    requests_before = len(pushed.paths)

    pushed.clock.advance(RECONCILE_S - 1)
    assert pushed.collector.run_once().report_id is None  # not due: no request
    assert len(pushed.paths) == requests_before
    pushed.clock.advance(1)
    assert pushed.collector.run_once().report_id is not None  # the reconciliation poll
    assert len(pushed.paths) > requests_before

    (found,) = [e for e in pushed.store.events_since(ACCOUNT, start) if "differ" in e.message]
    assert found.kind == "DEGRADED" and found.endpoint == "stream vs REST"
    # What REST shows: −10 + 2 = −8; the UM wallet 15,000 + 2 · (95,000 − 94,000) = 17,000.
    assert "UM position BTCUSDT BOTH: stream -10, REST -8" in found.message
    assert "UM wallet USDT: stream 15000, REST 17000" in found.message
    healed = pushed.latest()
    assert healed is not None and pushed.amount(healed, "BTCUSDT") == -8.0


def test_a_cut_connection_resyncs_over_rest_by_itself(pushed: Pushed) -> None:
    connects, requests_before = pushed.stream.connects, len(pushed.paths)
    pushed.sim.faults.set(user_stream_drop=1)
    pushed.until(
        lambda: pushed.stream.connects > connects and pushed.quiet(),
        "reconnected and resynced",
    )
    assert len(pushed.paths) > requests_before  # the resync poll (nobody called run_once)


def test_a_stream_down_polls_at_the_normal_interval_then_slows_again(pushed: Pushed) -> None:
    requests_before = len(pushed.paths)
    pushed.clock.advance(INTERVAL_S)
    assert pushed.collector.run_once().report_id is None  # the stream keeps the account
    assert len(pushed.paths) == requests_before

    pushed.sim.faults.set(stream_outage=True)  # cut, and new connections refused
    assert pushed.stream.down.wait(WAIT_S)
    for _ in range(2):  # every normal interval: a full poll
        pushed.clock.advance(INTERVAL_S)
        before = len(pushed.paths)
        assert pushed.collector.run_once().report_id is not None
        assert len(pushed.paths) > before
    down = [e for e in pushed.store.events_since(ACCOUNT, 0) if "account stream down" in e.message]
    assert [(e.kind, e.message) for e in down] == [
        ("DEGRADED", "account stream down: polling every 2 s")
    ]
    # Polls are newer than the event, yet the header still says so (the newest stream event).
    latest, said = pushed.latest(), pushed.store.latest_event(ACCOUNT, endpoint=USER_STREAM)
    assert latest is not None and said is not None and latest.positions_at_ms > said.at_ms
    shown = feed_state(latest, None, stale=False, stream_event=said)
    assert shown[0] == "DEGRADED" and shown[1].startswith("account stream down: polling every 2 s")

    pushed.sim.faults.set(stream_outage=False)
    pushed.until(pushed.quiet, "the stream back and resynced")
    pushed.clock.advance(INTERVAL_S)
    before = len(pushed.paths)
    assert pushed.collector.run_once().report_id is None  # slowed to reconciliation again
    assert len(pushed.paths) == before
    back = [e for e in pushed.store.events_since(ACCOUNT, 0) if "account stream back" in e.message]
    assert [e.kind for e in back] == ["OK"]
    assert "REST reconciles every 30 s" in back[0].message
    said = pushed.store.latest_event(ACCOUNT, endpoint=USER_STREAM)
    assert said is not None and said.kind == "OK"  # the header no longer says down


# ---- Binance's liquidation, pushed: the figures follow it exactly, the alert is raised ----------
# Each case starts from basis with its 10 BTC moved out to spot: 20,000 USDT (5,000 in the margin
# wallet, 15,000 in the UM wallet) behind short 10 BTCUSDT @ 95,000; the exchange's liquidation
# switched on; then BTC rises by ``shock`` and the simulator's own risk watch liquidates.
LIQUIDATIONS: dict[str, tuple[list[tuple[str, dict[str, str]]], float]] = {
    # + short 10 ETHUSDT @ 3,500 (MM 10 · 3,500 · 0.4 % = 140). BTC +2 % (96,900): the short
    # loses 10 · 1,900 = 19,000 → equity 1,000 ≤ 1.05 · MM; closing BTCUSDT (the largest MM)
    # leaves 1,000 / 140 = 7.14 > 1.05: ETHUSDT stays.
    "futures": (
        [("fill", {"symbol": "ETHUSDT", "side": "SELL", "quantity": "10", "price": "3500"})],
        0.02,
    ),
    # + 100,000 USDT and 1 ETH borrowed (held in the margin wallet; loan MM 10 % · 100,000 +
    # 10 % · 3,500 = 10,350). BTC +1.5 % (96,425): the short loses 14,250 → equity 5,750;
    # closing BTCUSDT leaves 5,750 / 10,350 = 0.56: the USDT loan (the largest) is repaid from
    # the 105,000 held, leaving 5,750 / 350 = 16.4: the ETH loan stays.
    "loans": (
        [
            ("borrow", {"asset": "USDT", "amount": "100000"}),
            ("borrow", {"asset": "ETH", "amount": "1"}),
        ],
        0.015,
    ),
}


@pytest.mark.parametrize("case", list(LIQUIDATIONS))
def test_a_liquidation_moves_the_figures_as_rest_and_raises_the_alert(
    pushed: Pushed, case: str
) -> None:
    from app.alerts.rules import AlertRules
    from app.alerts.watch import AlertWatch

    setup, shock = LIQUIDATIONS[case]
    watch = AlertWatch(pushed.store.alerts, {ACCOUNT: AlertRules()}, pushed.clock.now_ms)
    pushed.collector.watch = watch
    pushed.control("transfer", asset="BTC", amount="10", **{"from": "margin", "to": "spot"})
    for action, params in setup:
        pushed.control(action, **params)
    # BTCUSDT's MM: 950,000 notional in the 0.65 % bracket (cum 300,000 · 0.1 % + 800,000 ·
    # 0.15 % = 1,500): 6,175 − 1,500 = 4,675; + 140 (futures) or + 10,350 (loans).
    maint_before = 4_675.0 + (140.0 if case == "futures" else 10_350.0)
    # Every set-up event in the figures (and any poll they asked for done) before REST is read
    # again: an event arriving after that read but older than it would be applied on top of it.
    pushed.until(
        lambda: (
            pushed.quiet()
            and (r := pushed.latest()) is not None
            and r.maint_margin_usd == pytest.approx(maint_before, rel=1e-5)
            and r.adjusted_equity_usd == pytest.approx(20_000.0, rel=1e-5)
        ),
        f"{case}: the set-up in the figures",
    )
    on = requests.post(f"{pushed.server.base_url}/_sim/user/liquidation?on=1", timeout=30)
    assert on.status_code == 200 and on.json()["auto_liquidate"] is True
    pushed.clock.advance(1)  # the set-up's events are older than the poll's moment
    polled = pushed.full_poll()  # the account before the move, read over REST
    assert pushed.amount(polled, "BTCUSDT") == -10.0

    sent: list[dict[str, Any]] = []
    publish = pushed.sim.user_data.publish

    def recorded(account: Any, out: list[dict[str, Any]]) -> int:
        sent.extend(out)
        return publish(account, out)

    pushed.sim.user_data.publish = recorded  # type: ignore[method-assign]
    # The account's REST answers held at the exchange until the stream's figures are checked: a
    # poll asked meanwhile (a pushed riskLevelChange asks for one) cannot feed them.
    account = pushed.sim.accounts[0]
    account.released.clear()
    base = pushed.store.report_snapshot_id(polled.id)
    shock_ms = pushed.clock.now_ms()

    def liquidated() -> bool:
        done = [e for e in sent if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["X"] == "FILLED"]
        r = pushed.between_polls()
        return (
            bool(done)
            and r is not None
            and events_at(pushed, r, shock_ms) == len(sent)
            and pushed.store.snapshot_base(pushed.store.report_snapshot_id(r.id)) == base
        )

    try:
        pushed.sim.market.shock("BTC", shock)  # the simulator's watch liquidates on its own
        pushed.until(liquidated, f"{case}: the liquidation's events in a stored report")
        pushed.control("check")  # the exchange's round that liquidated has ended (its lock)
        pushed.until(liquidated, f"{case}: every event of the liquidation applied")
        streamed = pushed.latest()  # the last poll's snapshot + the pushed events, nothing else
        assert streamed is not None
    finally:
        account.released.set()

    kinds = [e["e"] for e in sent]
    assert kinds[0] == "riskLevelChange" and sent[0]["s"] == "FORCE_LIQUIDATION"
    (close,) = [e["o"] for e in sent if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["X"] == "FILLED"]
    assert close["c"].startswith("autoclose-") and (close["s"], close["S"]) == ("BTCUSDT", "BUY")
    price = 95_000.0 * (1 + shock)
    assert float(close["ap"]) == pytest.approx(price, rel=1e-5)  # at the mark
    assert pushed.amount(streamed, "BTCUSDT") == 0.0
    equity = 20_000.0 - 10 * (price - 95_000.0)  # 1,000 (futures) or 5,750 (loans)
    if case == "futures":
        assert "liabilityChange" not in kinds
        assert pushed.amount(streamed, "ETHUSDT") == -10.0
        maint = 10 * 3_500.0 * 0.004
    else:
        (repaid,) = [e for e in sent if e["e"] == "liabilityChange"]
        assert (repaid["a"], repaid["t"], repaid["l"]) == ("USDT", "REPAY", "0.00000000")
        maint = 0.10 * 1 * 3_500.0  # the ETH loan left
    # By hand at the exact prices; the still market's marks stray by ~1e-9 · price.
    assert streamed.adjusted_equity_usd == pytest.approx(equity, rel=1e-5)
    assert streamed.uni_mmr == pytest.approx(equity / maint, rel=1e-5)

    # The alert: CRITICAL, in Binance's words, the order filled whole at the mark.
    (alert,) = [a for a in pushed.store.alerts.active(ACCOUNT) if a.key.startswith("binance_liq")]
    assert alert.severity == "critical"
    assert alert.message == (
        f"Binance is liquidating {ACCOUNT}: BTCUSDT BUY 10 of 10 (FILLED, last 10 at {price:,.2f})"
    )

    # A full REST poll at the same moment reads the same figures and finds no difference.
    pushed.until(lambda: not pushed.collector.polls_pending(), "any poll asked meanwhile done")
    rest = pushed.full_poll()
    assert rest.uni_mmr == pytest.approx(streamed.uni_mmr, rel=1e-9)
    assert rest.adjusted_equity_usd == pytest.approx(streamed.adjusted_equity_usd, rel=1e-9)
    assert not [m for m in pushed.messages() if "differ" in m]


def events_at(pushed: Pushed, report: StoredReport, at_ms: int) -> int:
    """How many of the events stored with a between-polls report were pushed at ``at_ms`` or
    later (the stored run holds every event since the poll's cut, older ones included)."""
    payloads = pushed.store.snapshot_payloads(pushed.store.report_snapshot_id(report.id))
    if EVENTS_KEY not in payloads:
        return 0
    return sum((e.event_time_ms or 0) >= at_ms for e in decode_events(payloads[EVENTS_KEY])[1])


def test_an_event_from_before_a_read_arriving_after_it_is_not_applied_twice(
    pushed: Pushed,
) -> None:
    # A transfer out of the cross-margin wallet pushes a balanceUpdate: a DELTA (-1,000 USDT),
    # beside the wallets' new totals. The delta's delivery is held back (dropped by the fault,
    # handed over by hand after the read), as a slow socket would deliver it: REST, read after
    # the transfer, shows it already.
    pushed.clock.advance(1)  # the transfer's E is newer than anything the first poll saw
    pushed.sim.faults.set(user_event_drop=9)
    sent = pushed.control("transfer", asset="USDT", amount="1000", **{"from": "margin", "to": "um"})
    pushed.sim.faults.set(user_event_drop=0)
    assert "balanceUpdate" in [e["e"] for e in sent]
    pushed.clock.advance(1)
    rest = pushed.full_poll()  # reads the wallets a second after the transfer
    (late,) = [parse_event(e) for e in sent if e["e"] == "balanceUpdate"]
    pushed.collector.on_account_event(late)  # applied at once (no other evaluation runs)
    after = pushed.latest()
    assert after is not None
    # Nothing newer than the read is in them: the figures stay REST's. Applied on top, the
    # margin USDT would be 1,000 lower than REST's (the delta twice) and the equity with it.
    assert after.adjusted_equity_usd == pytest.approx(rest.adjusted_equity_usd, rel=1e-9)
    assert not pushed.collector.polls_pending()
