"""A locked store on the desk screen (issue 17), in real Chromium: another process holds
``BEGIN EXCLUSIVE`` on the SQLite file past the busy timeout → the store banner says so with
SQLite's words, and once the data goes stale the feed line points at the store instead of
asking whether the collector runs; the lock let go → the banner goes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.collector.collector import Collector
from app.store.store import LOCKED_BY_OTHER, Store
from app.web.app import create_app
from app.web.format import fmt_uni_mmr
from app.web.view import NO_NEW_DATA
from connectors.binance.client import Client
from connectors.simulator.clock import ManualClock
from risk.model import RiskRules
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot
from tests.support.served_app import STALE_AFTER_S, served

pytestmark = pytest.mark.browser
BUSY_MS = 300  # small: the store gives up on a lock after this long


def test_locked_store_shows_the_store_banner_and_clears(
    page: Page, tmp_path: Path, client: Client, clock: ManualClock
) -> None:
    path = tmp_path / "locked.db"
    store = Store(f"sqlite:///{path}", busy_timeout_ms=BUSY_MS)
    store.create_schema()
    collector = Collector(store, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
    assert collector.run_once().report_id is not None
    report = store.latest_report("sim-basis")
    assert report is not None
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    banner = page.locator("#store-banner")
    feed = page.locator("#feed-message")
    with served(app) as url:
        page.goto(url)
        expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
        expect(banner).to_be_hidden()

        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            expect(banner).to_be_visible(timeout=WAIT_MS)
            expect(banner).to_contain_text(f"{LOCKED_BY_OTHER}: new data cannot be saved")
            expect(banner).to_contain_text("(database is locked)")
            clock.advance(STALE_AFTER_S + 5)  # no new data while it is held
            expect(page.locator("#age-note")).to_have_text("STALE", timeout=WAIT_MS)
            expect(feed).to_contain_text(f"no new data: {LOCKED_BY_OTHER}", timeout=WAIT_MS)
            assert NO_NEW_DATA not in (feed.text_content() or "")
            screenshot(page, "store-locked-banner")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        expect(banner).to_be_hidden(timeout=WAIT_MS)
        expect(feed).to_have_text(NO_NEW_DATA, timeout=WAIT_MS)  # stale, and nothing explains it
    store.close()
