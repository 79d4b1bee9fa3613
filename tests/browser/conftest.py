"""Headless Debian Chromium (Playwright) against the real waitress-served dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from app.server import add_health_route
from app.store.store import Store
from app.web.app import create_app
from connectors.simulator.clock import ManualClock
from tests.support.browser_wait import WAIT_MS
from tests.support.served_app import STALE_AFTER_S, served

CHROMIUM = Path("/usr/bin/chromium")
expect.set_options(timeout=WAIT_MS)  # an expect() without its own bound waits as long


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",  # after the desk's one click
            ],
        )
        yield b
        b.close()


@pytest.fixture
def dashboard_url(store: Store, clock: ManualClock) -> Iterator[str]:
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    with served(app) as url:
        yield url


SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768)}


@pytest.fixture(params=list(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, str]]:
    """A dark page at each desk size: (page, size name)."""
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark")
    yield context.new_page(), request.param
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme="dark")
    pg = context.new_page()
    yield pg
    context.close()
