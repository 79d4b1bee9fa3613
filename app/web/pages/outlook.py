"""Outlook: how likely this book is to touch Binance's liquidation level within 1 h / 8 h / 24 h,
from the newest outlook the collector stored (``app/store/outlooks.py``; computed by
``risk/outlook.py`` at most once a minute). The probabilities in words ("1 in 40 over the next
24 h", never "0 %"), the correlation-break variant beside each horizon, a fan chart of uniMMR
over the horizon with Binance's levels, the replays of named episodes and the assets driving
the tail. Every panel says what it rests on (model, paths, data window), its Monte-Carlo
standard error and when it was computed; past ``STALE_AFTER_S`` the whole view turns grey and
says STALE. An unknown outlook is words, never numbers.

Two callbacks: each second the newest outlook's id and age (one indexed query); the content
only when that id changes (decoded once per id)."""

from __future__ import annotations

import functools
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from sqlalchemy.exc import SQLAlchemyError

from app.store.outlooks import OutlookStore, StoredOutlook
from app.web.components import chart, panel
from app.web.context import WebContext
from app.web.pages.outlook_figure import fan_figure, longest, unknown_figure
from app.web.pages.outlook_gate import gate_store, register_gate
from app.web.pages.outlook_tables import driver_items, horizon_rows, replay_rows
from app.web.pages.outlook_words import (
    DEFAULT_STALE_AFTER_S,
    age_words,
    chance_error_words,
    fan_stderr_words,
    horizon_words,
    method_words,
    odds_words,
    pct_words,
    unknown_words,
)
from app.web.times import checked_pref, clock_text

VIEW = "outlook"
GATE = "outlook-gate"  # [tick, account] each second while this view is shown
STALE_AFTER_S = DEFAULT_STALE_AFTER_S
DECODED = 16  # outlooks kept decoded per process (one per account and a few viewers)

HINT = (
    "How likely the account is to touch Binance's liquidation level (and the warning level) "
    "within each horizon, estimated by simulating many price paths and revaluing today's book "
    "on each with pmdesk's margin engine. Filtered historical simulation: the assets' joint "
    "hourly returns from Binance's klines, rescaled to today's EWMA volatility. 'If "
    "correlations break': the same with every correlation forced towards 1 and basis and peg "
    "moves drawn from their worst history. A probability no path reached reads 'less than 1 "
    "in N' for N paths: it is small, never zero. ± is one Monte-Carlo standard error."
)


def _body(*children: Any) -> html.Div:
    return html.Div(list(children), className="outlook-split")


def layout() -> html.Div:
    summary = panel(
        "Outlook: liquidation probability",
        HINT,
        html.Div("no outlook yet", id="outlook-status", className="outlook-status"),
        html.Div("", id="outlook-headline", className="outlook-headline"),
        html.Div("", id="outlook-method", className="outlook-basis"),
        panel_id="outlook-summary",
    )
    fan = panel(
        "uniMMR over the horizon",
        "The spread of uniMMR across the simulated paths, hour by hour: half the paths end "
        "inside the dark band, nine in ten inside the light one; the line is the median. "
        "Binance's liquidation level and the warning level are drawn across it.",
        chart("outlook-fan", "42vh"),
        html.Div("", id="outlook-fan-basis", className="outlook-basis"),
    )
    table = _table_panel(
        "By horizon",
        "Per horizon: the chance of touching the liquidation level at any time before it, the "
        "same with correlations broken, the chance of touching the warning level, the lowest "
        "uniMMR reached on the worst 5 % and 1 % of paths, and the mean equity change over "
        "the worst 5 % (expected shortfall).",
        "outlook-horizons",
        "outlook-table-basis",
    )
    replays = _table_panel(
        "Replays: today's book through past crashes",
        "Today's positions revalued through each named episode's real prices (Binance's "
        "cached klines: minute bars when cached, else hourly): the lowest uniMMR reached and "
        "when liquidation would have started. Real paths: no Monte-Carlo error.",
        "outlook-replays",
        "outlook-replay-basis",
    )
    drivers = panel(
        "What drives the tail",
        "On the worst paths of the longest horizon: each asset's share of the equity lost, and "
        "its mean move across those paths.",
        html.Ul([], id="outlook-drivers", className="outlook-drivers"),
        html.Div("", id="outlook-drivers-basis", className="outlook-basis"),
    )
    return html.Div(
        [
            summary,
            html.Div(
                [table, _body(fan, html.Div([drivers, replays], className="outlook-stack"))],
                id="outlook-body",
                className="outlook-body",
            ),
            dcc.Store(id="outlook-shown"),
            gate_store(GATE),
        ],
        id=f"view-{VIEW}",
        className="view",
        hidden=True,
    )


CONTENT = {
    "headline": Output("outlook-headline", "children"),
    "headline_class": Output("outlook-headline", "className"),
    "method": Output("outlook-method", "children"),
    "fan": Output("outlook-fan", "figure"),
    "fan_basis": Output("outlook-fan-basis", "children"),
    "horizons": Output("outlook-horizons", "children"),
    "table_basis": Output("outlook-table-basis", "children"),
    "replays": Output("outlook-replays", "children"),
    "replay_basis": Output("outlook-replay-basis", "children"),
    "drivers": Output("outlook-drivers", "children"),
    "drivers_basis": Output("outlook-drivers-basis", "children"),
}


def content(found: StoredOutlook | None, account: str, pref: Any) -> dict[str, Any]:
    """Every panel's content from one stored outlook (pure but for the time format)."""
    outlook = None if found is None else found.outlook
    why = unknown_words(outlook)
    if why is not None or outlook is None:
        text = why or "no outlook"
        none = "no figures: the outlook is unknown" if outlook is not None else "no outlook yet"
        return {
            "headline": f"⊘ {text.upper() if outlook is None else text}",
            "headline_class": "outlook-headline outlook-unknown",
            "method": "",
            "fan": unknown_figure(
                text if outlook is None else outlook.unknown or "no horizon computed",
                f"{VIEW}:{account}",
            ),
            "fan_basis": "",
            "horizons": [],
            "table_basis": none,
            "replays": [],
            "replay_basis": none,
            "drivers": [],
            "drivers_basis": none,
        }
    when = f"computed at {clock_text(outlook.computed_at_ms, checked_pref(pref))}"
    top = longest(outlook)
    assert top is not None  # unknown_words said it has horizons
    paths = f"{outlook.n_paths:,} paths"
    return {
        "headline": [
            html.Span(
                f"Liquidation: {odds_words(top.p_liquidation, outlook.n_paths)} over "
                f"{horizon_words(top.horizon_h)}"
            ),
            " ",
            html.Span(pct_words(top.p_liquidation, top.stderr), className="outlook-headline-pct"),
        ],
        "headline_class": "outlook-headline",
        "method": method_words(outlook),
        "fan": fan_figure(outlook, f"{VIEW}:{account}"),
        "fan_basis": (
            f"Quantiles across {paths} over {top.horizon_h:g} h; the liquidation chance "
            f"at {top.horizon_h:g} h: {chance_error_words(top.p_liquidation, top.stderr, paths)}; "
            f"{fan_stderr_words(top.fan)}; data: {outlook.data_words}; {when}"
        ),
        "horizons": horizon_rows(outlook),
        "table_basis": (
            f"{paths} per horizon; ± is one Monte-Carlo standard error, sqrt(p (1 - p) / n); "
            f"EWMA half-life {outlook.half_life_h:g} h; {when}"
        ),
        "replays": replay_rows(outlook.replays, checked_pref(pref)),
        "replay_basis": (
            "Episodes from data/episodes.csv through Binance's cached klines (each row names "
            f"its bars); exact prices, no Monte-Carlo error; {when}"
            if outlook.replays
            else f"no episode replayed (no cached klines for any named episode); {when}"
        ),
        "drivers": driver_items(top),
        "drivers_basis": (
            f"Worst 5 % of {paths} at {top.horizon_h:g} h; ± is one Monte-Carlo standard "
            f"error; data: {outlook.data_words}; {when}"
        ),
    }


def _table_panel(title: str, help_text: str, table_id: str, basis_id: str) -> html.Section:
    """A panel holding one of the view's tables (filled by the callback) and the line saying
    what its figures rest on."""
    return panel(
        title,
        help_text,
        html.Div(html.Table([], id=table_id, className="outlook-table"), className="table-scroll"),
        html.Div("", id=basis_id, className="outlook-basis"),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    register_gate(app, GATE, VIEW)
    outlooks = OutlookStore(ctx.store.engine)
    read = functools.lru_cache(maxsize=DECODED)(outlooks.read)

    @app.callback(
        Output("outlook-shown", "data"),
        Output("outlook-status", "children"),
        Output("outlook-status", "className"),
        Output("outlook-body", "className"),
        Input(GATE, "data"),
        State("outlook-shown", "data"),
    )
    def follow(gate: Any, shown: Any) -> tuple[Any, ...]:
        if not isinstance(gate, list) or len(gate) != 2:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(gate[1] if isinstance(gate[1], str) else None)
        try:
            newest = outlooks.latest_id(account)
        except SQLAlchemyError as exc:
            words = f"the screen cannot read the outlook now: {type(exc).__name__}"
            return dash.no_update, words, "outlook-status outlook-stale", "outlook-body stale"
        key = [account, None if newest is None else newest[0]]
        data = dash.no_update if key == shown else key
        if newest is None:
            return (
                data,
                f"no outlook computed yet for {account}: the collector computes one about "
                "a minute after the account's first figures",
                "outlook-status outlook-stale",
                "outlook-body",
            )
        age, stale = age_words(newest[1], ctx.clock(), STALE_AFTER_S)
        status = f"{account}: outlook {age}"
        if stale:
            status += " (the collector's outlook job has not stored a newer one)"
        return (
            data,
            status,
            "outlook-status outlook-stale" if stale else "outlook-status",
            "outlook-body stale" if stale else "outlook-body",
        )

    @app.callback(
        output=CONTENT,
        inputs={"shown": Input("outlook-shown", "data")},
        state={"pref": State("time-pref", "data")},
    )
    def draw(shown: Any, pref: Any) -> dict[str, Any]:
        if not isinstance(shown, list) or len(shown) != 2:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(shown[0] if isinstance(shown[0], str) else None)
        found = read(shown[1]) if isinstance(shown[1], int) else None
        if found is not None and found.account != account:  # a tampered request
            found = None
        return content(found, account, pref)
