"""The alert strip with many alerts open never pushes the figures off the desk screen: 15 open
alerts over 5 accounts (an outage making four of them stale, three accounts in trouble, one
recovering, one acknowledged) are at most 3 lines on a 1366×768 laptop and 4 on 1920×1080 and on
the 2560×1440 kiosk, and the hero uniMMR (``#uni-mmr``) stays wholly in view. Screenshots of what
each screen shows (the viewport, not the page) under artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from app.collector.collector import Collector
from app.store.store import Store
from app.web.app import create_app
from connectors.binance.client import make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import RiskRules
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import ARTIFACTS
from tests.support.served_app import STALE_AFTER_S, served
from tests.support.start_time import START_MS

pytestmark = pytest.mark.browser
PRESETS = ("directional", "near_liquidation", "borrower", "coinm_hedger", "basis")
ACCOUNTS = [f"sim-{p}" for p in PRESETS]
SCREENS = {  # name: (width, height, query, strip lines)
    "1920x1080": (1920, 1080, "", 4),
    "1366x768": (1366, 768, "", 3),
    "kiosk-2560x1440": (2560, 1440, "?kiosk=1", 4),
}


def open_many(store: Store, now: int) -> None:
    """15 open alerts over 5 accounts, as an outage during a crash leaves them."""
    d, n, b, c, basis = ACCOUNTS
    usage = "margin usage above 50 % and rising faster than 10 points a minute"
    liq = "liquidation within a 15 % move"
    past = "the account is at or past its liquidation level now"
    rows = [  # account, key, severity, level, title, value, what to do, seconds ago
        *(
            (a, "stale", "critical", 1, "data older than 10 s", "newest report 45 s old",
             "the figures on screen are not current: check the collector and network", 45)
            for a in (d, n, b, basis)  # one cause, four accounts: one line
        ),
        (d, "uni_mmr", "critical", 2, "uniMMR below 1.6", "uniMMR ≤ 0",
         "to reach uniMMR 2.0: add 106,350 USDT", 300),
        (d, "liquidation_move", "critical", 1, liq, past, "cut size or hedge", 330),
        (d, "account_status", "critical", 6, "Binance status BANKRUPTED",
         "Binance says BANKRUPTED", "read Binance's notice", 290),
        (d, "usage_rise", "warn", 1, usage, "margin usage rising +120.2 points a minute",
         "find the leg that is losing", 295),
        (n, "uni_mmr", "critical", 2, "uniMMR below 1.6", "uniMMR ≤ 0",
         "to reach uniMMR 2.0: add 36,413 USDT", 240),
        (n, "liquidation_move", "critical", 1, liq, past, "cut size or hedge", 240),
        (n, "account_status", "critical", 3, "Binance status REDUCE_ONLY",
         "Binance says REDUCE_ONLY", "read Binance's notice", 240),
        (b, "uni_mmr", "warn", 1, "uniMMR below 2", "uniMMR 1.95",
         "to reach uniMMR 2.0: add 738 USDT", 100),
        (b, "liquidation_move", "critical", 1, liq,
         "a 6.3 % fall of every coin liquidates the account", "cut size or hedge", 230),
        (b, "usage_rise", "warn", 1, usage, "margin usage rising +12.4 points a minute",
         "find the leg", 100),
        (c, "uni_mmr", "critical", 2, "uniMMR below 1.6", "uniMMR 5.09",
         "uniMMR above 2.0: no top-up needed", 400),
    ]  # fmt: skip
    ids = [
        store.alerts.open(a, key, sev, title, value, what, None, now - ago * 1000, level=level)
        for a, key, sev, level, title, value, what, ago in rows
    ]
    store.alerts.acknowledge(ids[-2], "maria", now)  # borrower's usage: acknowledged
    store.alerts.set_recovering(ids[-1], now + 42_000, None)  # coinm_hedger: calm again
    assert len(store.alerts.active()) == 15
    assert len({a.account for a in store.alerts.active()}) == 5


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[str]:
    """Five simulated accounts with a report each, 15 alerts open; the dashboard's URL."""
    clock = ManualClock(START_MS)
    sim = Simulator(accounts={f"sim-{p}": p for p in PRESETS}, clock=clock)
    server = SimulatorServer(sim).start()
    store = Store(f"sqlite:///{tmp_path / 'desk.db'}")
    store.create_schema()
    try:
        for a in sim.accounts:
            client = make_client(a.api_key, a.api_secret, server.base_url)
            collector = Collector(store, client, RiskRules(), a.name, now_ms=clock.now_ms)
            assert collector.run_once().report_id is not None
        open_many(store, clock.now_ms())
        app = create_app(store, ACCOUNTS, STALE_AFTER_S, clock=clock.now_ms)
        with served(app) as url:
            yield url
    finally:
        server.stop()
        store.close()


MEASURE = """(() => {
  const rect = (el) => el && (({x, y, width, height}) => ({x, y, width, height}))(
    el.getBoundingClientRect());
  const hero = document.querySelector("#uni-mmr");
  const strip = document.querySelector("#alert-banner");
  const line = strip && strip.querySelector(".alert-line");
  return hero && strip && line ? [rect(hero), rect(strip), rect(line)] : null;
})()"""
"""The hero number's, the strip's and its first line's boxes, from one drawn frame."""


@pytest.mark.parametrize("screen", list(SCREENS))
def test_fifteen_alerts_leave_the_uni_mmr_in_view(browser: Browser, desk: str, screen: str) -> None:
    width, height, query, lines = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(desk + query)
        strip = page.locator("#alert-banner")
        expect(strip.locator(".alert-line")).to_have_count(lines, timeout=WAIT_MS)
        # The outage is one line naming its four accounts; the rest are summed up last.
        expect(strip).to_contain_text("4 accounts: sim-directional, sim-near_liquidation")
        expect(strip.locator(".alert-line").last).to_contain_text("more:")
        expect(page.locator("#alert-acked")).to_have_text("1 acknowledged")
        hero = page.locator("#uni-mmr")
        expect(hero).not_to_have_text("—", timeout=WAIT_MS)
        page.evaluate("document.fonts.ready")
        # Measured in one go in the page: the strip redraws every few seconds, and a line
        # measured a moment after the strip may be its replacement (or, between, none).
        page.wait_for_function(MEASURE + " !== null", timeout=WAIT_MS)
        box, strip_box, line_h = page.evaluate(MEASURE)
        # The whole number is on the screen, below the strip.
        assert box["y"] >= strip_box["y"] + strip_box["height"]
        assert box["y"] + box["height"] <= height, (screen, box, strip_box)
        assert strip_box["height"] <= lines * line_h["height"] + 6
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"alert-strip-{screen}.png"))
        print(
            f"\n{screen}: strip {strip_box['height']:.0f} px ({lines} lines of "
            f"{line_h['height']:.0f} px); #uni-mmr {box['y']:.0f}–{box['y'] + box['height']:.0f} "
            f"of {height} px"
        )
    finally:
        context.close()
