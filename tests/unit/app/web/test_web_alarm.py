"""The alarm's strip, the Alerts view's rows and the alerts on the history chart, from stored
alerts (pure functions of what the store returns): one line per account, causes shared by
several accounts on one line, acknowledged alerts counted, never more lines than fit; recovering
alerts in calm words; the values the tiles show."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.store.alerts import StoredAlert, StoredDelivery
from app.store.store import StoredReport
from app.web.alarm import alert_state
from app.web.alarm_strip import strip_controls, strip_lines, strip_rows
from app.web.pages.alerts import log_rows, open_rows
from app.web.pages.history_figure import _alert_traces
from app.web.view import build_view

T0 = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC


def alert(
    id_: int,
    severity: str,
    cleared: int | None = None,
    by: str | None = None,
    *,
    account: str = "desk-a",
    key: str = "uni_mmr",
    title: str = "uniMMR below 2",
    at: int = T0,
    level: int = 1,
    peak: str | None = None,
    recovering_until: int | None = None,
    recovering_to: str | None = None,
) -> StoredAlert:
    return StoredAlert(
        id=id_,
        account=account,
        key=key,
        severity=severity,
        title=title,
        message="uniMMR 1.90",
        action="to reach uniMMR 2.0: add 1,000 USDT",
        value=1.9,
        triggered_at_ms=at,
        cleared_at_ms=cleared,
        acked_by=by,
        acked_at_ms=None if by is None else T0 + 90_000,
        level=level,
        peak_severity=peak or severity,
        recovering_until_ms=recovering_until,
        recovering_to=recovering_to,
    )


def texts(row: Any) -> list[str]:
    return [c.children for c in row.children if isinstance(getattr(c, "children", None), str)]


def stored_report(uni: float, top_up: float, down: float = -9.6204) -> StoredReport:
    return StoredReport(
        id=9,
        account="desk-a",
        data_time_ms=T0,
        computed_at_ms=T0,
        positions_at_ms=T0,
        marks_source="stream",
        simulated=True,
        uni_mmr=uni,
        adjusted_equity_usd=uni * 1_000.0,
        maint_margin_usd=1_000.0,
        status="MARGIN_CALL",
        reported_uni_mmr=uni,
        reported_status="MARGIN_CALL",
        liquidation_down_pct=down,
        liquidation_up_pct=None,
        btc_liquidation_down_usd=45_000.0,
        btc_liquidation_up_usd=None,
        top_up_target_uni_mmr=2.0,
        top_up_usd=top_up,
    )


def test_one_line_names_account_rule_value_action_and_offers_acknowledge() -> None:
    (line,) = strip_lines(alert_state([alert(7, "critical")]), T0 + 75_000, 4)
    (row,) = strip_rows([line], T0 + 75_000)
    assert texts(row)[:6] == [
        "CRITICAL",
        "desk-a",
        "uniMMR below 2",
        "uniMMR 1.90",
        "to reach uniMMR 2.0: add 1,000 USDT",
        "for 75 s",
    ]
    assert row.children[-1].id == {"type": "alert-ack", "ids": "7"}
    assert getattr(row, "className") == "alert-line sev-critical"  # noqa: B009


def test_the_strip_value_and_top_up_are_the_tiles() -> None:
    # The stored row says what the watch last wrote; the strip says what the newest report —
    # the one the overview's tiles show — says, spelt the tiles' way.
    report = stored_report(1.2345, 765.4)
    view = build_view(report, None, T0, stale_after_s=10)
    (state,) = alert_state([alert(1, "critical")], {"desk-a": (report, None)})
    assert state["message"] == f"uniMMR {view.uni_mmr}" == "uniMMR 1.23"
    assert state["action"] == view.top_up_note == "to reach uniMMR 2.0: add 766 USDT"
    liq = alert(2, "critical", key="liquidation_move", title="liquidation within a 15 % move")
    (state,) = alert_state([liq], {"desk-a": (report, None)})
    assert state["message"] == f"liquidation {view.liquidation}"


def many() -> list[StoredAlert]:
    """15 open alerts over 5 accounts: an outage makes 4 of them stale (one cause), account a
    has warn-level uniMMR and a critical liquidation distance, b a recovering alert, …"""
    rows = []
    n = 0
    for acc in ("a", "b", "c", "d"):
        n += 1
        rows.append(alert(n, "critical", account=acc, key="stale", title="data older than 10 s"))
    for acc, key, sev in (
        ("a", "uni_mmr", "warn"),
        ("a", "liquidation_move", "critical"),
        ("a", "asset_liquidation:BTC", "critical"),
        ("c", "uni_mmr", "critical"),
        ("c", "usage_rise", "warn"),
        ("d", "reconciliation", "warn"),
        ("e", "uni_mmr", "critical"),
        ("e", "account_status", "critical"),
        ("e", "asset_liquidation:ETH", "critical"),
    ):
        n += 1
        rows.append(alert(n, sev, account=acc, key=key, title=f"{key} ({sev})", at=T0 + n))
    n += 1
    calm = alert(n, "critical", account="b", title="uniMMR below 1.6", recovering_until=T0 + 42_000)
    rows.append(dataclasses.replace(calm, level=2))
    n += 1
    rows.append(alert(n, "warn", account="b", key="usage_rise", by="maria"))
    assert len(rows) == 15
    return rows


def test_fifteen_alerts_on_five_accounts_fit_in_four_lines() -> None:
    state = alert_state(many())
    lines = strip_lines(state, T0, 8)
    # One line per account (a, c, d… its worst) and one line for the outage on four accounts.
    by_key = {line.key: line for line in lines}
    assert set(by_key) == {f"account:{x}" for x in "abcde"} | {"cause:feed"}
    outage = by_key["cause:feed"]
    assert outage.accounts == ("a", "b", "c", "d") and outage.title == "data older than 10 s"
    assert len(outage.ids) == 4 and outage.more == 0
    a = by_key["account:a"]
    assert a.shown == "critical" and a.more == 2 and len(a.ids) == 3  # acknowledge covers all
    assert by_key["account:d"].shown == "warn" and by_key["account:d"].more == 0
    # b: its uniMMR alert is calm and cooling down — calm words, calm colour; the acknowledged
    # one is counted, not shown.
    b = by_key["account:b"]
    assert (b.shown, b.badge, b.title) == ("calm", "RECOVERING", "recovering — clears in 42 s")
    assert b.action == "was CRITICAL: uniMMR below 1.6" and b.more == 0
    # Worst first: criticals (the outage on several accounts, then the oldest), then warnings,
    # then the recovering. An account's line leads with its uniMMR alert among equals.
    assert [line.shown for line in lines] == ["critical"] * 4 + ["warn", "calm"]
    assert a.title == "liquidation_move (critical)"  # its uniMMR is only a warning
    assert by_key["account:e"].title == "uni_mmr (critical)"
    # Four lines at most: three, and the rest summed up in the last.
    four = strip_lines(state, T0, 4)
    assert len(four) == 4 and four[-1].key == "overflow"
    assert four[:3] == lines[:3]
    assert [x.key for x in lines[:3]] == ["cause:feed", "account:a", "account:c"]
    assert (four[-1].label, four[-1].title) == ("3 more:", "e critical · d warn · b recovering")
    assert four[-1].accounts == ("e", "d", "b")
    assert sum(len(line.ids) for line in four) == 14  # every unacknowledged alert is covered
    assert strip_controls(state) == (
        "15 open on 5 accounts",
        "Acknowledge all (14)",
        False,
        "1 acknowledged",
        False,
    )


def test_one_account_stale_is_its_own_line_not_a_group() -> None:
    state = alert_state([alert(1, "critical", key="stale", title="data older than 10 s")])
    (line,) = strip_lines(state, T0, 4)
    assert line.key == "account:desk-a" and line.accounts == ("desk-a",)


def test_acknowledged_alerts_collapse_into_a_counter() -> None:
    state = alert_state([alert(7, "warn", by="maria"), alert(8, "critical", by="ivan")])
    assert strip_lines(state, T0, 4) == []
    assert strip_controls(state) == (
        "2 open on 1 account",
        "Acknowledge all (0)",
        True,
        "2 acknowledged",
        False,
    )


def test_easing_says_where_it_goes_in_that_colour() -> None:
    easing = alert(3, "critical", level=2, recovering_until=T0 + 30_000, recovering_to="warn")
    (line,) = strip_lines(alert_state([easing]), T0, 4)
    assert (line.shown, line.title) == ("warn", "easing from CRITICAL — warn in 30 s")
    assert "below 2" not in line.title


def test_open_list_and_log_rows_duration_acknowledgement_and_deliveries() -> None:
    cleared = alert(3, "warn", cleared=T0 + 150_000, by="maria", peak="critical")
    deliveries = [
        StoredDelivery(3, "trigger", "json#1", 1, True, None, T0),
        StoredDelivery(3, "escalate", "json#1", 1, True, None, T0 + 1_000),
        StoredDelivery(3, "clear", "slack#2", 5, False, "HTTP 500", T0 + 150_000),
    ]
    active = alert(4, "critical")
    rows = log_rows([active, cleared], deliveries)
    assert rows[0]["cleared"] is None and rows[0]["cleared_text"] == "ACTIVE"
    assert rows[0]["minutes"] is None and rows[0]["sent"] == ""
    assert rows[1]["fired"] == T0 and rows[1]["fired_text"] == "2025-11-24 16:00:00 UTC"
    assert rows[1]["severity"] == "WARN (worst CRITICAL)"
    assert rows[1]["cleared"] == T0 + 150_000 and rows[1]["minutes"] == 2.5
    assert rows[1]["cleared_text"] == "2025-11-24 16:02:30 UTC"
    assert rows[1]["acked"] == "maria at 16:01:30 UTC"
    # In the viewer's local time, labelled so (the header's UTC/local toggle).
    tokyo = {"local": True, "zone": "Asia/Tokyo", "offset_min": 540}
    local = log_rows([cleared], deliveries, tokyo)[0]
    assert local["fired_text"] == "2025-11-25 01:00:00 JST" and local["fired"] == T0
    assert local["acked"] == "maria at 01:01:30 JST"
    assert rows[1]["sent"] == (
        "trigger: json#1 ok; escalate: json#1 ok; clear: slack#2 FAILED after 5 tries"
    )
    recovering = dataclasses.replace(active, recovering_until_ms=T0 + 20_000)
    (row,) = open_rows(alert_state([recovering]), T0)
    cells = [c.children for c in row.children]
    assert cells[:5] == [
        "RECOVERING",
        "desk-a",
        "recovering — clears in 20 s",
        "uniMMR 1.90",
        "was CRITICAL: uniMMR below 2",
    ]
    assert cells[6].id == {"type": "alert-ack", "ids": "4"}


def test_history_marks_fired_and_cleared_alerts() -> None:
    fired, cleared = _alert_traces([alert(1, "critical"), alert(2, "warn", cleared=T0 + 60_000)])
    assert fired["x"] == [T0, T0] and fired["y"] == ["ALERT", "ALERT"]
    assert fired["marker"]["color"][0] != fired["marker"]["color"][1]  # red vs amber
    assert cleared["x"] == [T0 + 60_000]
    assert _alert_traces([]) == []
