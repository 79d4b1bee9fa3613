"""History: uniMMR, equity and maintenance margin over 1 h / 24 h / 7 d / 30 d from the store,
the worst point of every bucket drawn beside the last, status changes and collector errors
marked on the time axis, and gaps (no data) left as gaps. Periods whose figures were UNKNOWN are
shaded in the UNKNOWN colour (their reports are kept out of the buckets: a gap, not a low point)
and their start marked on the events lane. Over the last hour Binance's own uniMMR, at each
account poll, is drawn beside pmdesk's, and polls where the two disagree are marked."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from app.export import ExportError, history_frame
from app.web.components import (
    chart,
    panel,
)
from app.web.context import WebContext
from app.web.ladder import ladder_hint
from app.web.newest import NewestOnly
from app.web.pages.history_figure import RANGES, history_figure, load_series, unknown_spans
from app.web.pages.history_figure import series_of_buckets as series_of_buckets  # re-export
from app.web.pages.history_figure import series_of_samples as series_of_samples  # re-export
from app.web.times import TimePref, checked_pref, offset_ms, zone_label
from risk.model import RiskRules

VIEW = "history"


def layout(rules: RiskRules | None = None) -> html.Div:
    rules = rules or RiskRules()
    return html.Div(
        [
            panel(
                "History",
                "From the store: every report for the last hour; 1-minute buckets for a day, "
                "10-minute for a week, hourly for a month. The dotted red line is the worst "
                "(lowest) uniMMR inside each bucket, so a short dip never disappears. Diamonds "
                "mark status changes, crosses collector errors; gaps are periods without data; "
                "violet shading: figures UNKNOWN. Over 1 h the white dotted line is Binance's "
                "own uniMMR at each account poll, pink crosses where pmdesk's differs. Dashed: "
                f"the product's levels. {ladder_hint(rules)}",
                html.Button(
                    "Export CSV", id="history-export", className="btn btn-right", n_clicks=0
                ),
                dcc.Download(id="history-download"),
                dcc.RadioItems(
                    id="history-range",
                    options=[{"label": r.label, "value": k} for k, r in RANGES.items()],
                    value="1h",
                    inline=True,
                    className="range-picker",
                ),
                chart("history-chart", "62vh"),
            )
        ],
        id=f"view-{VIEW}",
        className="view",
        hidden=True,
    )


def _shifted(values: Any, pref: TimePref) -> Any:
    return [v if not isinstance(v, int | float) else v + offset_ms(int(v), pref) for v in values]


def in_zone(figure: dict[str, Any], pref: TimePref | None, now_ms: int) -> dict[str, Any]:
    """``figure`` with its time axis in the viewer's UTC/local choice (the header's toggle):
    every time moved to the viewer's wall clock at that instant, the axis and the hover labels
    naming the zone. UTC: the figure as it is."""
    pref = checked_pref(pref)
    if not pref:
        return figure
    label = zone_label(now_ms, pref)
    data = []
    for trace in figure["data"]:
        t = dict(trace)
        if t.get("x") is not None:
            t["x"] = _shifted(t["x"], pref)
        if t.get("name") == "worst in bucket" and t.get("customdata") is not None:
            t["customdata"] = _shifted(t["customdata"], pref)
        if "hovertemplate" in t:
            t["hovertemplate"] = t["hovertemplate"].replace(" UTC", f" {label}")
        data.append(t)
    layout = dict(figure["layout"])
    layout["shapes"] = [
        {**sh, "x0": _shifted([sh["x0"]], pref)[0], "x1": _shifted([sh["x1"]], pref)[0]}
        if sh.get("xref") == "x"
        else sh
        for sh in layout.get("shapes", [])
    ]
    layout["xaxis"] = {**layout["xaxis"], "title": {"text": label}}
    return {"data": data, "layout": layout}


EXPORT_RESOLUTION = {"1h": "reports", "24h": "1m", "7d": "10m", "30d": "1h"}


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("history-download", "data"),
        Input("history-export", "n_clicks"),
        State("history-range", "value"),
        State("account", "value"),
        prevent_initial_call=True,
    )
    def export(_n: int, range_key: str, picked: str | None) -> dict[str, Any]:
        """The range on screen, at the resolution drawn, as CSV."""
        account = ctx.account(picked)
        key = range_key if isinstance(range_key, str) and range_key in RANGES else "1h"
        now = ctx.clock()
        resolution = EXPORT_RESOLUTION[key]
        since = now - RANGES[key].span_s * 1000
        try:
            frame = history_frame(ctx.store, account, since, now + 1, resolution)
        except ExportError:  # nothing stored for the account yet: the view says so already
            raise dash.exceptions.PreventUpdate from None
        name = f"pmdesk-{account}-{key}-{resolution}.csv"
        return {"content": frame.to_csv(index=False), "filename": name, "type": "text/csv"}

    figures: NewestOnly[tuple[str, str], dict[str, Any]] = NewestOnly(
        len(ctx.accounts) * len(RANGES)
    )

    def figure(account: str, range_key: str, report_id: int, minute: int) -> dict[str, Any]:
        """One figure per account and range, drawn again for a newer report (or minute),
        however many viewers ask; only the newest is kept."""
        return figures.get(
            (account, range_key), (report_id, minute), lambda: draw(account, range_key)
        )

    def draw(account: str, range_key: str) -> dict[str, Any]:
        rng = RANGES[range_key]
        now = ctx.clock()
        since = now - rng.span_s * 1000
        changes = ctx.store.status_changes(account, since)
        newest = ctx.store.latest_report(account)
        end = now if newest is None else newest.data_time_ms
        return history_figure(
            load_series(ctx.store, account, rng, now),
            changes,
            ctx.store.events_since(account, since),
            ctx.rules,
            rng,
            f"history-{account}-{range_key}",
            ctx.store.alerts.since(since, account),
            unknown=unknown_spans(changes, since, end, None if newest is None else newest.status),
            reported=ctx.store.reported_points(account, since) if rng.source_s == 0 else (),
        )

    @app.callback(
        Output("history-chart", "figure"),
        Input("report-key", "data"),
        Input("view", "value"),
        Input("account", "value"),
        Input("history-range", "value"),
        Input("time-pref", "data"),
    )
    def refresh(
        _key: object, view: str, picked: str | None, range_key: str, pref: TimePref | None
    ) -> Any:
        if view != VIEW:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        report = ctx.store.latest_report(account)
        rng_key = range_key if isinstance(range_key, str) and range_key in RANGES else "1h"
        if RANGES[rng_key].source_s == 0:  # every report: follow each one
            drawn = figure(account, rng_key, 0 if report is None else report.id, 0)
        else:  # bucketed ranges change only when a bucket does: redrawn once a minute
            drawn = figure(account, rng_key, 0, ctx.clock() // 60_000)
        return in_zone(drawn, pref, ctx.clock())
