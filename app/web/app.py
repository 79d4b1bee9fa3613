"""The Dash application: reads the store, never the exchange; staleness decided on the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output

from app.clock import now_ms
from app.store.store import Store
from app.web.layout import layout
from app.web.view import build_view

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"


def create_app(
    store: Store, accounts: list[str], stale_after_s: float, clock: Callable[[], int] = now_ms
) -> dash.Dash:
    app = dash.Dash(
        "pmdesk",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        title="pmdesk",
        update_title="",
    )
    app.layout = layout(accounts)

    @app.callback(
        Output("uni-mmr", "children"),
        Output("hero", "className"),
        Output("status-icon", "children"),
        Output("status-text", "children"),
        Output("as-of", "children"),
        Output("adjusted-equity", "children"),
        Output("maint-margin", "children"),
        Output("reported", "children"),
        Output("reported-status", "children"),
        Output("liquidation", "children"),
        Output("liquidation-note", "children"),
        Output("top-up", "children"),
        Output("top-up-note", "children"),
        Output("age", "children"),
        Output("age-note", "children"),
        Output("age-tile", "className"),
        Output("feed-status", "children"),
        Output("feed-status", "className"),
        Output("feed-message", "children"),
        Output("sim-banner", "hidden"),
        Output("marks-note", "children"),
        Output("weight-note", "children"),
        Input("tick", "n_intervals"),
        Input("account", "value"),
    )
    def refresh(_n: int, account: str | None) -> tuple[Any, ...]:
        if account not in accounts:
            account = accounts[0]
        v = build_view(
            store.latest_report(account),
            store.latest_event(account),
            clock(),
            stale_after_s,
            store.latest_weight(),
        )
        return (
            v.uni_mmr,
            f"hero {v.band_class}",
            v.status_icon,
            v.status_text,
            v.as_of,
            v.adjusted_equity,
            v.maint_margin,
            v.reported_uni_mmr,
            v.reported_status,
            v.liquidation,
            v.liquidation_note,
            v.top_up,
            v.top_up_note,
            v.age,
            "STALE" if v.stale else f"limit {stale_after_s:g} s",
            "tile tile-stale" if v.stale else "tile",
            v.feed_status,
            f"feed feed-{v.feed_status}",
            v.feed_message,
            not v.simulated,
            v.marks_note,
            v.weight_note,
        )

    return app
