"""Binance's own signals in a real browser: a liquidation order pushed on the user data stream
(``AlertWatch.on_binance_signal``, as the collector calls it) shows as a CRITICAL line of the
alert strip with its alarm sounding; its fill changes the same line's quantity; Binance's pushed
REDUCE_ONLY stays behind it ("+1 more": a liquidation leads the account's line) and reads, on the
Alerts view, with Binance's words and uniMMR. The strip reads the store:
nothing in the web app knows where the alert came from. And REDUCE_ONLY pushed by the simulator
over its user data stream while pmdesk's own figures are calm: Binance's status on the strip as
CRITICAL, and a hero that does not say NORMAL."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from app.alerts.rules import AlertRules
from app.alerts.watch import AlertWatch
from app.collector.account_push import open_user_stream
from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.client import Client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import SimulatorServer
from risk.account_events import OrderUpdate, RiskLevelChange
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot

pytestmark = pytest.mark.browser
ACCOUNT = "sim-basis"


def liquidation(status: str, filled: float, last: float, price: float, at_ms: int) -> OrderUpdate:
    return OrderUpdate(
        at_ms, "UM", "BTCUSDT", "autoclose-1596107620040000020", "SELL", "LIQUIDATION",
        "NEW" if status == "NEW" else "TRADE", status, last, filled, price, "BOTH",
    )  # fmt: skip


def test_a_liquidation_pushed_by_binance_shows_the_banner(
    page: Page, dashboard_url: str, collector: Collector, store: Store, clock: ManualClock
) -> None:
    watch = AlertWatch(store.alerts, {ACCOUNT: AlertRules()}, clock.now_ms)
    collector.watch = watch
    assert collector.run_once().report_id is not None  # the basis book: calm, near uniMMR 200
    assert store.alerts.active() == []
    page.goto(dashboard_url)
    expect(page.locator("#uni-mmr")).not_to_have_text("—", timeout=WAIT_MS)
    expect(page.locator(".alert-line")).to_have_count(0)

    now = clock.now_ms()
    watch.on_binance_signal(ACCOUNT, liquidation("NEW", 0.0, 0.0, 0.0, now), now)
    line = page.locator(".alert-line")
    expect(line).to_have_count(1, timeout=WAIT_MS)
    expect(line).to_contain_text("CRITICAL")
    expect(line).to_contain_text("Binance liquidation order on BTCUSDT")
    expect(line).to_contain_text(f"Binance is liquidating {ACCOUNT}: BTCUSDT SELL")
    page.wait_for_function("!document.getElementById('alarm-audio').paused")

    # 0.3 at 41,000 then 0.2 at 40,950: 0.5 filled, on the same line.
    watch.on_binance_signal(ACCOUNT, liquidation("PARTIALLY_FILLED", 0.3, 0.3, 41_000.0, now), now)
    watch.on_binance_signal(ACCOUNT, liquidation("FILLED", 0.5, 0.2, 40_950.0, now), now)
    expect(line).to_contain_text("BTCUSDT SELL 0.5 (FILLED", timeout=WAIT_MS)
    expect(line).to_have_count(1)

    risk = RiskLevelChange(now, 1.18, "REDUCE_ONLY", 30.2, 30.2, 25.6)
    watch.on_binance_signal(ACCOUNT, risk, now)
    expect(line).to_contain_text("+1 more", timeout=WAIT_MS)  # the liquidation still leads
    expect(line).to_contain_text(f"Binance is liquidating {ACCOUNT}")
    line.locator(".line-more").click()
    expect(page.locator("#open-alerts-body")).to_contain_text(
        f"Binance says {ACCOUNT} is REDUCE_ONLY: uniMMR 1.18", timeout=WAIT_MS
    )
    screenshot(page, "alert-binance-signals-1920x1080")


def test_binance_pushing_reduce_only_while_pmdesk_is_calm_is_critical_on_screen(
    page: Page,
    dashboard_url: str,
    collector: Collector,
    store: Store,
    clock: ManualClock,
    client: Client,
    sim_server: SimulatorServer,
) -> None:
    """The simulator's own uniMMR set to 1.18 (an MM only the exchange counts): it pushes
    ``riskLevelChange`` REDUCE_ONLY on the account's user data stream while pmdesk's own figures
    stay far above 1.5. The strip carries Binance's status as CRITICAL and the hero is not calm
    (whether or not a REST poll follows the push: /papi/v1/account says REDUCE_ONLY too)."""
    watch = AlertWatch(store.alerts, {ACCOUNT: AlertRules()}, clock.now_ms)
    collector.watch = watch
    open_user_stream(collector, client, sim_server.pm_stream_url, clock.now_ms)
    try:
        page.goto(dashboard_url)  # the stream's first connection reads REST at once
        expect(page.locator("#status-text")).to_contain_text("NORMAL", timeout=WAIT_MS)
        expect(page.locator(".alert-line")).to_have_count(0)
        calm = store.latest_report(ACCOUNT)
        assert calm is not None and calm.uni_mmr > 1.5 and calm.reported_status == "NORMAL"

        r = requests.post(
            f"{sim_server.base_url}/_sim/user/binance_view", params={"uni_mmr": "1.18"}, timeout=30
        )
        assert r.status_code == 200, r.text
        (pushed,) = r.json()["events"]
        assert (pushed["e"], pushed["s"]) == ("riskLevelChange", "REDUCE_ONLY")
        assert float(pushed["u"]) == pytest.approx(1.18, rel=1e-9)

        line = page.locator(".alert-line")
        expect(line).to_have_count(1, timeout=WAIT_MS)
        expect(line).to_contain_text("CRITICAL")
        expect(line).to_contain_text("Binance status REDUCE_ONLY")
        expect(line).to_contain_text(f"Binance says {ACCOUNT} is REDUCE_ONLY: uniMMR 1.18")
        hero = page.locator("#hero")
        expect(hero).to_have_class(re.compile(r"\bband-critical\b"), timeout=WAIT_MS)
        status = page.locator("#status-text")
        expect(status).to_contain_text("Binance says REDUCE_ONLY")
        expect(status).not_to_contain_text("NORMAL")
        expect(status).not_to_contain_text("trade freely")
        latest = store.latest_report(ACCOUNT)
        assert latest is not None and latest.uni_mmr > 1.5  # pmdesk's own figure: still calm
        assert latest.reported_status == "REDUCE_ONLY"
        screenshot(page, "binance-reduce-only-pmdesk-calm-1920x1080")
    finally:
        collector.stop()
