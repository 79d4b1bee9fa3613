"""Hedges: per underlying asset, long and short exposure by venue (spot, margin, USD-M,
COIN-M) as a diverging bar chart with the net marked; the hedge ratio and what each asset's
holdings count for under PM."""

from __future__ import annotations

import math
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
from app.web.format import mark_unknown
from risk.model import HedgeRow, RiskReport

VIEW = "hedges"
VENUES = (("spot", "Spot / wallets", "spot_qty"), ("margin", "Margin loans", "margin_qty"))
FUTURES = (("UM", "USD-M", "um_qty"), ("CM", "COIN-M", "cm_qty"))


def _usd(qty: float, price: float) -> float:
    """Quantity × price (NaN, unknown, when either is)."""
    return qty * price


def _hedged_pct(h: HedgeRow) -> float:
    """Share of the larger side the smaller side offsets (``HedgeRow.hedge_ratio``), in %;
    NaN when a side is unknown."""
    if math.isnan(h.long_qty) or math.isnan(h.short_qty):
        return math.nan
    return 100 * h.hedge_ratio


def _size(h: HedgeRow) -> float:
    gross = _usd(h.gross_qty, h.price_usd)
    return -1.0 if math.isnan(gross) else gross


def hedge_figure(detail: RiskReport, revision: str) -> dict[str, Any]:
    """Horizontal diverging bars in USD (quantity × index price), one trace per venue, stacked
    left (short) and right (long) of zero; a diamond marks each asset's net. An asset whose
    price is unknown has no bars (its row in the table says unknown)."""
    rows = sorted(detail.hedges, key=_size)
    assets = [h.asset for h in rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "name": label,
            "y": assets,
            "x": [_usd(getattr(h, attr), h.price_usd) for h in rows],
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
            "x": [_usd(h.net_qty, h.price_usd) for h in rows],
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


HEDGE_FIGURES = ("price", "long_usd", "short_usd", "net_usd", "net_qty", "hedge_ratio_pct",
                 "pm_counts_usd")  # fmt: skip


def hedge_table(detail: RiskReport) -> list[dict[str, Any]]:
    rows = []
    for h in detail.hedges:
        price = h.price_usd
        row = {
            "key": h.asset,
            "asset": h.asset,
            "price": price,
            "long_usd": _usd(h.long_qty, price),
            "short_usd": _usd(h.short_qty, price),
            "net_usd": _usd(h.net_qty, price),
            "net_qty": h.net_qty,
            "hedge_ratio_pct": _hedged_pct(h),
            "pm_counts_usd": h.own_collateral_usd,
        }
        rows.append(mark_unknown(row, HEDGE_FIGURES))
    return rows


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
    num_col("net_qty", "Net (qty)", "Long − short in the asset's own units.", spec="+,.4~f"),
    num_col(
        "hedge_ratio_pct",
        "Hedged",
        "Share of the larger side the smaller side offsets: 100 % is fully hedged.",
        spec=",.1f",
        suffix=" %",
    ),
    num_col(
        "pm_counts_usd",
        "Counts under PM (USD)",
        "This asset's own holdings as PM counts them (collateral rate applied; a debt in "
        "full). Under PM they back every leg of the book; in classic accounts only the account "
        "they sit in — see PM vs classic.",
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
