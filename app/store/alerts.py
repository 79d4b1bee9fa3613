"""Alerts in the store: opened when they fire, updated while active (value, level, cool-down),
closed when they clear, acknowledged from any screen — one at a time or all at once; and each
notification's delivery."""

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
    level: int = 1  # the rule's level now (uniMMR: 1 warn, 2 critical)
    peak_severity: str | None = None  # the worst it reached (None: rows from before 0007)
    recovering_until_ms: int | None = None  # calm now: eases or clears then if the calm holds
    recovering_to: str | None = None  # … to this severity (None: it clears)

    @property
    def peak(self) -> str:
        return self.peak_severity or self.severity

    @property
    def recovering(self) -> bool:
        return self.recovering_until_ms is not None


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
    AlertRow.level,
    AlertRow.peak_severity,
    AlertRow.recovering_until_ms,
    AlertRow.recovering_to,
)
_SEVERITY_ORDER = {"warn": 1, "critical": 2}


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
        level: int = 1,
        peak_severity: str | None = None,
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
                level=level,
                peak_severity=peak_severity or severity,
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

    def change_level(
        self,
        alert_id: int,
        key: str,
        severity: str,
        level: int,
        title: str,
        peak_severity: str,
        rearm: bool,
    ) -> None:
        """The same alert at another level (escalated, eased, or adopted under today's key).
        ``rearm``: an escalation — its acknowledgement no longer covers it, the alarm sounds
        again until someone acknowledges the worse state."""
        values: dict[str, object] = {
            "key": key,
            "severity": severity,
            "level": level,
            "title": title,
            "peak_severity": peak_severity,
        }
        if rearm:
            values |= {"acked_by": None, "acked_at_ms": None}
        with self._session.begin() as s:
            s.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values))

    def set_recovering(self, alert_id: int, until_ms: int | None, to: str | None) -> None:
        """Calm now: the alert eases (``to`` a severity) or clears (``to`` None) at
        ``until_ms`` if the calm holds; ``until_ms`` None: not recovering."""
        with self._session.begin() as s:
            s.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(recovering_until_ms=until_ms, recovering_to=to if until_ms else None)
            )

    def close(self, alert_id: int, at_ms: int) -> None:
        with self._session.begin() as s:
            s.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.cleared_at_ms.is_(None))
                .values(cleared_at_ms=at_ms, recovering_until_ms=None, recovering_to=None)
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

    def acknowledge_all(self, who: str, at_ms: int, ids: list[int] | None = None) -> int:
        """Acknowledge every active alert not acknowledged yet (or those of ``ids``), each with
        who and when as a single acknowledgement; how many that was."""
        query = update(AlertRow).where(
            AlertRow.cleared_at_ms.is_(None), AlertRow.acked_at_ms.is_(None)
        )
        if ids is not None:
            query = query.where(AlertRow.id.in_(ids))
        with self._session.begin() as s:
            done = s.execute(query.values(acked_by=who[:128], acked_at_ms=at_ms))
            return int(getattr(done, "rowcount", 0) or 0)

    def active(self, account: str | None = None) -> list[StoredAlert]:
        """Alerts not cleared, worst first (critical, then the oldest)."""
        query = select(*_ALERT_COLUMNS).where(AlertRow.cleared_at_ms.is_(None))
        if account is not None:
            query = query.where(AlertRow.account == account)
        with Session(self.engine) as s:
            rows = [StoredAlert(**r._asdict()) for r in s.execute(query)]
        return sorted(rows, key=worst_first)

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


def shown_severity(a: StoredAlert) -> str:
    """What the alert is now: its severity, or while it cools down the severity it eases to,
    or "calm" when it is about to clear."""
    if a.recovering_until_ms is None:
        return a.severity
    return a.recovering_to or "calm"


def worst_first(a: StoredAlert) -> tuple[int, int, int, int]:
    """Critical before warn, calm (recovering) after both, a higher level first, then the
    oldest."""
    return (-_SEVERITY_ORDER.get(shown_severity(a), 0), -a.level, a.triggered_at_ms, a.id)
