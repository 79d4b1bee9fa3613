"""The store's upkeep: history buckets rebuilt from the reports, and retention (what is kept
how long, ``app/store/retention.py``) applied in small transactions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session, aliased

from app.store.lifecycle import StoreCore
from app.store.records import _SAMPLE_COLUMNS, _sample_of
from app.store.retention import DAY_MS, Pruned, Retention
from app.store.rollup import HOUR_S, PERIODS_S, Bucket, bucket_start_ms, fold, open_bucket
from app.store.schema import (
    ApiWeightRow,
    EventRow,
    ReportRow,
    RollupRow,
    SnapshotRow,
    StatusChangeRow,
)


def _deleted(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class StoreUpkeep(StoreCore):
    """History buckets and retention."""

    def rebuild_rollups(
        self, account: str, since_ms: int | None = None, chunk: int = 50_000
    ) -> int:
        """Recompute an account's history buckets from its reports (after a bulk import, or a
        store that predates them): all of them, or those from the hour holding ``since_ms`` on
        (every period divides an hour, so those buckets are whole); returns buckets written."""
        first = None if since_ms is None else bucket_start_ms(since_ms, HOUR_S)
        open_: dict[int, Bucket] = {}
        done: list[Bucket] = []
        with Session(self.engine) as s:
            query = select(*_SAMPLE_COLUMNS).where(ReportRow.account == account)
            if first is not None:
                query = query.where(ReportRow.data_time_ms >= first)
            rows = s.execute(
                query.order_by(ReportRow.data_time_ms, ReportRow.id).execution_options(
                    yield_per=chunk
                )
            )
            for r in rows:
                sample = _sample_of(r)
                if not sample.known:
                    continue
                for period_s in PERIODS_S:
                    b = open_.get(period_s)
                    if b is not None and b.start_ms == bucket_start_ms(sample.at_ms, period_s):
                        open_[period_s] = fold(b, sample)
                        continue
                    if b is not None:
                        done.append(b)
                    open_[period_s] = open_bucket(sample, period_s)
        done.extend(open_.values())
        with self._session.begin() as s:
            stale = delete(RollupRow).where(RollupRow.account == account)
            if first is not None:
                stale = stale.where(RollupRow.start_ms >= first)
            s.execute(stale)
            for i in range(0, len(done), chunk):
                s.execute(
                    insert(RollupRow),
                    [{"account": account, **vars(b)} for b in done[i : i + chunk]],
                )
        return len(done)

    def prune(self, keep: Retention, now_ms: int) -> Pruned:
        """Drop what ``keep`` no longer needs, in small transactions (the collector writes
        between them). Never drops a bucket's worst report, a status change's report, or a poll
        that a kept report was computed from; never leaves a report without its snapshot."""
        cutoff = now_ms - int(keep.raw_h * 3_600_000)
        total = Pruned()
        with Session(self.engine) as s:
            accounts = list(
                s.scalars(select(RollupRow.account).where(RollupRow.period_s == HOUR_S).distinct())
            )
        for account in accounts:
            protected = self._protected_reports(account, cutoff)
            for between_polls in (True, False):  # between-polls first: then their polls are free
                total += self._prune_reports(account, cutoff, protected, between_polls, keep.batch)
        with self._session.begin() as s:
            buckets = 0
            for period_s, days in keep.bucket_days().items():
                buckets += _deleted(
                    s.execute(
                        delete(RollupRow).where(
                            RollupRow.period_s == period_s,
                            RollupRow.start_ms < now_ms - int(days * DAY_MS),
                        )
                    )
                )
            events = _deleted(
                s.execute(
                    delete(EventRow).where(EventRow.at_ms < now_ms - keep.events_days * DAY_MS)
                )
            )
            weights = _deleted(
                s.execute(
                    delete(ApiWeightRow).where(
                        ApiWeightRow.at_ms < now_ms - int(keep.weight_h * 3_600_000)
                    )
                )
            )
        alerts = self.alerts.prune(now_ms - int(keep.events_days * DAY_MS))
        return total + Pruned(buckets=buckets, events=events, weights=weights, alerts=alerts)

    def _protected_reports(self, account: str, cutoff: int) -> set[int]:
        """Reports kept in full: each bucket's worst and each status change. (The polls they
        were computed from stay too: a poll goes only once nothing points at it.)"""
        with Session(self.engine) as s:
            kept = set(
                s.scalars(
                    select(RollupRow.worst_report_id).where(
                        RollupRow.account == account, RollupRow.worst_at_ms < cutoff
                    )
                )
            )
            kept |= set(
                s.scalars(
                    select(StatusChangeRow.report_id).where(
                        StatusChangeRow.account == account, StatusChangeRow.at_ms < cutoff
                    )
                )
            )
            return kept

    def _prune_reports(
        self, account: str, cutoff: int, protected: set[int], between_polls: bool, batch: int
    ) -> Pruned:
        child = aliased(SnapshotRow)
        dependents = select(child.id).where(child.base_snapshot_id == SnapshotRow.id)
        kind = (
            SnapshotRow.base_snapshot_id.is_not(None)
            if between_polls
            else SnapshotRow.base_snapshot_id.is_(None) & ~dependents.exists()
        )
        reports = snapshots = 0
        after = (-1, 0)  # keyset on the (account, time) index: each batch starts where one ended
        while True:
            with self._session.begin() as s:
                rows = s.execute(
                    select(ReportRow.id, ReportRow.snapshot_id, ReportRow.data_time_ms)
                    .join(SnapshotRow, SnapshotRow.id == ReportRow.snapshot_id)
                    .where(
                        ReportRow.account == account,
                        ReportRow.data_time_ms < cutoff,
                        tuple_(ReportRow.data_time_ms, ReportRow.id) > tuple_(*after),
                        kind,
                    )
                    .order_by(ReportRow.data_time_ms, ReportRow.id)
                    .limit(batch)
                ).all()
                if not rows:
                    return Pruned(reports=reports, snapshots=snapshots)
                after = (rows[-1][2], rows[-1][0])
                doomed = [(r, snap) for r, snap, _ in rows if r not in protected]
                if doomed:
                    reports += _deleted(
                        s.execute(delete(ReportRow).where(ReportRow.id.in_([r for r, _ in doomed])))
                    )
                    snapshots += _deleted(
                        s.execute(
                            delete(SnapshotRow).where(SnapshotRow.id.in_([x for _, x in doomed]))
                        )
                    )
