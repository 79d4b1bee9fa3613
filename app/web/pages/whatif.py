"""What-if: add or remove positions, transfers or borrowings and see the new uniMMR,
liquidation distance and what changed — before trading. The one place the web layer
recomputes risk: from the newest stored report's own inputs (``app.replay``)."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from app.replay import report_inputs
from app.web.components import grid, panel, text_col
from app.web.context import WebContext
from app.web.format import fmt_pct, fmt_signed, fmt_uni_mmr, fmt_usd
from app.web.view import margin_usage, utc_clock
from risk.model import RiskReport
from risk.whatif import (
    Borrow,
    Change,
    FuturesTrade,
    SpotTrade,
    Transfer,
    WhatIf,
    WhatIfError,
    what_if,
)

VIEW = "whatif"
KINDS = {
    "UM": "USD-M trade (symbol, +buy / −sell base qty)",
    "CM": "COIN-M trade (symbol, +buy / −sell contracts)",
    "spot": "Spot trade vs USDT (asset, +buy / −sell qty)",
    "transfer": "Transfer (asset, +in / −out qty)",
    "borrow": "Borrow on margin (asset, +borrow / −repay qty)",
}


class ChangeError(ValueError):
    """A what-if line that cannot be read; the message says what to fix."""


def parse_change(kind: str | None, name: str | None, amount: float | None) -> Change:
    name = (name or "").strip().upper()
    if kind not in KINDS:
        raise ChangeError("pick what to change")
    if not name:
        raise ChangeError("give a symbol (e.g. BTCUSDT, BTCUSD_PERP) or an asset (e.g. USDT)")
    if amount is None or not math.isfinite(amount) or amount == 0:
        raise ChangeError("give a non-zero amount (+ buy / in / borrow, − sell / out / repay)")
    if kind in ("UM", "CM"):
        return FuturesTrade(kind, name, amount)
    if kind == "spot":
        return SpotTrade(name, amount)
    if kind == "transfer":
        return Transfer(name, amount)
    return Borrow(name, amount)


def describe(c: Change) -> str:
    if isinstance(c, FuturesTrade):
        verb = "buy" if c.amount > 0 else "sell"
        unit = "contracts" if c.venue == "CM" else ""
        return f"{c.venue} {verb} {abs(c.amount):,g} {unit} {c.symbol}".replace("  ", " ")
    if isinstance(c, SpotTrade):
        return f"spot {'buy' if c.qty > 0 else 'sell'} {abs(c.qty):,g} {c.asset} for {c.quote}"
    if isinstance(c, Transfer):
        return f"transfer {'in' if c.qty > 0 else 'out'} {abs(c.qty):,g} {c.asset}"
    return f"{'borrow' if c.qty > 0 else 'repay'} {abs(c.qty):,g} {c.asset}"


def _figures(r: RiskReport) -> dict[str, tuple[str, float | None]]:
    s = r.liquidation_shock
    return {
        "uniMMR": (fmt_uni_mmr(r.uni_mmr), None if math.isinf(r.uni_mmr) else r.uni_mmr),
        "Status": (r.status.value.replace("_", " "), None),
        "Adjusted equity": (fmt_usd(r.adjusted_equity_usd), r.adjusted_equity_usd),
        "Maintenance margin": (fmt_usd(r.maint_margin.total_usd), r.maint_margin.total_usd),
        "Margin usage": (margin_usage(r.maint_margin.total_usd, r.adjusted_equity_usd), None),
        "Liquidation ↓": (fmt_pct(s.down_pct, none="never"), s.down_pct),
        "Liquidation ↑": (fmt_pct(s.up_pct, none="none found"), s.up_pct),
        "Top-up to target": (fmt_usd(r.top_up_usd), r.top_up_usd),
    }


def compare_rows(result: WhatIf) -> list[dict[str, Any]]:
    before, after = _figures(result.before), _figures(result.after)
    rows = []
    for name, (b_text, b) in before.items():
        a_text, a = after[name]
        change = "" if b is None or a is None else fmt_signed(a - b)
        if name == "Status" and b_text != a_text:
            change = "changes"
        rows.append(
            {"key": name, "figure": name, "before": b_text, "after": a_text, "change": change}
        )
    return rows


COLUMNS = [
    text_col("figure", "Figure", "The account-wide figure."),
    text_col("before", "Now", "From the newest stored report.", cellClass="num"),
    text_col(
        "after", "After", "With the changes above applied at today's prices.", cellClass="num"
    ),
    text_col("change", "Change", "After − now.", cellClass="num"),
]


def layout() -> html.Div:
    return html.Div(
        [
            panel(
                "Try a change",
                "Futures and spot trades happen at today's mark or index price (no fee, no "
                "slippage), so they move exposure and margin, not equity. Transfers and loans "
                "move equity and debt. Nothing is sent to the exchange: pmdesk cannot trade.",
                html.Div(
                    [
                        dcc.Dropdown(
                            id="whatif-kind",
                            options=[{"label": v, "value": k} for k, v in KINDS.items()],
                            value="UM",
                            clearable=False,
                            className="whatif-kind",
                        ),
                        dcc.Input(
                            id="whatif-name",
                            type="text",
                            placeholder="symbol or asset",
                            className="whatif-input",
                            debounce=False,
                        ),
                        dcc.Input(
                            id="whatif-amount",
                            type="number",
                            placeholder="amount (+/−)",
                            className="whatif-input",
                        ),
                        html.Button("Add", id="whatif-add", className="btn", n_clicks=0),
                        html.Button("Clear", id="whatif-clear", className="btn", n_clicks=0),
                    ],
                    className="whatif-form",
                ),
                html.Div("", id="whatif-error", className="whatif-error", role="alert"),
                html.Ul(id="whatif-list", className="whatif-list"),
                dcc.Store(id="whatif-changes", data=[]),
            ),
            panel(
                "Before and after",
                "The newest stored report next to the same book with the changes applied.",
                html.Div("", id="whatif-basis", className="footnote"),
                grid("whatif-grid", COLUMNS, "pmdesk-whatif"),
            ),
        ],
        id=f"view-{VIEW}",
        className="view",
        hidden=True,
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("whatif-changes", "data"),
        Output("whatif-error", "children"),
        Input("whatif-add", "n_clicks"),
        Input("whatif-clear", "n_clicks"),
        State("whatif-kind", "value"),
        State("whatif-name", "value"),
        State("whatif-amount", "value"),
        State("whatif-changes", "data"),
        prevent_initial_call=True,
    )
    def edit(
        _add: int, _clear: int, kind: str, name: str, amount: float | None, changes: list[Any]
    ) -> tuple[list[Any], str]:
        if dash.ctx.triggered_id == "whatif-clear":
            return [], ""
        try:
            parse_change(kind, name, amount)
        except ChangeError as err:
            return changes, str(err)
        return [*changes, {"kind": kind, "name": name, "amount": amount}], ""

    @app.callback(
        Output("whatif-list", "children"),
        Output("whatif-grid", "rowData"),
        Output("whatif-basis", "children"),
        Output("whatif-error", "children", allow_duplicate=True),
        Input("whatif-changes", "data"),
        Input("view", "value"),
        Input("account", "value"),
        prevent_initial_call=True,
    )
    def evaluate(changes: list[dict[str, Any]], view: str, picked: str | None) -> tuple[Any, ...]:
        if view != VIEW:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        parsed = [parse_change(c["kind"], c["name"], c["amount"]) for c in changes]
        items = [html.Li(describe(c)) for c in parsed] or [
            html.Li("no change yet", className="muted")
        ]
        report = ctx.store.latest_report(account)
        if report is None:
            return items, [], "no stored report yet", ""
        snapshot, market = report_inputs(ctx.store, report.id)
        try:
            result = what_if(snapshot, market, ctx.rules, parsed)
        except WhatIfError as err:
            return items, [], "", f"cannot apply: {err}"
        basis = f"{account}, report of {utc_clock(report.data_time_ms)}"
        return items, compare_rows(result), basis, ""
