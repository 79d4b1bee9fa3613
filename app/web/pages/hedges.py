"""Hedges: per underlying asset, long and short exposure by venue (spot, margin, USD-M,
COIN-M) as a diverging bar chart with the net marked; the hedge ratio and the margin PM saves."""

from __future__ import annotations

from typing import Any

import dash
from dash import Output, html

from app.web.components import (
    VENUE_COLORS,
    base_layout,
    chart,
    empty_figure,
    grid,
    num_col,
    panel,
    text_col,
    view,
)
from app.web.context import WebContext, redraw_on_new_report
from risk.model import HedgeRow

VIEW = "hedges"
VENUES = (("spot", "Spot / wallets", "spot_qty"), ("margin", "Margin loans", "margin_qty"))
FUTURES = (("UM", "USD-M", "um_qty"), ("CM", "COIN-M", "cm_qty"))


def hedge_rows(detail: dict[str, Any]) -> list[HedgeRow]:
    return [HedgeRow(**h) for h in detail["hedges"]]


def hedge_figure(detail: dict[str, Any], revision: str) -> dict[str, Any]:
    """Horizontal diverging bars in USD (quantity × index price), one trace per venue, stacked
    left (short) and right (long) of zero; a diamond marks each asset's net."""
    rows = sorted(hedge_rows(detail), key=lambda h: h.gross_qty * h.price_usd)
    assets = [h.asset for h in rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": label,
            "y": assets,
            "x": [getattr(h, attr) * h.price_usd for h in rows],
            "marker": {"color": VENUE_COLORS[venue]},
            "hovertemplate": f"{label} %{{y}}: %{{x:$,.2f}}<extra></extra>",
        }
        for venue, label, attr in (*VENUES, *FUTURES)
    ]
    traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Net",
            "y": assets,
            "x": [h.net_qty * h.price_usd for h in rows],
            "marker": {"symbol": "diamond", "size": 18, "color": "#ffffff", "line": {"width": 2}},
            "hovertemplate": "Net %{y}: %{x:$,.2f}<extra></extra>",
        }
    )
    return {
        "data": traces,
        "layout": base_layout(
            revision,
            barmode="relative",
            xaxis={"title": {"text": "exposure, USD (short ← → long)"}, "tickformat": "$,.3s"},
            yaxis={"automargin": True},
        ),
    }


def hedge_table(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": h.asset,
            "asset": h.asset,
            "price": h.price_usd,
            "long_usd": h.long_qty * h.price_usd,
            "short_usd": h.short_qty * h.price_usd,
            "net_usd": h.net_qty * h.price_usd,
            "net_qty": h.net_qty,
            "hedge_ratio_pct": 100 * h.hedge_ratio,
            "saving_usd": h.pm_collateral_saving_usd,
        }
        for h in hedge_rows(detail)
    ]


COLUMNS = [
    text_col("asset", "Asset", "The underlying: every venue's exposure to it is summed."),
    num_col("price", "Index", "Binance's asset index price, USD."),
    num_col("long_usd", "Long (USD)", "Sum of the long legs at the index price."),
    num_col("short_usd", "Short (USD)", "Sum of the short legs at the index price."),
    num_col(
        "net_usd",
        "Net (USD)",
        "Long − short: what a move of this asset does to equity.",
        spec="+,.2f",
    ),
    num_col("net_qty", "Net (qty)", "Long − short in the asset's own units.", spec="+,.4f"),
    num_col(
        "hedge_ratio_pct",
        "Hedged",
        "Share of the larger side the smaller side offsets: 100 % is fully hedged.",
        spec=",.1f",
        suffix=" %",
    ),
    num_col(
        "saving_usd",
        "PM saves (USD)",
        "Futures initial margin of this asset's legs that its "
        "own holdings cover under PM; classic accounts would need it posted again.",
    ),
]


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "Exposure by venue",
            "Each asset's long and short legs by venue, in USD at the index price. A hedged "
            "book shows bars of equal length either side of zero and a net near zero.",
            chart("hedge-chart", "46vh"),
        ),
        panel(
            "Hedge ratio and margin saved",
            "Per asset: long, short and net exposure, how much of it is hedged, and the "
            "futures margin PM does not ask for because the asset itself backs it.",
            grid("hedge-grid", COLUMNS, "pmdesk-hedges"),
        ),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    redraw_on_new_report(
        app,
        ctx,
        VIEW,
        [Output("hedge-chart", "figure"), Output("hedge-grid", "rowData")],
        lambda account, detail: (hedge_figure(detail, f"hedges-{account}"), hedge_table(detail)),
        lambda account: (empty_figure(account), []),
    )
