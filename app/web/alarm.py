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

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import dash
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, html
from dash import ctx as callback_ctx

from app.alerts.rules import LEGACY_KEYS
from app.store.alerts import StoredAlert, shown_severity
from app.store.store import StoredReport
from app.web.context import WebContext
from app.web.format import fmt_age, fmt_uni_mmr, is_unknown
from app.web.signin import can_acknowledge, current_user, require_acknowledge
from app.web.view import liquidation_words, top_up_advice_of, top_up_move_of
from risk.model import RiskRules

ALERT_CHECK_MS = 500
SOUND = "/assets/alarm.wav"
ALERTS_VIEW = "alerts"
LINES_TALL, LINES_SHORT = 4, 3  # lines the strip holds; a screen under 900 px tall: the fewer
# One cause, several accounts: one line naming them (an outage makes every account stale and
# every collector fail at once).
CAUSES = {"stale": "feed", "collector_error": "feed", "figures_unavailable": "figures"}
SEVERITY_ORDER = {"critical": 2, "warn": 1, "calm": 0}
# Which of an account's alerts of one severity leads its line: the figures themselves first
# (unknown, uniMMR — the hero's number), then how near liquidation, Binance's word, the feed.
LEADS = (
    "figures_unavailable",
    "uni_mmr",
    "liquidation_move",
    "account_status",
    "collector_error",
    "stale",
    "asset_liquidation",
    "reconciliation",
    "usage_rise",
)


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
Latest = tuple[StoredReport, dict[str, Any] | None]


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


# ---- the strip ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    """One line of the strip: an account's worst open alert, or a cause several accounts share."""

    key: str  # "account:NAME" or "cause:feed"
    shown: str  # "critical" | "warn" | "calm" (recovering)
    accounts: tuple[str, ...]
    title: str
    message: str
    action: str
    since_ms: int
    more: int  # other open alerts behind this line (on the Alerts view)
    ids: tuple[int, ...]  # what its Acknowledge covers
    label: str = ""  # instead of the accounts (the overflow line: "2 more")

    @property
    def badge(self) -> str:
        return "RECOVERING" if self.shown == "calm" else self.shown.upper()


def recovering_note(a: dict[str, Any], now_ms: int) -> str:
    left_s = max(0.0, (a["recovering_until_ms"] - now_ms) / 1000)
    when = f"in {fmt_age(left_s)}" if left_s >= 1 else "now"
    if a["shown"] == "calm":
        return f"recovering — clears {when}"
    return f"easing from {a['severity'].upper()} — {a['shown']} {when}"


def _line(key: str, alerts: list[dict[str, Any]], more: int, now_ms: int) -> Line:
    """``alerts``: worst first; the line says the first (a shared cause: each distinct rule),
    names every account, and its Acknowledge covers them all."""
    head = alerts[0]
    accounts = tuple(dict.fromkeys(a["account"] for a in alerts))
    if head["recovering_until_ms"] is not None:
        # Calm now: the alarm's words would contradict the value; say where it is going.
        title = recovering_note(head, now_ms)
        peak = head["peak"].upper()
        action = f"was {peak}: {head['title']}" if head["shown"] == "calm" else ""
    else:
        shared = key.startswith("cause:")
        title = "; ".join(dict.fromkeys(a["title"] for a in alerts)) if shared else head["title"]
        action = head["action"]
    return Line(
        key=key,
        shown=head["shown"],
        accounts=accounts,
        title=title,
        message=head["message"],
        action=action,
        since_ms=head["since_ms"] if more else min(a["since_ms"] for a in alerts),
        more=more,
        ids=tuple(a["id"] for a in alerts),
    )


def lead_order(a: dict[str, Any]) -> tuple[int, int, int, int]:
    key = a["key"].split(":", 1)[0]
    lead = LEADS.index(key) if key in LEADS else len(LEADS)
    return (-SEVERITY_ORDER.get(a["shown"], 0), lead, a["since_ms"], a["id"])


def _rank(line: Line) -> tuple[int, bool, int]:
    """Worst first; of one severity, a cause hitting several accounts first, then the oldest
    (lines keep their place as alerts come)."""
    return (-SEVERITY_ORDER.get(line.shown, 0), not line.key.startswith("cause:"), line.since_ms)


def strip_lines(state: list[dict[str, Any]], now_ms: int, max_lines: int) -> list[Line]:
    """The strip's lines, worst first, at most ``max_lines``: unacknowledged alerts only."""
    unacked = sorted((a for a in state if a["acked_by"] is None), key=lead_order)
    by_cause: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in unacked:
        if a["key"] in CAUSES:
            by_cause[CAUSES[a["key"]]].append(a)
    lines: list[Line] = []
    shared: set[int] = set()
    for cause, alerts in by_cause.items():
        if len({a["account"] for a in alerts}) < 2:
            continue  # one account: its own line says it
        lines.append(_line(f"cause:{cause}", alerts, 0, now_ms))
        shared |= {a["id"] for a in alerts}
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in unacked:
        if a["id"] not in shared:
            by_account[a["account"]].append(a)  # worst first
    for account, alerts in by_account.items():
        lines.append(_line(f"account:{account}", alerts, len(alerts) - 1, now_ms))
    lines.sort(key=_rank)
    if len(lines) <= max_lines:
        return lines
    kept, rest = lines[: max_lines - 1], lines[max_lines - 1 :]
    named = [
        f"{line.title} on {len(line.accounts)} accounts"
        if line.key.startswith("cause:")
        else f"{line.accounts[0]} {line.badge.lower()}"
        for line in rest
    ]
    overflow = Line(
        key="overflow",
        shown=rest[0].shown,
        accounts=tuple(dict.fromkeys(a for line in rest for a in line.accounts)),
        label=f"{len(rest)} more:",
        title=" · ".join(named),
        message="",
        action="every alert is on the Alerts view",
        since_ms=min(line.since_ms for line in rest),
        more=sum(len(line.ids) for line in rest),
        ids=tuple(i for line in rest for i in line.ids),
    )
    return [*kept, overflow]


def _accounts_text(line: Line) -> str:
    if line.label:
        return line.label
    if len(line.accounts) == 1:
        return line.accounts[0]
    return f"{len(line.accounts)} accounts: {', '.join(line.accounts)}"


def _span(text: str, cls: str) -> html.Span:
    return html.Span(text, className=cls, title=text)


def strip_rows(lines: list[Line], now_ms: int, can_ack: bool = True) -> list[html.Div]:
    """The strip's lines; a viewer's (``can_ack`` False) without Acknowledge buttons."""
    rows = []
    for line in lines:
        parts: list[Any] = [
            html.Span(line.badge, className="line-badge"),
            _span(_accounts_text(line), "line-account"),
            _span(line.title, "line-title"),
        ]
        if line.message:
            parts.append(_span(line.message, "line-value"))
        parts.append(_span(line.action, "line-action"))
        parts.append(
            html.Span(f"for {fmt_age((now_ms - line.since_ms) / 1000)}", className="line-age")
        )
        if line.more:
            parts.append(
                html.Button(
                    f"+{line.more} more",
                    id={"type": "alert-more", "line": line.key},
                    className="line-more",
                    title="Open the Alerts view: every open alert, with its value",
                )
            )
        if can_ack:
            parts.append(
                html.Button(
                    "Acknowledge",
                    id={"type": "alert-ack", "ids": ",".join(map(str, line.ids))},
                    className="line-ack",
                    title="Silence the alarm for "
                    + ("this alert" if len(line.ids) == 1 else f"these {len(line.ids)} alerts")
                    + " on every screen (recorded with your name)",
                )
            )
        rows.append(html.Div(parts, className=f"alert-line sev-{line.shown}"))
    return rows


def strip_controls(
    state: list[dict[str, Any]], can_ack: bool = True
) -> tuple[str, str, bool, str, bool]:
    """(summary, "Acknowledge all" label, its hidden, acknowledged counter, its hidden); a
    viewer's "Acknowledge all" stays hidden and empty."""
    unacked = sum(a["acked_by"] is None for a in state)
    acked = len(state) - unacked
    accounts = len({a["account"] for a in state})
    summary = (
        f"{len(state)} open on {accounts} account{'s' if accounts != 1 else ''}" if state else ""
    )
    return (
        summary,
        f"Acknowledge all ({unacked})" if can_ack else "",
        unacked == 0 or not can_ack,
        f"{acked} acknowledged",
        acked == 0,
    )


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
        Output("alert-banner", "children"),
        Output("alert-banner", "hidden"),
        Output("alert-summary", "children"),
        Output("alert-ack-all", "children"),
        Output("alert-ack-all", "hidden"),
        Output("alert-acked", "children"),
        Output("alert-acked", "hidden"),
        Input("alerts-state", "data"),
        Input("age-tick", "n_intervals"),
        Input("alert-fit", "data"),
    )
    def banner(state: list[dict[str, Any]] | None, _n: int, fit: int | None) -> tuple[Any, ...]:
        state = checked_state(state)
        now = ctx.clock()
        fits = isinstance(fit, int) and not isinstance(fit, bool) and 0 < fit <= 100
        lines = strip_lines(state, now, fit if fits and fit is not None else LINES_TALL)
        can_ack = can_acknowledge()
        return (strip_rows(lines, now, can_ack), not lines, *strip_controls(state, can_ack))

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
