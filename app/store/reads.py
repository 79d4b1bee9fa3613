"""The store's reads, as the web, /metrics, export and replay ask them: the newest report
and event, history (raw samples, buckets, Binance's figures beside pmdesk's, status changes,
events), positions and assets over a span, stored payloads. Each is one indexed query."""

from __future__ import annotations

import json
import zlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from app.store.lifecycle import StoreCore
from app.store.records import (
    _BUCKET_FIELDS,
    _SAMPLE_COLUMNS,
    ReportedPoint,
    StoredEvent,
    StoredReport,
    StoredStatusChange,
    _sample_of,
    _unknown,
)
from app.store.rollup import Bucket, Sample, bucket_start_ms
from app.store.schema import (
    AccountRow,
    ApiWeightRow,
    EventRow,
    ReportAssetRow,
    ReportPositionRow,
    ReportRow,
    RollupRow,
    SnapshotRow,
    StatusChangeRow,
)


class StoreReads(StoreCore):
    """Reads: never writes, never waits on the collector (WAL on SQLite)."""

    def snapshot_payloads(self, snapshot_id: int) -> dict[str, object]:
        """What a snapshot row holds, decompressed (for a between-polls one: its updates)."""
        with Session(self.engine) as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise KeyError(snapshot_id)
            body = json.loads(zlib.decompress(row.payloads_zjson))
            assert isinstance(body, dict)
            return body

    def snapshot_base(self, snapshot_id: int) -> int | None:
        with Session(self.engine) as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise KeyError(snapshot_id)
            return row.base_snapshot_id

    def report_snapshot_id(self, report_id: int) -> int:
        with Session(self.engine) as s:
            snap = s.scalar(select(ReportRow.snapshot_id).where(ReportRow.id == report_id))
            if snap is None:
                raise KeyError(report_id)
            return int(snap)

    def latest_weight(self) -> tuple[int, dict[str, int]] | None:
        """(when, used weight by family) as last reported by the exchange."""
        with Session(self.engine) as s:
            row = s.scalars(
                select(ApiWeightRow).order_by(ApiWeightRow.at_ms.desc()).limit(1)
            ).first()
            if row is None:
                return None
            return row.at_ms, {str(k): int(v) for k, v in json.loads(row.used_json).items()}

    def latest_report(self, account: str) -> StoredReport | None:
        with Session(self.engine) as s:
            row = s.scalars(
                select(ReportRow)
                .options(defer(ReportRow.detail_zjson))
                .where(ReportRow.account == account)
                .order_by(ReportRow.data_time_ms.desc(), ReportRow.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            return StoredReport(
                id=row.id,
                account=row.account,
                data_time_ms=row.data_time_ms,
                computed_at_ms=row.computed_at_ms,
                positions_at_ms=row.positions_at_ms,
                marks_source=row.marks_source,
                simulated=row.simulated,
                uni_mmr=_unknown(row.uni_mmr),
                adjusted_equity_usd=_unknown(row.adjusted_equity_usd),
                maint_margin_usd=_unknown(row.maint_margin_usd),
                status=row.status,
                reported_uni_mmr=row.reported_uni_mmr,
                reported_status=row.reported_status,
                liquidation_down_pct=row.liquidation_down_pct,
                liquidation_up_pct=row.liquidation_up_pct,
                btc_liquidation_down_usd=row.btc_liquidation_down_usd,
                btc_liquidation_up_usd=row.btc_liquidation_up_usd,
                top_up_target_uni_mmr=row.top_up_target_uni_mmr,
                top_up_usd=_unknown(row.top_up_usd),
                state=row.state,
                unknown_reasons=tuple((row.unknown_reasons or "").splitlines()),
                reported_equity_usd=row.reported_equity_usd,
                reported_maint_margin_usd=row.reported_maint_margin_usd,
                recon_uni_mmr_rel_diff=row.recon_uni_mmr_rel_diff,
                recon_agrees=row.recon_agrees,
                recon_explained_by=row.recon_explained_by,
                collateral_table=row.collateral_table,
                loan_mmr_source=row.loan_mmr_source,
                calibrated=row.calibrated,
            )

    def latest_event(self, account: str, endpoint: str | None = None) -> StoredEvent | None:
        """The account's newest event (of ``endpoint`` only, when given)."""
        where = [EventRow.account == account]
        if endpoint is not None:
            where.append(EventRow.endpoint == endpoint)
        with Session(self.engine) as s:
            row = s.scalars(
                select(EventRow)
                .where(*where)
                .order_by(EventRow.at_ms.desc(), EventRow.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            return StoredEvent(row.at_ms, row.kind, row.endpoint, row.code, row.message)

    def count_reports(self, account: str) -> int:
        with Session(self.engine) as s:
            count = s.scalar(
                select(func.count()).select_from(ReportRow).where(ReportRow.account == account)
            )
            return int(count or 0)

    def report_detail(self, report_id: int) -> dict[str, Any]:
        """The full report (``risk.serialize.report_to_dict``) as stored with it."""
        with Session(self.engine) as s:
            blob = s.scalar(select(ReportRow.detail_zjson).where(ReportRow.id == report_id))
            if blob is None:
                raise KeyError(report_id)
            body = json.loads(zlib.decompress(blob))
            assert isinstance(body, dict)
            return body

    def history_samples(self, account: str, since_ms: int) -> list[Sample]:
        """Every report of the account from ``since_ms`` on, oldest first."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(*_SAMPLE_COLUMNS)
                .where(ReportRow.account == account, ReportRow.data_time_ms >= since_ms)
                .order_by(ReportRow.data_time_ms, ReportRow.id)
            )
            return [_sample_of(r) for r in rows]

    def history_buckets(self, account: str, period_s: int, since_ms: int) -> list[Bucket]:
        """The account's ``period_s`` buckets that end after ``since_ms``, oldest first."""
        first = bucket_start_ms(since_ms, period_s)
        with Session(self.engine) as s:
            rows = s.execute(
                select(*(getattr(RollupRow, name) for name in _BUCKET_FIELDS))
                .where(
                    RollupRow.account == account,
                    RollupRow.period_s == period_s,
                    RollupRow.start_ms >= first,
                )
                .order_by(RollupRow.start_ms)
            )
            return [Bucket(*r) for r in rows]

    def reported_points(self, account: str, since_ms: int) -> list[ReportedPoint]:
        """The account's polls from ``since_ms`` on with Binance's uniMMR beside pmdesk's,
        oldest first (reports between polls only move marks and carry the poll's figures)."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    ReportRow.data_time_ms,
                    ReportRow.uni_mmr,
                    ReportRow.reported_uni_mmr,
                    ReportRow.recon_agrees,
                    ReportRow.recon_uni_mmr_rel_diff,
                )
                .join(SnapshotRow, SnapshotRow.id == ReportRow.snapshot_id)
                .where(
                    ReportRow.account == account,
                    ReportRow.data_time_ms >= since_ms,
                    SnapshotRow.base_snapshot_id.is_(None),
                )
                .order_by(ReportRow.data_time_ms, ReportRow.id)
            )
            return [ReportedPoint(*r) for r in rows]

    def status_changes(self, account: str, since_ms: int) -> list[StoredStatusChange]:
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    StatusChangeRow.at_ms,
                    StatusChangeRow.from_status,
                    StatusChangeRow.to_status,
                    StatusChangeRow.uni_mmr,
                )
                .where(StatusChangeRow.account == account, StatusChangeRow.at_ms >= since_ms)
                .order_by(StatusChangeRow.at_ms)
            )
            return [StoredStatusChange(at, was, now, _unknown(u)) for at, was, now, u in rows]

    def events_since(self, account: str, since_ms: int, limit: int = 1000) -> list[StoredEvent]:
        """The account's collector events from ``since_ms`` on, newest ``limit``, oldest first."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    EventRow.at_ms,
                    EventRow.kind,
                    EventRow.endpoint,
                    EventRow.code,
                    EventRow.message,
                )
                .where(EventRow.account == account, EventRow.at_ms >= since_ms)
                .order_by(EventRow.at_ms.desc(), EventRow.id.desc())
                .limit(limit)
            )
            return [StoredEvent(*r) for r in reversed(list(rows))]

    def accounts(self) -> list[str]:
        """Every account with stored data, in the order first seen."""
        with Session(self.engine) as s:
            return list(
                s.scalars(select(AccountRow.name).order_by(AccountRow.first_seen_ms, AccountRow.id))
            )

    def position_rows(self, account: str, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Every stored position of the account's reports in [since, until), oldest first, each
        with its report's id and data time."""
        return self._report_children(ReportPositionRow, account, since_ms, until_ms)

    def asset_rows(self, account: str, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Every stored asset balance of the account's reports in [since, until), oldest first."""
        return self._report_children(ReportAssetRow, account, since_ms, until_ms)

    def _report_children(
        self,
        table: type[ReportPositionRow] | type[ReportAssetRow],
        account: str,
        since_ms: int,
        until_ms: int,
    ) -> list[dict[str, Any]]:
        columns = [c for c in table.__table__.columns if c.name not in ("id", "report_id")]
        with Session(self.engine) as s:
            rows = s.execute(
                select(ReportRow.id.label("report_id"), ReportRow.data_time_ms, *columns)
                .join(table, table.report_id == ReportRow.id)
                .where(
                    ReportRow.account == account,
                    ReportRow.data_time_ms >= since_ms,
                    ReportRow.data_time_ms < until_ms,
                )
                .order_by(ReportRow.data_time_ms, ReportRow.id, table.id)
            )
            return [dict(r._mapping) for r in rows]

    def latest_report_status(self, account: str) -> tuple[int, str] | None:
        """(id, band status) of the account's newest report: what the outlook job checks to
        recompute at once when the band worsens."""
        with Session(self.engine) as s:
            found = s.execute(
                select(ReportRow.id, ReportRow.status)
                .where(ReportRow.account == account)
                .order_by(ReportRow.data_time_ms.desc(), ReportRow.id.desc())
                .limit(1)
            ).first()
            return None if found is None else (int(found[0]), str(found[1]))

    def latest_report_id(self, account: str) -> int | None:
        """The id of the account's newest report: what a viewer polls to know it must redraw."""
        newest = self.latest_report_status(account)
        return None if newest is None else newest[0]
