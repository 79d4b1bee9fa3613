"""The alert strip's lines: the active alerts grouped (a cause several accounts share on one
line, else each account's worst), ordered worst first, and drawn as rows with their controls."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from dash import html

from app.web.format import fmt_age

# One cause, several accounts: one line naming them (an outage makes every account stale and
# every collector fail at once).
CAUSES = {"stale": "feed", "collector_error": "feed", "figures_unavailable": "figures"}
SEVERITY_ORDER = {"critical": 2, "warn": 1, "calm": 0}
# Which of an account's alerts of one severity leads its line: the figures themselves first
# (unknown, uniMMR — the hero's number), then how near liquidation, Binance's word, the feed.
LEADS = (
    "binance_liquidation",  # Binance is closing positions: above everything else
    "binance_adl",
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
