"""The collector's outlook job over real HTTP against the simulator (issue 20): per account at
most once a minute, from the account's newest stored report; the klines it needs refreshed and
read; stored; handed to the alert watch, whose rule "P(liquidation within 24 h) above 1 %" fires
for the near-liquidation book; a model that fails stores an unknown outlook (logged once)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.alerts.outlook_check import KEY
from app.alerts.rules import AlertRules
from app.alerts.watch import AlertWatch
from app.collector.collector import Collector
from app.collector.outlook_job import JobSettings, OutlookJob, band_rank
from app.collector.outlook_model import Histories, OutlookModel
from app.store.outlooks import OutlookStore
from app.store.store import Store
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.episodes import parse_episodes
from risk.market_history import KlineKey, KlineSeries
from risk.model import AccountSnapshot, MarketState, RiskRules
from risk.outlook import OutlookSettings
from risk.outlook_result import GBM, Outlook
from tests.support.outlooks import outlook as hand_made

START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
VOL = {"BTC": 0.6}  # annualised, for --model gbm style settings (no klines needed)


@dataclass
class Desk:
    store: Store
    clock: ManualClock
    collectors: dict[str, Collector]
    sim: SimulatorServer


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = ManualClock(START_MS)
    sim = SimulatorServer(
        Simulator(accounts={"near": "near_liquidation", "basis": "basis"}, clock=clock)
    ).start()
    store = Store(f"sqlite:///{tmp_path / 'outlook.db'}")
    store.create_schema()
    collectors = {
        a.name: Collector(
            store,
            make_client(a.api_key, a.api_secret, sim.base_url),
            RiskRules(),
            a.name,
            clock.now_ms,
            policy=RetryPolicy(sleep=lambda _: None),
        )
        for a in sim.simulator.accounts
    }
    try:
        for c in collectors.values():
            assert c.run_once().failure is None
        yield Desk(store, clock, collectors, sim)
    finally:
        sim.stop()
        store.close()


@dataclass
class Feed:
    """The klines cache as the job sees it: what it was asked to refresh and read."""

    refreshed: list[tuple[KlineKey, ...]] = field(default_factory=list)
    reads: list[tuple[tuple[KlineKey, ...], int, int]] = field(default_factory=list)

    def refresh(self, keys: Sequence[KlineKey], now_ms: int) -> None:
        self.refreshed.append(tuple(keys))

    def read(self, keys: Sequence[KlineKey], start_ms: int, end_ms: int) -> list[KlineSeries]:
        self.reads.append((tuple(keys), start_ms, end_ms))
        return []


def gbm_model(n_paths: int = 4_000) -> OutlookModel:
    return OutlookModel(
        RiskRules(), OutlookSettings(n_paths=n_paths, model=GBM, vol_annualised=VOL)
    )


def test_each_account_at_most_once_a_minute_and_the_alert_fires_near_liquidation(
    desk: Desk,
) -> None:
    rules = {name: AlertRules() for name in desk.collectors}
    watch = AlertWatch(desk.store.alerts, rules, desk.clock.now_ms)
    feed = Feed()
    (episode,) = parse_episodes(
        "name,start_utc,end_utc,description\n"
        "FTX collapse,2022-11-08T00:00:00Z,2022-11-10T00:00:00Z,BTC -18 %\n"
    )
    job = OutlookJob(
        desk.store,
        OutlookStore(desk.store.engine),
        feed,
        gbm_model(),
        RiskRules(),
        JobSettings(every_s=60.0, history_days=180.0),
        desk.clock.now_ms,
        episodes=(episode,),
    )
    held = {"near": watch, "basis": watch}
    assert job.run(held) == 2
    assert job.run(held) == 0  # within the minute: nothing again
    desk.clock.advance(59)
    assert job.run(held) == 0
    desk.clock.advance(1)
    assert job.run(held) == 2

    # The near book holds USDT and a BTCUSDT perpetual: BTC's spot against USDT and the
    # perpetual's mark and index klines, hourly (and by the minute for the episode).
    hourly = (
        KlineKey("spot", "BTCUSDT", "1h"),
        KlineKey("um_index", "BTCUSDT", "1h"),
        KlineKey("um_mark", "BTCUSDT", "1h"),
    )
    assert feed.refreshed[0][:3] == hourly
    assert {k.interval for k in feed.refreshed[0][3:]} == {"1m"}
    first_read = feed.reads[0]
    assert first_read[0] == hourly
    assert first_read[1] == START_MS - 180 * 86_400_000 and first_read[2] == START_MS
    assert feed.reads[1][1:] == (episode.start_ms - 60_000, episode.end_ms)

    near = OutlookStore(desk.store.engine).latest("near")
    basis = OutlookStore(desk.store.engine).latest("basis")
    assert near is not None and basis is not None
    assert near.computed_at_ms == START_MS + 60_000
    day = near.outlook.horizon(24.0)
    assert near.outlook.unknown == "" and day is not None
    # The near book: 10 BTC long at uniMMR about 1.2 against liquidation at 1.05. With MM about
    # 0.5 % of the notional, adjusted equity is about 0.6 % of it: liquidation is a fall of
    # about 0.1 % — against a daily s.d. of 0.6 / sqrt(365) = 3.1 %. A driftless GBM touches
    # a level d below within T with probability 2 N(ln(1 - d) / (s sqrt(T))) (reflection):
    # 2 N(-0.001 / 0.031) = 0.97. The grid monitors every 5 min then hourly: somewhat less.
    report = desk.store.latest_report("near")
    assert report is not None and 1.05 < report.uni_mmr < 1.4
    assert day.p_liquidation > 0.5
    alert = next(a for a in desk.store.alerts.active() if a.key == KEY)
    assert alert.account == "near"
    assert alert.title == "P(liquidation within 24 h) above 1 %"
    # The basis book is hedged (spot against its short perpetual): far from liquidation.
    basis_day = basis.outlook.horizon(24.0)
    assert basis_day is not None and basis_day.p_liquidation < 0.01
    assert all(a.account != "basis" for a in desk.store.alerts.active() if a.key == KEY)
    assert math.isfinite(day.stderr) and day.stderr <= 0.5 / math.sqrt(4_000)


def test_a_worse_band_brings_the_outlook_forward_once(desk: Desk) -> None:
    outlooks = OutlookStore(desk.store.engine)
    job = OutlookJob(
        desk.store,
        outlooks,
        None,
        gbm_model(1_000),
        RiskRules(),
        JobSettings(every_s=60.0),
        desk.clock.now_ms,
    )
    held: dict[str, AlertWatch | None] = {"near": None}
    assert job.run(held) == 1
    before = desk.store.latest_report("near")
    assert before is not None
    desk.clock.advance(5)
    assert job.run(held) == 0  # the same band, within the minute: not yet
    # The near book is 10 BTC long at uniMMR about 1.2 with equity about 0.6 % of the notional:
    # BTC 5 % lower leaves no equity at all (LIQUIDATION_WITH_LOSS, or UNKNOWN: both worse).
    desk.sim.simulator.market.shock("BTC", -0.05)
    assert desk.collectors["near"].run_once().failure is None
    after = desk.store.latest_report("near")
    assert after is not None and band_rank(after.status) > band_rank(before.status)
    desk.clock.advance(5)
    assert job.run(held) == 1  # at once: 10 s after the last, not 60
    newest = outlooks.latest("near")
    assert newest is not None and newest.computed_at_ms == START_MS + 10_000
    desk.clock.advance(5)
    assert job.run(held) == 0  # the same worse band: not again until the minute is up
    desk.clock.advance(55)
    assert job.run(held) == 1  # a minute after the last


def test_within_its_core_share_and_a_worse_band_goes_first(desk: Desk) -> None:
    spent = [0.0]

    def cpu_s() -> float:  # each outlook "takes" 2 s of CPU
        return spent[0]

    def compute(*args: object) -> Outlook:
        spent[0] += 2.0
        return gbm_model(500)(*args)  # type: ignore[arg-type]

    outlooks = OutlookStore(desk.store.engine)
    job = OutlookJob(
        desk.store,
        outlooks,
        None,
        compute,
        RiskRules(),
        JobSettings(every_s=60.0, core_share=0.25),
        desk.clock.now_ms,
        cpu_s=cpu_s,
    )
    held: dict[str, AlertWatch | None] = {"basis": None, "near": None}
    # 2 s of CPU at a quarter of a core: a rest of 2 (1 / 0.25 - 1) = 6 s after each.
    assert job.run(held) == 1
    first = {a for a in held if outlooks.latest(a) is not None}
    desk.clock.advance(5)
    assert job.run(held) == 0  # 5 s into the 6 s rest
    desk.clock.advance(1)
    assert job.run(held) == 1  # the other account, 6 s after the first
    assert all(outlooks.latest(a) is not None for a in held)
    # A worse band does not wait for the rest, and goes before an account merely due.
    desk.clock.advance(60)  # both due again; the near book now sinks
    desk.sim.simulator.market.shock("BTC", -0.05)
    assert desk.collectors["near"].run_once().failure is None
    assert job.run(held) == 1
    near, other = outlooks.latest("near"), outlooks.latest(next(iter(first)))
    assert near is not None and near.computed_at_ms == desk.clock.now_ms()
    assert "near" in first or (other is not None and other.computed_at_ms < near.computed_at_ms)


def test_band_rank_puts_unknown_and_strange_statuses_last() -> None:
    order = ["NORMAL", "MARGIN_CALL", "REDUCE_ONLY", "LIQUIDATION", "LIQUIDATION_WITH_LOSS"]
    assert [band_rank(s) for s in order] == [0, 1, 2, 3, 4]
    assert band_rank("UNKNOWN") == band_rank("SOMETHING_NEW") == 5


def test_a_failing_model_stores_unknown_and_is_logged_once(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(
        snapshot: AccountSnapshot, market: MarketState, histories: Histories, now_ms: int
    ) -> Outlook:
        raise ValueError("no klines cached for BTCUSDT")

    job = OutlookJob(
        desk.store,
        OutlookStore(desk.store.engine),
        None,
        broken,
        RiskRules(),
        JobSettings(every_s=60.0),
        desk.clock.now_ms,
    )
    with caplog.at_level(logging.WARNING, logger="pmdesk.outlook"):
        for _ in range(3):
            assert job.run({"near": None}) == 1
            desk.clock.advance(60)
    found = OutlookStore(desk.store.engine).latest("near")
    assert found is not None
    assert found.outlook.unknown == "no klines cached for BTCUSDT"
    assert found.outlook.horizons == ()
    lines = [r.getMessage() for r in caplog.records if r.name == "pmdesk.outlook"]
    assert lines == ["outlook of near unknown: no klines cached for BTCUSDT"]


def test_no_report_yet_stores_nothing_and_retries(desk: Desk) -> None:
    calls: list[int] = []

    def model(
        snapshot: AccountSnapshot, market: MarketState, histories: Histories, now_ms: int
    ) -> Outlook:
        calls.append(now_ms)
        return hand_made(now_ms)

    job = OutlookJob(
        desk.store,
        OutlookStore(desk.store.engine),
        None,
        model,
        RiskRules(),
        JobSettings(),
        desk.clock.now_ms,
    )
    assert job.run({"never-polled": None}) == 0
    assert OutlookStore(desk.store.engine).latest("never-polled") is None
    assert job.due("never-polled", desk.clock.now_ms())  # tried again at the next tick
    assert job.run({"near": None}) == 1 and calls == [START_MS]
