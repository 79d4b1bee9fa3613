"""The alarm on every view: a bounded alert strip, a sound that repeats until every active alert is
acknowledged, and optional browser notifications.

The strip never pushes the figures off the screen: at most one line per account (its worst open
alert, "+N more" opening the Alerts view), one line per cause that hits several accounts at once
(an exchange outage, stale data, figures unavailable), acknowledged alerts collapsed into a
counter, and no more lines than fit (3 on a short screen, 4 otherwise; the rest summed up in the
last line) under a CSS max-height (``assets/alerts.css``). An alert in its cool-down reads
"recovering — clears in N s" with its current value, in the calm colour. Values come from the
account's newest report, the one the tiles show, so one screen shows one figure per account.

The alerts are decided by the collector (``app.alerts``) and read from the store twice a second;
an acknowledgement (one line, or all at once) is stored per alert (who, when), so it silences the
sound on every open screen at the next read. Browsers play sound only after a user gesture: until
then a button asks for it, in large type on a kiosk screen.
"""

from __future__ import annotations

from typing import Any

import dash
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, html
from dash import ctx as callback_ctx

from app.alerts.rules import LEGACY_KEYS
from app.store.alerts import StoredAlert, shown_severity
from app.store.store import StoredReport
from app.web.alarm_strip import strip_controls, strip_lines, strip_rows
from app.web.context import WebContext
from app.web.figures import top_up_advice_of, top_up_move_of
from app.web.format import fmt_uni_mmr, is_unknown
from app.web.severity import liquidation_words
from app.web.signin import can_acknowledge, current_user, require_acknowledge
from risk.model import RiskReport, RiskRules

ALERT_CHECK_MS = 500
SOUND = "/assets/alarm.wav"
ALERTS_VIEW = "alerts"
LINES_TALL, LINES_SHORT = 4, 3  # lines the strip holds; a screen under 900 px tall: the fewer


def _ack_all_button() -> html.Button | html.Span:
    """A viewer's page has no "Acknowledge all" button: an empty hidden span holds its id."""
    if not can_acknowledge():
        return html.Span(id="alert-ack-all", hidden=True)
    return html.Button(
        "Acknowledge all",
        id="alert-ack-all",
        className="alert-ack-all",
        hidden=True,
        title="Silence the alarm for every open alert on every screen (each "
        "recorded with your name and the time)",
    )


def layout() -> html.Div:
    """Per page load: what the signed-in user may do decides the buttons."""
    return html.Div(
        [
            html.Div([], id="alert-banner", className="alert-strip", role="alert", hidden=True),
            html.Div(
                [
                    html.Span("", id="alert-summary", className="alert-summary"),
                    _ack_all_button(),
                    html.Button(
                        "",
                        id="alert-acked",
                        className="alert-acked-count",
                        hidden=True,
                        title="Alerts someone acknowledged: still open, listed on the Alerts view",
                    ),
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
            dash.dcc.Store(id="alert-fit", data=LINES_TALL),
            dash.dcc.Interval(id="alert-tick", interval=ALERT_CHECK_MS, n_intervals=0),
        ],
        className="alarm",
    )


# ---- what the screen needs of the active alerts ------------------------------------------------
Latest = tuple[StoredReport, RiskReport | None]


def live_words(
    a: StoredAlert, latest: Latest | None, rules: RiskRules | None = None
) -> tuple[str, str]:
    """An alert's value and action from the account's newest report where the report holds
    them — spelt as the overview spells them (``app.web.view``), so the strip and the tiles show
    one figure — else as the watch last stored them."""
    if latest is None or latest[0].unknown:
        return a.message, a.action
    report, detail = latest
    if a.key == "uni_mmr" or a.key in LEGACY_KEYS:
        if is_unknown(report.uni_mmr):
            return a.message, a.action
        return f"uniMMR {fmt_uni_mmr(report.uni_mmr)}", top_up_advice_of(report, detail)
    if a.key == "liquidation_move":
        words = liquidation_words(
            report.status,
            report.uni_mmr,
            report.liquidation_down_pct,
            report.liquidation_up_pct,
            rules or RiskRules(),
            unknown=report.unknown,
        )
        # "liquidation ↓ −1.73 %   ↑ never", or the tile's own "IN LIQUIDATION: …"
        live = f"liquidation {words}" if words.startswith("↓") else words
        # The overview's one top-up where it clears the distance, else what the watch wrote.
        cleared_by = top_up_move_of(report, detail)
        return live, top_up_advice_of(report, detail) if cleared_by > 0 else a.action
    return a.message, a.action


def alert_state(
    alerts: list[StoredAlert],
    latest: dict[str, Latest | None] | None = None,
    rules: RiskRules | None = None,
) -> list[dict[str, Any]]:
    """What the screen needs of the active alerts, worst first (as the store returns them),
    with the live value of each account's newest report."""
    latest = latest or {}
    out = []
    for a in alerts:
        message, action = live_words(a, latest.get(a.account), rules)
        out.append(
            {
                "id": a.id,
                "account": a.account,
                "key": a.key,
                "severity": a.severity,
                "shown": shown_severity(a),
                "title": a.title,
                "message": message,
                "action": action,
                "since_ms": a.triggered_at_ms,
                "acked_by": a.acked_by,
                "peak": a.peak,
                "recovering_until_ms": a.recovering_until_ms,
            }
        )
    return out


def who_acknowledges() -> str:
    """The signed-in user (LAN sign-in), else this screen's address."""
    user = current_user()
    if user is not None:
        return user.name
    return f"screen at {flask.request.remote_addr or 'unknown'}"


LIVE_KEYS = ("uni_mmr", "liquidation_move", *LEGACY_KEYS)  # values the newest report holds


def read_state(ctx: WebContext) -> list[dict[str, Any]]:
    """The active alerts, with the newest report of each account whose alerts show a value it
    holds (one indexed query per such account; the detail is cached per report)."""
    alerts = ctx.store.alerts.active()
    accounts = dict.fromkeys(
        a.account for a in alerts if a.account in ctx.accounts and a.key in LIVE_KEYS
    )
    return alert_state(alerts, {acc: ctx.latest(acc) for acc in accounts}, ctx.rules)


def _ids(text: str) -> list[int]:
    """The alert ids an Acknowledge button carries ("12,15"); anything else is no id."""
    return [int(x) for x in text.split(",") if x.strip().isascii() and x.strip().isdigit()]


STATE_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "account": (str,),
    "key": (str,),
    "severity": (str,),
    "shown": (str,),
    "title": (str,),
    "message": (str,),
    "action": (str,),
    "since_ms": (int,),
    "acked_by": (str, type(None)),
    "peak": (str,),
    "recovering_until_ms": (int, type(None)),
}
"""What ``alert_state`` gives each alert (the screen keeps it in the browser)."""


def checked_state(state: Any) -> list[dict[str, Any]]:
    """The alerts' state the browser sent back, as ``alert_state`` made it (None: none yet);
    anything else (a tampered request) is no update."""
    if state is None:
        return []
    if isinstance(state, list) and all(
        isinstance(a, dict)
        and all(isinstance(a.get(k), types) for k, types in STATE_FIELDS.items())
        for a in state
    ):
        return state
    raise dash.exceptions.PreventUpdate


def _clicked() -> bool:
    """A click set off this callback (not a button that just appeared with the strip's lines)."""
    return any(t.get("value") for t in callback_ctx.triggered)


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("alerts-state", "data"),
        Input("alert-tick", "n_intervals"),
        State("alerts-state", "data"),
        running=[(Output("alert-tick", "disabled"), True, False)],
    )
    def read(_n: int, shown: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        state = read_state(ctx)
        if state == shown:
            raise dash.exceptions.PreventUpdate
        return state

    @app.callback(
        output=dict(
            rows=Output("alert-banner", "children"),
            rows_hidden=Output("alert-banner", "hidden"),
            summary=Output("alert-summary", "children"),
            ack_all=Output("alert-ack-all", "children"),
            ack_all_hidden=Output("alert-ack-all", "hidden"),
            acked=Output("alert-acked", "children"),
            acked_hidden=Output("alert-acked", "hidden"),
        ),
        inputs=[
            Input("alerts-state", "data"),
            Input("age-tick", "n_intervals"),
            Input("alert-fit", "data"),
        ],
    )
    def banner(state: list[dict[str, Any]] | None, _n: int, fit: int | None) -> dict[str, Any]:
        state = checked_state(state)
        now = ctx.clock()
        fits = isinstance(fit, int) and not isinstance(fit, bool) and 0 < fit <= 100
        lines = strip_lines(state, now, fit if fits and fit is not None else LINES_TALL)
        can_ack = can_acknowledge()
        summary, ack_all, ack_all_hidden, acked, acked_hidden = strip_controls(state, can_ack)
        return {
            "rows": strip_rows(lines, now, can_ack),
            "rows_hidden": not lines,
            "summary": summary,
            "ack_all": ack_all,
            "ack_all_hidden": ack_all_hidden,
            "acked": acked,
            "acked_hidden": acked_hidden,
        }

    @app.callback(
        Output("alerts-state", "data", allow_duplicate=True),
        Input({"type": "alert-ack", "ids": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge(_clicks: list[int | None]) -> list[dict[str, Any]]:
        require_acknowledge()
        trigger = callback_ctx.triggered_id
        if not isinstance(trigger, dict) or not _clicked():
            raise dash.exceptions.PreventUpdate
        ids = _ids(str(trigger.get("ids", "")))
        if not ids:  # not a button of this page (a tampered request)
            raise dash.exceptions.PreventUpdate
        ctx.store.alerts.acknowledge_all(who_acknowledges(), ctx.clock(), ids)
        return read_state(ctx)

    @app.callback(
        Output("alerts-state", "data", allow_duplicate=True),
        Input("alert-ack-all", "n_clicks"),
        prevent_initial_call=True,
    )
    def acknowledge_all(clicks: int | None) -> list[dict[str, Any]]:
        require_acknowledge()
        if not clicks:
            raise dash.exceptions.PreventUpdate
        ctx.store.alerts.acknowledge_all(who_acknowledges(), ctx.clock())
        return read_state(ctx)

    @app.callback(
        Output("view", "value", allow_duplicate=True),
        Input({"type": "alert-more", "line": ALL}, "n_clicks"),
        Input("alert-acked", "n_clicks"),
        prevent_initial_call=True,
    )
    def open_alerts_view(_more: list[int | None], _acked: int | None) -> str:
        if not _clicked():
            raise dash.exceptions.PreventUpdate
        return ALERTS_VIEW

    # In the browser (assets/alarm.js): the sound follows the unacknowledged alerts; browser
    # notifications for new ones; the one-time audio unlock; the notifications permission; how
    # many strip lines this screen holds.
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("pmdesk", "alarm"),
        Output("alarm-audio", "data-state"),
        Input("alerts-state", "data"),
    )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction("pmdesk", "fit"),
        Output("alert-fit", "data"),
        Input("alerts-state", "data"),
        State("alert-fit", "data"),
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
