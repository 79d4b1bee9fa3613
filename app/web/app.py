"""The Dash application: reads the store, never the exchange; staleness decided on the server.

Each viewer asks four times a second whether a newer report exists (``report-key``, one indexed
query); the views redraw only when it changes and only while they are shown. Figures keep the
user's zoom (``uirevision``), grids keep their sort (rows keyed), and the key check pauses
while it runs, so a slow server never has a viewer's requests stack up.

The account and the view are in the URL — ``/?account=NAME&view=VIEW`` (views: ``VIEW_NAMES``)
— so a link opens exactly that screen and the browser's back button steps back through what was
shown. Without an account in the URL the screen opens on the worst account (``view.RANK``, then
the lower uniMMR); the kiosk (``?kiosk=1``) opens on it too and cycles worst first.

Keyboard (not in the kiosk, not while typing in a field): keys 1…9 show the views in tab order,
0 the tenth (each tab's tooltip names its key). ``ACK_KEY`` ("a") is reserved for the alert
banner: the page fires ``ACK_EVENT`` ("pmdesk:acknowledge") on ``document`` and does nothing
else with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import dash
from dash import Input, Output, State
from dash import ctx as dash_ctx

from app.clock import now_ms
from app.store.store import Store
from app.web import alarm
from app.web.context import WebContext
from app.web.guard import protect_app
from app.web.layout import SHORTCUT_KEYS, VIEWS, layout
from app.web.pages import overview
from app.web.view import SeverityBands
from risk.model import RiskRules

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
VIEW_NAMES = tuple(page.VIEW for page, _ in VIEWS)
ACK_KEY = "a"
ACK_EVENT = "pmdesk:acknowledge"


def _query(search: str | None) -> dict[str, list[str]]:
    if not isinstance(search, str):  # a tampered request: no query
        return {}
    return parse_qs(search.lstrip("?"))


def is_kiosk(search: str | None) -> bool:
    values = _query(search).get("kiosk", [])
    return bool(values) and values[-1].lower() in ("1", "true", "yes", "on")


def url_state(search: str | None) -> tuple[str | None, str | None]:
    """(account, view) named in the URL's query, if any."""
    q = _query(search)
    account = q.get("account", [None])[-1]
    view = q.get("view", [None])[-1]
    return account, view


def with_state(search: str | None, account: str, view: str) -> str:
    """The query with ``account`` and ``view`` set, every other parameter kept."""
    q = {k: v[-1] for k, v in _query(search).items()}
    q["account"], q["view"] = account, view
    return "?" + urlencode(q)


def next_account(accounts: list[str], current: str | None) -> str:
    """The account after ``current`` in ``accounts`` (worst first when so ordered)."""
    if current not in accounts:
        return accounts[0]
    return accounts[(accounts.index(current) + 1) % len(accounts)]


# Keys 1…9 (and 0) show the views; "a" is the banner's (ACK_EVENT). Registered once per page.
SHORTCUTS_JS = """
function (_pathname) {
    if (!window.__pmdeskShortcuts) {
        window.__pmdeskShortcuts = true;
        const views = %(views)s, keys = %(keys)s;
        document.addEventListener("keydown", function (e) {
            if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || e.repeat) return;
            const t = e.target, tag = t && t.tagName;
            if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
            if (t && (t.isContentEditable || (t.closest && t.closest(".ag-root")))) return;
            const page = document.getElementById("page");
            if (page && page.classList.contains("kiosk")) return;
            const i = keys.indexOf(e.key);
            if (i >= 0 && i < views.length) {
                window.dash_clientside.set_props("view", {value: views[i]});
                e.preventDefault();
            } else if (e.key === %(ack)s) {
                document.dispatchEvent(new CustomEvent(%(event)s));
            }
        });
    }
    return window.dash_clientside.no_update;
}
"""

# The UTC/local toggle: the browser knows its own zone; the server formats with it.
TIME_TOGGLE_JS = """
function (_clicks, pref) {
    const local = !(pref && pref.local);
    return {
        local: local,
        zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "",
        offset_min: -new Date().getTimezoneOffset(),
    };
}
"""


def create_app(
    store: Store,
    accounts: list[str],
    stale_after_s: float,
    clock: Callable[[], int] = now_ms,
    rules: RiskRules | None = None,
    kiosk_cycle_s: float = 15.0,
    bands: SeverityBands | None = None,
    unencrypted: bool = False,
) -> dash.Dash:
    """The dashboard; ``unencrypted``: served beyond loopback over plain HTTP
    (``--insecure-http``), which every screen then says in red."""
    if not accounts:
        raise ValueError("create_app needs at least one account")
    ctx = WebContext(
        store,
        accounts,
        stale_after_s,
        clock,
        rules or RiskRules(),
        kiosk_cycle_s,
        bands or SeverityBands(),
    )
    app = dash.Dash(
        "pmdesk",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        title="pmdesk",
        update_title="",
        suppress_callback_exceptions=False,
    )

    def page_layout() -> Any:
        """Per page load: the page opens on the worst account (no flash of the first one).
        A store that cannot answer never keeps the page from loading: it says so itself."""
        try:
            worst = ctx.worst_first()[0]
        except Exception:  # the page must load whatever the store does
            worst = accounts[0]
        return layout(accounts, kiosk_cycle_s, ctx.rules, ctx.bands, worst, unencrypted=unencrypted)

    app.layout = page_layout

    @app.callback(
        Output("report-key", "data"),
        Input("tick", "n_intervals"),
        Input("account", "value"),
        State("report-key", "data"),
        running=[(Output("tick", "disabled"), True, False)],
    )
    def report_key(_n: int, picked: str | None, shown: Any) -> list[Any]:
        account = ctx.account(picked)
        newest = store.latest_report_id(account)
        key = [account, newest]
        if key == shown:
            raise dash.exceptions.PreventUpdate
        return key

    @app.callback(
        [Output(f"view-{page.VIEW}", "hidden") for page, _ in VIEWS],
        Input("view", "value"),
    )
    def show(view: str) -> list[bool]:
        return [view != page.VIEW for page, _ in VIEWS]

    @app.callback(
        Output("url", "search"),
        Output("account", "value"),
        Output("view", "value"),
        Output("page", "className"),
        Output("kiosk-cycle", "disabled"),
        Input("url", "search"),
        Input("account", "value"),
        Input("view", "value"),
    )
    def sync_url(search: str | None, picked: str | None, view: str | None) -> tuple[Any, ...]:
        """The URL and the screen follow each other: a loaded or revisited URL (back/forward)
        sets the account and the view; a picked account or view is pushed as a new URL (so
        back returns to it). Without an account in the URL: the worst account."""
        no = dash.no_update
        kiosk = is_kiosk(search)
        if dash_ctx.triggered_id in (None, "url"):
            wanted, wanted_view = url_state(search)
            account = wanted if wanted in accounts else ctx.worst_first()[0]
            shown = overview.VIEW if kiosk or wanted_view not in VIEW_NAMES else wanted_view
            return (
                no,
                account,
                shown,
                "page kiosk" if kiosk else "page",
                not kiosk or len(accounts) < 2,
            )
        if kiosk:  # the kiosk's own cycling is not history
            raise dash.exceptions.PreventUpdate
        shown = view if view is not None and view in VIEW_NAMES else overview.VIEW
        new = with_state(search, ctx.account(picked), shown)
        return (no if new == search else new), no, no, no, no

    @app.callback(
        Output("account", "value", allow_duplicate=True),
        Input("kiosk-cycle", "n_intervals"),
        State("account", "value"),
        prevent_initial_call=True,
    )
    def cycle(_n: int, current: str | None) -> str:
        return next_account(ctx.worst_first(), current)

    app.clientside_callback(  # type: ignore[no-untyped-call]
        SHORTCUTS_JS
        % {
            "views": list(VIEW_NAMES),
            "keys": list(SHORTCUT_KEYS),
            "ack": repr(ACK_KEY),
            "event": repr(ACK_EVENT),
        },
        Output("shortcuts", "data"),
        Input("url", "pathname"),
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        TIME_TOGGLE_JS,
        Output("time-pref", "data"),
        Input("time-toggle", "n_clicks"),
        State("time-pref", "data"),
        prevent_initial_call=True,
    )

    for page, _ in VIEWS:
        page.register(app, ctx)
    alarm.register(app, ctx)
    protect_app(app)  # last: it records every inline script's hash
    return app
