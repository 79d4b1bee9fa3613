"""The store: one engine, writes in single transactions, reads by indexed "latest" queries."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.store.schema import Base, EventRow, ReportRow, SnapshotRow
from risk.model import ReportedAccount, RiskReport
from risk.serialize import report_to_dict


@dataclass(frozen=True)
class CycleRecord:
    """What one successful collector cycle produced, ready to be written."""

    account: str
    fetched_at_ms: int
    exchange_time_ms: int
    simulated: bool
    payloads: dict[str, object]
    report: RiskReport
    reported: ReportedAccount | None


@dataclass(frozen=True)
class StoredReport:
    """The newest report as the web layer reads it."""

    id: int
    account: str
    data_time_ms: int
    computed_at_ms: int
    simulated: bool
    uni_mmr: float
    adjusted_equity_usd: float
    maint_margin_usd: float
    status: str
    reported_uni_mmr: float | None
    reported_status: str | None
    liquidation_down_pct: float | None
    liquidation_up_pct: float | None
    btc_liquidation_down_usd: float | None
    btc_liquidation_up_usd: float | None
    top_up_target_uni_mmr: float
    top_up_usd: float


@dataclass(frozen=True)
class StoredEvent:
    at_ms: int
    kind: str
    endpoint: str | None
    code: int | None
    message: str


def _zjson(body: object) -> bytes:
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode())


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> int:
        """Snapshot + report in one transaction; returns the report id."""
        r = cycle.report
        zjson = _zjson(cycle.payloads)
        with self._session.begin() as s:
            snap = SnapshotRow(
                account=cycle.account,
                fetched_at_ms=cycle.fetched_at_ms,
                exchange_time_ms=cycle.exchange_time_ms,
                simulated=cycle.simulated,
                payloads_zjson=zjson,
            )
            s.add(snap)
            s.flush()
            row = ReportRow(
                snapshot_id=snap.id,
                account=cycle.account,
                data_time_ms=cycle.fetched_at_ms,
                computed_at_ms=computed_at_ms,
                simulated=cycle.simulated,
                uni_mmr=r.uni_mmr,
                adjusted_equity_usd=r.adjusted_equity_usd,
                actual_equity_usd=r.actual_equity_usd,
                maint_margin_usd=r.maint_margin.total_usd,
                um_maint_margin_usd=r.maint_margin.um_usd,
                cm_maint_margin_usd=r.maint_margin.cm_usd,
                margin_maint_margin_usd=r.maint_margin.margin_usd,
                status=r.status.value,
                reported_uni_mmr=cycle.reported.uni_mmr if cycle.reported else None,
                reported_status=cycle.reported.account_status if cycle.reported else None,
                liquidation_down_pct=r.liquidation_shock.down_pct,
                liquidation_up_pct=r.liquidation_shock.up_pct,
                btc_liquidation_down_usd=r.liquidation_shock.btc_down_price_usd,
                btc_liquidation_up_usd=r.liquidation_shock.btc_up_price_usd,
                top_up_target_uni_mmr=r.top_up_target_uni_mmr,
                top_up_usd=r.top_up_usd,
                detail_zjson=_zjson(report_to_dict(r)),
            )
            s.add(row)
            s.flush()
            return row.id

    def record_event(
        self,
        account: str,
        at_ms: int,
        kind: str,
        message: str,
        endpoint: str | None = None,
        code: int | None = None,
    ) -> None:
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

    def latest_report(self, account: str) -> StoredReport | None:
        with Session(self.engine) as s:
            row = s.scalars(
                select(ReportRow)
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
                simulated=row.simulated,
                uni_mmr=row.uni_mmr,
                adjusted_equity_usd=row.adjusted_equity_usd,
                maint_margin_usd=row.maint_margin_usd,
                status=row.status,
                reported_uni_mmr=row.reported_uni_mmr,
                reported_status=row.reported_status,
                liquidation_down_pct=row.liquidation_down_pct,
                liquidation_up_pct=row.liquidation_up_pct,
                btc_liquidation_down_usd=row.btc_liquidation_down_usd,
                btc_liquidation_up_usd=row.btc_liquidation_up_usd,
                top_up_target_uni_mmr=row.top_up_target_uni_mmr,
                top_up_usd=row.top_up_usd,
            )

    def latest_event(self, account: str) -> StoredEvent | None:
        with Session(self.engine) as s:
            row = s.scalars(
                select(EventRow)
                .where(EventRow.account == account)
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
