"""Positions and balances: every futures position with its notional, mark, PnL, maintenance
margin and bracket, share of all MM and the (all-else-equal) liquidation price of its asset;
every asset's equity and collateral value. Sortable, filterable, exportable to CSV. A figure
pmdesk could not compute reads "unknown" (never a number); the others stay shown."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, html

from app.web.components import grid, num_col, panel, text_col, view
from app.web.context import WebContext, redraw_on_new_report
from app.web.format import mark_unknown
from risk.model import PositionMargin, RiskReport

VIEW = "positions"


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


POSITION_FIGURES = ("entry", "mark", "notional_usd", "upnl_usd", "mm_usd", "mmr_pct", "bracket",
                    "mm_share_pct")  # fmt: skip
"""Never missing when known: a NaN among them is a figure pmdesk could not compute."""


def position_base(p: PositionMargin) -> dict[str, Any]:
    """A position's identity and figures as every positions grid shows them (Positions,
    Liabilities & P&L): row key, venue, symbol, side, size, entry, mark, notional, uPnL."""
    return {
        "key": f"{p.venue}:{p.symbol}:{p.position_side}",
        "venue": p.venue,
        "symbol": p.symbol,
        "side": "LONG" if p.amount > 0 else "SHORT",
        "amount": p.amount,
        "entry": p.entry_price,
        "mark": p.mark_price,
        "notional_usd": p.notional_usd,
        "upnl_usd": p.unrealized_pnl_usd,
    }


def position_rows(detail: RiskReport) -> list[dict[str, Any]]:
    liq = {a.asset: a for a in detail.asset_liquidations}
    # The stress figures (liquidation prices) are all unknown when the report is; otherwise a
    # missing price is "no such move".
    unknown = detail.state == "UNKNOWN"
    rows = []
    for p in detail.positions:
        at = liq.get(p.asset)
        row = position_base(p) | {
            "mm_usd": p.maint_margin_usd,
            "mmr_pct": _pct(p.maint_margin_ratio),
            "bracket": p.bracket,
            "mm_share_pct": _pct(p.mm_share),
            "liq_down": None if at is None else at.down_price_usd,
            "liq_up": None if at is None else at.up_price_usd,
        }
        rows.append(
            mark_unknown(row, POSITION_FIGURES + (("liq_down", "liq_up") if unknown else ()))
        )
    return rows


def balance_rows(detail: RiskReport) -> list[dict[str, Any]]:
    rows = []
    for a in detail.assets:
        actual, adjusted = a.actual_equity_usd, a.adjusted_equity_usd
        known_haircut = not (math.isnan(actual) or math.isnan(adjusted))
        haircut = None
        if known_haircut and actual > 0:
            haircut = 100 * (1 - adjusted / actual)
        row = {
            "key": a.asset,
            "asset": a.asset,
            "equity_qty": a.equity_qty,
            "index": a.index_price_usd,
            "value_usd": actual,
            "adjusted_usd": adjusted,
            "haircut_pct": haircut,
            "kind": "stablecoin" if a.stable else "",
        }
        fields = ("equity_qty", "index", "value_usd", "adjusted_usd")
        rows.append(mark_unknown(row, fields + (() if known_haircut else ("haircut_pct",))))
    return rows


LIQ_HINT = (
    "Index price of this position's asset at which the whole account reaches liquidation with "
    "every other price held (all else equal). Under PM the account-wide distance on the "
    "overview comes first."
)
POSITION_COLUMNS = [
    text_col("venue", "Venue", "UM = USD-M futures, CM = COIN-M futures."),
    text_col("symbol", "Symbol", "The contract."),
    text_col("side", "Side", "Long or short (one-way mode: from the amount's sign)."),
    num_col(
        "amount", "Size", "Base quantity (UM) or contracts (CM), signed.", "+,.4~f", csv="size_qty"
    ),
    num_col("entry", "Entry", "Average entry price.", csv="entry_price"),
    num_col("mark", "Mark", "Mark price now (streamed between account polls).", csv="mark_price"),
    num_col("notional_usd", "Notional (USD)", "|size| × mark, in USD."),
    num_col(
        "upnl_usd", "uPnL (USD)", "Unrealized PnL as the exchange reports it, in USD.", spec="+,.2f"
    ),
    num_col("mm_usd", "MM (USD)", "Maintenance margin: notional × bracket rate − cum amount."),
    num_col(
        "mmr_pct", "MM rate", "The bracket's maintenance margin rate.", spec=",.2f", suffix=" %"
    ),
    num_col("bracket", "Bracket", "1-based leverage bracket the notional falls in.", spec="d"),
    num_col(
        "mm_share_pct",
        "Share of MM",
        "This position's part of the account's MM.",
        spec=",.1f",
        suffix=" %",
    ),
    num_col("liq_down", "Liq ↓ (asset)", LIQ_HINT, csv="liq_down_index_usd"),
    num_col("liq_up", "Liq ↑ (asset)", LIQ_HINT, csv="liq_up_index_usd"),
]

BALANCE_COLUMNS = [
    text_col("asset", "Asset", "Held or owed in the PM account."),
    num_col(
        "equity_qty",
        "Equity (qty)",
        "Margin balance + futures wallets + unrealized PnL − "
        "loans − interest, in the asset's units.",
        spec="+,.6~f",
    ),
    num_col("index", "Index", "Binance's asset index price, USD.", csv="index_usd"),
    num_col("value_usd", "Value (USD)", "Equity × index price.", spec="+,.2f"),
    num_col(
        "adjusted_usd",
        "Collateral (USD)",
        "Value after the tiered collateral rate; debts count in full.",
        spec="+,.2f",
        csv="collateral_usd",
    ),
    num_col(
        "haircut_pct",
        "Haircut",
        "Share of the value PM does not count as collateral.",
        spec=",.2f",
        suffix=" %",
    ),
    text_col("kind", "Kind", "Stablecoins are the buffer."),
]


def layout() -> html.Div:
    def export(button_id: str) -> html.Button:
        return html.Button("Export CSV", id=button_id, className="btn", n_clicks=0)

    return view(
        VIEW,
        panel(
            "Positions",
            "Every open futures position with the margin it costs and where its asset "
            "would have to go for the account to liquidate.",
            export("positions-export"),
            grid("positions-grid", POSITION_COLUMNS, "pmdesk-positions"),
        ),
        panel(
            "Balances",
            "Every asset's equity and what PM counts of it as collateral.",
            export("balances-export"),
            grid("balances-grid", BALANCE_COLUMNS, "pmdesk-balances"),
        ),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    redraw_on_new_report(
        app,
        ctx,
        VIEW,
        [Output("positions-grid", "rowData"), Output("balances-grid", "rowData")],
        lambda account, detail: (position_rows(detail), balance_rows(detail)),
        lambda account: ([], []),
    )

    for name in ("positions", "balances"):

        @app.callback(
            Output(f"{name}-grid", "exportDataAsCsv"),
            Input(f"{name}-export", "n_clicks"),
            prevent_initial_call=True,
        )
        def export(_n: int) -> bool:
            return True
