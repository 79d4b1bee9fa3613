"""The page shell: top bar (account, one-line summary, feed status), the view tabs, every view,
the status bar, and the timers. Each view's own layout lives in ``app.web.pages``."""

from __future__ import annotations

from types import ModuleType

from dash import dcc, html

from app.web import alarm
from app.web.pages import (
    alerts,
    classic,
    hedges,
    history,
    overview,
    positions,
    reconcile,
    stress,
    whatif,
)
from risk.model import RiskRules

KEY_CHECK_MS = 500  # how often a viewer asks whether a newer report exists (one indexed query)
AGE_TICK_MS = 1000  # the data age on screen counts up every second

VIEWS = (
    (overview, "Overview"),
    (hedges, "Hedges"),
    (positions, "Positions"),
    (stress, "Stress"),
    (history, "History"),
    (reconcile, "Binance vs pmdesk"),
    (whatif, "What-if"),
    (classic, "PM vs classic"),
    (alerts, "Alerts"),
)


def _account_picker(accounts: list[str]) -> list[html.Span | dcc.Dropdown]:
    """The account's name; with several accounts, a picker (one screen per account)."""
    picker = dcc.Dropdown(
        id="account",
        options=accounts,
        value=accounts[0],
        clearable=False,
        searchable=False,
        className="account-picker",
        style={} if len(accounts) > 1 else {"display": "none"},
    )
    if len(accounts) > 1:
        return [picker]
    return [html.Span(accounts[0], id="account-name", className="account"), picker]


RULED = (overview, stress, history, reconcile)
"""Views whose words name Binance's levels: laid out with the configured rules."""


def _view_layout(page: ModuleType, rules: RiskRules) -> html.Div:
    view: html.Div = page.layout(rules) if page in RULED else page.layout()
    return view


def layout(accounts: list[str], kiosk_cycle_s: float, rules: RiskRules | None = None) -> html.Div:
    rules = rules or RiskRules()
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            html.Div(
                "SIMULATED DATA — not a real account",
                id="sim-banner",
                className="sim-banner",
                hidden=True,
            ),
            html.Div("", id="store-banner", className="store-banner", hidden=True, role="alert"),
            html.Div(
                "", id="unknown-banner", className="unknown-banner", hidden=True, role="alert"
            ),
            alarm.layout(),
            html.Header(
                [
                    html.Span("pmdesk", className="brand"),
                    *_account_picker(accounts),
                    html.Span("", id="top-summary", className="top-summary band-stale"),
                    html.Span("…", id="feed-status", className="feed feed-DOWN"),
                    html.Span("", id="feed-message", className="feed-message"),
                ],
                className="topbar",
            ),
            dcc.Tabs(
                id="view",
                value=overview.VIEW,
                children=[dcc.Tab(label=label, value=page.VIEW) for page, label in VIEWS],
                className="view-tabs",
                parent_className="view-tabs-bar",
            ),
            html.Main([_view_layout(page, rules) for page, _ in VIEWS], className="desk"),
            html.Footer(
                [
                    html.Span("", id="marks-note", className="footnote"),
                    html.Span("", id="weight-note", className="footnote"),
                ],
                className="statusbar",
                title="Where the mark prices come from, how old the positions are, and the "
                "API weight Binance counted for this IP in the current minute (limit: half).",
            ),
            dcc.Store(id="report-key"),
            dcc.Interval(id="tick", interval=KEY_CHECK_MS, n_intervals=0),
            dcc.Interval(id="age-tick", interval=AGE_TICK_MS, n_intervals=0),
            dcc.Interval(
                id="kiosk-cycle", interval=int(kiosk_cycle_s * 1000), n_intervals=0, disabled=True
            ),
        ],
        id="page",
        className="page",
    )
