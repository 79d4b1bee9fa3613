"""The Dash application: reads the store, never the exchange; staleness decided on the server.

Each viewer asks twice a second whether a newer report exists (``report-key``, one indexed
query); the views redraw only when it changes and only while they are shown. Figures keep the
user's zoom (``uirevision``), grids keep their sort (rows keyed), and the key check pauses
while it runs, so a slow server never has a viewer's requests stack up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
from dash import Input, Output, State

from app.clock import now_ms
from app.store.store import Store
from app.web import alarm
from app.web.context import WebContext
from app.web.layout import VIEWS, layout
from app.web.pages import overview
from risk.model import RiskRules

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"


def is_kiosk(search: str | None) -> bool:
    values = parse_qs((search or "").lstrip("?")).get("kiosk", [])
    return bool(values) and values[-1].lower() in ("1", "true", "yes", "on")


def next_account(accounts: list[str], current: str | None) -> str:
    if current not in accounts:
        return accounts[0]
    return accounts[(accounts.index(current) + 1) % len(accounts)]


def create_app(
    store: Store,
    accounts: list[str],
    stale_after_s: float,
    clock: Callable[[], int] = now_ms,
    rules: RiskRules | None = None,
    kiosk_cycle_s: float = 15.0,
) -> dash.Dash:
    if not accounts:
        raise ValueError("create_app needs at least one account")
    ctx = WebContext(store, accounts, stale_after_s, clock, rules or RiskRules(), kiosk_cycle_s)
    app = dash.Dash(
        "pmdesk",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        title="pmdesk",
        update_title="",
        suppress_callback_exceptions=False,
    )
    app.layout = layout(accounts, kiosk_cycle_s, ctx.rules)

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
        Output("page", "className"),
        Output("view", "value"),
        Output("kiosk-cycle", "disabled"),
        Input("url", "search"),
    )
    def kiosk(search: str | None) -> tuple[str, Any, bool]:
        if not is_kiosk(search):
            return "page", dash.no_update, True
        return "page kiosk", overview.VIEW, len(accounts) < 2

    @app.callback(
        Output("account", "value", allow_duplicate=True),
        Input("kiosk-cycle", "n_intervals"),
        State("account", "value"),
        prevent_initial_call=True,
    )
    def cycle(_n: int, current: str | None) -> str:
        return next_account(accounts, current)

    for page, _ in VIEWS:
        page.register(app, ctx)
    alarm.register(app, ctx)
    return app
