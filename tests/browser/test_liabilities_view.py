"""The Liabilities & P&L view in a real browser, on the simulator's books after a basis blow-out
(perpetual marks 8 % over index within 5 minutes) and an hour of interest: the borrower's loan,
its interest and rate; the basis book that now owes USDT; the COIN-M hedger's loss. Screenshots
at both desk sizes under artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from app.collector.collector import Collector
from app.store.store import Store
from app.web.app import create_app
from app.web.format import fmt_signed_usd, fmt_usd
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot
from tests.support.served_app import served

pytestmark = pytest.mark.browser
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
LABEL = "Liabilities & P&L"


@dataclass
class Desk:
    store: Store
    clock: ManualClock
    first_equity: dict[str, float]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """Three books polled at 00:00, through a basis blow-out to 00:05, then at 01:05."""
    clock = ManualClock(START_MS)
    sim = SimulatorServer(
        Simulator(
            accounts={"borrower": "borrower", "basis": "basis", "hedger": "coinm_hedger"},
            clock=clock,
        )
    ).start()
    store = Store(f"sqlite:///{Path(tmp_path_factory.mktemp('liab')) / 'liab.db'}")
    store.create_schema()
    collectors = [
        Collector(
            store,
            make_client(a.api_key, a.api_secret, sim.base_url),
            RiskRules(),
            a.name,
            clock.now_ms,
            policy=RetryPolicy(sleep=lambda _: None),
        )
        for a in sim.simulator.accounts
    ]

    def poll() -> None:
        for c in collectors:
            assert c.run_once().failure is None

    try:
        poll()
        first = {c.account: store.history_samples(c.account, 0)[0].equity_usd for c in collectors}
        sim.simulator.market.set_scenario("basis_blowout")
        for _ in range(10):  # 5 minutes: the premium reaches 8 %
            clock.advance(30)
            poll()
        clock.advance(3600)  # 01:05: the 01:00 hourly interest charged
        poll()
    finally:
        sim.stop()
    yield Desk(store, clock, first)
    store.close()


def _open(page: Page, url: str) -> None:
    """The view by its tab when the tab bar shows it, else by its address."""
    page.goto(url)
    tab = page.locator("#view").get_by_text(LABEL, exact=True)
    expect(page.locator("#view")).to_be_visible(timeout=WAIT_MS)
    if tab.count():
        tab.click()
    else:
        page.goto(url.rstrip("/") + "/?view=liabilities")
    expect(page.locator("#view-liabilities")).to_be_visible(timeout=WAIT_MS)


def _cell(page: Page, grid: str, row: str, col: str) -> Locator:
    return page.locator(f'#{grid} .ag-center-cols-container [row-id="{row}"] [col-id="{col}"]')


def test_borrower_loan_interest_and_rate(sized_page: tuple[Page, str], desk: Desk) -> None:
    page, size = sized_page
    app = create_app(desk.store, ["borrower"], 3600, clock=desk.clock.now_ms)
    with served(app) as url:
        _open(page, url)
        # 200,000 USDT borrowed at 00:00; 1 USDT an hour (0.012 % a day / 24), charged on
        # borrowing and at 01:00: 2 USDT accrued.
        expect(_cell(page, "liab-loans-grid", "USDT", "borrowed")).to_have_text(
            "200,000.0000", timeout=WAIT_MS
        )
        expect(_cell(page, "liab-loans-grid", "USDT", "interest")).to_have_text("2.0000")
        expect(_cell(page, "liab-loans-grid", "USDT", "daily_pct")).to_have_text("0.0120 %")
        expect(_cell(page, "liab-loans-grid", "USDT", "yearly_pct")).to_have_text("4.38 %")
        expect(_cell(page, "liab-loans-grid", "USDT", "mmr_pct")).to_have_text("8.00 %")
        expect(_cell(page, "liab-loans-grid", "USDT", "mm_usd")).to_have_text("16,000.00")
        # It holds no stablecoin and owes 200,002: the buffer says so, in the debt's colour.
        expect(page.locator("#liab-net-buffer")).to_have_text("−$200,002.00")
        expect(page.locator("#liab-net-buffer")).to_have_class(re.compile(r"\bliab-neg\b"))
        expect(page.locator("#liab-net-buffer-note")).to_have_text("OWES stablecoin")
        expect(page.locator("#liab-loans")).to_have_text("$200,002.00")
        expect(page.locator("#liab-interest-24h")).to_have_text("$2.00")
        for text in page.locator("#view-liabilities").all_inner_texts():
            assert not re.search(r"\bnan\b", text, re.IGNORECASE), text
        screenshot(page, f"liabilities-borrower-{size}")


def test_basis_book_owes_usdt(sized_page: tuple[Page, str], desk: Desk) -> None:
    page, size = sized_page
    report = desk.store.latest_report("basis")
    assert report is not None
    detail = desk.store.report_detail(report.id)
    net = detail["net_stablecoin_buffer_usd"]
    # Short 10 BTCUSDT from 95,000 with marks 8 % over index: −10 · 0.08 · 95,000 = −76,000
    # against 20,000 USDT → about −56,000 (the hour's random walk moves it some thousands).
    assert -80_000 < net < -35_000
    app = create_app(desk.store, ["basis"], 3600, clock=desk.clock.now_ms)
    with served(app) as url:
        _open(page, url)
        expect(page.locator("#liab-net-buffer")).to_have_text(fmt_usd(net), timeout=WAIT_MS)
        expect(page.locator("#liab-net-buffer-note")).to_have_text("OWES stablecoin")
        net_cell = _cell(page, "liab-negative-grid", "USDT", "net_qty")
        expect(net_cell).to_have_text(re.compile(r"^−\d{2},\d{3}\.\d{4}$"))
        expect(_cell(page, "liab-negative-grid", "USDT", "why")).to_have_text("unrealized loss")
        expect(_cell(page, "liab-negative-grid", "USDT", "daily_pct")).to_have_text("—")
        screenshot(page, f"liabilities-basis-{size}")


def test_coinm_hedger_loss_in_a_basis_blowout(sized_page: tuple[Page, str], desk: Desk) -> None:
    page, size = sized_page
    report = desk.store.latest_report("hedger")
    assert report is not None
    change = report.adjusted_equity_usd - desk.first_equity["hedger"]
    # Short BTCUSD_PERP and ETHUSD_PERP worth 1.9 M + 0.7 M USD: marks 8 % over index cost
    # 2.6 M · (1 − 1/1.08) = 192,593 USD of coin, counted at the 95 % collateral rate: about
    # −182,963 of adjusted equity (the spot it hedges moves the other way with the index).
    assert -210_000 < change < -155_000
    app = create_app(desk.store, ["hedger"], 3600, clock=desk.clock.now_ms)
    with served(app) as url:
        _open(page, url)
        today = page.locator("#liab-equity-today")
        expect(today).to_have_text(fmt_signed_usd(change), timeout=WAIT_MS)
        expect(today).to_have_class(re.compile(r"\bliab-neg\b"))
        expect(page.locator("#liab-equity-today-note")).to_contain_text(
            f"first {fmt_usd(desk.first_equity['hedger'])} at 00:00 UTC"
        )
        for symbol in ("BTCUSD_PERP", "ETHUSD_PERP"):
            upnl = _cell(page, "liab-positions-grid", f"CM:{symbol}:BOTH", "upnl_usd")
            expect(upnl).to_have_text(re.compile(r"^−\d"))
        expect(page.locator("#liab-upnl")).to_have_text(re.compile(r"^−\$1\d\d,\d{3}\.\d\d$"))
        # No funding time yet (the first is 08:00): read, and nothing paid — not unavailable.
        expect(page.locator("#liab-funding-24h")).to_have_text("+$0.00")
        screenshot(page, f"liabilities-hedger-{size}")
        # A chosen time, typed: 00:03 → from the last report before it (00:02:30).
        before = [
            s for s in desk.store.history_samples("hedger", 0) if s.at_ms < START_MS + 180_000
        ][-1]
        page.locator("#liab-since").click()
        page.get_by_text("Since a time (UTC)…").click()
        custom = page.locator("#liab-since-custom")
        custom.fill("00:03")
        custom.press("Enter")
        expect(page.locator("#liab-since-note")).to_have_text("since 2026-01-01 00:03 UTC")
        expect(page.locator("#liab-equity-since")).to_have_text(
            fmt_signed_usd(report.adjusted_equity_usd - before.equity_usd)
        )
        expect(page.locator("#liab-equity-since-note")).to_have_text(
            f"was {fmt_usd(before.equity_usd)} at 00:02 UTC"
        )
