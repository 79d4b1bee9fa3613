"""Stress: uniMMR under a uniform move of every non-stable asset (−60 % … +60 %) with today's
point, Binance's margin-call and liquidation lines and the root-found liquidation moves; then
the scenario table (historical crashes, BTC-beta moves, basis breaks)."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Output, html

from app.web.components import (
    COLORS,
    base_layout,
    chart,
    empty_figure,
    grid,
    num_col,
    panel,
    text_col,
    threshold_traces,
    uni_mmr_axis,
    view,
)
from app.web.context import WebContext, redraw_on_new_report
from app.web.format import fmt_pct
from risk.model import RiskRules

VIEW = "stress"
Y_FLOOR = 0.5  # the log axis starts here: below liquidation, still readable


def stress_figure(detail: dict[str, Any], rules: RiskRules, revision: str) -> dict[str, Any]:
    grid_ = detail["stress"]
    # JSON null is an infinite uniMMR (no margin at that move): drawn as a gap.
    ys = [y if y is not None and y > 0 else None for y in grid_["uni_mmr"]]
    finite = [y for y in ys if y is not None]
    top = max([*finite, rules.margin_call_uni_mmr * 2]) if finite else 10.0
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    shock = detail["liquidation_shock"]
    for key, anchor in (("down_pct", "right"), ("up_pct", "left")):
        pct = shock[key]
        if pct is None or not -60 <= pct <= 60:
            continue
        shapes.append(
            {
                "type": "line",
                "yref": "paper",
                "x0": pct,
                "x1": pct,
                "y0": 0,
                "y1": 1,
                "line": {"color": COLORS["danger"], "width": 3},
            }
        )
        notes.append(
            {
                "yref": "paper",
                "x": pct,
                "y": 0.98,
                "xanchor": anchor,
                "text": f" liquidates at {fmt_pct(pct)} ",
                "showarrow": False,
                "font": {"color": COLORS["danger"], "size": 16},
            }
        )
    now = detail["uni_mmr"]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "uniMMR after the move",
            "x": grid_["shock_pct"],
            "y": ys,
            "line": {"color": COLORS["long"], "width": 4},
            "hovertemplate": "move %{x:+d} %: uniMMR %{y:,.2f}<extra></extra>",
        }
    ]
    if now is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "now",
                "x": [0],
                "y": [now],
                "marker": {"size": 18, "color": COLORS["text"], "symbol": "circle"},
                "hovertemplate": "now: uniMMR %{y:,.2f}<extra></extra>",
            }
        )
    data.extend(threshold_traces(rules, [-60, 60]))
    return {
        "data": data,
        "layout": base_layout(
            revision,
            shapes=shapes,
            annotations=notes,
            xaxis={
                "title": {"text": "uniform move of every non-stable asset, %"},
                "ticksuffix": " %",
                "range": [-61, 61],
                "gridcolor": COLORS["grid"],
            },
            yaxis=uni_mmr_axis(
                title={"text": "uniMMR (log scale)"},
                range=[math.log10(Y_FLOOR), math.log10(top * 1.2)],
            ),
        ),
    }


def scenario_rows(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": f"{s['kind']}:{s['name']}",
            "kind": s["kind"],
            "name": s["name"],
            "uni_mmr": s["uni_mmr"],
            "status": s["status"].replace("_", " "),
            "equity_usd": s["equity_usd"],
            "mm_usd": s["maint_margin_usd"],
            "source": s["source"],
        }
        for s in detail["scenarios"]
    ]


SCENARIO_COLUMNS = [
    text_col(
        "kind",
        "Kind",
        "historical: a past crash replayed; beta: BTC moves, others by their "
        "beta to BTC; basis: perpetuals break from their index.",
    ),
    text_col("name", "Scenario", "What moves, and by how much.", minWidth=260),
    num_col("uni_mmr", "uniMMR", "uniMMR after the scenario; blank = no margin left (∞)."),
    text_col("status", "Status", "Binance's band at that uniMMR."),
    num_col("equity_usd", "Equity (USD)", "Adjusted equity after the scenario.", spec="+,.2f"),
    num_col("mm_usd", "MM (USD)", "Maintenance margin after the scenario."),
    text_col("source", "Source", "Where the historical move comes from."),
]


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "uniMMR under a uniform move",
            "Every non-stable asset moves by the same % at once (stablecoins hold); uniMMR "
            "is recomputed with collateral tiers and brackets at each step. The red lines "
            "are the moves, found by root search, at which the account liquidates.",
            chart("stress-chart", "52vh"),
        ),
        panel(
            "Scenarios",
            "Historical crashes, BTC moves with others following by beta, and basis breaks, "
            "applied to today's book.",
            grid("scenario-grid", SCENARIO_COLUMNS, "pmdesk-scenarios"),
        ),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    redraw_on_new_report(
        app,
        ctx,
        VIEW,
        [Output("stress-chart", "figure"), Output("scenario-grid", "rowData")],
        lambda account, detail: (
            stress_figure(detail, ctx.rules, f"stress-{account}"),
            scenario_rows(detail),
        ),
        lambda account: (empty_figure(account), []),
    )
