"""The edge in a real browser (issue 17): the Content-Security-Policy lets every view work and
is violated by nothing; a page on another origin cannot frame pmdesk nor click in it; a plain
HTTP LAN bind says UNENCRYPTED on every view, the kiosk too, without pushing the hero off."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from waitress.server import BaseWSGIServer, create_server

from app.collector.collector import Collector
from app.server import add_health_route, stop_serving
from app.store.store import Store
from app.web.app import create_app
from app.web.format import fmt_uni_mmr
from app.web.layout import UNENCRYPTED_TEXT, VIEWS
from connectors.simulator.clock import ManualClock
from tests.support.browser_wait import WAIT_MS
from tests.support.layout_probes import below_fold, cut_text
from tests.support.screenshots import screenshot
from tests.support.served_app import STALE_AFTER_S, STOP_WITHIN_S, served

pytestmark = pytest.mark.browser

# Every CSP violation and script error the page meets, kept in the page itself.
WATCH_JS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
    const where = `${e.sourceFile}:${e.lineNumber}`;
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")  # type: ignore[no-any-return]


def test_every_view_works_under_the_policy(
    page: Page, dashboard_url: str, collector: Collector, store: Store
) -> None:
    """The policy is strict (no inline script but Dash's own, by hash) and the whole dashboard
    still works: every view drawn, grids formatted, charts plotted (History's WebGL one too,
    which needs eval), no violation."""
    assert collector.run_once().report_id is not None
    report = store.latest_report("sim-basis")
    assert report is not None
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(WATCH_JS)
    response = page.goto(dashboard_url)
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
    for _, label in VIEWS:
        page.locator("#view").get_by_text(label, exact=True).click()
        expect(page.locator("#view .tab--selected")).to_have_text(label)
    # Grids format their cells with AG Grid's expressions, charts are Plotly's: both drawn.
    page.locator("#view").get_by_text("Positions", exact=True).click()
    expect(
        page.locator("#positions-grid .ag-center-cols-container [col-id='mark']")
    ).not_to_have_count(0, timeout=WAIT_MS)
    first_mark = page.locator("#positions-grid .ag-center-cols-container [col-id='mark']").first
    expect(first_mark).not_to_have_text("", timeout=WAIT_MS)
    for label, chart in (("Stress", "stress-chart"), ("History", "history-chart")):
        page.locator("#view").get_by_text(label, exact=True).click()
        page.wait_for_function(
            f"document.querySelector('#{chart} .js-plotly-plot')?._fullLayout && "
            f"document.querySelector('#{chart} .js-plotly-plot').data?.length > 0",
            timeout=WAIT_MS,
        )
    # The WebGL trace drew (regl made its canvas), not only received its data.
    page.wait_for_function(
        "document.querySelector('#history-chart canvas.gl-canvas-context') !== null",
        timeout=WAIT_MS,
    )
    assert _violations(page) == [], "\n".join(_violations(page))
    assert errors == []


# ---- framing ----------------------------------------------------------------------------------
ATTACK_PAGE = """<!doctype html><title>prize</title>
<p>Click the button to claim your prize</p>
<iframe id="victim" src="%(url)s" width="1400" height="900"></iframe>"""


@contextmanager
def attacker(target: str) -> Iterator[str]:
    """A page on another origin (another port) that frames ``target``; yields its URL."""
    body = (ATTACK_PAGE % {"url": target}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def unguarded(app: Any) -> Iterator[str]:
    """The control: the same app under plain waitress, without pmdesk's edge."""
    http = create_server(app.server, host="127.0.0.1", port=0, threads=4)
    assert isinstance(http, BaseWSGIServer)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.getsockname()[1]}/"
    finally:
        stop_serving(http)
        thread.join(timeout=STOP_WITHIN_S)


def _wait_acked(store: Store, alert_id: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alert = store.alerts.get(alert_id)
        if alert is not None and alert.acked_at_ms is not None:
            return True
        threading.Event().wait(0.05)
    return False


def test_another_origin_cannot_frame_nor_click(
    browser: Browser, store: Store, clock: ManualClock
) -> None:
    """A critical alert is open. A page on another origin frames the dashboard and the desk
    clicks where the frame's Acknowledge all button is: the frame is refused (Chromium's error
    page, no pmdesk markup) and nothing is acknowledged. The control — the same app without
    pmdesk's edge — shows the attack works: the frame loads and the same click acknowledges."""
    alert_id = store.alerts.open(
        "sim-basis", "uni_mmr", "critical", "below 1.6", "1.20", "add", 1.2, clock.now_ms()
    )
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    with served(app) as url:
        # The button on pmdesk's own page of the frame's size: where the attacker clicks.
        own = context.new_page()
        own.set_viewport_size({"width": 1400, "height": 900})
        own.goto(url)
        expect(own.locator("#alert-ack-all")).to_be_visible(timeout=WAIT_MS)
        box = own.locator("#alert-ack-all").bounding_box()
        assert box is not None
        own.close()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

        with attacker(url) as evil:
            page.goto(evil)  # waits for the load event: the frame has loaded or been refused
            frame = next(f for f in page.frames if f != page.main_frame)
            assert frame.url.startswith("chrome-error://"), frame.url
            assert 'id="page"' not in frame.content() and "pmdesk" not in frame.content()
            frame_box = page.locator("#victim").bounding_box()
            assert frame_box is not None
            page.mouse.click(frame_box["x"] + x, frame_box["y"] + y)
            screenshot(page, "framed-by-another-origin")
            assert not _wait_acked(store, alert_id, timeout_s=3.0)

    with unguarded(app) as plain, attacker(plain) as evil:
        page.goto(evil)
        framed = page.frame_locator("#victim")
        expect(framed.locator("#alert-ack-all")).to_be_visible(timeout=WAIT_MS)
        frame_box = page.locator("#victim").bounding_box()
        assert frame_box is not None
        page.mouse.click(frame_box["x"] + x, frame_box["y"] + y)
        assert _wait_acked(store, alert_id), "the control's click did not acknowledge"
    context.close()


# ---- plain HTTP on the LAN says so ---------------------------------------------------------------
@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=["1366x768", "1920x1080"])
def test_unencrypted_notice_on_every_view_and_the_kiosk(
    browser: Browser,
    store: Store,
    clock: ManualClock,
    collector: Collector,
    size: tuple[int, int],
) -> None:
    """Served with --insecure-http beyond loopback: a thin red UNENCRYPTED line on every view
    and on the kiosk, whole (nothing cut), one line, and the kiosk's hero and tiles still on the
    screen. Without it, no such line."""
    assert collector.run_once().report_id is not None
    report = store.latest_report("sim-basis")
    assert report is not None
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark")
    page = context.new_page()
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms, unencrypted=True)
    with served(app) as url:
        page.goto(url)
        banner = page.locator("#unencrypted-banner")
        expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
        for _, label in VIEWS:
            page.locator("#view").get_by_text(label, exact=True).click()
            expect(page.locator("#view .tab--selected")).to_have_text(label)
            expect(banner).to_be_visible()
            expect(banner).to_have_text(UNENCRYPTED_TEXT)
            assert banner.evaluate("(el) => getComputedStyle(el).backgroundColor") == (
                "rgb(196, 22, 28)"
            )
        box = banner.bounding_box()
        line = banner.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight)")
        assert box is not None and box["height"] < 1.6 * line, "one thin line"
        assert [c for c in cut_text(page) if "unencrypted" in str(c)] == []

        page.goto(url + "?kiosk=1")
        expect(page.locator("#page")).to_have_class("page kiosk", timeout=WAIT_MS)
        expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
        expect(banner).to_be_visible()
        assert below_fold(page, "#unencrypted-banner, #hero, #uni-mmr, .tile") == []
        screenshot(page, f"unencrypted-kiosk-{width}x{height}")
    context.close()

    plain = browser.new_context(viewport={"width": width, "height": height})
    page = plain.new_page()
    with served(create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)) as url:
        page.goto(url)
        expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)
        expect(page.locator("#unencrypted-banner")).to_have_count(0)
    plain.close()
