"""Alerts: every alert open now (the full list the strip above every view sums up: live value,
what to do, an Acknowledge each), and the log of the last 30 days, all accounts — when each fired
and cleared, the worst it reached, what it said, who acknowledged it and when, and whether the
team's notifications got through."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import dash
from dash import Input, Output, html

from app.store.alerts import StoredAlert, StoredDelivery
from app.web.alarm import checked_state
from app.web.alarm_strip import lead_order, recovering_note
from app.web.components import grid, num_col, panel, text_col, time_col, view
from app.web.context import WebContext
from app.web.format import fmt_age
from app.web.signin import can_acknowledge
from app.web.times import TimePref, datetime_text

VIEW = "alerts"
LOG_DAYS = 30


def _when(ms: int | None, pref: TimePref | None) -> str:
    """A date and time in the viewer's UTC/local choice, labelled; "" for none."""
    return "" if ms is None else datetime_text(ms, pref)


def _delivered(ds: list[StoredDelivery]) -> str:
    """e.g. "trigger: json#1 ok; clear: json#1 FAILED after 5 tries"."""
    parts = []
    for d in ds:
        outcome = "ok" if d.ok else f"FAILED after {d.attempts} tries"
        parts.append(f"{d.kind}: {d.target} {outcome}")
    return "; ".join(parts)


def log_rows(
    alerts: list[StoredAlert], deliveries: list[StoredDelivery], pref: TimePref | None = None
) -> list[dict[str, Any]]:
    """The log's rows: times as epoch ms (sorted, exported as ISO 8601 UTC) beside the words
    the screen shows in the viewer's UTC/local choice (``*_text``)."""
    sent: dict[int, list[StoredDelivery]] = defaultdict(list)
    for d in deliveries:
        sent[d.alert_id].append(d)
    return [
        {
            "key": a.id,
            "fired": a.triggered_at_ms,
            "fired_text": _when(a.triggered_at_ms, pref),
            "account": a.account,
            "severity": a.severity.upper()
            + (f" (worst {a.peak.upper()})" if a.peak != a.severity else ""),
            "rule": a.title,
            "message": a.message,
            "cleared": a.cleared_at_ms,
            "cleared_text": _when(a.cleared_at_ms, pref) or "ACTIVE",
            "minutes": (
                None if a.cleared_at_ms is None else (a.cleared_at_ms - a.triggered_at_ms) / 60_000
            ),
            "acked": (
                ""
                if a.acked_by is None
                else f"{a.acked_by} at {_when(a.acked_at_ms, pref)[11:]}".removesuffix(" at ")
            ),
            "sent": _delivered(sent[a.id]),
        }
        for a in alerts
    ]


COLUMNS = [
    time_col(
        "fired",
        "Fired",
        "When the rule's trigger level was crossed (in the header's UTC/local choice).",
        csv="fired_utc",
        sort="desc",
    ),
    text_col("account", "Account", "Which account."),
    text_col(
        "severity",
        "Severity",
        "WARN or CRITICAL: the level it is at (or cleared at); the worst it reached beside it "
        "when that was higher. One rule is one alert, whatever its level.",
    ),
    text_col("rule", "Rule", "The rule, with its trigger level.", width=200, wrapText=True),
    text_col("message", "Value", "The value when last seen active.", width=220, wrapText=True),
    time_col(
        "cleared",
        "Cleared",
        "When it was back past the clear level long enough; ACTIVE while open.",
        csv="cleared_utc",
    ),
    num_col("minutes", "Minutes", "How long it lasted.", ",.1f", csv="duration_min"),
    text_col("acked", "Acknowledged", "Who silenced it, and when.", wrapText=True, width=150),
    text_col(
        "sent", "Notifications", "Each delivery to the team's targets.", width=180, wrapText=True
    ),
]


def open_rows(state: list[dict[str, Any]], now_ms: int, can_ack: bool = True) -> list[html.Tr]:
    """Every open alert, worst first and an account's together, as the strip's state holds it
    (live values); a viewer's (``can_ack`` False) without Acknowledge buttons."""
    rows = []
    for a in sorted(state, key=lambda a: (lead_order(a)[0], a["account"], *lead_order(a)[1:])):
        recovering = a["recovering_until_ms"] is not None
        shown = a["shown"]
        ack: html.Button | str = (
            f"{a['acked_by']}"
            if a["acked_by"] is not None
            else "—"
            if not can_ack
            else html.Button(
                "Acknowledge",
                id={"type": "alert-ack", "ids": str(a["id"])},
                className="line-ack",
                title="Silence the alarm for this alert on every screen (recorded with your name)",
            )
        )
        rows.append(
            html.Tr(
                [
                    html.Td(
                        "RECOVERING" if shown == "calm" else shown.upper(), className="open-sev"
                    ),
                    html.Td(a["account"]),
                    html.Td(recovering_note(a, now_ms) if recovering else a["title"]),
                    html.Td(a["message"], className="open-value"),
                    html.Td(
                        f"was {a['peak'].upper()}: {a['title']}" if recovering else a["action"]
                    ),
                    html.Td(fmt_age((now_ms - a["since_ms"]) / 1000), className="open-age"),
                    html.Td(ack),
                ],
                className=f"sev-{shown}" + (" open-acked" if a["acked_by"] is not None else ""),
            )
        )
    return rows


OPEN_HEAD = ["Severity", "Account", "Rule", "Value now", "What to do", "For", "Acknowledged"]


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "Open now",
            "Every alert that has not cleared, worst first, with the value of the account's "
            "newest report: the strip above every view shows one line per account. "
            "RECOVERING: back past the clear level, clearing at the end of the cool-down.",
            html.Div(
                html.Table(
                    [
                        html.Thead(html.Tr([html.Th(h) for h in OPEN_HEAD])),
                        html.Tbody(id="open-alerts-body"),
                    ],
                    className="open-alerts",
                ),
                id="open-alerts",
                className="table-scroll",
            ),
            html.Div("No open alerts.", id="open-alerts-empty", className="open-alerts-empty"),
        ),
        panel(
            f"Alerts, last {LOG_DAYS} days",
            "Every alert the collector raised: it fires past a rule's trigger level and clears "
            "only back past the separate clear level, after the cooldown. Levels are in the "
            "config file ([alerts]).",
            grid("alerts-grid", COLUMNS, "pmdesk-alerts"),
        ),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("open-alerts-body", "children"),
        Output("open-alerts", "hidden"),
        Output("open-alerts-empty", "hidden"),
        Input("alerts-state", "data"),
        Input("age-tick", "n_intervals"),
        Input("view", "value"),
    )
    def open_now(
        state: list[dict[str, Any]] | None, _n: int, shown: str
    ) -> tuple[list[html.Tr], bool, bool]:
        if shown != VIEW:
            raise dash.exceptions.PreventUpdate
        state = checked_state(state)
        return open_rows(state, ctx.clock(), can_acknowledge()), not state, bool(state)

    @app.callback(
        Output("alerts-grid", "rowData"),
        Input("alerts-state", "data"),
        Input("report-key", "data"),
        Input("view", "value"),
        Input("time-pref", "data"),
    )
    def refresh(
        _state: object, _key: object, shown: str, pref: TimePref | None
    ) -> list[dict[str, Any]]:
        if shown != VIEW:
            raise dash.exceptions.PreventUpdate
        alerts = ctx.store.alerts.since(ctx.clock() - LOG_DAYS * 86_400_000)
        return log_rows(alerts, ctx.store.alerts.deliveries([a.id for a in alerts]), pref)
