"""PM vs classic: what this book would tie up as separate classic accounts (cross margin,
USD-M and COIN-M futures, each posting its own collateral) against one PM pool."""

from __future__ import annotations

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
    view,
)
from app.web.context import WebContext, redraw_on_new_report
from risk.classic import ClassicComparison

VIEW = "classic"


def comparison(detail: dict[str, Any]) -> ClassicComparison:
    return ClassicComparison(**detail["classic"])


def classic_rows(detail: dict[str, Any]) -> list[dict[str, Any]]:
    c = comparison(detail)
    rows = [
        (
            "um",
            "USD-M wallet (classic)",
            c.um_initial_usd,
            "Initial margin the futures wallet must hold in stablecoin: Σ size · mark / leverage.",
        ),
        (
            "cm",
            "COIN-M wallet (classic)",
            c.cm_initial_usd,
            "Initial margin each COIN-M wallet must hold in its coin, in USD.",
        ),
        (
            "margin",
            "Cross margin (classic)",
            c.margin_initial_usd,
            "Collateral the cross-margin account needs for its loans: borrowed / (leverage − 1).",
        ),
        (
            "classic",
            "Classic total posted",
            c.classic_posted_usd,
            "Sum of the three: collateral that cannot back anything else.",
        ),
        (
            "pm_im",
            "PM initial margin",
            c.pm_initial_usd,
            "The same legs' initial margin under PM, from one pool.",
        ),
        (
            "pm_collateral",
            "PM: non-stable holdings count",
            c.non_stable_collateral_usd,
            "What PM counts of the non-stable holdings as collateral (after haircuts).",
        ),
        (
            "pm_stable",
            "PM: stablecoin still needed",
            c.pm_stable_needed_usd,
            "PM initial margin beyond what the holdings already cover.",
        ),
        ("saving", "PM frees", c.saving_usd, "Classic total posted − PM stablecoin needed."),
    ]
    return [{"key": k, "line": name, "usd": v, "how": how} for k, name, v, how in rows]


def classic_figure(detail: dict[str, Any], revision: str) -> dict[str, Any]:
    c = comparison(detail)
    return {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": ["Classic accounts", "Portfolio Margin"],
                "y": values,
                "marker": {"color": color},
                "hovertemplate": f"{name}: %{{y:$,.2f}}<extra></extra>",
            }
            for name, values, color in (
                ("USD-M wallet", [c.um_initial_usd, 0], COLORS["ok"]),
                ("COIN-M wallet", [c.cm_initial_usd, 0], COLORS["watch"]),
                ("cross margin", [c.margin_initial_usd, 0], "#b084ff"),
                ("PM stablecoin needed", [0, c.pm_stable_needed_usd], COLORS["long"]),
            )
        ],
        "layout": base_layout(
            revision,
            barmode="stack",
            annotations=[
                {
                    "x": x,
                    "y": total,
                    "text": f"${total:,.2f}",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"size": 20, "color": COLORS["text"]},
                }
                for x, total in (
                    ("Classic accounts", c.classic_posted_usd),
                    ("Portfolio Margin", c.pm_stable_needed_usd),
                )
            ],
            yaxis={
                "title": {"text": "collateral to post, USD"},
                "tickformat": "$,.3s",
                "gridcolor": COLORS["grid"],
            },
        ),
    }


COLUMNS = [
    text_col("line", "", "", minWidth=260),
    num_col("usd", "USD", "In USD at index prices."),
    text_col(
        "how", "How", "How the figure is computed.", minWidth=420, wrapText=True, autoHeight=True
    ),
]


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "Collateral to post: classic vs PM",
            "Classic accounts do not share collateral: each wallet posts its own legs' "
            "initial margin, and spot holdings cannot back a futures position. Under PM "
            "one pool backs everything, non-stable assets at their collateral rates.",
            chart("classic-chart", "42vh"),
        ),
        panel(
            "The arithmetic",
            "Each line of the comparison, with its formula.",
            grid("classic-grid", COLUMNS, "pmdesk-pm-vs-classic"),
        ),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    redraw_on_new_report(
        app,
        ctx,
        VIEW,
        [Output("classic-chart", "figure"), Output("classic-grid", "rowData")],
        lambda account, detail: (
            classic_figure(detail, f"classic-{account}"),
            classic_rows(detail),
        ),
        lambda account: (empty_figure(account), []),
    )
