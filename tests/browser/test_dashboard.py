"""The overview in a real browser shows exactly the newest stored report, and follows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.collector.collector import Collector
from app.store.store import Store
from app.web.format import fmt_uni_mmr
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import SimulatorServer
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot

pytestmark = pytest.mark.browser


def test_page_shows_newest_stored_uni_mmr_and_follows_updates(
    page: Page,
    dashboard_url: str,
    collector: Collector,
    store: Store,
    clock: ManualClock,
    sim_server: SimulatorServer,
) -> None:
    assert collector.run_once().report_id is not None
    newest = store.latest_report("sim-basis")
    assert newest is not None

    page.goto(dashboard_url)
    shown = page.locator("#uni-mmr")
    expect(shown).to_have_text(fmt_uni_mmr(newest.uni_mmr), timeout=WAIT_MS)
    assert float(shown.inner_text().replace(",", "")) == pytest.approx(newest.uni_mmr, abs=0.005)
    expect(page.locator("#sim-banner")).to_be_visible()
    expect(page.locator("#status-text")).to_contain_text("NORMAL")
    expect(page.locator("#feed-status")).to_have_text("feed OK")
    expect(page.locator("#marks-note")).to_have_text(
        "marks: with each account poll · positions 0 s old"
    )
    expect(page.locator("#weight-note")).to_contain_text("API weight (1 min): ")
    expect(page.locator("#weight-note")).to_contain_text("papi ")
    screenshot(page, "overview-1920x1080")

    # The price moves; a new report lands; the page follows without a reload.
    sim_server.simulator.market.shock("BTC", 0.10)
    clock.advance(2)
    assert collector.run_once().report_id is not None
    moved = store.latest_report("sim-basis")
    assert moved is not None and fmt_uni_mmr(moved.uni_mmr) != fmt_uni_mmr(newest.uni_mmr)
    expect(shown).to_have_text(fmt_uni_mmr(moved.uni_mmr), timeout=WAIT_MS)


def test_stale_data_turns_grey(
    page: Page, dashboard_url: str, collector: Collector, clock: ManualClock
) -> None:
    assert collector.run_once().report_id is not None
    page.goto(dashboard_url)
    expect(page.locator("#hero")).to_have_class("hero band-normal", timeout=WAIT_MS)
    clock.advance(11)  # beyond the 10 s staleness limit, no new report
    expect(page.locator("#hero")).to_have_class("hero band-stale", timeout=WAIT_MS)
    expect(page.locator("#status-text")).to_contain_text("STALE")
    screenshot(page, "overview-stale")
