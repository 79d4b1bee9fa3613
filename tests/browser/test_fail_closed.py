"""Fail closed, in a real browser: a report whose figures are UNKNOWN (a mark price missing from
the payloads) never reads NORMAL or a number on any view, and sorts first among the accounts;
a negative-equity account reads "≤ 0" and LIQUIDATION; pmdesk against Binance's own figures for
the ``opaque`` preset (whose hidden haircut no published table reproduces: uncalibrated, the
disagreement and the loan-MM residual shown) and the ``borrower`` preset (calibrated: flat
table, 8 % loan MMR implied by Binance's MM). Screenshots at both desk sizes under artifacts/.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app.collector.collector import Collector
from app.store.store import CycleRecord, Store, StoredReport
from app.web.app import create_app
from app.web.format import fmt_rel, fmt_share, fmt_uni_mmr, fmt_usd
from connectors.binance.client import RetryPolicy, make_client
from connectors.binance.parse import snapshot_from_payloads
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import evaluate
from risk.model import Product, RiskRules
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot
from tests.support.served_app import STALE_AFTER_S, served

pytestmark = pytest.mark.browser
PM = RiskRules.for_product(Product.PM)
BROKEN, BROKE, CALM = "sim-broken", "sim-broke", "sim-basis"


def _tab(page: Page, label: str) -> None:
    page.locator("#view").get_by_text(label, exact=True).click()


def _write(store: Store, account: str, payloads: dict[str, Any], at_ms: int) -> StoredReport:
    """Evaluate ``payloads`` as the collector does and store the report at ``at_ms``."""
    snapshot, market = snapshot_from_payloads(payloads)
    report = evaluate(snapshot, market, PM)
    cycle = CycleRecord(account, at_ms, at_ms, True, payloads, report, snapshot.reported)
    store.write_cycle(cycle, computed_at_ms=at_ms)
    stored = store.latest_report(account)
    assert stored is not None
    return stored


def _without_mark(payloads: dict[str, Any], symbol: str) -> dict[str, Any]:
    """The same payloads with ``symbol``'s mark price gone from every path that carries one."""
    out = copy.deepcopy(payloads)
    out["/fapi/v1/premiumIndex"] = [
        r for r in out["/fapi/v1/premiumIndex"] if r["symbol"] != symbol
    ]
    for row in out["/papi/v1/um/positionRisk"]:
        if row["symbol"] == symbol:
            row.pop("markPrice")
    return out


def _in_debt(payloads: dict[str, Any]) -> dict[str, Any]:
    """The basis book with its 10 BTC gone and its USD-M wallet at −30,000 USDT: adjusted
    equity 5,000 (cross margin) − 30,000 = −25,000 < 0, liquidation whatever the MM."""
    out = copy.deepcopy(payloads)
    for row in out["/papi/v1/balance"]:
        if row["asset"] == "BTC":
            row["crossMarginAsset"] = row["totalWalletBalance"] = "0"
        if row["asset"] == "USDT":
            row["umWalletBalance"] = "-30000"
    return out


@pytest.fixture
def three_accounts(
    store: Store, collector: Collector, clock: ManualClock
) -> Iterator[dict[str, StoredReport]]:
    """sim-broken: a good poll, then one whose BTCUSDT mark is missing (UNKNOWN); sim-broke:
    in debt (≤ 0, LIQUIDATION); sim-basis: the calm basis book as the simulator serves it."""
    written = collector.run_once()
    assert written.report_id is not None
    payloads = store.snapshot_payloads(store.report_snapshot_id(written.report_id))
    now = clock.now_ms()
    missing = _without_mark(payloads, "BTCUSDT")
    _write(store, BROKEN, payloads, now - 6_000)
    _write(store, BROKEN, missing, now - 3_000)  # UNKNOWN from here on: a shaded period
    newest = {
        BROKEN: _write(store, BROKEN, missing, now),
        BROKE: _write(store, BROKE, _in_debt(payloads), now),
    }
    calm = store.latest_report(CALM)
    assert calm is not None
    yield newest | {CALM: calm}


def test_unknown_is_never_normal_on_any_view(
    sized_page: tuple[Page, str],
    store: Store,
    clock: ManualClock,
    three_accounts: dict[str, StoredReport],
) -> None:
    page, size = sized_page
    broken, broke = three_accounts[BROKEN], three_accounts[BROKE]
    assert broken.unknown and broken.status == "UNKNOWN"
    assert broke.status == "LIQUIDATION" and broke.uni_mmr < 0
    app = create_app(store, [BROKEN, CALM, BROKE], STALE_AFTER_S, clock=clock.now_ms, rules=PM)
    with served(app) as url:
        page.goto(url)
        hero = page.locator("#hero")
        expect(hero).to_have_class("hero band-unknown", timeout=WAIT_MS)
        expect(page.locator("#uni-mmr")).to_have_text("unknown")
        expect(page.locator("#status-text")).to_have_text("UNKNOWN — figures unavailable")
        expect(hero).not_to_contain_text("NORMAL")
        reasons = page.locator("#unknown-reasons li")
        expect(reasons.first).to_contain_text("BTCUSDT")
        expect(reasons.first).to_contain_text("markPrice")
        expect(page.locator("#top-summary")).to_contain_text("UNKNOWN — figures unavailable")
        expect(page.locator("#maint-margin")).to_have_text("unknown")
        expect(page.locator("#liquidation")).to_have_text("unknown")
        # The still-known adjusted equity stays shown.
        expect(page.locator("#adjusted-equity")).to_have_text(fmt_usd(broken.adjusted_equity_usd))
        # The accounts, worst first: UNKNOWN, then the one in liquidation, then the calm one.
        expect(page.locator(".acct-name")).to_have_text([BROKEN, BROKE, CALM])
        tiles = page.locator(".acct-tile")
        expect(tiles.nth(0)).to_have_class(re.compile(r"\bband-unknown\b"))
        expect(tiles.nth(1).locator(".acct-uni")).to_have_text("≤ 0")
        expect(tiles.nth(1).locator(".acct-status")).to_contain_text("LIQUIDATION")
        for text in page.locator("#page").all_inner_texts():
            assert not re.search(r"\bnan\b|\$nan", text, re.IGNORECASE), text
        screenshot(page, f"overview-unknown-{size}")

        _tab(page, "Positions")
        mm = page.locator(
            '#positions-grid .ag-center-cols-container [row-id="UM:BTCUSDT:BOTH"] [col-id="mm_usd"]'
        )
        expect(mm).to_have_text("unknown", timeout=WAIT_MS)
        expect(page.locator("#unknown-banner")).to_contain_text("UNKNOWN — figures unavailable")
        screenshot(page, f"positions-unknown-{size}")

        _tab(page, "Stress")
        expect(page.locator("#stress-note")).to_contain_text(
            "UNKNOWN — no stress figures until every input is read", timeout=WAIT_MS
        )
        screenshot(page, f"stress-unknown-{size}")

        _tab(page, "History")
        page.wait_for_function(
            "(document.querySelector('#history-chart .js-plotly-plot')?.layout?.shapes || [])"
            ".length > 0",
            timeout=WAIT_MS,
        )
        names = page.evaluate(
            "document.querySelector('#history-chart .js-plotly-plot').data.map(t => t.name)"
        )
        assert "UNKNOWN: figures unavailable (shaded)" in names
        assert "status change (events lane)" in names  # NORMAL → UNKNOWN, on the events lane
        screenshot(page, f"history-unknown-{size}")

        # The account in debt: ≤ 0 and its liquidation, never ∞ or a calm colour.
        _tab(page, "Overview")
        tiles.nth(1).click()
        expect(page.locator("#uni-mmr")).to_have_text("≤ 0", timeout=WAIT_MS)
        expect(page.locator("#hero")).to_have_class("hero band-liquidation")
        expect(page.locator("#status-text")).to_have_text("IN LIQUIDATION: adjusted equity ≤ 0")
        screenshot(page, f"overview-at-most-zero-{size}")


def test_kiosk_shows_unknown(
    browser: Browser, store: Store, clock: ManualClock, three_accounts: dict[str, StoredReport]
) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
    page = context.new_page()
    app = create_app(store, [BROKEN, CALM], STALE_AFTER_S, clock=clock.now_ms, rules=PM)
    with served(app) as url:
        page.goto(url + "?kiosk=1")
        expect(page.locator("#page")).to_have_class("page kiosk", timeout=WAIT_MS)
        expect(page.locator("#hero")).to_have_class("hero band-unknown", timeout=WAIT_MS)
        expect(page.locator("#status-text")).to_have_text("UNKNOWN — figures unavailable")
        screenshot(page, "kiosk-unknown-1920x1080")
    context.close()


def _preset(
    preset: str, store: Store, clock: ManualClock
) -> Iterator[tuple[StoredReport, dict[str, Any]]]:
    server = SimulatorServer(Simulator(preset=preset, clock=clock)).start()
    try:
        sim = server.simulator
        client = make_client(sim.api_key, sim.api_secret, server.base_url)
        policy = RetryPolicy(sleep=lambda _: None)
        c = Collector(store, client, PM, preset, clock.now_ms, policy=policy)
        assert c.run_once().failure is None
        report = store.latest_report(preset)
        assert report is not None
        yield report, store.report_detail(report.id)
    finally:
        server.stop()


@pytest.fixture
def opaque(store: Store, clock: ManualClock) -> Iterator[tuple[StoredReport, dict[str, Any]]]:
    yield from _preset("opaque", store, clock)


@pytest.fixture
def borrower(store: Store, clock: ManualClock) -> Iterator[tuple[StoredReport, dict[str, Any]]]:
    yield from _preset("borrower", store, clock)


def _figure_cells(page: Page, key: str) -> Any:
    return page.locator(f'#recon-figures tr[data-key="{key}"] td')


def test_opaque_is_uncalibrated_and_says_by_how_much(
    sized_page: tuple[Page, str],
    store: Store,
    clock: ManualClock,
    opaque: tuple[StoredReport, dict[str, Any]],
) -> None:
    page, size = sized_page
    report, detail = opaque
    rec, assumptions = detail["reconciliation"], detail["assumptions"]
    # Its exchange values ETH at a haircut neither published table has: no table reproduces
    # Binance's accountEquity, so pmdesk disagrees and says it is uncalibrated.
    assert rec["agrees"] is False and assumptions["calibrated"] is False
    diff = rec["rel_diff"]["uni_mmr"]
    app = create_app(store, ["opaque"], STALE_AFTER_S, clock=clock.now_ms, rules=PM)
    with served(app) as url:
        page.goto(url)
        mark = page.locator("#recon-mark")
        expect(mark).to_have_text(
            f"✖ differs from Binance by {fmt_share(abs(diff))}", timeout=WAIT_MS
        )
        expect(mark).to_have_class("recon-mark recon-differs")
        expect(page.locator("#reported-status")).to_contain_text("uncalibrated")
        note = page.locator("#calibration-note")
        expect(note).to_contain_text("UNCALIBRATED")
        expect(note).to_contain_text(
            f"pmdesk's base uniMMR {fmt_uni_mmr(report.uni_mmr)} is {fmt_share(abs(diff))} "
            f"above Binance's {fmt_uni_mmr(rec['binance']['uni_mmr'])}"
        )
        # A PM account: its words name 1.05, never "trade freely".
        expect(page.locator("#status-text")).to_have_text(
            "NORMAL — above 1.05 (Binance's liquidation level)"
        )
        screenshot(page, f"overview-opaque-{size}")

        _tab(page, "Binance vs pmdesk")
        expect(page.locator("#recon-headline")).to_have_text(
            f"✖ differs from Binance by {fmt_share(abs(diff))}", timeout=WAIT_MS
        )
        expect(page.locator("#recon-explained")).to_have_text(f"Explained by {rec['explained_by']}")
        expect(page.locator("#recon-calibration")).to_contain_text("UNCALIBRATED")
        equity = _figure_cells(page, "adjusted_equity_usd")
        b_eq, p_eq = rec["binance"]["adjusted_equity_usd"], rec["pmdesk"]["adjusted_equity_usd"]
        expect(equity.nth(1)).to_have_text(fmt_usd(b_eq))
        expect(equity.nth(2)).to_have_text(fmt_usd(p_eq))
        expect(equity.nth(3)).to_have_text(f"+{fmt_usd(p_eq - b_eq)}")
        expect(equity.nth(4)).to_have_text(fmt_rel(rec["rel_diff"]["adjusted_equity_usd"], 2))
        # The loan MM Binance charges: the residual of its MM after its positions' maintMargin.
        loan = _figure_cells(page, "loan_mm_usd")
        expect(loan.nth(1)).to_have_text(fmt_usd(rec["loan_mm_usd"]["binance"]))
        expect(page.locator("#recon-assumptions")).to_contain_text(assumptions["collateral_source"])
        expect(page.locator("#recon-assumptions")).to_contain_text("NO — ")
        screenshot(page, f"reconcile-opaque-{size}")


def test_borrower_is_calibrated_flat_table_loan_mmr_implied(
    sized_page: tuple[Page, str],
    store: Store,
    clock: ManualClock,
    borrower: tuple[StoredReport, dict[str, Any]],
) -> None:
    page, size = sized_page
    _report, detail = borrower
    assert detail["assumptions"]["calibrated"] is True
    app = create_app(store, ["borrower"], STALE_AFTER_S, clock=clock.now_ms, rules=PM)
    with served(app) as url:
        page.goto(url)
        expect(page.locator("#recon-mark")).to_have_text(
            "✔ matches Binance (±0.5 %)", timeout=WAIT_MS
        )
        expect(page.locator("#reported-status")).to_contain_text("calibrated")
        expect(page.locator("#calibration-note")).to_be_hidden()
        screenshot(page, f"overview-borrower-{size}")

        _tab(page, "Binance vs pmdesk")
        expect(page.locator("#recon-headline")).to_have_text(
            "✔ matches Binance (±0.5 %)", timeout=WAIT_MS
        )
        expect(page.locator("#recon-calibration")).to_contain_text("CALIBRATED — the flat")
        table = page.locator("#recon-assumptions")
        expect(table).to_contain_text("flat — /sapi/v1/portfolio/collateralRate")
        expect(table).to_contain_text("USDT 8.00 %")
        expect(table).to_contain_text("implied by Binance's MM")
        # Binance's loan MM: 16,000 of accountMaintMargin, none of it its positions'.
        expect(_figure_cells(page, "loan_mm_usd").nth(1)).to_have_text("$16,000.00")
        screenshot(page, f"reconcile-borrower-{size}")
