"""The page shell: top bar (account, one-line summary from the account's severity, the worst
other account, feed status, the UTC/local clock), the view tabs (keys 1…9), every view, the
status bar, and the timers. Each view's own layout lives in ``app.web.pages``."""

from __future__ import annotations

from types import ModuleType

from dash import dcc, html

from app.web import alarm
from app.web.pages import (
    alerts,
    classic,
    hedges,
    history,
    liabilities,
    outlook,
    overview,
    positions,
    reconcile,
    stress,
    whatif,
)
from app.web.signin import signed_in_badge
from app.web.view import SeverityBands
from risk.model import RiskRules

# How often a viewer asks whether a newer report exists (one indexed query). The check pauses
# while it runs (app.py), so a check comes every KEY_CHECK_MS + one round trip: a fill pushed
# by the user data stream reaches the screen within about KEY_CHECK_MS + two round trips of
# being stored (bench/bench_fill_latency.py: at 500 ms the wait for the key was most of it).
KEY_CHECK_MS = 250
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
    (liabilities, "Liabilities & P&L"),
    (outlook, "Outlook"),
)


def _account_picker(accounts: list[str], shown: str) -> list[html.Span | dcc.Dropdown]:
    """The account's name; with several accounts, a picker (one screen per account)."""
    picker = dcc.Dropdown(
        id="account",
        options=accounts,
        value=shown,
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


def _view_layout(page: ModuleType, rules: RiskRules, bands: SeverityBands) -> html.Div:
    if page is overview:
        return overview.layout(rules, bands)
    view: html.Div = page.layout(rules) if page in RULED else page.layout()
    return view


UNENCRYPTED_TEXT = (
    "UNENCRYPTED — plain HTTP on the LAN: sign-in and positions can be read on the network"
)

SHORTCUT_KEYS = "1234567890o"
"""Keys 1…9 show the first nine views (``VIEWS``), 0 the tenth, o the Outlook; named in each
tab's tooltip."""


def _tab(page: ModuleType, label: str, index: int) -> dcc.Tab:
    """A view's tab; its tooltip names its keyboard shortcut, if it has one."""
    key = SHORTCUT_KEYS[index] if index < len(SHORTCUT_KEYS) else None
    tip = label if key is None else f"{label} — keyboard shortcut: {key}"
    return dcc.Tab(label=html.Span(label, title=tip), value=page.VIEW)


def layout(
    accounts: list[str],
    kiosk_cycle_s: float,
    rules: RiskRules | None = None,
    bands: SeverityBands | None = None,
    shown: str | None = None,
    unencrypted: bool = False,
) -> html.Div:
    """The page; ``shown``: the account it opens on (the worst, decided per page load);
    ``unencrypted``: a thin red line on every view says the connection is plain HTTP."""
    rules = rules or RiskRules()
    bands = bands or SeverityBands()
    shown = shown if shown in accounts else accounts[0]
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            html.Div(
                UNENCRYPTED_TEXT,
                id="unencrypted-banner",
                className="unencrypted-banner",
                role="alert",
                title="pmdesk runs with --insecure-http: set tls_cert_file and tls_key_file "
                "to serve HTTPS.",
            )
            if unencrypted
            else None,
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
                    *_account_picker(accounts, shown),
                    html.Span(
                        "",
                        id="top-summary",
                        className="top-summary band-stale",
                        title="This account's severity: the worst of its uniMMR band, "
                        "liquidation distance, Binance's accountStatus, unknown figures and "
                        "stale data, with the reason in words; its uniMMR; the data age.",
                    ),
                    html.Button(
                        "",
                        id="top-others",
                        className="top-others",
                        hidden=True,
                        n_clicks=0,
                        title="The worst of the other accounts (when at least a warning): "
                        "click to show it.",
                    ),
                    html.Span("feed …", id="feed-status", className="feed feed-DOWN"),
                    html.Span("", id="feed-message", className="feed-message"),
                    html.Button(
                        "",
                        id="time-toggle",
                        className="time-toggle",
                        n_clicks=0,
                        title="Times on this screen are in UTC (labelled so); click to show "
                        "them in this browser's local time zone, and again for UTC.",
                    ),
                    *signed_in_badge(),
                ],
                className="topbar",
            ),
            dcc.Tabs(
                id="view",
                value=overview.VIEW,
                children=[_tab(page, label, i) for i, (page, label) in enumerate(VIEWS)],
                className="view-tabs",
                parent_className="view-tabs-bar",
                mobile_breakpoint=0,  # never one tab a row: they wrap (assets/viewport.css)
            ),
            html.Main([_view_layout(page, rules, bands) for page, _ in VIEWS], className="desk"),
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
            dcc.Store(id="top-others-target"),
            dcc.Store(id="time-pref", storage_type="local", data={"local": False}),
            dcc.Store(id="shortcuts"),
            dcc.Interval(id="tick", interval=KEY_CHECK_MS, n_intervals=0),
            dcc.Interval(id="age-tick", interval=AGE_TICK_MS, n_intervals=0),
            dcc.Interval(
                id="kiosk-cycle", interval=int(kiosk_cycle_s * 1000), n_intervals=0, disabled=True
            ),
        ],
        id="page",
        className="page",
    )
