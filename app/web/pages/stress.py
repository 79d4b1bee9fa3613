"""Stress: uniMMR under a uniform move of every non-stable asset (−60 % … +60 %) with today's
point, the levels the configured product publishes (PM: liquidation only) and the root-found
liquidation moves; then the scenario table (historical crashes, BTC-beta moves, basis breaks).
UNKNOWN base figures draw no curve: the chart says so and why. Uncalibrated assumptions are said
above the chart, with how far pmdesk's base uniMMR is from Binance's."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, html

from app.store.store import StoredReport
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
    words_annotation,
)
from app.web.context import WebContext
from app.web.figures import calibration_words, unknown_reasons
from app.web.format import UNI_SPEC, fmt_move, mark_unknown
from app.web.ladder import band_word, ladder_hint, top_level
from app.web.severity import past_level_words
from risk.model import MarginBand, RiskReport, RiskRules

VIEW = "stress"
Y_FLOOR = 0.5  # the log axis starts here: below liquidation, still readable
IN_LIQUIDATION = (MarginBand.LIQUIDATION, MarginBand.LIQUIDATION_WITH_LOSS)


def unknown_figure(rules: RiskRules, revision: str) -> dict[str, Any]:
    """No curve when the base figures are unknown: the product's levels and the words."""
    return {
        "data": threshold_traces(rules, [-60, 60]),
        "layout": base_layout(
            revision,
            annotations=[
                words_annotation("⊘ UNKNOWN — stress figures unavailable", COLORS["unknown"], 34)
            ],
            xaxis={"ticksuffix": " %", "range": [-61, 61], "gridcolor": COLORS["grid"]},
            yaxis=uni_mmr_axis(range=[math.log10(Y_FLOOR), math.log10(10.0)]),
        ),
    }


def _drawn(y: float) -> float | None:
    """A uniMMR on the log axis: ∞ (no margin at that move), ≤ 0 or unknown is a gap."""
    return y if math.isfinite(y) and y > 0 else None


def stress_figure(detail: RiskReport, rules: RiskRules, revision: str) -> dict[str, Any]:
    if detail.state == "UNKNOWN":
        return unknown_figure(rules, revision)
    grid_ = detail.stress
    ys = [_drawn(y) for y in grid_.uni_mmr]
    finite = [y for y in ys if y is not None]
    top = max([*finite, top_level(rules) * 2]) if finite else 10.0
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    shock = detail.liquidation_shock
    if detail.status in IN_LIQUIDATION:
        # Past the level there is no move to liquidation: the words say how far past it.
        words = f" {past_level_words(detail.uni_mmr, rules)} "
        notes.append(words_annotation(words, COLORS["danger"], 18, y=0.98, bgcolor=COLORS["panel"]))
    for pct, anchor in ((shock.down_pct, "right"), (shock.up_pct, "left")):
        if detail.status in IN_LIQUIDATION or pct is None or not -60 <= pct <= 60:
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
                "text": f" liquidates at {fmt_move(pct)} ",
                "showarrow": False,
                "font": {"color": COLORS["danger"], "size": 16},
            }
        )
    now = detail.uni_mmr if math.isfinite(detail.uni_mmr) else None
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "uniMMR after the move",
            "x": list(grid_.shock_pct),
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


def scenario_rows(detail: RiskReport, rules: RiskRules | None = None) -> list[dict[str, Any]]:
    """One row per scenario. A non-finite figure travels as null (Dash's JSON): NaN is listed
    as unknown, so only ∞ reads "∞" in the uniMMR column."""
    rules = rules or RiskRules()
    return [
        mark_unknown(
            {
                "key": f"{s.kind}:{s.name}",
                "kind": s.kind,
                "name": s.name,
                "uni_mmr": s.uni_mmr,
                "status": band_word(s.status, rules),
                "equity_usd": s.equity_usd,
                "mm_usd": s.maint_margin_usd,
                "source": s.source,
            },
            ("uni_mmr", "equity_usd", "mm_usd"),
        )
        for s in detail.scenarios
    ]


SCENARIO_COLUMNS = [
    text_col(
        "kind",
        "Kind",
        "historical: a past crash replayed; beta: BTC moves, others by their "
        "beta to BTC; basis: perpetuals break from their index.",
    ),
    text_col("name", "Scenario", "What moves, and by how much.", width=240, wrapText=True),
    num_col(
        "uni_mmr",
        "uniMMR",
        "uniMMR after the scenario; ∞: no maintenance margin left; ≤ 0: adjusted equity at or "
        "below 0 (in liquidation whatever the margin).",
        spec=UNI_SPEC,
    ),
    text_col("status", "Status", "Binance's band at that uniMMR."),
    num_col("equity_usd", "Equity (USD)", "Adjusted equity after the scenario.", spec="+,.2f"),
    num_col("mm_usd", "MM (USD)", "Maintenance margin after the scenario."),
    text_col("source", "Source", "Where the historical move comes from.", width=320, wrapText=True),
]


def stress_note(report: StoredReport, detail: RiskReport) -> tuple[str, str]:
    """(words, css class) above the chart: UNKNOWN and why, or uncalibrated and by how much."""
    if report.unknown:
        reasons = unknown_reasons(report, detail)
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        first = reasons[0] if reasons else "an input could not be read"
        return (
            f"⊘ UNKNOWN — no stress figures until every input is read: {first}{more}",
            "stress-note note-unknown",
        )
    word, sentence = calibration_words(report, detail)
    if word == "uncalibrated":
        return sentence, "stress-note note-uncalibrated"
    return "", "stress-note"


def layout(rules: RiskRules | None = None) -> html.Div:
    rules = rules or RiskRules()
    return view(
        VIEW,
        panel(
            "uniMMR under a uniform move",
            "Every non-stable asset moves by the same % at once (stablecoins hold); uniMMR "
            "is recomputed with collateral tiers and brackets at each step. The red lines "
            "are the moves, found by root search, at which the account liquidates. Dashed: "
            f"the levels Binance publishes for the product. {ladder_hint(rules)}",
            html.Div("", id="stress-note", className="stress-note", hidden=True),
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
    @app.callback(
        Output("stress-chart", "figure"),
        Output("scenario-grid", "rowData"),
        Output("stress-note", "children"),
        Output("stress-note", "className"),
        Output("stress-note", "hidden"),
        Input("report-key", "data"),
        Input("view", "value"),
        Input("account", "value"),
    )
    def refresh(_key: object, shown: str, picked: str | None) -> tuple[Any, ...]:
        if shown != VIEW:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        latest = ctx.latest(account)
        if latest is None:
            return empty_figure(account), [], "", "stress-note", True
        report, detail = latest
        note, note_class = stress_note(report, detail)
        return (
            stress_figure(detail, ctx.rules, f"stress-{account}"),
            scenario_rows(detail, ctx.rules),
            note,
            note_class,
            not note,
        )
