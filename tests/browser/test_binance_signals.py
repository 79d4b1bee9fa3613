"""Binance's own signals in a real browser: a liquidation order pushed on the user data stream
(``AlertWatch.on_binance_signal``, as the collector calls it) shows as a CRITICAL line of the
alert strip with its alarm sounding; its fill changes the same line's quantity; Binance's pushed
REDUCE_ONLY stays behind it ("+1 more": a liquidation leads the account's line) and reads, on the
Alerts view, with Binance's words and uniMMR. The strip reads the store:
nothing in the web app knows where the alert came from."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.alerts.rules import AlertRules
from app.alerts.watch import AlertWatch
from app.collector.collector import Collector
from app.store.store import Store
from connectors.simulator.clock import ManualClock
from risk.account_events import OrderUpdate, RiskLevelChange
from tests.support.screenshots import screenshot

pytestmark = pytest.mark.browser
WAIT_MS = 10_000
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
