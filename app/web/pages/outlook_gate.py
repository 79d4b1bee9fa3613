"""The Outlook's timers, gated in the browser: a view's outlook callbacks reach the server only
while that view is shown (a clientside callback passes the one-second tick on, or not), so the
views that do not show an outlook send nothing for it, and the page is not kept "loading" by
requests whose answer nobody sees."""

from __future__ import annotations

import dash
from dash import Input, Output, dcc

GATE_JS = """
function (n, view, account) {
    if (view !== %(view)s) return window.dash_clientside.no_update;
    const fired = (window.dash_clientside.callback_context.triggered || [])
        .map((t) => t.prop_id);
    const ticked = fired.length === 1 && fired[0] === "age-tick.n_intervals";
    if (ticked && (n || 0) %% %(every)d !== 0) return window.dash_clientside.no_update;
    return [n || 0, account];
}
"""


def gate_store(gate_id: str) -> dcc.Store:
    return dcc.Store(id=gate_id)


def register_gate(app: dash.Dash, gate_id: str, view: str, every_s: int = 1) -> None:
    """``gate_id``'s data becomes [tick, account] each ``every_s`` seconds while ``view`` is
    shown, and at once when the view or the account changes to it."""
    app.clientside_callback(  # type: ignore[no-untyped-call]
        GATE_JS % {"view": repr(view).replace("'", '"'), "every": every_s},
        Output(gate_id, "data"),
        Input("age-tick", "n_intervals"),
        Input("view", "value"),
        Input("account", "value"),
    )
