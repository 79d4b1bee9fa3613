"""The Outlook in the store (issue 20): one row per account and computation — when it was
computed, whether it is unknown, its liquidation probability at the alert horizon for a cheap
look, and the whole ``risk.outlook_result.Outlook`` as compressed JSON (its ``to_dict``, stable
keys). Written by the collector's outlook job (``app/collector/outlook_job.py``) at most once a
minute per account; read by the Outlook view, the Overview's probability and the alert rule.
The newest per account is one query on the ``(account, computed_at_ms)`` index; rows older than
the retention's ``raw_h`` are pruned, never the account's newest.

The table is declared on the store's ``Base`` (``app/store/schema.py``) here, beside its reads and
writes; made by the migration ``0010_outlooks``."""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base
from risk.outlook_result import Outlook


class OutlookRow(Base):
    """One Outlook of one account (``risk.outlook_result.Outlook``, JSON, zlib)."""

    __tablename__ = "outlooks"
    __table_args__ = (Index("ix_outlooks_account_time", "account", "computed_at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    computed_at_ms: Mapped[int] = mapped_column(BigInteger)
    # Empty when figures are present; else why none could be computed (fail closed).
    unknown: Mapped[str] = mapped_column(String(512))
    # P(liquidation) at the longest horizon computed; NULL when unknown.
    p_liquidation: Mapped[float | None] = mapped_column(Float, nullable=True)
    body_zjson: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class StoredOutlook:
    id: int
    account: str
    computed_at_ms: int
    outlook: Outlook


def encode(outlook: Outlook) -> bytes:
    return zlib.compress(json.dumps(outlook.to_dict(), allow_nan=False).encode())


def decode(body: bytes) -> Outlook:
    return Outlook.from_dict(json.loads(zlib.decompress(body)))


def _longest_p(outlook: Outlook) -> float | None:
    if outlook.unknown or not outlook.horizons:
        return None
    p = max(outlook.horizons, key=lambda h: h.horizon_h).p_liquidation
    return p if math.isfinite(p) else None


class OutlookStore:
    """Reads and writes of the ``outlooks`` table on the store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, account: str, outlook: Outlook) -> int:
        with Session(self.engine) as s, s.begin():
            row = OutlookRow(
                account=account,
                computed_at_ms=outlook.computed_at_ms,
                unknown=outlook.unknown[:512],
                p_liquidation=_longest_p(outlook),
                body_zjson=encode(outlook),
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def latest_id(self, account: str) -> tuple[int, int] | None:
        """(id, computed_at_ms) of the account's newest outlook: the index only."""
        with Session(self.engine) as s:
            found = s.execute(
                select(OutlookRow.id, OutlookRow.computed_at_ms)
                .where(OutlookRow.account == account)
                .order_by(OutlookRow.computed_at_ms.desc(), OutlookRow.id.desc())
                .limit(1)
            ).first()
            return None if found is None else (int(found[0]), int(found[1]))

    def read(self, outlook_id: int) -> StoredOutlook | None:
        with Session(self.engine) as s:
            row = s.get(OutlookRow, outlook_id)
            if row is None:
                return None
            return StoredOutlook(row.id, row.account, row.computed_at_ms, decode(row.body_zjson))

    def latest(self, account: str) -> StoredOutlook | None:
        """The account's newest outlook, or None when none was ever stored."""
        found = self.latest_id(account)
        return None if found is None else self.read(found[0])

    def prune(self, account: str, before_ms: int) -> int:
        """Drop the account's outlooks computed before ``before_ms``, never its newest."""
        newest = self.latest_id(account)
        if newest is None:
            return 0
        with Session(self.engine) as s, s.begin():
            result = s.execute(
                delete(OutlookRow).where(
                    OutlookRow.account == account,
                    OutlookRow.computed_at_ms < before_ms,
                    OutlookRow.id != newest[0],
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)
