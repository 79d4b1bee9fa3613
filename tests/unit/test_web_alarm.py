"""The alarm's banner rows, the alert log's rows and the alerts on the history chart, from
stored alerts (pure functions of what the store returns)."""

from __future__ import annotations

from app.store.alerts import StoredAlert, StoredDelivery
from app.web.alarm import alert_state, banner_rows
from app.web.pages.alerts import log_rows
from app.web.pages.history import _alert_traces

T0 = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC


def alert(
    id_: int, severity: str, cleared: int | None = None, by: str | None = None
) -> StoredAlert:
    return StoredAlert(
        id=id_,
        account="desk-a",
        key="uni_mmr_warn",
        severity=severity,
        title="uniMMR below 2",
        message="uniMMR 1.900",
        action="add 1,000 USD of stablecoin to reach uniMMR 2.2, or cut size",
        value=1.9,
        triggered_at_ms=T0,
        cleared_at_ms=cleared,
        acked_by=by,
        acked_at_ms=None if by is None else T0 + 90_000,
    )


def test_banner_row_names_account_rule_value_action_and_offers_acknowledge() -> None:
    (row,) = banner_rows(alert_state([alert(7, "critical")]), T0 + 75_000)
    texts = [getattr(c, "children", None) for c in row.children]
    assert texts[:6] == [
        "CRITICAL",
        "desk-a",
        "uniMMR below 2",
        "uniMMR 1.900",
        "add 1,000 USD of stablecoin to reach uniMMR 2.2, or cut size",
        "for 75 s",
    ]
    assert row.children[-1].id == {"type": "alert-ack", "id": 7}
    assert getattr(row, "className") == "alert-row alert-critical"  # noqa: B009


def test_acknowledged_row_says_by_whom_and_goes_quiet() -> None:
    (row,) = banner_rows(alert_state([alert(7, "warn", by="maria")]), T0)
    assert row.children[-1].children == "silenced by maria"
    assert getattr(row, "className") == "alert-row alert-warn alert-is-acked"  # noqa: B009


def test_log_rows_duration_acknowledgement_and_deliveries() -> None:
    cleared = alert(3, "warn", cleared=T0 + 150_000, by="maria")
    deliveries = [
        StoredDelivery(3, "trigger", "json#1", 1, True, None, T0),
        StoredDelivery(3, "clear", "slack#2", 5, False, "HTTP 500", T0 + 150_000),
    ]
    active = alert(4, "critical")
    rows = log_rows([active, cleared], deliveries)
    assert rows[0]["cleared"] == "ACTIVE" and rows[0]["minutes"] is None and rows[0]["sent"] == ""
    assert rows[1]["fired"] == "2025-11-24 16:00:00"
    assert rows[1]["cleared"] == "2025-11-24 16:02:30" and rows[1]["minutes"] == 2.5
    assert rows[1]["acked"] == "maria at 16:01:30"
    assert rows[1]["sent"] == "trigger: json#1 ok; clear: slack#2 FAILED after 5 tries"


def test_history_marks_fired_and_cleared_alerts() -> None:
    fired, cleared = _alert_traces([alert(1, "critical"), alert(2, "warn", cleared=T0 + 60_000)])
    assert fired["x"] == [T0, T0] and fired["y"] == ["ALERT", "ALERT"]
    assert fired["marker"]["color"][0] != fired["marker"]["color"][1]  # red vs amber
    assert cleared["x"] == [T0 + 60_000]
    assert _alert_traces([]) == []
