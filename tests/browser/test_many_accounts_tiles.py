"""Twenty-five accounts on one screen: the overview's account tiles, worst first, in a compact
grid that stays readable.

The store holds one hand-made report per account (the basis book's report with its uniMMR and
band set by hand, ``tests/support/store_cycles.report_at``), all fresh, every uniMMR a different
one. A lower uniMMR is never in a better band, and accounts of one level sort by the lower uniMMR
(``app/web/severity.py``), so worst first is simply the accounts by uniMMR, lowest first.

- At 1920x1080 (dark) every tile is wholly on the first screen, no text is cut, nothing sticks
  out sideways, and the four things read from across the room (name, band word, uniMMR, age)
  are drawn at least 18 px high (the uniMMR at least 28 px).
- At 1366x768 and 1280x800 the tiles may scroll down, never sideways, and no text is cut.

Screenshots under artifacts/many_accounts/. No sleeps: every wait is on the page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.store.store import CycleRecord, Store
from app.web.app import create_app
from app.web.format import fmt_uni_mmr
from connectors.simulator.clock import ManualClock
from tests.browser.test_layout import SETTLED, lasting
from tests.support.browser_wait import WAIT_MS
from tests.support.layout_probes import below_fold, cut_text, page_width
from tests.support.screenshots import ARTIFACTS
from tests.support.served_app import served
from tests.support.start_time import START_MS
from tests.support.store_cycles import report_at

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "many_accounts"

NAMES = [
    "basis-btc-01",
    "basis-btc-02",
    "basis-eth-01",
    "arb-asia-desk",
    "arb-europe-desk",
    "mm-perp-01",
    "mm-perp-02",
    "mm-perp-03",
    "carry-usdt-loan",
    "carry-fdusd",
    "coinm-hedge-btc",
    "coinm-hedge-eth",
    "treasury",
    "treasury-reserve",
    "vol-desk-long",
    "vol-desk-short",
    "sol-directional",
    "alts-basket-07",
    "funding-harvest",
    "client-omega-sub",
    "client-sigma-sub",
    "intern-sandbox",
    "liquidity-ops",
    "dex-cex-bridge",
    "night-shift-2",
]
UNI_MMRS = [
    1.03,  # at or below Binance's 1.05: in liquidation
    1.08,
    1.12,
    1.18,
    1.25,
    1.35,
    1.45,
    1.55,
    1.7,
    1.9,
    2.1,
    2.4,
    2.8,
    3.2,
    3.9,
    4.5,
    5.2,
    6.8,
    8.4,
    11.0,
    14.5,
    19.0,
    27.0,
    45.0,
    120.0,
]
# Account i gets uniMMR number (7 i mod 25): 7 and 25 share no factor, so each once, and the
# names' order (alphabetical or as listed) is not the worst-first order.
FIGURES = {name: UNI_MMRS[(7 * i) % 25] for i, name in enumerate(NAMES)}
WORST_FIRST = sorted(NAMES, key=lambda n: FIGURES[n])


@dataclass
class Desk:
    url: str


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    clock = ManualClock(START_MS)
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('many') / 'desk.db'}")
    store.create_schema()
    try:
        for name in NAMES:
            # Written 2 s before "now": fresh (the stale limit is an hour here).
            at = clock.now_ms() - 2_000
            cycle = CycleRecord(name, at, at, True, {}, report_at(FIGURES[name]), None)
            store.write_cycle(cycle, at)
        app = create_app(store, NAMES, 3600.0, clock=clock.now_ms)
        with served(app) as url:
            yield Desk(url)
    finally:
        store.close()


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    width, height = request.param
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark")
    yield ctx
    ctx.close()


def open_overview(page: Page, desk: Desk) -> None:
    page.goto(f"{desk.url}?view=overview")
    expect(page.locator(".acct-tile")).to_have_count(len(NAMES), timeout=WAIT_MS)
    page.wait_for_function(SETTLED, timeout=WAIT_MS)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


TEXT_PX_JS = """
(sel) => [...document.querySelectorAll(sel)].map(
  (e) => parseFloat(getComputedStyle(e).fontSize))
"""


def smallest_px(page: Page, selector: str) -> float:
    sizes: list[float] = page.evaluate(TEXT_PX_JS, selector)
    assert sizes, f"nothing matches {selector}"
    return min(sizes)


def sideways(page: Page) -> list[str]:
    width = page_width(page)
    if width["scroll"] > width["inner"]:
        return [f"page {width['scroll']} px wide in {width['inner']}: {width['wide']}"]
    return []


@pytest.mark.parametrize("context", [(1920, 1080)], ids=["1920x1080"], indirect=True)
def test_25_tiles_worst_first_on_one_desk_screen(context: BrowserContext, desk: Desk) -> None:
    page = context.new_page()
    open_overview(page, desk)
    shot(page, "tiles-1920x1080")
    names = page.locator(".acct-tile .acct-name").all_inner_texts()
    assert names == WORST_FIRST
    unis = page.locator(".acct-tile .acct-uni").all_inner_texts()
    assert unis == [fmt_uni_mmr(FIGURES[n]) for n in WORST_FIRST]
    first_status = page.locator(".acct-tile .acct-status").first.inner_text()
    assert "LIQUIDATION" in first_status  # 1.03 is at or below 1.05
    assert not below_fold(page, ".acct-tile"), "every tile on the first screen"
    assert not lasting(page, cut_text)
    assert not lasting(page, sideways)
    for selector in (".acct-name", ".acct-status", ".acct-age"):
        assert smallest_px(page, f".acct-tile {selector}") >= 18, selector
    assert smallest_px(page, ".acct-tile .acct-uni") >= 28


LAPTOPS = {"1366x768": (1366, 768), "1280x800": (1280, 800)}


@pytest.mark.parametrize("context", list(LAPTOPS.values()), ids=list(LAPTOPS), indirect=True)
def test_25_tiles_on_a_laptop_scroll_down_never_sideways(
    context: BrowserContext, desk: Desk
) -> None:
    page = context.new_page()
    open_overview(page, desk)
    size = "x".join(map(str, page.viewport_size.values())) if page.viewport_size else "?"
    shot(page, f"tiles-{size}")
    assert page.locator(".acct-tile .acct-name").all_inner_texts() == WORST_FIRST
    assert not lasting(page, cut_text)
    assert not lasting(page, sideways)
