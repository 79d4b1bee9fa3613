"""Liabilities & P&L: what the account owes, what that costs, and what it made or lost.

From the newest report (``risk/liabilities.py`` computed it): every loan per asset (amount,
interest accrued, Binance's daily rate, USD, the loan MMR and its maintenance margin), every
negative balance (a futures wallet below zero, or an asset the account owes net, e.g. a USDⓈ-M
loss larger than its stablecoins), funding paid and received per perpetual (last 24 h and since
a chosen time), the net stablecoin buffer (negative when the account owes stablecoin), each
position's unrealized P&L; and from the stored history, the change of adjusted equity today and
since the chosen time.

Fail closed, in words: a figure pmdesk could not compute (an unknown price) reads "unknown"; one
whose source was not read or was refused (interest history, funding income) reads
"unavailable" — never 0, never a number.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, dcc, html

from app.store.store import StoredReport
from app.web.components import grid, panel, view
from app.web.context import WebContext
from app.web.pages.liabilities_grids import (
    FUNDING_COLUMNS,
    LOAN_COLUMNS,
    NEGATIVE_COLUMNS,
    POSITION_COLUMNS,
)
from app.web.pages.liabilities_rows import funding_rows, loan_rows, negative_rows, position_rows
from app.web.pages.liabilities_since import (
    CUSTOM,
    DAY_MS,
    SINCE_CHOICES,
    TODAY,
    Baseline,
    EquityChange,
    equity_baseline,
    equity_change,
    since_ms,
    utc_text,
)
from app.web.pages.liabilities_tiles import tile_groups, tiles
from risk.model import RiskReport

VIEW = "liabilities"


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "Liabilities & P&L",
            "What the account owes (loans, interest, negative balances), what it costs "
            "(interest, loan maintenance margin, funding), and what it made or lost (equity "
            "change, unrealized P&L). Hover a figure for how it is computed.",
            html.Div(
                [
                    html.Label("Since", htmlFor="liab-since", className="liab-since-label"),
                    dcc.Dropdown(
                        id="liab-since",
                        options=[{"label": v, "value": k} for k, v in SINCE_CHOICES.items()],
                        value=TODAY,
                        clearable=False,
                        searchable=False,
                        persistence=True,
                        className="liab-since-picker",
                    ),
                    dcc.Input(
                        id="liab-since-custom",
                        type="text",
                        placeholder="2026-01-01 08:00",
                        debounce=True,
                        persistence=True,
                        className="liab-since-custom",
                        style={"display": "none"},
                    ),
                    html.Span("", id="liab-since-note", className="liab-since-note"),
                ],
                className="liab-controls",
                title="The time the 'chosen time' figures count from (UTC).",
            ),
            html.Div([], id="liab-tiles", className="liab-tile-groups"),
            html.Div("", id="liab-asof", className="muted liab-asof"),
        ),
        panel(
            "Loans",
            "Every cross-margin loan: amount, interest accrued, Binance's rate, value, and the "
            "maintenance margin it costs.",
            grid("liab-loans-grid", LOAN_COLUMNS, "pmdesk-loans", no_rows="No loans"),
        ),
        panel(
            "Negative balances",
            "Assets below zero: a futures wallet under 0, or an asset the account owes net "
            "(a loss larger than what it holds of that asset). Each counts in full against "
            "adjusted equity.",
            grid(
                "liab-negative-grid",
                NEGATIVE_COLUMNS,
                "pmdesk-negative-balances",
                no_rows="No negative balances",
            ),
        ),
        panel(
            "Funding",
            "Funding paid and received per perpetual (+ received, − paid), read every 5 minutes "
            "and just after each funding time.",
            grid(
                "liab-funding-grid",
                FUNDING_COLUMNS,
                "pmdesk-funding",
                no_rows="No funding in the last 7 days",
            ),
            html.Div("", id="liab-funding-note", className="muted liab-asof"),
        ),
        panel(
            "P&L per position",
            "Each futures position's unrealized P&L with the funding it paid or received.",
            grid("liab-positions-grid", POSITION_COLUMNS, "pmdesk-pnl", no_rows="No positions"),
        ),
    )


EMPTY: dict[str, Any] = {
    "tiles": [],
    "since_note": "",
    "as_of": "— no data yet",
    "loans": [],
    "negative": [],
    "funding": [],
    "funding_note": "",
    "positions": [],
}
"""The view's outputs before the account's first report."""


def render(
    report: StoredReport,
    detail: RiskReport,
    today: EquityChange,
    since: EquityChange,
    start_ms: int | None,
    since_words: str,
    now_ms: int,
) -> dict[str, Any]:
    funding = detail.funding
    if funding is None:
        funding_note = "Funding: not in this report."
    else:
        read = (("USD-M", funding.um_read), ("COIN-M", funding.cm_read))
        unread = [venue for venue, was_read in read if not was_read]
        funding_note = (
            f"Funding read for {utc_text(funding.window_start_ms)} – {utc_text(funding.as_of_ms)}"
            if funding.as_of_ms
            else "Funding: the report's time is unknown"
        )
        if unread:
            funding_note += f"; {' and '.join(unread)} income unavailable (not read or refused)"
    return {
        "tiles": tile_groups(
            tiles(detail, today, since, start_ms, now_ms, report.adjusted_equity_usd)
        ),
        "since_note": since_words,
        "as_of": (
            f"As of {utc_text(report.data_time_ms)} · quantities in each asset's units, USD at "
            "index prices"
        ),
        "loans": loan_rows(detail),
        "negative": negative_rows(detail),
        "funding": funding_rows(detail, start_ms),
        "funding_note": funding_note,
        "positions": position_rows(detail, start_ms),
    }


def register(app: dash.Dash, ctx: WebContext) -> None:
    cache: dict[tuple[str, int], Baseline | None] = {}

    def baseline(account: str, start: int, now: int) -> Baseline | None:
        """History does not change once its minute is over: each (account, time) is read
        from the store until then, and remembered after."""
        key = (account, start)
        if key in cache:
            return cache[key]
        found, settled_ms = equity_baseline(ctx.store, account, start, now)
        if found is not None and now >= settled_ms:
            if len(cache) > 256:
                cache.clear()
            cache[key] = found
        return found

    @app.callback(
        Output("liab-since-custom", "style"),
        Input("liab-since", "value"),
    )
    def show_custom(choice: str | None) -> dict[str, str]:
        return {} if choice == CUSTOM else {"display": "none"}

    @app.callback(
        output=dict(
            tiles=Output("liab-tiles", "children"),
            since_note=Output("liab-since-note", "children"),
            as_of=Output("liab-asof", "children"),
            loans=Output("liab-loans-grid", "rowData"),
            negative=Output("liab-negative-grid", "rowData"),
            funding=Output("liab-funding-grid", "rowData"),
            funding_note=Output("liab-funding-note", "children"),
            positions=Output("liab-positions-grid", "rowData"),
        ),
        inputs=[
            Input("report-key", "data"),
            Input("view", "value"),
            Input("account", "value"),
            Input("liab-since", "value"),
            Input("liab-since-custom", "value"),
        ],
    )
    def refresh(
        _key: object, shown: str, picked: str | None, choice: str | None, custom: str | None
    ) -> dict[str, Any]:
        if shown != VIEW:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        latest = ctx.latest(account)
        if latest is None:
            return EMPTY
        report, detail = latest
        now = ctx.clock()
        start, words = since_ms(choice, custom, now)
        midnight = now - now % DAY_MS
        equity = report.adjusted_equity_usd
        today = equity_change(equity, baseline(account, midnight, now))
        since = (
            equity_change(equity, baseline(account, start, now))
            if start is not None
            else EquityChange(None, None)
        )
        return render(report, detail, today, since, start, words, now)
