"""The Outlook in a real browser (issue 20): the view shows the stored outlook's numbers in
words with their standard errors and age, greys and says STALE when the outlook is old, says
"outlook unknown" with no number when it could not be computed; the Overview's line shows the
same probability; on the simulator's near-liquidation book the collector's outlook job (the
model in its GBM reference mode: a volatility for BTC, no klines needed) raises the alert
"P(liquidation within 24 h) above 1 %", which the alert strip shows. Screenshots at both desk
sizes under artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.alerts.outlook_check import KEY
from app.alerts.rules import AlertRules
from app.alerts.watch import AlertWatch
from app.collector.collector import Collector
from app.collector.outlook_job import JobSettings, OutlookJob
from app.collector.outlook_model import OutlookModel
from app.store.outlooks import OutlookStore
from app.store.store import Store
from app.web.app import create_app
from app.web.pages.outlook_words import odds_words, pct_words
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules
from risk.outlook import OutlookSettings
from risk.outlook_result import GBM
from tests.support.browser_wait import WAIT_MS
from tests.support.outlooks import outlook
from tests.support.screenshots import screenshot
from tests.support.served_app import served

pytestmark = pytest.mark.browser
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
ACCOUNT = "desk"


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Store, ManualClock]]:
    store = Store(f"sqlite:///{tmp_path / 'outlook.db'}")
    store.create_schema()
    yield store, ManualClock(START_MS + 42_000)
    store.close()


def _open(page: Page, url: str) -> None:
    page.goto(url.rstrip("/") + f"/?account={ACCOUNT}&view=outlook")
    expect(page.locator("#view-outlook")).to_be_visible(timeout=WAIT_MS)


def test_the_view_shows_the_stored_outlooks_numbers(
    sized_page: tuple[Page, str], stored: tuple[Store, ManualClock]
) -> None:
    page, size = sized_page
    store, clock = stored
    # 24 h: 2.5 % (1 in 40), s.e. sqrt(0.025 × 0.975 / 10,000) = 0.156 %; broken 10 % (1 in
    # 10); 1 h: no path of 10,000 (less than 1 in 10,000).
    OutlookStore(store.engine).write(
        ACCOUNT,
        outlook(
            START_MS,
            {1.0: 0.0, 8.0: 0.004, 24.0: 0.025},
            broken={1.0: 0.001, 8.0: 0.02, 24.0: 0.1},
        ),
    )
    app = create_app(store, [ACCOUNT], 3600, clock=clock.now_ms)
    with served(app) as url:
        _open(page, url)
        headline = page.locator("#outlook-headline")
        expect(headline).to_have_text(
            "Liquidation: 1 in 40 over the next 24 h 2.5 % ± 0.16 % (1 s.e.)", timeout=WAIT_MS
        )
        day = page.locator("#outlook-row-24h")
        expect(day.locator(".outlook-liquidation .outlook-odds")).to_have_text("1 in 40")
        expect(day.locator(".outlook-broken .outlook-odds")).to_have_text("1 in 10")
        # s.e. of 10 %: sqrt(0.1 × 0.9 / 10,000) = 0.3 %
        expect(day.locator(".outlook-broken .outlook-pct")).to_have_text("10.0 % ± 0.30 % (1 s.e.)")
        hour = page.locator("#outlook-row-1h")
        expect(hour.locator(".outlook-liquidation .outlook-odds")).to_have_text(
            "less than 1 in 10,000"
        )
        expect(hour.locator(".outlook-liquidation .outlook-pct")).to_have_text("no path touched it")
        expect(page.locator("#outlook-status")).to_have_text(f"{ACCOUNT}: outlook 42 s old")
        expect(page.locator("#outlook-table-basis")).to_contain_text("computed at 00:00:00 UTC")
        expect(page.locator("#outlook-fan-basis")).to_contain_text("1 h klines 2026-06-03")
        expect(page.locator("#outlook-fan-basis")).to_contain_text("s.e. of at most 0.144")
        expect(page.locator("#outlook-replays")).to_contain_text("FTX collapse")
        expect(page.locator("#outlook-replays")).to_contain_text("never")
        expect(page.locator("#outlook-drivers")).to_contain_text("70 % ± 4 % of the tail's loss")
        expect(page.locator("#outlook-fan .js-plotly-plot")).to_be_visible()
        for text in page.locator("#view-outlook").all_inner_texts():
            assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
            assert not re.search(r"(?<![\d.])0(\.0+)? %", text), text  # never a bare 0 %
        screenshot(page, f"outlook-{size}")

        # The Overview's line: the same probability, its error and its age.
        page.locator("#view").get_by_text("Overview", exact=True).click()
        expect(page.locator("#overview-outlook")).to_have_text(
            "liquidation 1 in 40 over the next 24 h", timeout=WAIT_MS
        )
        expect(page.locator("#overview-outlook-note")).to_contain_text("2.5 % ± 0.16 %")
        expect(page.locator("#overview-outlook-note")).to_contain_text(
            "if correlations break 1 in 10"
        )
        screenshot(page, f"outlook-overview-{size}")

        # Ten minutes on with no newer outlook: 642 s = 10.7 min old, STALE, greyed.
        clock.advance(600)
        page.locator("#view").get_by_text("Outlook", exact=True).click()
        status = page.locator("#outlook-status")
        expect(status).to_contain_text("STALE: 11 min old", timeout=WAIT_MS)
        expect(page.locator("#outlook-body")).to_have_class(re.compile(r"\bstale\b"))


def test_an_unknown_outlook_is_words_never_numbers(
    page: Page, stored: tuple[Store, ManualClock]
) -> None:
    store, clock = stored
    outlooks = OutlookStore(store.engine)
    outlooks.write(ACCOUNT, outlook(START_MS - 60_000, {24.0: 0.5, 1.0: 0.1, 8.0: 0.3}))
    outlooks.write(ACCOUNT, outlook(START_MS, unknown="no klines cached for BTCUSDT"))
    app = create_app(store, [ACCOUNT], 3600, clock=clock.now_ms)
    with served(app) as url:
        _open(page, url)
        expect(page.locator("#outlook-headline")).to_have_text(
            "⊘ outlook unknown: no klines cached for BTCUSDT", timeout=WAIT_MS
        )
        expect(page.locator("#outlook-horizons tr")).to_have_count(0)
        view = page.locator("#view-outlook").inner_text()
        assert " in 100" not in view and "%" not in view.replace("5-95 %", "")
        screenshot(page, "outlook-unknown-1920x1080")


def test_the_alert_fires_on_the_near_liquidation_book(
    page: Page, stored: tuple[Store, ManualClock]
) -> None:
    store, clock = stored
    sim = SimulatorServer(Simulator(preset="near_liquidation", clock=clock)).start()
    try:
        account = sim.simulator.accounts[0]
        collector = Collector(
            store,
            make_client(account.api_key, account.api_secret, sim.base_url),
            RiskRules(),
            account.name,
            clock.now_ms,
            policy=RetryPolicy(sleep=lambda _: None),
        )
        assert collector.run_once().failure is None
    finally:
        sim.stop()
    watch = AlertWatch(store.alerts, {account.name: AlertRules()}, clock.now_ms)
    model = OutlookModel(
        RiskRules(), OutlookSettings(n_paths=4_000, model=GBM, vol_annualised={"BTC": 0.6})
    )
    job = OutlookJob(
        store, OutlookStore(store.engine), None, model, RiskRules(), JobSettings(), clock.now_ms
    )
    assert job.run({account.name: watch}) == 1
    found = OutlookStore(store.engine).latest(account.name)
    assert found is not None
    day = found.outlook.horizon(24.0)
    # 10 BTC long at uniMMR about 1.2, liquidation a fall of about 0.1 % away, BTC at 60 % a
    # year (3.1 % a day): a driftless GBM touches it within 24 h with probability about
    # 2 N(-0.001 / 0.031) = 0.97 (reflection principle) — far above 1 %.
    assert day is not None and day.p_liquidation > 0.5
    (alert,) = [a for a in store.alerts.active() if a.key == KEY]
    app = create_app(store, [account.name], 3600, clock=clock.now_ms)
    with served(app) as url:
        page.goto(url.rstrip("/") + f"/?account={account.name}&view=outlook")
        line = page.locator(".alert-line", has_text="P(liquidation within 24 h) above 1 %")
        expect(line).to_have_count(1, timeout=WAIT_MS)
        expect(line).to_contain_text("CRITICAL")
        expect(line).to_contain_text(alert.message)
        # The view: the stored outlook's own figure, in words.
        odds = odds_words(day.p_liquidation, found.outlook.n_paths)
        expect(page.locator("#outlook-headline")).to_contain_text(
            f"Liquidation: {odds} over the next 24 h", timeout=WAIT_MS
        )
        expect(page.locator("#outlook-headline")).to_contain_text(
            pct_words(day.p_liquidation, day.stderr)
        )
        expect(page.locator("#outlook-method")).to_contain_text("independent GBMs")
        screenshot(page, "outlook-near-liquidation-1920x1080")
