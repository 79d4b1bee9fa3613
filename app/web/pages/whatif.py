"""What-if: add or remove positions, transfers or borrowings and see the new uniMMR,
liquidation distance and what changed — before trading. The one place the web layer
recomputes risk: from the newest stored report's own inputs (``app.replay``)."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import ALL, Input, Output, State, dcc, html

from app.replay import report_inputs
from app.web.components import grid, panel, text_col
from app.web.context import WebContext
from app.web.figures import margin_usage
from app.web.format import (
    UNKNOWN_TEXT,
    fmt_move,
    fmt_rel,
    fmt_signed,
    fmt_signed_usd,
    fmt_uni_mmr,
    fmt_usd,
)
from app.web.times import TimePref, clock_text
from risk.model import RiskReport
from risk.whatif import (
    Borrow,
    Change,
    FuturesTrade,
    SpotTrade,
    Transfer,
    WhatIf,
    what_if_each,
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


def parse_change(kind: Any, name: Any, amount: Any, side: Any = "BOTH") -> Change:
    """One form line → a change. ``side``: the futures position side (hedge mode: LONG or
    SHORT; one-way: BOTH); ignored for the other kinds. Whatever the browser sent (a
    tampered request: a string amount, a list for a name) is a ``ChangeError``."""
    name = name.strip().upper() if isinstance(name, str) else ""
    if not isinstance(kind, str) or kind not in KINDS:
        raise ChangeError("pick what to change")
    if not name:
        raise ChangeError("give a symbol (e.g. BTCUSDT, BTCUSD_PERP) or an asset (e.g. USDT)")
    if (
        not isinstance(amount, int | float)
        or isinstance(amount, bool)
        or not math.isfinite(amount)
        or amount == 0
    ):
        raise ChangeError("give a non-zero amount (+ buy / in / borrow, − sell / out / repay)")
    if kind in ("UM", "CM"):
        side = side or "BOTH"
        if not isinstance(side, str) or side not in SIDES:
            raise ChangeError("pick the position side: BOTH (one-way), LONG or SHORT (hedge mode)")
        return FuturesTrade(kind, name, amount, side=side)
    if kind == "spot":
        return SpotTrade(name, amount)
    if kind == "transfer":
        return Transfer(name, amount)
    return Borrow(name, amount)


def checked_changes(changes: Any) -> list[dict[str, Any]]:
    """The what-if lines the browser holds, each one that ``parse_change`` reads; anything else
    (a tampered request) left out."""
    out = []
    for c in changes if isinstance(changes, list) else []:
        if not isinstance(c, dict):
            continue
        try:
            parse_change(c.get("kind"), c.get("name"), c.get("amount"), c.get("side", "BOTH"))
        except ChangeError:
            continue
        out.append(c)
    return out


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


Figure = tuple[str, float | None]  # the words, and the number a change is computed from


def _known(value: float, text: str) -> Figure:
    """A figure and its number for the change column; NaN (not computable) reads "unknown"."""
    return (UNKNOWN, math.nan) if math.isnan(value) else (text, value)


def _uni(uni: float) -> Figure:
    """uniMMR: ∞ (no maintenance margin) and "≤ 0" (adjusted equity ≤ 0 with no MM to divide
    by) have no change to show; NaN reads "unknown"."""
    return (fmt_uni_mmr(uni), None) if math.isinf(uni) else _known(uni, fmt_uni_mmr(uni))


def _top_up(usd: float) -> Figure:
    """The one top-up (the uniMMR target's or the warning distance's, the larger); ∞ when no
    stablecoin top-up gets there (no change to show)."""
    return ("∞", None) if usd == math.inf else _known(usd, fmt_usd(usd))


def _usage(mm: float, equity: float) -> Figure:
    """Margin usage in words (``view.margin_usage``) and, when it is a real share, in %."""
    if math.isnan(equity) or math.isnan(mm):
        return UNKNOWN, math.nan
    text = margin_usage(mm, equity)
    return text, (100 * mm / equity if equity > 0 else None)


def _liq(pct: float | None) -> Figure:
    """A liquidating move: "−1.46 %", or ``NO_LIQUIDATION`` (no number to change)."""
    return (UNKNOWN, math.nan) if _bad(pct) else (fmt_move(pct), pct)


def _figures(r: RiskReport) -> dict[str, Figure]:
    s = r.liquidation_shock
    equity, mm = r.adjusted_equity_usd, r.maint_margin.total_usd
    return {
        "uniMMR": _uni(r.uni_mmr),
        "uniMMR band": (r.status.value.replace("_", " "), None),
        "Adjusted equity": _known(equity, fmt_usd(equity)),
        "Maintenance margin": _known(mm, fmt_usd(mm)),
        "Margin usage": _usage(mm, equity),
        "Liquidation ↓": _liq(s.down_pct),
        "Liquidation ↑": _liq(s.up_pct),
        "Top-up": _top_up(r.top_up_needed_usd),
    }


USD_FIGURES = ("Adjusted equity", "Maintenance margin", "Top-up")


def _pp(points: float) -> str:
    """A change of a percentage, in percentage points: "+5.20 pp"."""
    return f"{fmt_signed(points)} pp"


def change_words(name: str, before: Figure, after: Figure) -> str:
    """After − now, in the figure's own unit: USD ("+$1,234.50"), percentage points for a share
    or a move ("+5.20 pp", "1.37 pp nearer"), uniMMR with its relative change
    ("−1.37 (−31.9 %)"); a status as "NORMAL → REDUCE ONLY"; "" when nothing changed or there
    is nothing to subtract (∞, never)."""
    (b_text, b), (a_text, a) = before, after
    if _bad(a) or _bad(b):
        return UNKNOWN
    if name == "uniMMR band":
        return "" if a_text == b_text else f"{b_text} → {a_text}"
    if name.startswith("Liquidation"):
        if a_text == b_text:
            return ""
        if a is None or b is None:
            return f"now {a_text}" if a is None else f"was {b_text}"
        nearer = abs(a) < abs(b)
        return f"{abs(abs(a) - abs(b)):,.2f} pp {'nearer' if nearer else 'further'}"
    if a is None or b is None:
        return ""
    d = a - b
    if name in USD_FIGURES:
        return fmt_signed_usd(d)
    if name == "Margin usage":
        return _pp(d)
    rel = f" ({fmt_rel(d / b)})" if b else ""
    return f"{fmt_signed(d)}{rel}"


def compare_rows(result: WhatIf) -> list[dict[str, Any]]:
    before, after = _figures(result.before), _figures(result.after)
    return [
        {
            "key": name,
            "figure": name,
            "before": before[name][0],
            "after": after[name][0],
            "change": change_words(name, before[name], after[name]),
        }
        for name in before
    ]


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
    text_col(
        "before", "Now", "From the newest stored report (follows each new one).", cellClass="num"
    ),
    text_col(
        "after", "After", "With the changes above applied at today's prices.", cellClass="num"
    ),
    text_col(
        "change",
        "Change",
        "After − now in the figure's unit: USD, percentage points (pp) for margin usage and "
        "the liquidation moves (nearer or further), uniMMR with its relative change.",
        cellClass="num",
    ),
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
                            className="whatif-kind whatif-side",
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
                html.Ul(
                    [html.Li("no change yet", className="muted")],
                    id="whatif-list",
                    className="whatif-list",
                ),
                dcc.Store(id="whatif-changes", data=[]),
                dcc.Store(id="whatif-line-errors", data=[]),
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


def _aria(label: str) -> dict[str, Any]:
    """An accessible name for a control whose text is a symbol (×)."""
    return {"aria-label": label}


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
        changes = checked_changes(changes)
        try:
            parse_change(kind, name, amount, side)
        except ChangeError as err:
            return changes, str(err)
        line = {"kind": kind, "name": name, "amount": amount, "side": side or "BOTH"}
        return [*changes, line], ""

    @app.callback(
        Output("whatif-changes", "data", allow_duplicate=True),
        Input({"type": "whatif-remove", "index": ALL}, "n_clicks"),
        State("whatif-changes", "data"),
        prevent_initial_call=True,
    )
    def remove(clicks: list[int | None], changes: list[Any]) -> list[Any]:
        trigger = dash.ctx.triggered_id
        if not isinstance(trigger, dict) or not any(t.get("value") for t in dash.ctx.triggered):
            raise dash.exceptions.PreventUpdate  # a button that just appeared, not a click
        index = trigger.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise dash.exceptions.PreventUpdate  # not a button of this page
        return [c for i, c in enumerate(checked_changes(changes)) if i != index]

    @app.callback(
        Output("whatif-list", "children"),
        Input("whatif-changes", "data"),
        Input("whatif-line-errors", "data"),
    )
    def lines(changes: list[dict[str, Any]], errors: list[str | None] | None) -> list[html.Li]:
        """Each change in words with a button to take it out; one that cannot be applied says
        why beside it (the others are still applied)."""
        errors = errors if isinstance(errors, list) else []
        out = []
        for i, c in enumerate(checked_changes(changes)):
            change = parse_change(c["kind"], c["name"], c["amount"], c.get("side", "BOTH"))
            error = errors[i] if i < len(errors) else None
            out.append(
                html.Li(
                    [
                        html.Span(describe(change), className="whatif-line"),
                        html.Span(
                            f"not applied: {error}", className="whatif-line-error", role="alert"
                        )
                        if error
                        else None,
                        html.Button(
                            "×",
                            id={"type": "whatif-remove", "index": i},
                            className="whatif-remove",
                            title="Take this change out",
                            n_clicks=0,
                            **_aria(f"Take out: {describe(change)}"),
                        ),
                    ],
                    className="whatif-bad" if error else None,
                )
            )
        return out or [html.Li("no change yet", className="muted")]

    @app.callback(
        Output("whatif-grid", "rowData"),
        Output("whatif-basis", "children"),
        Output("whatif-line-errors", "data"),
        Input("whatif-changes", "data"),
        Input("view", "value"),
        Input("account", "value"),
        Input("report-key", "data"),
        Input("time-pref", "data"),
        State("whatif-line-errors", "data"),
    )
    def evaluate(
        changes: list[dict[str, Any]],
        view: str,
        picked: str | None,
        _key: object,
        pref: TimePref | None,
        shown_errors: list[str | None] | None,
    ) -> tuple[Any, ...]:
        """The newest report before and after the changes: "Now" follows each new report. A
        change that cannot be applied is left out and named beside its line."""
        if view != VIEW:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        parsed = [
            parse_change(c["kind"], c["name"], c["amount"], c.get("side", "BOTH"))
            for c in checked_changes(changes)
        ]
        report = ctx.store.latest_report(account)
        if report is None:
            return [], "no stored report yet", [None] * len(parsed)
        snapshot, market = report_inputs(ctx.store, report.id)
        result, errors = what_if_each(snapshot, market, ctx.rules, parsed)
        basis = basis_text(account, clock_text(report.data_time_ms, pref), result)
        found = list(errors)
        return compare_rows(result), basis, dash.no_update if found == shown_errors else found
