"""One severity per account, in a real browser against the simulator and the collector: the
``directional`` preset (a ≈1.75 % fall liquidates it, though its uniMMR is ≈5) is CRITICAL on
the hero, the header, its tile and the kiosk, with the reason in words, and the screen opens on
it; the account and the view live in the URL (a shared link opens them, the back button steps
back); keys 1…9 pick the views; past Binance's level the words say so, never "+0.00 %"; times
switch between UTC and local. Screenshots under artifacts/. No sleeps: every wait is on the
page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app.collector.collector import Collector
from app.store.store import Store, StoredReport
from app.web.app import create_app
from app.web.figures import gross_leverage, leverage_text, margin_usage
from app.web.format import fmt_distance, fmt_pct, fmt_uni_mmr
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import Product, RiskReport, RiskRules
from risk.serialize import report_from_dict
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot
from tests.support.served_app import STALE_AFTER_S, served

pytestmark = pytest.mark.browser
PM = RiskRules.for_product(Product.PM)
CALM, BORROWER, DIRECTIONAL = "sim-calm", "sim-borrower", "sim-dir"
ACCOUNTS = [CALM, BORROWER, DIRECTIONAL]  # the worst configured last


@pytest.fixture
def desk(store: Store, clock: ManualClock) -> Iterator[dict[str, tuple[StoredReport, RiskReport]]]:
    """Three accounts as the simulator serves them, one poll each: basis (calm), borrower
    (calm, owes USDT), directional (a small fall liquidates it)."""
    sim = Simulator(
        accounts={CALM: "basis", BORROWER: "borrower", DIRECTIONAL: "directional"}, clock=clock
    )
    server = SimulatorServer(sim).start()
    try:
        newest = {}
        for a in sim.accounts:
            client = make_client(a.api_key, a.api_secret, server.base_url)
            policy = RetryPolicy(sleep=lambda _: None)
            c = Collector(store, client, PM, a.name, clock.now_ms, policy=policy)
            assert c.run_once().failure is None
            report = store.latest_report(a.name)
            assert report is not None
            newest[a.name] = (report, report_from_dict(store.report_detail(report.id)))
        yield newest
    finally:
        server.stop()


def _app(store: Store, clock: ManualClock, kiosk_cycle_s: float = 3600.0) -> Any:
    return create_app(
        store, ACCOUNTS, STALE_AFTER_S, clock=clock.now_ms, rules=PM, kiosk_cycle_s=kiosk_cycle_s
    )


def _picked(page: Page) -> Any:
    return page.locator(".account-picker")


def _no_plus_zero(page: Page) -> None:
    for text in page.locator("#page").all_inner_texts():
        assert "+0.00 %" not in text and "+0.0 %" not in text, text


def test_directional_is_critical_on_hero_header_tile_and_kiosk(
    browser: Browser,
    store: Store,
    clock: ManualClock,
    desk: dict[str, tuple[StoredReport, RiskReport]],
) -> None:
    report, detail = desk[DIRECTIONAL]
    down = report.liquidation_down_pct
    assert report.status == "NORMAL" and down is not None and -5.0 < down < 0  # the preset
    reason = f"{fmt_distance(abs(down))} from liquidation ↓"
    app = _app(store, clock)
    with served(app) as url:
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
        page = context.new_page()
        page.goto(url)
        # It opens on the worst account, though configured last.
        expect(_picked(page)).to_contain_text(DIRECTIONAL, timeout=WAIT_MS)
        hero = page.locator("#hero")
        expect(hero).to_have_class("hero band-critical", timeout=WAIT_MS)
        expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr))
        expect(page.locator("#status-icon")).to_have_text("✖")
        expect(page.locator("#status-text")).to_have_text(f"CRITICAL: {reason}")
        expect(hero).not_to_contain_text("NORMAL")
        summary = page.locator("#top-summary")
        expect(summary).to_contain_text(f"✖ CRITICAL: {reason}")
        expect(summary).to_have_class(re.compile(r"\bband-critical\b"))
        expect(page.locator("#liquidation-tile")).to_have_class(
            re.compile(r"\btile-level-critical\b")
        )
        expect(page.locator("#liquidation")).to_contain_text(f"↓ {fmt_pct(down)}")
        expect(page.locator("#margin-usage")).to_have_text(
            margin_usage(report.maint_margin_usd, report.adjusted_equity_usd)
        )
        leverage = leverage_text(gross_leverage(detail.positions, report.adjusted_equity_usd))
        expect(page.locator("#margin-usage-note")).to_have_text(f"gross leverage {leverage}")
        # The tiles, worst first; the directional one critical with its distance and leverage.
        expect(page.locator(".acct-name")).to_have_text([DIRECTIONAL, BORROWER, CALM])
        tile = page.locator(".acct-tile").first
        expect(tile).to_have_class(re.compile(r"\bband-critical\b"))
        expect(tile.locator(".acct-status")).to_have_text("✖ CRITICAL")
        expect(tile.locator(".acct-liq")).to_contain_text(f"↓ {fmt_pct(down)}")
        expect(tile.locator(".acct-lev")).to_have_text(f"lev {leverage}")
        expect(tile).to_have_attribute("title", re.compile(re.escape(f"CRITICAL: {reason}")))
        for calm in page.locator(".acct-tile").all()[1:]:
            expect(calm).to_have_class(re.compile(r"\bband-normal\b"))
        # The borrower owes its USDT: the net buffer says so.
        _no_plus_zero(page)
        screenshot(page, "severity-directional-1920x1080")

        # On every view the header keeps saying it (key 4: Stress).
        page.locator("body").press("4")
        expect(page.locator("#view-stress")).to_be_visible(timeout=WAIT_MS)
        expect(summary).to_contain_text(f"✖ CRITICAL: {reason}")
        screenshot(page, "severity-directional-stress-1920x1080")
        context.close()

        kiosk = browser.new_context(viewport={"width": 2560, "height": 1440}, color_scheme="dark")
        page = kiosk.new_page()
        page.goto(url + "?kiosk=1")
        expect(page.locator("#page")).to_have_class("page kiosk", timeout=WAIT_MS)
        expect(_picked(page)).to_contain_text(DIRECTIONAL)
        expect(page.locator("#hero")).to_have_class("hero band-critical", timeout=WAIT_MS)
        expect(page.locator("#status-text")).to_have_text(f"CRITICAL: {reason}")
        expect(page.locator("#top-summary")).to_contain_text(f"CRITICAL: {reason}")
        expect(page.locator(".acct-tile").first).to_have_class(re.compile(r"\bband-critical\b"))
        screenshot(page, "severity-kiosk-2560x1440")
        kiosk.close()


def test_kiosk_cycles_worst_first(
    browser: Browser,
    store: Store,
    clock: ManualClock,
    desk: dict[str, tuple[StoredReport, RiskReport]],
) -> None:
    app = _app(store, clock, kiosk_cycle_s=1.0)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
    page = context.new_page()
    with served(app) as url:
        page.goto(url + "?kiosk=1")
        # Worst first: the critical one, then the calm ones by uniMMR (8 before 187), around.
        for name in (DIRECTIONAL, BORROWER, CALM, DIRECTIONAL):
            expect(_picked(page)).to_contain_text(name, timeout=WAIT_MS)
            expect(page.locator("#uni-mmr")).to_have_text(
                fmt_uni_mmr(desk[name][0].uni_mmr), timeout=WAIT_MS
            )
        assert "account=" not in page.url  # the kiosk's cycling is not history
    context.close()


def test_account_and_view_live_in_the_url_and_back_steps_back(
    browser: Browser,
    store: Store,
    clock: ManualClock,
    desk: dict[str, tuple[StoredReport, RiskReport]],
) -> None:
    app = _app(store, clock)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, color_scheme="dark")
    page = context.new_page()
    with served(app) as url:
        # A shared link opens exactly that account and view.
        page.goto(url + f"?account={CALM}&view=stress")
        expect(page.locator("#view-stress")).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#view-overview")).to_be_hidden()
        expect(_picked(page)).to_contain_text(CALM)
        expect(page.locator("#top-summary")).to_contain_text("✔ NORMAL", timeout=WAIT_MS)
        # The worse account elsewhere is named in the header.
        others = page.locator("#top-others")
        expect(others).to_have_text(f"✖ {DIRECTIONAL}: CRITICAL", timeout=WAIT_MS)
        screenshot(page, "severity-url-stress-1366x768")

        # Picks are pushed as new URLs…
        page.locator("#view").get_by_text("Overview", exact=True).click()
        expect(page).to_have_url(re.compile(rf"\?account={CALM}&view=overview$"), timeout=WAIT_MS)
        page.locator(".acct-tile", has_text=BORROWER).click()
        expect(page).to_have_url(
            re.compile(rf"\?account={BORROWER}&view=overview$"), timeout=WAIT_MS
        )
        expect(page.locator("#uni-mmr")).to_have_text(
            fmt_uni_mmr(desk[BORROWER][0].uni_mmr), timeout=WAIT_MS
        )
        expect(page.locator("#buffer")).to_contain_text("owes $", timeout=WAIT_MS)
        page.locator("body").press("2")  # key 2: Hedges
        expect(page).to_have_url(re.compile(rf"\?account={BORROWER}&view=hedges$"), timeout=WAIT_MS)
        expect(page.locator("#view-hedges")).to_be_visible()

        # …and the back button steps back through them.
        page.go_back()
        expect(page).to_have_url(re.compile(rf"\?account={BORROWER}&view=overview$"))
        expect(page.locator("#view-overview")).to_be_visible(timeout=WAIT_MS)
        page.go_back()
        expect(page).to_have_url(re.compile(rf"\?account={CALM}&view=overview$"))
        expect(_picked(page)).to_contain_text(CALM, timeout=WAIT_MS)
        expect(page.locator("#uni-mmr")).to_have_text(
            fmt_uni_mmr(desk[CALM][0].uni_mmr), timeout=WAIT_MS
        )
        page.go_back()
        expect(page).to_have_url(re.compile(rf"\?account={CALM}&view=stress$"))
        expect(page.locator("#view-stress")).to_be_visible(timeout=WAIT_MS)
        page.go_forward()
        expect(page.locator("#view-overview")).to_be_visible(timeout=WAIT_MS)

        # The header's other account is one click away.
        others.click()
        expect(_picked(page)).to_contain_text(DIRECTIONAL, timeout=WAIT_MS)
        expect(page).to_have_url(re.compile(rf"\?account={DIRECTIONAL}&view=overview$"))
        # The tabs' tooltips name their keys.
        tip = page.locator("#view").get_by_text("Stress", exact=True)
        expect(tip).to_have_attribute("title", "Stress — keyboard shortcut: 4")
    context.close()


@pytest.fixture
def liquidated(store: Store, clock: ManualClock) -> Iterator[tuple[StoredReport, RiskReport]]:
    """The near_liquidation preset after BTC falls 0.1 %: just past Binance's 1.05."""
    server = SimulatorServer(Simulator(preset="near_liquidation", clock=clock)).start()
    try:
        sim = server.simulator
        sim.market.shock("BTC", -0.001)
        client = make_client(sim.api_key, sim.api_secret, server.base_url)
        c = Collector(
            store, client, PM, "sim-near", clock.now_ms, policy=RetryPolicy(sleep=lambda _: None)
        )
        assert c.run_once().failure is None
        report = store.latest_report("sim-near")
        assert report is not None
        yield report, report_from_dict(store.report_detail(report.id))
    finally:
        server.stop()


def test_past_the_level_says_so_in_words(
    browser: Browser, store: Store, clock: ManualClock, liquidated: tuple[StoredReport, RiskReport]
) -> None:
    report, _detail = liquidated
    assert report.status == "LIQUIDATION" and 0 < report.uni_mmr < 1.05
    # How far uniMMR is below the level, as a share of it.
    words = (
        f"IN LIQUIDATION: {fmt_distance(100 * (1.05 - report.uni_mmr) / 1.05)} past Binance's level"
    )
    app = create_app(store, ["sim-near"], STALE_AFTER_S, clock=clock.now_ms, rules=PM)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, color_scheme="dark")
    page = context.new_page()
    with served(app) as url:
        page.goto(url)
        expect(page.locator("#hero")).to_have_class("hero band-liquidation", timeout=WAIT_MS)
        expect(page.locator("#status-text")).to_have_text(words)
        expect(page.locator("#liquidation")).to_have_text(words)
        expect(page.locator("#liquidation-tile")).to_have_class(re.compile(r"\btile-past\b"))
        expect(page.locator("#top-summary")).to_contain_text(f"☠ {words}")
        expect(page.locator("#margin-usage")).to_have_text(
            margin_usage(report.maint_margin_usd, report.adjusted_equity_usd)
        )
        _no_plus_zero(page)
        screenshot(page, "severity-in-liquidation-1366x768")
    context.close()


def test_times_switch_between_utc_and_local(
    browser: Browser,
    store: Store,
    clock: ManualClock,
    desk: dict[str, tuple[StoredReport, RiskReport]],
) -> None:
    app = _app(store, clock)
    context = browser.new_context(
        viewport={"width": 1920, "height": 1080}, color_scheme="dark", timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    with served(app) as url:
        page.goto(url)
        toggle, as_of = page.locator("#time-toggle"), page.locator("#as-of")
        expect(toggle).to_have_text(re.compile(r"^\d\d:\d\d:\d\d UTC$"), timeout=WAIT_MS)
        expect(as_of).to_have_text(re.compile(r"UTC$"))  # UTC by default, and labelled
        toggle.click()
        expect(toggle).to_have_text(re.compile(r"^\d\d:\d\d:\d\d JST$"), timeout=WAIT_MS)
        expect(as_of).to_have_text(re.compile(r"JST$"), timeout=WAIT_MS)
        page.reload()  # the choice is this screen's: kept in the browser
        expect(as_of).to_have_text(re.compile(r"JST$"), timeout=WAIT_MS)
        page.locator("#time-toggle").click()
        expect(as_of).to_have_text(re.compile(r"UTC$"), timeout=WAIT_MS)
    context.close()
