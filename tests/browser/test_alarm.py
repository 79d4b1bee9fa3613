"""The alarm in a real browser: an alert raised by the collector shows as a line of the alert
strip on two open screens with its sound playing; Acknowledge on one silences both, and the store
records who and when; Acknowledge all silences every alert. Screenshots under artifacts/ (the
strip at 1920×1080, and on a kiosk screen). The strip's size with many alerts:
tests/browser/test_alert_strip.py.

Chromium runs with ``--autoplay-policy=no-user-gesture-required`` (tests/browser/conftest.py):
what a desk screen has after its one-time click on "enable the alarm sound".
"""

from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import Browser, Page, expect

from app.alerts.rules import AlertRules, Level
from app.alerts.watch import AlertWatch
from app.collector.collector import Collector
from app.store.store import Store
from app.web.format import fmt_uni_mmr
from connectors.simulator.clock import ManualClock
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot

pytestmark = pytest.mark.browser


def _playing(page: Page) -> bool:
    return bool(page.evaluate("!document.getElementById('alarm-audio').paused"))


def test_banner_sound_and_acknowledge_on_two_screens(
    browser: Browser, dashboard_url: str, collector: Collector, store: Store, clock: ManualClock
) -> None:
    # The basis book sits near uniMMR 200: a warn level of 1000 makes its first report an alert.
    rules = dataclasses.replace(AlertRules(), uni_mmr_warn=Level(1000.0, 1100.0))
    collector.watch = AlertWatch(store.alerts, {"sim-basis": rules}, clock.now_ms)
    assert collector.run_once().report_id is not None
    (alert,) = store.alerts.active()
    report = store.latest_report("sim-basis")
    assert report is not None and alert.message == f"uniMMR {fmt_uni_mmr(report.uni_mmr)}"

    screens = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
        screens.append(context.new_page())
    try:
        for page in screens:
            page.goto(dashboard_url)
            row = page.locator(".alert-line")
            expect(row).to_have_count(1, timeout=WAIT_MS)
            expect(row).to_contain_text("WARN")
            expect(row).to_contain_text("sim-basis")
            expect(row).to_contain_text("uniMMR below 1000")
            # The value as the hero shows it, from the same report.
            expect(row).to_contain_text(f"uniMMR {fmt_uni_mmr(report.uni_mmr)}")
            expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr))
            expect(row).to_contain_text(alert.action)  # the overview's top-up, its target
            page.wait_for_function("!document.getElementById('alarm-audio').paused")
        screenshot(screens[0], "alert-banner-1920x1080")

        screens[0].get_by_role("button", name="Acknowledge", exact=True).click()
        for page in screens:  # both screens: silenced, the line collapsed into the counter
            expect(page.locator(".alert-line")).to_have_count(0, timeout=WAIT_MS)
            expect(page.locator("#alert-acked")).to_have_text("1 acknowledged")
            page.wait_for_function("document.getElementById('alarm-audio').paused")
            assert not _playing(page)
        acked = store.alerts.get(alert.id)
        assert acked is not None
        assert (acked.acked_by, acked.acked_at_ms) == ("screen at 127.0.0.1", clock.now_ms())

        # The counter opens the Alerts view: the open list and the log, acknowledged.
        screens[1].locator("#alert-acked").click()
        expect(screens[1].locator("#open-alerts-body tr")).to_have_count(1, timeout=WAIT_MS)
        expect(screens[1].locator("#open-alerts-body")).to_contain_text("screen at 127.0.0.1")
        cell = screens[1].locator(f'#alerts-grid [row-id="{alert.id}"] [col-id="acked"]')
        expect(cell).to_contain_text("screen at 127.0.0.1", timeout=WAIT_MS)
        expect(
            screens[1].locator(f'#alerts-grid [row-id="{alert.id}"] [col-id="cleared"]')
        ).to_have_text("ACTIVE")
        screenshot(screens[1], "alert-log-1920x1080")
    finally:
        for page in screens:
            page.context.close()


def test_acknowledge_all_by_its_key_silences_every_alert(
    page: Page, dashboard_url: str, store: Store, clock: ManualClock
) -> None:
    for i, account in enumerate(("a", "b", "c")):
        at = clock.now_ms() - i
        store.alerts.open(account, "uni_mmr", "critical", "below 1.6", "1.20", "add", 1.2, at)
    page.goto(dashboard_url)
    expect(page.locator(".alert-line")).to_have_count(3, timeout=WAIT_MS)
    page.wait_for_function("!document.getElementById('alarm-audio').paused")
    page.keyboard.press("a")  # the shortcut for "Acknowledge all"
    expect(page.locator(".alert-line")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#alert-acked")).to_have_text("3 acknowledged")
    page.wait_for_function("document.getElementById('alarm-audio').paused")
    assert {(a.acked_by, a.acked_at_ms) for a in store.alerts.active()} == {
        ("screen at 127.0.0.1", clock.now_ms())
    }


def test_kiosk_screen_shows_the_alarm_large(
    browser: Browser, dashboard_url: str, collector: Collector, store: Store, clock: ManualClock
) -> None:
    rules = dataclasses.replace(AlertRules(), uni_mmr_critical=Level(1000.0, 1100.0))
    collector.watch = AlertWatch(store.alerts, {"sim-basis": rules}, clock.now_ms)
    assert collector.run_once().report_id is not None
    context = browser.new_context(viewport={"width": 2560, "height": 1440}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(dashboard_url + "?kiosk=1")
        expect(page.locator(".sev-critical")).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator(".sev-critical")).to_contain_text("CRITICAL")
        page.wait_for_function("!document.getElementById('alarm-audio').paused")
        screenshot(page, "alert-banner-kiosk-2560x1440")
    finally:
        context.close()
