"""Alerts in the store: opened when they fire, updated while active, closed when they clear,
acknowledged from any screen; and each notification's delivery."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.store.schema import AlertDeliveryRow, AlertRow


@dataclass(frozen=True)
class StoredAlert:
    id: int
    account: str
    key: str
    severity: str
    title: str
    message: str
    action: str
    value: float | None
    triggered_at_ms: int
    cleared_at_ms: int | None
    acked_by: str | None
    acked_at_ms: int | None


@dataclass(frozen=True)
class StoredDelivery:
    alert_id: int
    kind: str
    target: str
    attempts: int
    ok: bool
    error: str | None
    at_ms: int


_DELIVERY_FIELDS = dataclasses.fields(StoredDelivery)
_ALERT_COLUMNS = (
    AlertRow.id,
    AlertRow.account,
    AlertRow.key,
    AlertRow.severity,
    AlertRow.title,
    AlertRow.message,
    AlertRow.action,
    AlertRow.value,
    AlertRow.triggered_at_ms,
    AlertRow.cleared_at_ms,
    AlertRow.acked_by,
    AlertRow.acked_at_ms,
)


class AlertStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    def open(
        self,
        account: str,
        key: str,
        severity: str,
        title: str,
        message: str,
        action: str,
        value: float | None,
        at_ms: int,
        report_id: int | None = None,
    ) -> int:
        with self._session.begin() as s:
            row = AlertRow(
                account=account,
                key=key,
                severity=severity,
                title=title,
                message=message,
                action=action,
                value=value,
                triggered_at_ms=at_ms,
                report_id=report_id,
            )
            s.add(row)
            s.flush()
            return row.id

    def update(self, alert_id: int, message: str, action: str, value: float | None) -> None:
        with self._session.begin() as s:
            s.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(message=message, action=action, value=value)
            )

    def close(self, alert_id: int, at_ms: int) -> None:
        with self._session.begin() as s:
            s.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.cleared_at_ms.is_(None))
                .values(cleared_at_ms=at_ms)
            )

    def acknowledge(self, alert_id: int, who: str, at_ms: int) -> bool:
        """Record who silenced an alert; False when it was acknowledged already (the first
        acknowledgement stands) or does not exist."""
        with self._session.begin() as s:
            done = s.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.acked_at_ms.is_(None))
                .values(acked_by=who[:128], acked_at_ms=at_ms)
            )
            return bool(getattr(done, "rowcount", 0))

    def active(self, account: str | None = None) -> list[StoredAlert]:
        """Alerts not cleared, worst first (critical, then the oldest)."""
        query = select(*_ALERT_COLUMNS).where(AlertRow.cleared_at_ms.is_(None))
        if account is not None:
            query = query.where(AlertRow.account == account)
        with Session(self.engine) as s:
            rows = [StoredAlert(**r._asdict()) for r in s.execute(query)]
        return sorted(rows, key=lambda a: (a.severity != "critical", a.triggered_at_ms, a.id))

    def since(
        self, since_ms: int, account: str | None = None, limit: int = 500
    ) -> list[StoredAlert]:
        """Alerts that fired from ``since_ms`` on, newest first."""
        query = select(*_ALERT_COLUMNS).where(AlertRow.triggered_at_ms >= since_ms)
        if account is not None:
            query = query.where(AlertRow.account == account)
        query = query.order_by(AlertRow.triggered_at_ms.desc(), AlertRow.id.desc()).limit(limit)
        with Session(self.engine) as s:
            return [StoredAlert(**r._asdict()) for r in s.execute(query)]

    def get(self, alert_id: int) -> StoredAlert | None:
        with Session(self.engine) as s:
            row = s.execute(select(*_ALERT_COLUMNS).where(AlertRow.id == alert_id)).first()
            return None if row is None else StoredAlert(**row._asdict())

    def record_delivery(self, delivery: StoredDelivery) -> None:
        with self._session.begin() as s:
            s.add(AlertDeliveryRow(**dataclasses.asdict(delivery)))

    def deliveries(self, alert_ids: list[int]) -> list[StoredDelivery]:
        if not alert_ids:
            return []
        with Session(self.engine) as s:
            rows = s.execute(
                select(*(getattr(AlertDeliveryRow, f.name) for f in _DELIVERY_FIELDS))
                .where(AlertDeliveryRow.alert_id.in_(alert_ids))
                .order_by(AlertDeliveryRow.at_ms, AlertDeliveryRow.id)
            )
            return [StoredDelivery(*r) for r in rows]

    def prune(self, before_ms: int) -> int:
        """Drop cleared alerts (and their deliveries) that fired before ``before_ms``."""
        with self._session.begin() as s:
            done = s.execute(
                delete(AlertRow).where(
                    AlertRow.triggered_at_ms < before_ms, AlertRow.cleared_at_ms.is_not(None)
                )
            )
            return int(getattr(done, "rowcount", 0) or 0)
