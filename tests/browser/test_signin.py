"""Sign-in in a real browser (issue 17): the sign-in page, sign-out, idle and absolute expiry on
an injected clock, a viewer who cannot acknowledge (no button, and the server refuses the
callback), an operator who can, a wall screen's link that works until it is revoked, and an
admin who removes a user whose open screen then leaves. Screenshots under artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.collector.collector import Collector
from app.server import add_health_route
from app.store.store import Store
from app.web.app import create_app
from app.web.format import fmt_uni_mmr
from app.web.sessions import COOKIE
from app.web.signin import SignIn, SignInPolicy
from app.web.users import Roster, add_screen, add_user, revoke_screen
from connectors.simulator.clock import ManualClock
from tests.support.browser_wait import WAIT_MS
from tests.support.screenshots import screenshot
from tests.support.served_app import STALE_AFTER_S, served

pytestmark = pytest.mark.browser
PASSWORD = "a long desk password"
IDLE_S, MAX_S = 3600.0, 7200.0


class SessionClock:
    """The sessions' clock (epoch seconds), moved by the test: expiry without waiting."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Desk:
    url: str
    signin: SignIn
    users: Path
    screens: Path
    clock: SessionClock


@pytest.fixture
def desk(store: Store, clock: ManualClock, tmp_path: Path, collector: Collector) -> Iterator[Desk]:
    assert collector.run_once().report_id is not None
    users, screens = tmp_path / "users", tmp_path / "screens"
    add_user(users, "maria", PASSWORD, "operator")
    add_user(users, "tom", PASSWORD, "viewer")
    add_user(users, "ann", PASSWORD, "admin")
    session_clock = SessionClock()
    signin = SignIn(
        Roster(users, screens),
        b"browser-test-secret" * 2,
        SignInPolicy(idle_s=IDLE_S, max_s=MAX_S),
        clock=session_clock,
    )
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    signin.install(app.server)
    with served(app, authenticated=True) as url:
        yield Desk(url, signin, users, screens, session_clock)


def new_page(browser: Browser, size: tuple[int, int] = (1366, 768)) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, color_scheme="dark"
    )
    return context, context.new_page()


def sign_in(page: Page, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(url + "login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()


def shows_the_desk(page: Page, store: Store) -> None:
    report = store.latest_report("sim-basis")
    assert report is not None
    expect(page.locator("#uni-mmr")).to_have_text(fmt_uni_mmr(report.uni_mmr), timeout=WAIT_MS)


def session_cookie(context: BrowserContext) -> dict[str, Any]:
    (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
    return dict(cookie)


def next_renewal(page: Page) -> None:
    """Wait for the page's next request that renews the session cookie (it asks twice a
    second; the server renews the cookie once its last use is a minute old)."""
    for _ in range(40):
        with page.expect_response(lambda r: "/_dash-update-component" in r.url) as answer:
            pass
        if "set-cookie" in answer.value.all_headers():
            return
    pytest.fail("the session cookie was never renewed")


def test_sign_in_and_sign_out(browser: Browser, desk: Desk, store: Store) -> None:
    context, page = new_page(browser)
    try:
        page.goto(desk.url + "?view=stress")
        expect(page).to_have_url(re.compile(r"/login\?next=%2F%3Fview%3Dstress$"))
        expect(page.get_by_label("Name")).to_be_focused()
        screenshot(page, "signin-1366x768")

        page.fill("#name", "maria")
        page.fill("#password", "not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".msg-error")).to_have_text("Wrong name or password.")
        expect(page.locator("#name")).to_have_value("maria")  # kept; the password is not
        expect(page.locator("#password")).to_have_value("")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        expect(page).to_have_url(re.compile(r"/\?.*view=stress"), timeout=WAIT_MS)  # back where
        shows_the_desk(page, store)
        expect(page.locator(".signed-in")).to_have_text("maria · operator")
        cookie = session_cookie(context)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
        assert PASSWORD not in cookie["value"]
        screenshot(page, "signed-in-operator-1366x768")

        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login\?out=1$"), timeout=WAIT_MS)
        expect(page.locator(".msg-info")).to_have_text("Signed out.")
        assert not [c for c in context.cookies() if c["name"] == COOKIE]
        page.goto(desk.url)
        expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
        # A copy of the signed-out cookie is refused too.
        copied = requests.get(
            desk.url + "_dash-layout", cookies={COOKIE: cookie["value"]}, timeout=10
        )
        assert copied.status_code == 401
    finally:
        context.close()


def test_session_idle_and_absolute_expiry(browser: Browser, desk: Desk, store: Store) -> None:
    context, page = new_page(browser)
    try:
        sign_in(page, desk.url, "maria")
        shows_the_desk(page, store)
        # Idle: no request for longer than IDLE_S (a browser asleep); the next one is refused
        # and the page goes to the sign-in page by itself.
        desk.clock.t += IDLE_S + 1
        expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()

        # Absolute: in use all along (renewed), it still ends MAX_S after sign-in.
        sign_in(page, desk.url, "maria")
        shows_the_desk(page, store)
        for _ in range(2):  # 2 × 3000 s in use: renewed each time, still signed in
            desk.clock.t += 3000
            next_renewal(page)
        expect(page.locator(".signed-in")).to_have_text("maria · operator")
        assert "/login" not in page.url
        desk.clock.t += 1300  # 7300 s after sign-in, only 1300 s idle
        expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
    finally:
        context.close()


def ack_all_body(page: Page) -> dict[str, Any]:
    """The "Acknowledge all" callback's request, as the page's own Dash would send it."""
    deps = page.evaluate("fetch('/_dash-dependencies').then(r => r.json())")
    (dep,) = [d for d in deps if {"id": "alert-ack-all", "property": "n_clicks"} in d["inputs"]]
    target, prop = dep["output"].split(".", 1)
    return {
        "output": dep["output"],
        "outputs": {"id": target, "property": prop},
        "inputs": [{"id": "alert-ack-all", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["alert-ack-all.n_clicks"],
        "state": [],
    }


POST_CALLBACK = """body => fetch('/_dash-update-component', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
}).then(r => r.status)"""


def test_viewer_cannot_acknowledge_operator_can(
    browser: Browser, desk: Desk, store: Store, clock: ManualClock
) -> None:
    for account in ("sim-basis", "other"):
        store.alerts.open(
            account, "uni_mmr", "critical", "below 1.6", "1.20", "add", 1.2, clock.now_ms()
        )
    viewer_context, viewer = new_page(browser)
    operator_context, operator = new_page(browser)
    try:
        sign_in(viewer, desk.url, "tom")
        expect(viewer.locator(".alert-line")).to_have_count(2, timeout=WAIT_MS)
        expect(viewer.locator(".signed-in")).to_have_text("tom · viewer")
        expect(viewer.get_by_role("button", name=re.compile("^Acknowledge"))).to_have_count(0)
        expect(viewer.locator("#alert-ack-all")).to_be_hidden()
        viewer.keyboard.press("a")  # the shortcut for "Acknowledge all": nothing to press
        viewer.locator("#view").get_by_text("Alerts", exact=True).click()
        expect(viewer.locator("#open-alerts-body tr")).to_have_count(2, timeout=WAIT_MS)
        expect(viewer.locator("#open-alerts-body button")).to_have_count(0)
        screenshot(viewer, "signed-in-viewer-alerts-1366x768")

        sign_in(operator, desk.url, "maria")
        expect(operator.locator(".alert-line")).to_have_count(2, timeout=WAIT_MS)
        line = operator.locator(".alert-line", has_text="sim-basis")
        line.get_by_role("button", name="Acknowledge", exact=True).click()
        expect(operator.locator(".alert-line")).to_have_count(1, timeout=WAIT_MS)
        acked = {a.account: a.acked_by for a in store.alerts.active()}
        assert acked == {"sim-basis": "maria", "other": None}

        # The viewer's own session posting the callback directly: refused by the server.
        body = ack_all_body(viewer)
        assert viewer.evaluate(POST_CALLBACK, body) == 403
        assert {a.account: a.acked_by for a in store.alerts.active()}["other"] is None
        # The very same request from the operator's session is carried out.
        assert operator.evaluate(POST_CALLBACK, body) == 200
        assert {a.account: a.acked_by for a in store.alerts.active()} == {
            "sim-basis": "maria",
            "other": "maria",
        }
        expect(viewer.locator(".alert-line")).to_have_count(0, timeout=WAIT_MS)
    finally:
        viewer_context.close()
        operator_context.close()


def test_screen_link_signs_in_until_revoked(browser: Browser, desk: Desk, store: Store) -> None:
    token = add_screen(desk.screens, "lobby")
    context, page = new_page(browser, (1920, 1080))
    try:
        page.goto(f"{desk.url}screen/{token}?kiosk=1")
        expect(page).to_have_url(re.compile(r"/\?kiosk=1$"), timeout=WAIT_MS)
        shows_the_desk(page, store)
        expect(page.locator(".signed-in")).to_have_text("screen:lobby · viewer")
        expect(page.locator("#page")).to_have_class(re.compile(r"\bkiosk\b"))
        screenshot(page, "screen-kiosk-1920x1080")

        revoke_screen(desk.screens, "lobby")
        # At its next request the screen is signed out, and leaves the figures.
        expect(page).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
        page.goto(f"{desk.url}screen/{token}?kiosk=1")
        expect(page.locator(".msg-error")).to_have_text(
            "This screen link is not valid (revoked, or mistyped)."
        )
        assert requests.get(f"{desk.url}screen/{token}", timeout=10).status_code == 403
    finally:
        context.close()


def test_admin_removes_a_user_whose_screen_then_leaves(
    browser: Browser, desk: Desk, store: Store
) -> None:
    tom_context, tom = new_page(browser)
    admin_context, admin = new_page(browser)
    try:
        sign_in(tom, desk.url, "tom")
        shows_the_desk(tom, store)
        sign_in(admin, desk.url, "ann")
        shows_the_desk(admin, store)
        expect(admin.locator(".signed-in")).to_have_text("ann · admin")
        admin.get_by_role("link", name="Users").click()
        expect(admin.locator("#users")).to_contain_text("tom")
        expect(admin.locator("#users")).to_contain_text("viewer")
        screenshot(admin, "admin-users-1366x768")
        admin.get_by_role("button", name="Remove tom").click()
        expect(admin.locator(".msg-info")).to_have_text("Removed tom: their sessions have ended.")
        expect(admin.locator("#users")).not_to_contain_text("tom")
        expect(tom).to_have_url(re.compile(r"/login\?next="), timeout=WAIT_MS)
    finally:
        tom_context.close()
        admin_context.close()
