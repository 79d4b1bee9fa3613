"""The alarm on every view: a banner per active alert (account, rule, value, what to do), a sound
that repeats until every active alert is acknowledged, and optional browser notifications.

The alerts are decided by the collector (``app.alerts``) and read from the store twice a second;
an acknowledgement is stored (who, when), so it silences the sound on every open screen at the
next read. Browsers play sound only after a user gesture: until then a button asks for it, in
large type on a kiosk screen.
"""

from __future__ import annotations

from typing import Any

import dash
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, html
from dash import ctx as callback_ctx

from app.store.alerts import StoredAlert
from app.web.context import WebContext
from app.web.format import fmt_age

ALERT_CHECK_MS = 500
SOUND = "/assets/alarm.wav"


def layout() -> html.Div:
    return html.Div(
        [
            html.Div([], id="alert-banner", className="alert-banner", role="alert"),
            html.Div(
                [
                    html.Button(
                        "🔊 Click to enable the alarm sound",
                        id="sound-unlock",
                        className="sound-unlock",
                        title="Browsers play sound only after a click on the page: click once "
                        "so this screen can sound the alarm.",
                    ),
                    html.Button(
                        "Desktop notifications",
                        id="notify-permission",
                        className="notify-permission",
                        title="Also show alerts as the browser's notifications (asks once).",
                    ),
                ],
                className="alarm-controls",
            ),
            html.Audio(id="alarm-audio", src=SOUND, loop=True, preload="auto"),
            dash.dcc.Store(id="alerts-state", data=[]),
            dash.dcc.Interval(id="alert-tick", interval=ALERT_CHECK_MS, n_intervals=0),
        ],
        className="alarm",
    )


def alert_state(alerts: list[StoredAlert]) -> list[dict[str, Any]]:
    """What the screen needs of the active alerts, worst first (as the store returns them)."""
    return [
        {
            "id": a.id,
            "account": a.account,
            "severity": a.severity,
            "title": a.title,
            "message": a.message,
            "action": a.action,
            "since_ms": a.triggered_at_ms,
            "acked_by": a.acked_by,
        }
        for a in alerts
    ]


def banner_rows(state: list[dict[str, Any]], now_ms: int) -> list[html.Div]:
    rows = []
    for a in state:
        acked = a["acked_by"] is not None
        ack: html.Button | html.Span = (
            html.Span(f"silenced by {a['acked_by']}", className="alert-acked")
            if acked
            else html.Button(
                "Acknowledge",
                id={"type": "alert-ack", "id": a["id"]},
                className="alert-ack",
                title="Silence the alarm for this alert on every screen (recorded with your name)",
            )
        )
        rows.append(
            html.Div(
                [
                    html.Span(a["severity"].upper(), className="alert-severity"),
                    html.Span(a["account"], className="alert-account"),
                    html.Span(a["title"], className="alert-title"),
                    html.Span(a["message"], className="alert-message"),
                    html.Span(a["action"], className="alert-action"),
                    html.Span(
                        f"for {fmt_age((now_ms - a['since_ms']) / 1000)}", className="alert-age"
                    ),
                    ack,
                ],
                className=f"alert-row alert-{a['severity']}" + (" alert-is-acked" if acked else ""),
            )
        )
    return rows


def who_acknowledges() -> str:
    """The signed-in user (LAN sign-in), else this screen's address."""
    auth = flask.request.authorization
    if auth is not None and auth.username:
        return str(auth.username)
    return f"screen at {flask.request.remote_addr or 'unknown'}"


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("alerts-state", "data"),
        Input("alert-tick", "n_intervals"),
        State("alerts-state", "data"),
        running=[(Output("alert-tick", "disabled"), True, False)],
    )
    def read(_n: int, shown: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        state = alert_state(ctx.store.alerts.active())
        if state == shown:
            raise dash.exceptions.PreventUpdate
        return state

    @app.callback(
        Output("alert-banner", "children"),
        Output("alert-banner", "hidden"),
        Input("alerts-state", "data"),
        Input("age-tick", "n_intervals"),
    )
    def banner(state: list[dict[str, Any]] | None, _n: int) -> tuple[list[html.Div], bool]:
        state = state or []
        return banner_rows(state, ctx.clock()), not state

    @app.callback(
        Output("alerts-state", "data", allow_duplicate=True),
        Input({"type": "alert-ack", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge(clicks: list[int | None]) -> list[dict[str, Any]]:
        trigger = callback_ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks):
            raise dash.exceptions.PreventUpdate
        ctx.store.alerts.acknowledge(int(trigger["id"]), who_acknowledges(), ctx.clock())
        return alert_state(ctx.store.alerts.active())

    # In the browser (assets/alarm.js): the sound follows the unacknowledged alerts; browser
    # notifications for new ones; the one-time audio unlock; the notifications permission.
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("pmdesk", "alarm"),
        Output("alarm-audio", "data-state"),
        Input("alerts-state", "data"),
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("pmdesk", "unlock"),
        Output("sound-unlock", "title"),
        Input("sound-unlock", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("pmdesk", "notifications"),
        Output("notify-permission", "title"),
        Input("notify-permission", "n_clicks"),
        prevent_initial_call=True,
    )
