"""Retention keeps what history needs in full and drops the rest, never leaving orphans."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from app.store.retention import DAY_MS, Retention
from app.store.rollup import MINUTE_S
from app.store.schema import ReportRow, SnapshotRow
from app.store.store import Store
from tests.support.store_cycles import T0, cycle_at


def test_prune_keeps_worst_samples_status_changes_and_their_polls(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    ids: dict[str, int] = {}
    polls: dict[str, int] = {}

    def write(name: str, at_s: float, uni: float, base: str | None = None) -> None:
        cycle = cycle_at(T0 + int(at_s * 1000), uni)
        if base is not None:
            cycle = dataclasses.replace(cycle, base_snapshot_id=polls[base], marks_source="stream")
        w = store.write_cycle(cycle, computed_at_ms=cycle.fetched_at_ms)
        ids[name], polls[name] = w.report_id, w.snapshot_id

    # minute 0: P1 3.0 (first status: NORMAL), B1 1.4 (→ MARGIN_CALL; the minute's worst),
    # B2 1.45 (no change, not worst), P2 1.45 (same)
    write("P1", 0, 3.0)
    write("B1", 1, 1.4, base="P1")
    write("B2", 2, 1.45, base="P1")
    write("P2", 3, 1.45)
    # minute 1: P3 2.0 (→ NORMAL; the minute's worst), B3 2.5, P4 2.6
    write("P3", 60, 2.0)
    write("B3", 61, 2.5, base="P3")
    write("P4", 62, 2.6)
    # minute 3: P5 2.4, B5 2.3 (the minute's worst: kept, and so is P5, the poll it came from)
    write("P5", 180, 2.4)
    write("B5", 181, 2.3, base="P5")
    # three days later, inside the 48 h of full resolution
    write("P6", 3 * 86_400, 3.0)
    store.record_event("a", T0, "DOWN", "old outage")
    store.record_weight(T0, {"papi": 10})

    now = T0 + 3 * DAY_MS + 1000
    pruned = store.prune(Retention(), now)
    with store.engine.connect() as conn:
        kept = set(conn.scalars(select(ReportRow.id)))
        snapshots = conn.scalar(select(func.count()).select_from(SnapshotRow))
    assert kept == {ids[n] for n in ("P1", "B1", "P3", "P5", "B5", "P6")}
    assert (pruned.reports, pruned.snapshots) == (4, 4)  # B2, P2, B3, P4 and their snapshots
    assert snapshots == len(kept)  # every kept report has its snapshot, and nothing else stays
    assert (pruned.events, pruned.weights, pruned.buckets) == (0, 1, 0)  # events kept 2 years
    assert store.prune(Retention(), now) == type(pruned)()  # a second run finds nothing to do

    # A year later the 1-minute buckets are gone; B5 was only its minute's worst: now it goes,
    # and P5 with it. B1 stays: the worst of its 10-minute and hourly buckets too.
    later = T0 + 400 * DAY_MS
    again = store.prune(Retention(), later)
    with store.engine.connect() as conn:
        kept = set(conn.scalars(select(ReportRow.id)))
    assert again.buckets > 0 and store.history_buckets("a", MINUTE_S, T0) == []
    assert ids["B1"] in kept and ids["P1"] in kept  # P1: its status change and B1's poll
    assert again.events == 0 and store.events_since("a", 0) != []
    store.prune(Retention(), later)
    with store.engine.connect() as conn:
        kept = set(conn.scalars(select(ReportRow.id)))
    assert ids["B5"] not in kept and ids["P5"] not in kept
    store.close()
