"""Alerts in the store: one row per alert whatever its level (migration 0007 keeps the rows an
older pmdesk wrote readable), acknowledge-all, re-arming on escalation, the cool-down a row is in;
and the watch adopting rows left open under the old per-level keys as one alert."""

from __future__ import annotations

import dataclasses

from alembic import command as alembic_command
from sqlalchemy import Connection, create_engine, text

from app.alerts.rules import AlertRules, Level
from app.alerts.watch import AlertWatch
from app.store.store import Store, _alembic
from tests.support.alert_reports import report

T0 = 1_764_000_000_000
RULES = {"a": AlertRules(), "b": AlertRules()}


def _insert(
    conn: Connection,
    id_: int,
    account: str,
    key: str,
    severity: str,
    cleared: int | None,
    acked: str | None = None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO alerts (id, account, key, severity, title, message, action, value, "
            "triggered_at_ms, cleared_at_ms, acked_by, acked_at_ms) VALUES (:id, :account, :key, "
            ":severity, :title, 'm', 'x', 1.0, :at, :cleared, :acked, :acked_at)"
        ),
        {
            "id": id_,
            "account": account,
            "key": key,
            "severity": severity,
            "title": f"title of {key}",
            "at": T0 + id_ * 1000,
            "cleared": cleared,
            "acked": acked,
            "acked_at": None if acked is None else T0,
        },
    )


def test_migration_gives_old_rows_their_level_and_peak(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        alembic_command.upgrade(_alembic(conn), "0006")
        _insert(conn, 1, "a", "uni_mmr_warn", "warn", T0 + 9_000)
        _insert(conn, 2, "a", "uni_mmr_critical", "critical", T0 + 8_000)
        _insert(conn, 3, "a", "account_status:REDUCE_ONLY", "critical", None)
        _insert(conn, 4, "a", "reconciliation", "critical", None)
        _insert(conn, 5, "a", "stale", "critical", None)
    engine.dispose()
    store = Store(db_url)
    store.create_schema()
    got = {a.id: (a.key, a.level, a.peak, a.recovering) for a in store.alerts.since(0)}
    assert got == {
        1: ("uni_mmr_warn", 1, "warn", False),
        2: ("uni_mmr_critical", 2, "critical", False),
        3: ("account_status:REDUCE_ONLY", 3, "critical", False),  # Binance's 4th status
        4: ("reconciliation", 2, "critical", False),
        5: ("stale", 1, "critical", False),
    }
    store.close()


def test_acknowledge_all_rearm_on_escalation_and_recovering(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    alerts = store.alerts
    one = alerts.open("a", "uni_mmr", "warn", "uniMMR below 2", "uniMMR 1.90", "add", 1.9, T0)
    two = alerts.open("b", "stale", "critical", "data older", "12 s", "check", 12.0, T0 + 1)
    gone = alerts.open("b", "usage_rise", "warn", "rising", "+20", "look", 20.0, T0 + 2)
    alerts.close(gone, T0 + 3)
    assert alerts.acknowledge(two, "maria", T0 + 5)
    # Every open alert not acknowledged yet, each recorded as a single acknowledgement would be.
    assert alerts.acknowledge_all("ivan", T0 + 10) == 1
    got = {a.id: (a.acked_by, a.acked_at_ms) for a in alerts.active()}
    assert got == {one: ("ivan", T0 + 10), two: ("maria", T0 + 5)}
    # The warning escalates: one row, its severity raised, the acknowledgement re-armed.
    alerts.change_level(one, "uni_mmr", "critical", 2, "uniMMR below 1.6", "critical", rearm=True)
    row = alerts.get(one)
    assert row is not None
    assert (row.severity, row.level, row.title, row.peak, row.acked_by) == (
        "critical",
        2,
        "uniMMR below 1.6",
        "critical",
        None,
    )
    # Calm again: recovering, and it sorts after the alarms still sounding.
    alerts.set_recovering(one, T0 + 70_000, None)
    assert [a.id for a in alerts.active()] == [two, one]
    row = alerts.get(one)
    assert row is not None and (row.recovering_until_ms, row.recovering_to) == (T0 + 70_000, None)
    alerts.close(one, T0 + 70_000)
    row = alerts.get(one)
    assert row is not None and row.recovering_until_ms is None
    store.close()


def test_rows_open_under_the_old_keys_become_one_alert_at_start(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    with store.engine.begin() as conn:
        # An older pmdesk left account a with its warn and critical rows open (the warn
        # acknowledged), and a Binance-status row per status; account b with only a warning.
        _insert(conn, 1, "a", "uni_mmr_warn", "warn", None, acked="maria")
        _insert(conn, 2, "a", "uni_mmr_critical", "critical", None)
        _insert(conn, 3, "a", "account_status:MARGIN_CALL", "warn", None)
        _insert(conn, 4, "a", "account_status:REDUCE_ONLY", "critical", None)
        _insert(conn, 5, "b", "uni_mmr_warn", "warn", None)
    rules = {k: dataclasses.replace(r, cooldown_s=0.0) for k, r in RULES.items()}
    watch = AlertWatch(store.alerts, rules, lambda: T0 + 60_000)
    open_ = {(a.account, a.key): a for a in store.alerts.active()}
    assert set(open_) == {("a", "uni_mmr"), ("a", "account_status"), ("b", "uni_mmr")}
    # The oldest row is kept (it says when the trouble began), at the highest level among them;
    # the critical was not acknowledged, so neither is the merged alert.
    a_uni = open_[("a", "uni_mmr")]
    assert (a_uni.id, a_uni.severity, a_uni.level, a_uni.title) == (
        1,
        "critical",
        2,
        "uniMMR below 1.6",
    )
    assert a_uni.acked_by is None
    a_status = open_[("a", "account_status")]
    assert (a_status.id, a_status.level, a_status.title) == (3, 3, "Binance status REDUCE_ONLY")
    b_uni = open_[("b", "uni_mmr")]
    assert (b_uni.id, b_uni.severity, b_uni.level, b_uni.title) == (5, "warn", 1, "uniMMR below 2")
    closed = {a.id for a in store.alerts.since(0) if a.cleared_at_ms is not None}
    assert closed == {2, 4}
    # The same value again is the same alert: no second trigger, no second row.
    watch.on_report("a", report(1.5), T0 + 61_000, "REDUCE_ONLY", None)
    assert {(a.account, a.key) for a in store.alerts.active()} == set(open_)
    # And calm clears it (cooldown 0), the row under the key it has now.
    watch.on_report("a", report(3.0), T0 + 62_000, "NORMAL", None)
    assert {(a.account, a.key) for a in store.alerts.active()} == {("b", "uni_mmr")}
    store.close()


def test_the_watch_keeps_the_row_level_and_cooldown_current(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    now = [T0]
    rules = {"a": dataclasses.replace(AlertRules(), stale_s=Level(1e9, 1e9))}
    watch = AlertWatch(store.alerts, rules, lambda: now[0])
    watch.on_report("a", report(1.9), T0, None, None)
    (warned,) = store.alerts.active()
    assert store.alerts.acknowledge(warned.id, "maria", T0)
    watch.on_report("a", report(1.5), T0 + 1_000, None, None)  # escalates: the same row
    ((row,),) = [store.alerts.active()]
    assert row.id == warned.id and row.acked_by is None  # worse: the alarm sounds again
    assert (row.key, row.severity, row.level, row.peak, row.message) == (
        "uni_mmr",
        "critical",
        2,
        "critical",
        "uniMMR 1.50",
    )
    now[0] = T0 + 2_000
    watch.on_report("a", report(5.09), T0 + 2_000, None, None)  # calm: recovering at once
    (row,) = store.alerts.active()
    assert (row.recovering_until_ms, row.recovering_to) == (T0 + 62_000, None)
    assert row.message == "uniMMR 5.09"  # the value with it, never the old alarm's value
    now[0] = T0 + 62_000
    watch.on_report("a", report(5.09), T0 + 62_000, None, None)
    assert store.alerts.active() == []
    (row,) = store.alerts.since(0)
    assert (row.severity, row.peak, row.cleared_at_ms) == ("critical", "critical", T0 + 62_000)
    store.close()
