"""The store: one engine, writes in single transactions, reads by indexed "latest" queries.

``Store`` joins the parts, each in its own module: the lifecycle (engine, health, schema:
``lifecycle.py``), the writer (``writer.py``), the reads (``reads.py``) and the upkeep (history
buckets and retention: ``upkeep.py``). The names other packages import from here stay here."""

from __future__ import annotations

from app.store.engine import (
    LOCKED_BY_OTHER,
    describe_lock,
    describe_write_error,
)
from app.store.errors import StoreWriteError
from app.store.leases import Keepalive, Member, PostgresLeases, SingleHostLeases, open_leases
from app.store.lifecycle import (
    FIRST_REVISION,
    UNVERSIONED_TABLES,
    StoreSchemaError,
    _alembic,
)
from app.store.reads import StoreReads
from app.store.records import (
    CycleRecord,
    ReportedPoint,
    StoredEvent,
    StoredReport,
    StoredStatusChange,
    Written,
)
from app.store.upkeep import StoreUpkeep
from app.store.writer import StoreWriter

__all__ = [
    "FIRST_REVISION",
    "LOCKED_BY_OTHER",
    "UNVERSIONED_TABLES",
    "CycleRecord",
    "ReportedPoint",
    "Store",
    "StoreSchemaError",
    "StoreWriteError",
    "StoredEvent",
    "StoredReport",
    "StoredStatusChange",
    "Written",
    "_alembic",
    "describe_lock",
    "describe_write_error",
]


class Store(StoreWriter, StoreReads, StoreUpkeep):
    """The store as every process uses it: ``Store(url, max_mb, busy_timeout_ms)``, then
    ``create_schema()`` once; writes, reads, upkeep and health on the one engine."""

    def open_leases(
        self, member: Member, dead_after_s: float, keepalive: Keepalive
    ) -> SingleHostLeases | PostgresLeases:
        """This collector's leases on the accounts (``app/store/leases.py``): advisory locks
        on a session of their own on PostgreSQL, granted at once on SQLite."""
        return open_leases(self.engine, member, dead_after_s, keepalive)
