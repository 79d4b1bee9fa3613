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
from app.web.format import UNKNOWN_TEXT, fmt_pct, fmt_signed, fmt_uni_mmr, fmt_usd
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


SIDES = {
    "BOTH": "one-way (BOTH)",
    "LONG": "hedge mode: LONG side",
    "SHORT": "hedge mode: SHORT side",
}
UNKNOWN = UNKNOWN_TEXT


class ChangeError(ValueError):
    """A what-if line that cannot be read; the message says what to fix."""


def parse_change(
    kind: str | None, name: str | None, amount: float | None, side: str | None = "BOTH"
) -> Change:
    """One form line → a change. ``side``: the futures position side (hedge mode: LONG or
    SHORT; one-way: BOTH); ignored for the other kinds."""
    name = (name or "").strip().upper()
    if kind not in KINDS:
        raise ChangeError("pick what to change")
    if not name:
        raise ChangeError("give a symbol (e.g. BTCUSDT, BTCUSD_PERP) or an asset (e.g. USDT)")
    if amount is None or not math.isfinite(amount) or amount == 0:
        raise ChangeError("give a non-zero amount (+ buy / in / borrow, − sell / out / repay)")
    if kind in ("UM", "CM"):
        side = side or "BOTH"
        if side not in SIDES:
            raise ChangeError("pick the position side: BOTH (one-way), LONG or SHORT (hedge mode)")
        return FuturesTrade(kind, name, amount, side=side)
    if kind == "spot":
        return SpotTrade(name, amount)
    if kind == "transfer":
        return Transfer(name, amount)
    return Borrow(name, amount)


def describe(c: Change) -> str:
    if isinstance(c, FuturesTrade):
        verb = "buy" if c.amount > 0 else "sell"
        unit = "contracts" if c.venue == "CM" else ""
        side = "" if c.side == "BOTH" else f" on the {c.side} side"
        text = f"{c.venue} {verb} {abs(c.amount):,g} {unit} {c.symbol}{side}"
        return text.replace("  ", " ")
    if isinstance(c, SpotTrade):
        return f"spot {'buy' if c.qty > 0 else 'sell'} {abs(c.qty):,g} {c.asset} for {c.quote}"
    if isinstance(c, Transfer):
        return f"transfer {'in' if c.qty > 0 else 'out'} {abs(c.qty):,g} {c.asset}"
    return f"{'borrow' if c.qty > 0 else 'repay'} {abs(c.qty):,g} {c.asset}"


def _bad(value: float | None) -> bool:
    return value is not None and math.isnan(value)


def _known(value: float, text: str) -> tuple[str, float | None]:
    """A figure and its number for the change column; NaN (not computable) reads "unknown"."""
    return (UNKNOWN, math.nan) if math.isnan(value) else (text, value)


def _uni(uni: float) -> tuple[str, float | None]:
    """uniMMR: ∞ (no maintenance margin) and "≤ 0" (adjusted equity ≤ 0 with no MM to divide
    by) have no change to show; NaN reads "unknown"."""
    return (fmt_uni_mmr(uni), None) if math.isinf(uni) else _known(uni, fmt_uni_mmr(uni))


def _figures(r: RiskReport) -> dict[str, tuple[str, float | None]]:
    s = r.liquidation_shock
    equity, mm = r.adjusted_equity_usd, r.maint_margin.total_usd
    usage = (
        (UNKNOWN, math.nan)
        if math.isnan(equity) or math.isnan(mm)
        else (margin_usage(mm, equity), None)
    )
    return {
        "uniMMR": _uni(r.uni_mmr),
        "Status": (r.status.value.replace("_", " "), None),
        "Adjusted equity": _known(equity, fmt_usd(equity)),
        "Maintenance margin": _known(mm, fmt_usd(mm)),
        "Margin usage": usage,
        "Liquidation ↓": (fmt_pct(s.down_pct, none="never"), s.down_pct)
        if not _bad(s.down_pct)
        else (UNKNOWN, math.nan),
        "Liquidation ↑": (fmt_pct(s.up_pct, none="none found"), s.up_pct)
        if not _bad(s.up_pct)
        else (UNKNOWN, math.nan),
        "Top-up to target": _known(r.top_up_usd, fmt_usd(r.top_up_usd)),
    }


def compare_rows(result: WhatIf) -> list[dict[str, Any]]:
    before, after = _figures(result.before), _figures(result.after)
    rows = []
    for name, (b_text, b) in before.items():
        a_text, a = after[name]
        change = "" if b is None or a is None else fmt_signed(a - b)
        if _bad(a) or _bad(b):
            change = UNKNOWN
        if name == "Status" and b_text != a_text:
            change = "changes"
        rows.append(
            {"key": name, "figure": name, "before": b_text, "after": a_text, "change": change}
        )
    return rows


def basis_text(account: str, data_time: str, result: WhatIf) -> str:
    """Where the figures come from, and what the after-figures assume."""
    text = f"{account}, report of {data_time}"
    a = result.before.assumptions
    if a is not None:
        loans = ", ".join(f"{k} {v:.2%}" for k, v in sorted(a.loan_mmr.items()))
        text += (
            f". After: valued with the report's {a.collateral_table} collateral table"
            + (f" and loan MMR {loans}" if loans else "")
            + "; Binance's own figures describe the book before the change, so none are used"
        )
    if result.before.state == "UNKNOWN" or result.after.state == "UNKNOWN":
        text += ". Some inputs are missing or unreadable: figures that need them read “unknown”"
    return text


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
                "move equity and debt. Futures side: BOTH for a one-way account; in hedge mode "
                "LONG or SHORT changes that side's position only. Nothing is sent to the "
                "exchange: pmdesk cannot trade.",
                html.Div(
                    [
                        dcc.Dropdown(
                            id="whatif-kind",
                            options=[{"label": v, "value": k} for k, v in KINDS.items()],
                            value="UM",
                            clearable=False,
                            className="whatif-kind",
                        ),
                        dcc.Dropdown(
                            id="whatif-side",
                            options=[{"label": v, "value": k} for k, v in SIDES.items()],
                            value="BOTH",
                            clearable=False,
                            className="whatif-kind",
                            style={"minWidth": "15em"},
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
        State("whatif-side", "value"),
        State("whatif-name", "value"),
        State("whatif-amount", "value"),
        State("whatif-changes", "data"),
        prevent_initial_call=True,
    )
    def edit(
        _add: int,
        _clear: int,
        kind: str,
        side: str | None,
        name: str,
        amount: float | None,
        changes: list[Any],
    ) -> tuple[list[Any], str]:
        if dash.ctx.triggered_id == "whatif-clear":
            return [], ""
        try:
            parse_change(kind, name, amount, side)
        except ChangeError as err:
            return changes, str(err)
        line = {"kind": kind, "name": name, "amount": amount, "side": side or "BOTH"}
        return [*changes, line], ""

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
        parsed = [
            parse_change(c["kind"], c["name"], c["amount"], c.get("side", "BOTH")) for c in changes
        ]
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
        basis = basis_text(account, utc_clock(report.data_time_ms), result)
        return items, compare_rows(result), basis, ""
