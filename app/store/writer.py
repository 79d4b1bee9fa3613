"""The store's writer: a collector cycle (snapshot + report + its rows + history buckets) in
one transaction, API weights and collector events. Every write that fails raises
``StoreWriteError`` — never SQLAlchemy's types — so the collector needs no database library."""

from __future__ import annotations

import json
import zlib

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from app.store.engine import BUSY_ATTEMPTS, _is_busy, describe_write_error
from app.store.errors import StoreWriteError
from app.store.lifecycle import StoreCore
from app.store.records import CycleRecord, Written, _bucket, _finite, _known, _known_row, _sample
from app.store.rollup import PERIODS_S, Sample, bucket_start_ms, fold, open_bucket
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
from risk.model import AssetEquity, PositionMargin
from risk.serialize import report_to_dict


def write_error(exc: SQLAlchemyError) -> StoreWriteError:
    """A failed write as the store's own error, with the kind and line the screen shows."""
    kind, message = describe_write_error(exc)
    return StoreWriteError(kind, message)


def _position_row(report_id: int, p: PositionMargin) -> dict[str, object]:
    return {
        "report_id": report_id,
        "venue": p.venue,
        "symbol": p.symbol,
        "position_side": p.position_side,
        "asset": p.asset,
        "amount": p.amount,
        "entry_price": p.entry_price,
        "mark_price": p.mark_price,
        "notional_usd": p.notional_usd,
        "unrealized_pnl_usd": p.unrealized_pnl_usd,
        "maint_margin_usd": p.maint_margin_usd,
        "maint_margin_ratio": p.maint_margin_ratio,
        "bracket": p.bracket,
    }


def _asset_row(report_id: int, a: AssetEquity) -> dict[str, object]:
    return {
        "report_id": report_id,
        "asset": a.asset,
        "equity_qty": a.equity_qty,
        "index_price_usd": a.index_price_usd,
        "actual_equity_usd": a.actual_equity_usd,
        "adjusted_equity_usd": a.adjusted_equity_usd,
        "stable": a.stable,
    }


def _zjson(body: object) -> bytes:
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode())


class StoreWriter(StoreCore):
    """Writes, each in one transaction."""

    def write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> Written:
        """Snapshot + report in one transaction. A store locked by another writer beyond the
        busy timeout is retried a bounded number of times; then, as for any write that fails,
        ``StoreWriteError`` (full, read-only, busy or other) is raised."""
        try:
            for attempt in Retrying(
                retry=retry_if_exception(_is_busy),
                stop=stop_after_attempt(BUSY_ATTEMPTS),
                wait=wait_exponential(multiplier=0.25, max=1.0),
                reraise=True,
            ):
                with attempt:
                    return self._write_cycle(cycle, computed_at_ms)
        except SQLAlchemyError as exc:
            raise write_error(exc) from exc
        raise AssertionError("unreachable: tenacity reraises")

    def _write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> Written:
        r = cycle.report
        rec = r.reconciliation
        zjson = _zjson(cycle.payloads)
        with self._session.begin() as s:
            snap = SnapshotRow(
                account=cycle.account,
                fetched_at_ms=cycle.fetched_at_ms,
                exchange_time_ms=cycle.exchange_time_ms,
                simulated=cycle.simulated,
                payloads_zjson=zjson,
                base_snapshot_id=cycle.base_snapshot_id,
            )
            s.add(snap)
            s.flush()
            row = ReportRow(
                snapshot_id=snap.id,
                account=cycle.account,
                data_time_ms=cycle.fetched_at_ms,
                computed_at_ms=computed_at_ms,
                positions_at_ms=(
                    cycle.fetched_at_ms if cycle.positions_at_ms is None else cycle.positions_at_ms
                ),
                marks_source=cycle.marks_source,
                simulated=cycle.simulated,
                uni_mmr=_known(r.uni_mmr),
                adjusted_equity_usd=_known(r.adjusted_equity_usd),
                actual_equity_usd=_known(r.actual_equity_usd),
                maint_margin_usd=_known(r.maint_margin.total_usd),
                um_maint_margin_usd=_known(r.maint_margin.um_usd),
                cm_maint_margin_usd=_known(r.maint_margin.cm_usd),
                margin_maint_margin_usd=_known(r.maint_margin.margin_usd),
                status=r.status.value,
                state=r.state,
                unknown_reasons="\n".join(map(str, r.unknown_reasons)) or None,
                reported_uni_mmr=cycle.reported.uni_mmr if cycle.reported else None,
                reported_status=cycle.reported.account_status if cycle.reported else None,
                reported_equity_usd=rec.binance_equity_usd if rec else None,
                reported_maint_margin_usd=rec.binance_mm_usd if rec else None,
                recon_uni_mmr_rel_diff=_finite(rec.rel_diff_uni_mmr) if rec else None,
                recon_agrees=rec.agrees if rec else None,
                recon_explained_by=rec.explained_by if rec else None,
                collateral_table=r.assumptions.collateral_table if r.assumptions else None,
                loan_mmr_source=r.assumptions.loan_mmr_source if r.assumptions else None,
                calibrated=r.assumptions.calibrated if r.assumptions else None,
                liquidation_down_pct=_known(r.liquidation_shock.down_pct),
                liquidation_up_pct=_known(r.liquidation_shock.up_pct),
                btc_liquidation_down_usd=_known(r.liquidation_shock.btc_down_price_usd),
                btc_liquidation_up_usd=_known(r.liquidation_shock.btc_up_price_usd),
                top_up_target_uni_mmr=r.top_up_target_uni_mmr,
                top_up_usd=_known(r.top_up_usd),
                detail_zjson=_zjson(report_to_dict(r)),
            )
            previous = s.scalar(
                select(ReportRow.status)
                .where(ReportRow.account == cycle.account)
                .order_by(ReportRow.data_time_ms.desc(), ReportRow.id.desc())
                .limit(1)
            )
            s.add(row)
            s.flush()
            self._register_account(s, cycle)
            if r.positions:
                s.execute(
                    insert(ReportPositionRow),
                    [_known_row(_position_row(row.id, p)) for p in r.positions],
                )
            if r.assets:
                s.execute(
                    insert(ReportAssetRow), [_known_row(_asset_row(row.id, a)) for a in r.assets]
                )
            if previous != row.status:
                s.add(
                    StatusChangeRow(
                        account=cycle.account,
                        at_ms=row.data_time_ms,
                        report_id=row.id,
                        from_status=previous,
                        to_status=row.status,
                        uni_mmr=row.uni_mmr,
                    )
                )
            sample = _sample(row)
            if sample.known:  # an UNKNOWN report is a gap in the history, not a low point
                self._fold_into_rollups(s, cycle.account, sample)
            written = Written(row.id, snap.id)
        self._registered.add(cycle.account)  # only once committed: a rollback registers nothing
        return written

    def _register_account(self, s: Session, cycle: CycleRecord) -> None:
        if cycle.account in self._registered:
            return
        if s.scalar(select(AccountRow.id).where(AccountRow.name == cycle.account)) is None:
            s.add(
                AccountRow(
                    name=cycle.account,
                    first_seen_ms=cycle.fetched_at_ms,
                    simulated=cycle.simulated,
                )
            )

    @staticmethod
    def _fold_into_rollups(s: Session, account: str, sample: Sample) -> None:
        for period_s in PERIODS_S:
            start = bucket_start_ms(sample.at_ms, period_s)
            found = s.scalars(
                select(RollupRow).where(
                    RollupRow.account == account,
                    RollupRow.period_s == period_s,
                    RollupRow.start_ms == start,
                )
            ).first()
            if found is None:
                s.add(RollupRow(account=account, **vars(open_bucket(sample, period_s))))
            else:
                for key, value in vars(fold(_bucket(found), sample)).items():
                    setattr(found, key, value)

    def record_weight(self, at_ms: int, used: dict[str, int]) -> None:
        """The exchange's used weight by family; ``StoreWriteError`` when it cannot be saved."""
        try:
            with self._session.begin() as s:
                s.add(ApiWeightRow(at_ms=at_ms, used_json=json.dumps(used, sort_keys=True)))
        except SQLAlchemyError as exc:
            raise write_error(exc) from exc

    def record_event(
        self,
        account: str,
        at_ms: int,
        kind: str,
        message: str,
        endpoint: str | None = None,
        code: int | None = None,
    ) -> None:
        """One collector event; ``StoreWriteError`` when it cannot be saved."""
        try:
            with self._session.begin() as s:
                s.add(
                    EventRow(
                        account=account,
                        at_ms=at_ms,
                        kind=kind,
                        endpoint=endpoint,
                        code=code,
                        message=message,
                    )
                )
        except SQLAlchemyError as exc:
            raise write_error(exc) from exc
