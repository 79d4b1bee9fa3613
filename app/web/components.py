"""Building blocks every view uses: a titled panel with its plain-words tooltip, a dark AG Grid
with formatted numeric columns (numbers stay numbers, so sorting is numeric), and the dark
Plotly layout with ``uirevision`` so a user's zoom survives each update."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from app.web.format import GRID_UNKNOWN_CELL, grid_formatter, grid_full
from app.web.ladder import levels, lv
from risk.model import RiskRules

COLORS = {
    "bg": "#0b0e13",
    "panel": "#141922",
    "grid": "#2a3342",
    "text": "#e8edf4",
    "muted": "#8b96a8",
    "ok": "#2ecc71",
    "watch": "#f5c542",
    "act": "#ff8c1a",
    "danger": "#ff4d4f",
    "stale": "#6b7280",
    "unknown": "#c77dff",  # UNKNOWN: figures unavailable (distinct from every band and STALE)
    "binance": "#e8edf4",  # Binance's own figures beside pmdesk's
    "differs": "#ff7aa8",  # pmdesk and Binance disagree
    "long": "#3fa7ff",
    "short": "#ff7aa8",
}
VENUE_COLORS = {"spot": "#3fa7ff", "margin": "#b084ff", "UM": "#2ecc71", "CM": "#f5c542"}

FONT = "pmdesk Sans"
"""The screen's one typeface: DejaVu Sans subset and bundled (assets/fonts/, built by
scripts/build_font.py), so every glyph — −, ≤, ∞, ⊘, ✔, ✖, ☠, ◷, ↓, ↑, Ⓢ — draws on a bare
browser too."""
FONT_STACK = f"{FONT}, DejaVu Sans, sans-serif"

GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: '#141922', foregroundColor: '#e8edf4', "
    "headerBackgroundColor: '#1b2230', headerTextColor: '#8b96a8', borderColor: '#2a3342', "
    "oddRowBackgroundColor: '#111620', accentColor: '#3fa7ff', fontSize: 17, "
    "cellHorizontalPaddingScale: 0.6, "
    f"headerFontSize: 16, fontFamily: '{FONT_STACK}'}})"
)


def panel(title: str, hint: str, *children: Any, panel_id: str | None = None) -> html.Section:
    """A titled panel; ``hint`` is its heading's tooltip (assets/tips.js: on hover and on tap):
    what it is, how computed, why it matters."""
    parts = [html.H2(title, className="panel-title", title=hint), *children]
    if panel_id is None:
        return html.Section(parts, className="panel")
    return html.Section(parts, id=panel_id, className="panel")


def chart(chart_id: str, height: str) -> dcc.Graph:
    """A Plotly chart filling its panel's width at a fixed share of the screen's height."""
    return dcc.Graph(
        id=chart_id,
        config={"displaylogo": False, "displayModeBar": "hover"},
        responsive=True,
        style={"height": height},
        className="chart",
    )


def _ascii(name: str) -> str:
    if not name.isascii() or not name.strip():
        raise ValueError(f"a CSV header must be plain ASCII: {name!r}")
    return name


def text_col(
    field: str, header: str, hint: str, csv: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A text column; ``csv``: its header in a CSV export (ASCII; the field by default).
    ``wrapText=True`` columns wrap at their ``width`` (down to ``minWidth`` when the grid is
    short of room) instead of widening to their text (assets/grids.js)."""
    col = {"field": field, "headerName": header, "headerTooltip": hint, **extra}
    col["context"] = {**col.get("context", {}), "csv": _ascii(csv or field)}
    if col.get("wrapText"):
        col.setdefault("autoHeight", True)
        col.setdefault("cellClass", "wrap")
        col.setdefault("width", 220)  # preferred; narrower down to minWidth when room is short
        col.setdefault("minWidth", min(120, col["width"]))
    return col


def time_col(field: str, header: str, hint: str, csv: str, **extra: Any) -> dict[str, Any]:
    """A time column: the row holds epoch ms in ``field`` and the words the screen shows (in
    the viewer's UTC/local choice) in ``field + "_text"``; sorted by the time, exported as ISO
    8601 UTC."""
    return text_col(
        field,
        header,
        hint,
        csv=csv,
        valueFormatter={"function": f"params.data ? params.data.{field}_text : ''"},
        filter="agTextColumnFilter",
        filterValueGetter={"function": f"params.data.{field}_text"},
        context={"time": True},
        **extra,
    )


def num_col(
    field: str,
    header: str,
    hint: str,
    spec: str = ",.2f",
    suffix: str = "",
    csv: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A right-aligned numeric column printed with d3-format ``spec`` (``+,.2f`` for PnL); a
    value the row lists as unknown (``format.mark_unknown``) reads "unknown", styled so; from
    1,000,000 on the compact "1.90 M" with the full figure in the cell's tooltip. A CSV export
    holds the number itself under ``csv`` (ASCII, with the unit: ``notional_usd``)."""
    return {
        "field": field,
        "headerName": header,
        "headerTooltip": hint,
        "type": "rightAligned",
        "filter": "agNumberColumnFilter",
        "valueFormatter": {"function": grid_formatter(spec, suffix)},
        "tooltipValueGetter": {"function": grid_full(spec, suffix)},
        "useValueFormatterForExport": False,
        "cellClass": "num",
        "cellClassRules": {"cell-unknown": GRID_UNKNOWN_CELL},
        "context": {"csv": _ascii(csv or field)},
        **extra,
    }


def grid(
    grid_id: str, columns: list[dict[str, Any]], export_name: str, no_rows: str | None = None
) -> dag.AgGrid:
    """Sortable, filterable, exportable to CSV (the numbers themselves, ASCII headers with
    units); rows keep their identity (``key``) across updates so a user's sort and filter stay
    put. Every column is as wide as its header and its widest cell, the spare width shared out
    (assets/grids.js); a grid wider than its panel scrolls inside it. ``no_rows``: what an
    empty grid says."""
    overlay = {} if no_rows is None else {"localeText": {"noRowsToShow": no_rows}}
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=[],
        getRowId="params.data.key",
        defaultColDef={
            "sortable": True,
            "filter": True,
            "resizable": True,
            "minWidth": 60,
            "wrapHeaderText": True,  # only when the grid is too narrow for one-line headers
            "autoHeaderHeight": True,
        },
        dashGridOptions={
            "theme": {"function": GRID_THEME},
            "domLayout": "autoHeight",
            "tooltipShowDelay": 300,
            "animateRows": False,
            "suppressColumnVirtualisation": True,  # every column measured, none left out
            "autoSizePadding": 8,  # beyond the cell's own padding (ag-grid's default: 20 px)
            "enableCellTextSelection": True,
            **overlay,
        },
        csvExportParams={
            "fileName": f"{export_name}.csv",
            "processHeaderCallback": {"function": "pmdeskCsvHeader(params)"},
            "processCellCallback": {"function": "pmdeskCsvCell(params)"},
        },
        className="grid",
    )


UNI_MMR_TICKS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10_000, 100_000)


def uni_mmr_axis(**extra: Any) -> dict[str, Any]:
    """A log uniMMR axis labelled at Binance's levels and round numbers, not at every minor."""
    return {
        "type": "log",
        "tickvals": list(UNI_MMR_TICKS),
        "ticktext": [f"{t:g}" for t in UNI_MMR_TICKS],
        "gridcolor": COLORS["grid"],
        "automargin": True,
        **extra,
    }


def threshold_traces(rules: RiskRules, x: list[Any]) -> list[dict[str, Any]]:
    """The levels the configured product publishes (``ladder.levels``: PM only liquidation,
    PM Pro margin call, reduce only, liquidation and loss claim) as dashed lines across ``x``
    (first and last point), named in the legend so their labels never collide."""
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"{level.name} {lv(level.uni_mmr)}",
            "x": [x[0], x[-1]],
            "y": [level.uni_mmr, level.uni_mmr],
            "line": {
                "color": COLORS[level.color],
                "width": 2,
                "dash": "dot" if level.key == "loss" else "dash",
            },
            "hoverinfo": "skip",
        }
        for level in levels(rules)
    ]


def base_layout(revision: str, **extra: Any) -> dict[str, Any]:
    """Dark, large-type Plotly layout; ``uirevision`` keeps zoom and legend clicks per view.
    Axes given in ``extra`` are laid over the dark axis defaults, not instead of them."""
    axis = {"gridcolor": COLORS["grid"], "zerolinecolor": COLORS["muted"], "automargin": True}
    layout: dict[str, Any] = {
        "uirevision": revision,
        "paper_bgcolor": COLORS["panel"],
        "plot_bgcolor": COLORS["panel"],
        "font": {"color": COLORS["text"], "size": 16, "family": FONT_STACK},
        "margin": {"l": 70, "r": 30, "t": 50, "b": 50},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "hoverlabel": {"font": {"size": 16}},
    }
    for key, value in extra.items():
        is_axis = key.startswith(("xaxis", "yaxis")) and isinstance(value, dict)
        layout[key] = {**axis, **value} if is_axis else value
    return layout


def words_annotation(
    text: str, colour: str, size: int, y: float = 0.5, **extra: Any
) -> dict[str, Any]:
    """Words laid over a figure (in paper coordinates, centred): what a chart says when it has
    nothing to draw, or a note across its top."""
    return {
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": y,
        "text": text,
        "showarrow": False,
        "font": {"color": colour, "size": size},
        **extra,
    }


def view(view_id: str, *panels: html.Section, hidden: bool = True) -> html.Div:
    """One view: its panels, shown when its tab is picked."""
    return html.Div(list(panels), id=f"view-{view_id}", className="view", hidden=hidden)


def empty_figure(revision: str) -> dict[str, Any]:
    return {"data": [], "layout": base_layout(revision)}
