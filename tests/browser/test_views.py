"""Every view in a real browser, at both desk sizes, shows exactly the newest stored report;
STALE follows the simulator going away and coming back; kiosk mode cycles accounts; the LAN
needs sign-in. Each test saves screenshots under artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from app.collector.collector import Collector
from app.server import LanBindingRefusedError, add_health_route, make_http_server
from app.store.store import Store, StoredReport
from app.web.app import create_app
from app.web.format import (
    UNI_SPEC,
    fmt_grid,
    fmt_num,
    fmt_pct,
    fmt_share,
    fmt_signed,
    fmt_uni_mmr,
    fmt_usd,
)
from app.web.signin import SignIn
from app.web.users import Roster, add_user
from connectors.binance.client import Client, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import RiskRules
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot
from tests.support.served_app import STALE_AFTER_S, served

pytestmark = pytest.mark.browser


def _tab(page: Page, label: str) -> None:
    page.locator("#view").get_by_text(label, exact=True).click()


def _cell(page: Page, grid: str, row: str, col: str) -> Any:
    return page.locator(f'#{grid} .ag-center-cols-container [row-id="{row}"] [col-id="{col}"]')


def _plotted(page: Page, chart: str, trace: int, axis: str) -> list[Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        f"document.querySelector('#{chart} .js-plotly-plot').data[{trace}].{axis}"
    )


def _newest(store: Store) -> tuple[StoredReport, dict[str, Any]]:
    report = store.latest_report("sim-basis")
    assert report is not None
    return report, store.report_detail(report.id)


def test_every_view_shows_the_stored_report(
    sized_page: tuple[Page, str], dashboard_url: str, collector: Collector, store: Store
) -> None:
    page, size = sized_page
    assert collector.run_once().report_id is not None
    report, detail = _newest(store)
    page.goto(dashboard_url)

    # Overview: the hero and every tile, formatted from the stored row.
    expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
    expect(page.locator("#adjusted-equity")).to_have_text(fmt_usd(report.adjusted_equity_usd))
    expect(page.locator("#maint-margin")).to_have_text(fmt_usd(report.maint_margin_usd))
    usage = fmt_share(report.maint_margin_usd / report.adjusted_equity_usd)
    expect(page.locator("#margin-usage")).to_have_text(usage)
    expect(page.locator("#buffer")).to_have_text(fmt_usd(detail["stablecoin_buffer_usd"]))
    expect(page.locator("#top-up")).to_have_text(fmt_usd(report.top_up_usd))
    expect(page.locator("#liquidation")).to_contain_text(
        fmt_pct(report.liquidation_down_pct, none="never")
    )
    expect(page.locator("#top-summary")).to_contain_text(fmt_uni_mmr(report.uni_mmr))
    screenshot(page, f"view-overview-{size}")

    _tab(page, "Hedges")
    (hedge,) = detail["hedges"]
    price = hedge["price_usd"]
    expect(_cell(page, "hedge-grid", hedge["asset"], "long_usd")).to_have_text(
        fmt_num(hedge["long_qty"] * price), timeout=WAIT_MS
    )
    net = hedge["long_qty"] - hedge["short_qty"]
    expect(_cell(page, "hedge-grid", hedge["asset"], "net_usd")).to_have_text(
        fmt_signed(net * price)
    )
    bars = _plotted(page, "hedge-chart", 0, "x")
    assert bars == [pytest.approx(hedge["spot_qty"] * price)]
    screenshot(page, f"view-hedges-{size}")

    _tab(page, "Positions")
    for p in detail["positions"]:
        row = f"{p['venue']}:{p['symbol']}:{p['position_side']}"
        expect(_cell(page, "positions-grid", row, "notional_usd")).to_have_text(
            fmt_num(p["notional_usd"]), timeout=WAIT_MS
        )
        expect(_cell(page, "positions-grid", row, "mark")).to_have_text(fmt_num(p["mark_price"]))
        expect(_cell(page, "positions-grid", row, "upnl_usd")).to_have_text(
            fmt_signed(p["unrealized_pnl_usd"])
        )
        expect(_cell(page, "positions-grid", row, "mm_usd")).to_have_text(
            fmt_num(p["maint_margin_usd"])
        )
        expect(_cell(page, "positions-grid", row, "bracket")).to_have_text(str(p["bracket"]))
        expect(_cell(page, "positions-grid", row, "mm_share_pct")).to_have_text(
            f"{fmt_num(100 * p['mm_share'], 1)} %"
        )
    for a in detail["assets"]:
        expect(_cell(page, "balances-grid", a["asset"], "adjusted_usd")).to_have_text(
            fmt_signed(a["adjusted_equity_usd"])
        )
    screenshot(page, f"view-positions-{size}")

    _tab(page, "Stress")
    for s in detail["scenarios"]:
        row = f"{s['kind']}:{s['name']}"
        expect(_cell(page, "scenario-grid", row, "uni_mmr")).to_have_text(
            fmt_grid(s["uni_mmr"], UNI_SPEC), timeout=WAIT_MS
        )
    assert _plotted(page, "stress-chart", 0, "y") == detail["stress"]["uni_mmr"]
    screenshot(page, f"view-stress-{size}")

    _tab(page, "History")
    expect(page.locator("#history-chart .js-plotly-plot")).to_be_visible(timeout=WAIT_MS)
    page.wait_for_function(
        "document.querySelector('#history-chart .js-plotly-plot').data?.length > 0"
    )
    assert _plotted(page, "history-chart", 0, "y") == [report.uni_mmr]
    assert _plotted(page, "history-chart", 0, "x") == [report.data_time_ms]
    screenshot(page, f"view-history-{size}")

    _tab(page, "What-if")
    page.locator("#whatif-kind").click()
    page.get_by_text("Transfer (asset", exact=False).click()
    page.locator("#whatif-name").fill("USDT")
    page.locator("#whatif-amount").fill("10000")
    page.locator("#whatif-add").click()
    expect(page.locator("#whatif-list .whatif-line")).to_have_text(
        "transfer in 10,000 USDT", timeout=WAIT_MS
    )
    expect(_cell(page, "whatif-grid", "uniMMR", "before")).to_have_text(fmt_uni_mmr(report.uni_mmr))
    # 10,000 USDT at its index price, collateral rate 1: equity up by exactly that; MM unchanged.
    usdt = next(a for a in detail["assets"] if a["asset"] == "USDT")["index_price_usd"]
    after = (report.adjusted_equity_usd + 10_000 * usdt) / report.maint_margin_usd
    expect(_cell(page, "whatif-grid", "uniMMR", "after")).to_have_text(fmt_uni_mmr(after))
    screenshot(page, f"view-whatif-{size}")

    _tab(page, "Binance vs pmdesk")
    rec = detail["reconciliation"]
    equity_row = page.locator('#recon-figures tr[data-key="adjusted_equity_usd"] td')
    expect(equity_row.nth(1)).to_have_text(
        fmt_usd(rec["binance"]["adjusted_equity_usd"]), timeout=WAIT_MS
    )
    expect(equity_row.nth(2)).to_have_text(fmt_usd(report.adjusted_equity_usd))
    expect(page.locator("#recon-headline")).to_have_text(
        "✔ matches Binance (±0.5 %)" if rec["agrees"] else re.compile("^✖ differs from Binance")
    )
    screenshot(page, f"view-reconcile-{size}")

    _tab(page, "PM vs classic")
    c = detail["classic"]
    expect(_cell(page, "classic-grid", "um", "usd")).to_have_text(
        fmt_grid(c["um_maint_usd"], ",.2f"), timeout=WAIT_MS
    )
    screenshot(page, f"view-classic-{size}")


def test_sort_survives_updates(
    page: Page,
    dashboard_url: str,
    collector: Collector,
    clock: ManualClock,
    sim_server: SimulatorServer,
) -> None:
    assert collector.run_once().report_id is not None
    page.goto(dashboard_url)
    _tab(page, "Positions")
    header = page.locator('#balances-grid .ag-header-cell[col-id="value_usd"]')
    expect(header).to_be_visible(timeout=WAIT_MS)
    header.locator(".ag-header-cell-text").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    first = page.locator("#balances-grid .ag-center-cols-container .ag-row[row-index='0']")
    expect(first).to_have_attribute("row-id", "USDT")  # the smaller value first
    sim_server.simulator.market.shock("BTC", 0.05)
    clock.advance(2)
    assert collector.run_once().report_id is not None
    btc = _cell(page, "balances-grid", "BTC", "value_usd")
    before = btc.inner_text()
    expect(btc).not_to_have_text(before, timeout=WAIT_MS)  # the new report arrived…
    expect(header).to_have_attribute("aria-sort", "ascending")  # …and the sort stayed
    expect(first).to_have_attribute("row-id", "USDT")
    screenshot(page, "positions-sorted-after-update")


def test_stale_when_the_simulator_stops_and_back_when_it_returns(
    page: Page,
    dashboard_url: str,
    store: Store,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    sim = Simulator(preset="basis", clock=clock)
    server = SimulatorServer(sim).start()
    port = int(server.base_url.rsplit(":", 1)[1])
    client: Client = make_client(sim.api_key, sim.api_secret, server.base_url)
    collector = Collector(store, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
    assert collector.run_once().report_id is not None
    page.goto(dashboard_url)
    expect(page.locator("#hero")).to_have_class("hero band-normal", timeout=WAIT_MS)

    server.stop()  # the exchange goes away
    clock.advance(STALE_AFTER_S / 2)
    assert collector.run_once().failure is not None
    expect(page.locator("#feed-status")).to_have_text("feed DOWN", timeout=WAIT_MS)
    expect(page.locator("#hero")).to_have_class("hero band-normal")  # not stale yet
    clock.advance(STALE_AFTER_S / 2 + 1)
    expect(page.locator("#hero")).to_have_class("hero band-stale", timeout=WAIT_MS)
    expect(page.locator("#status-text")).to_contain_text("STALE")
    expect(page.locator("#age-note")).to_have_text("STALE")
    expect(page.locator("#top-summary")).to_contain_text("STALE")
    last = store.latest_report("sim-basis")
    assert last is not None
    expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(last.uni_mmr))  # kept, marked
    screenshot(page, "overview-simulator-stopped")

    server = SimulatorServer(sim, port=port).start()  # it comes back on the same address
    try:
        assert collector.run_once().report_id is not None
        expect(page.locator("#hero")).to_have_class("hero band-normal", timeout=WAIT_MS)
        expect(page.locator("#status-text")).not_to_contain_text("STALE")
        expect(page.locator("#feed-status")).to_have_text("feed OK")
        screenshot(page, "overview-simulator-back")
    finally:
        server.stop()


@pytest.fixture
def two_accounts(clock: ManualClock, store: Store) -> Iterator[dict[str, StoredReport]]:
    sim = Simulator(accounts={"sim-a": "basis", "sim-b": "directional"}, clock=clock)
    server = SimulatorServer(sim).start()
    newest = {}
    for a in sim.accounts:
        client = make_client(a.api_key, a.api_secret, server.base_url)
        assert Collector(store, client, RiskRules(), a.name, now_ms=clock.now_ms).run_once()
        report = store.latest_report(a.name)
        assert report is not None
        newest[a.name] = report
    yield newest
    server.stop()


def test_kiosk_cycles_accounts(
    browser: Browser, store: Store, clock: ManualClock, two_accounts: dict[str, StoredReport]
) -> None:
    app = create_app(store, ["sim-a", "sim-b"], 3600, clock=clock.now_ms, kiosk_cycle_s=1.0)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
    page = context.new_page()
    with served(app) as url:
        page.goto(url + "?kiosk=1")
        expect(page.locator("#page")).to_have_class("page kiosk", timeout=WAIT_MS)
        expect(page.locator("#view")).to_be_hidden()  # no controls
        picker = page.locator(".account-picker")
        for name in ("sim-a", "sim-b", "sim-a"):  # each in turn shows its own stored figure
            expect(picker).to_contain_text(name, timeout=WAIT_MS)
            expect(page.locator("#uni-mmr")).to_have_text(
                fmt_uni_mmr(two_accounts[name].uni_mmr), timeout=WAIT_MS
            )
            if name == "sim-b":
                screenshot(page, "kiosk-1920x1080")
        # Both accounts as tiles, worst (lowest uniMMR) first.
        names = page.locator(".acct-name").all_inner_texts()
        assert names == sorted(two_accounts, key=lambda n: two_accounts[n].uni_mmr)
    context.close()


def test_lan_needs_sign_in(
    browser: Browser, store: Store, clock: ManualClock, tmp_path: Path, collector: Collector
) -> None:
    assert collector.run_once().report_id is not None
    users_file = tmp_path / "users"
    add_user(users_file, "desk", "a long desk password")
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    with pytest.raises(LanBindingRefusedError):
        make_http_server(app.server, "0.0.0.0", 0)
    SignIn(Roster(users_file, tmp_path / "screens"), b"s" * 32).install(app.server)
    with served(app, host="0.0.0.0", authenticated=True) as url:
        page_load = requests.get(url + "?view=stress", allow_redirects=False, timeout=5)
        assert page_load.status_code == 302
        assert page_load.headers["Location"] == "/login?next=%2F%3Fview%3Dstress"
        for path in ("_dash-layout", "_dash-dependencies", "assets/pmdesk.css"):
            anonymous = requests.get(url + path, timeout=5)
            assert anonymous.status_code == 401, path
            assert "WWW-Authenticate" not in anonymous.headers  # no Basic dialog any more
        # Basic credentials open nothing: only a session made on the sign-in page does.
        basic = requests.get(url + "_dash-layout", auth=("desk", "a long desk password"), timeout=5)
        assert basic.status_code == 401
        assert requests.get(url + "healthz", timeout=5).status_code in (200, 503)  # no sign-in

        context = browser.new_context(viewport={"width": 1366, "height": 768}, color_scheme="dark")
        page = context.new_page()
        page.goto(url)
        page.fill("#name", "desk")
        page.fill("#password", "a long desk password")
        page.get_by_role("button", name="Sign in").click()
        report = store.latest_report("sim-basis")
        assert report is not None
        expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
        expect(page.locator(".signed-in")).to_have_text("desk · operator")
        screenshot(page, "signed-in-1366x768")
        context.close()


def test_history_exports_what_it_shows(
    page: Page, dashboard_url: str, collector: Collector, store: Store, clock: ManualClock
) -> None:
    for _ in range(3):
        assert collector.run_once().report_id is not None
        clock.advance(2)
    page.goto(dashboard_url)
    _tab(page, "History")
    expect(page.locator("#history-chart .js-plotly-plot")).to_be_visible(timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator("#history-export").click()
    assert download.value.suggested_filename == "pmdesk-sim-basis-1h-reports.csv"
    frame = pd.read_csv(download.value.path())
    stored = store.history_samples("sim-basis", 0)
    assert list(frame["uni_mmr"]) == [s.uni_mmr for s in stored] and len(stored) == 3
    screenshot(page, "history-export")


def test_full_store_shows_a_banner(page: Page, tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'full.db'}"
    Store(url).create_schema()
    with Store(url).engine.connect() as conn:
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
    full = Store(url, max_mb=pages * 4096 / 1e6)  # capped at exactly what it holds
    app = create_app(full, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    with served(app) as served_url:
        page.goto(served_url)
        banner = page.locator("#store-banner")
        expect(banner).to_be_visible(timeout=WAIT_MS)
        expect(banner).to_contain_text("store full: new data cannot be saved")
        screenshot(page, "store-full-banner")
    full.close()
