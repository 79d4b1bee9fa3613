"""The Overview's compact Outlook: one line under the uniMMR, the chance of touching Binance's
liquidation level within the longest horizon of the newest stored outlook, in words, with its
Monte-Carlo standard error, the correlation-break figure and its age (greyed and STALE past the
Outlook view's limit; "outlook unknown" in words when it could not be computed). Read each
second with one indexed query; decoded once per stored outlook."""

from __future__ import annotations

import functools
from typing import Any

import dash
from dash import Input, Output, html
from sqlalchemy.exc import SQLAlchemyError

from app.store.outlooks import OutlookStore, StoredOutlook
from app.web.context import WebContext
from app.web.pages.outlook_figure import longest
from app.web.pages.outlook_gate import gate_store, register_gate
from app.web.pages.outlook_words import (
    DEFAULT_STALE_AFTER_S,
    age_words,
    horizon_words,
    odds_words,
    pct_words,
    unknown_words,
)

VIEW = "overview"
GATE = "overview-outlook-gate"  # [tick, account] every EVERY_S while the overview is shown
EVERY_S = 5  # the outlook changes once a minute: its age every few seconds is enough


def line() -> html.Div:
    return html.Div(
        [
            html.Span("Outlook", className="overview-outlook-label"),
            html.Span("—", id="overview-outlook", className="overview-outlook-value"),
            html.Span("", id="overview-outlook-note", className="overview-outlook-note"),
            gate_store(GATE),
        ],
        id="overview-outlook-line",
        className="overview-outlook",
        title="The chance of touching Binance's liquidation level within the horizon, from "
        "simulated price paths on the assets' own history (the Outlook view has the fan, the "
        "horizons, the replays and what drives it); ± is one Monte-Carlo standard error.",
    )


def words(found: StoredOutlook | None, now_ms: int) -> tuple[str, str, str]:
    """(value, note, class) of the line."""
    outlook = None if found is None else found.outlook
    why = unknown_words(outlook)
    if found is None or outlook is None:
        return "no outlook yet", "", "overview-outlook outlook-none"
    age, stale = age_words(found.computed_at_ms, now_ms, DEFAULT_STALE_AFTER_S)
    stale_class = " outlook-stale" if stale else ""
    if why is not None:
        return why, age, f"overview-outlook outlook-unknown{stale_class}"
    top = longest(outlook)
    assert top is not None
    broken = next((b for b in outlook.correlation_break if b.horizon_h == top.horizon_h), None)
    value = (
        f"liquidation {odds_words(top.p_liquidation, outlook.n_paths)} over "
        f"{horizon_words(top.horizon_h)}"
    )
    parts = [pct_words(top.p_liquidation, top.stderr)]
    if broken is not None:
        parts.append(f"if correlations break {odds_words(broken.p_liquidation, outlook.n_paths)}")
    parts.append(age)
    return value, " · ".join(parts), f"overview-outlook{stale_class}"


def register(app: dash.Dash, ctx: WebContext) -> None:
    register_gate(app, GATE, VIEW, EVERY_S)
    outlooks = OutlookStore(ctx.store.engine)
    read = functools.lru_cache(maxsize=16)(outlooks.read)

    @app.callback(
        Output("overview-outlook", "children"),
        Output("overview-outlook-note", "children"),
        Output("overview-outlook-line", "className"),
        Input(GATE, "data"),
    )
    def refresh(gate: Any) -> tuple[Any, ...]:
        if not isinstance(gate, list) or len(gate) != 2:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(gate[1] if isinstance(gate[1], str) else None)
        try:
            newest = outlooks.latest_id(account)
        except SQLAlchemyError:  # the store's own banner says why; the line goes grey
            return dash.no_update, "not readable now", "overview-outlook outlook-stale"
        found = None if newest is None else read(newest[0])
        return words(found, ctx.clock())
