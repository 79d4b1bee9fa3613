"""The store's lifecycle: its engine and sessions, its health as the screen says it, and its
schema (Alembic migrations, adopting a store made before them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, select
from sqlalchemy.engine import Inspector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.store.alerts import AlertStore
from app.store.engine import (
    BUSY_TIMEOUT_MS,
    FULL_ROOM_PAGES,
    LOW_DISK_BYTES,
    LockWatch,
    describe_lock,
    describe_write_error,
    make_engine,
)
from app.store.schema import Base, ReportRow

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
MIGRATION_LOCK = 0x706D6465736B  # "pmdesk": one process migrates at a time (PostgreSQL)
# What pmdesk made before migrations (revision 0001's tables): such a store is adopted as 0001.
UNVERSIONED_TABLES = ("snapshots", "reports", "events", "api_weight")
ADDED_SINCE_FIRST = frozenset(
    # Columns later migrations added to those tables (0006): a store from before migrations
    # is judged by the first revision's columns only.
    {
        "reports.state",
        "reports.unknown_reasons",
        "reports.reported_equity_usd",
        "reports.reported_maint_margin_usd",
        "reports.recon_uni_mmr_rel_diff",
        "reports.recon_agrees",
        "reports.recon_explained_by",
        "reports.collateral_table",
        "reports.loan_mmr_source",
        "reports.calibrated",
    }
)


class StoreSchemaError(Exception):
    """The store's tables do not match this version of pmdesk."""


def _alembic(conn: Connection) -> AlembicConfig:
    """Alembic, told where pmdesk's migrations are and to work on this connection."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


class StoreCore:
    """The store's engine, health and schema lifecycle; the writer, the reads and the upkeep
    (``app/store/writer.py``, ``reads.py``, ``upkeep.py``) build on it, ``Store`` joins them."""

    if TYPE_CHECKING:  # app/store/upkeep.py; create_schema rebuilds old stores' buckets

        def rebuild_rollups(
            self, account: str, since_ms: int | None = None, chunk: int = 50_000
        ) -> int: ...

    def __init__(
        self, url: str, max_mb: float | None = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> None:
        self.engine = make_engine(url, max_mb, busy_timeout_ms)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._max_mb = max_mb
        self.busy_timeout_ms = busy_timeout_ms
        self._registered: set[str] = set()  # accounts known to be in ``accounts``
        self.alerts = AlertStore(self.engine)
        file = self.sqlite_file()
        self._lock_watch = None if file is None else LockWatch(file, busy_timeout_ms)

    def sqlite_file(self) -> Path | None:
        """The SQLite store's file; None for PostgreSQL, in-memory and SQLite URI forms."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        if url.query.get("uri") == "true":
            return None
        return Path(url.database)

    def health(self) -> str | None:
        """Why new data may not be saved, as the screen says it; None when nothing is wrong.
        Checked from any process (web or collector): the file, its disk, its size cap, and a
        lock another process holds past the busy timeout (``LockWatch``)."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        path = Path(url.database)
        if path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            return describe_write_error(Exception("readonly"))[1]
        free = shutil.disk_usage(path.parent).free
        if free < LOW_DISK_BYTES:
            return f"disk almost full: {free / 1e6:.0f} MB left for the store at {path}"
        if self._max_mb is not None:
            try:
                with self.engine.connect() as conn:
                    pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
                    reusable = conn.exec_driver_sql("PRAGMA freelist_count").scalar()
                    cap = conn.exec_driver_sql("PRAGMA max_page_count").scalar()
            except SQLAlchemyError as exc:  # locked even for reading: say so
                locked = describe_lock(exc, "the store cannot be read")
                if locked is None:
                    raise
                return locked
            if pages is not None and cap is not None:
                # Pages on the freelist are reused before the file grows; one poll's write
                # takes several pages, so "full" is when less than that is left (or 2 %).
                room = cap - (pages - (reusable or 0))
                if room < max(0.02 * cap, FULL_ROOM_PAGES):
                    return describe_write_error(Exception("full"))[1]
        if self._lock_watch is not None:
            return self._lock_watch.trouble()  # what the last probe found; never waits
        return None

    def create_schema(self) -> None:
        """Bring the store to this version's schema (``pmdesk db upgrade``, run at every start):
        Alembic migrations from whatever revision it is at. A store made before migrations
        existed is adopted when it has the first revision's columns, else refused with one clear
        message. Reports stored before the history buckets existed get their buckets rebuilt."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # collect and serve may start together
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            found = inspect(conn)
            tables = set(found.get_table_names())
            if "alembic_version" not in tables and "reports" in tables:
                self._adopt_unversioned(conn, found)
            before = MigrationContext.configure(conn).get_current_revision()
            alembic_command.upgrade(_alembic(conn), "head")
        if before in (None, FIRST_REVISION):
            with Session(self.engine) as s:
                accounts = list(s.scalars(select(ReportRow.account).distinct()))
            for account in accounts:
                self.rebuild_rollups(account)

    def _adopt_unversioned(self, conn: Connection, found: Inspector) -> None:
        present = set(found.get_table_names())
        missing = [
            f"{table}.{column.name}"
            for table in UNVERSIONED_TABLES
            for column in Base.metadata.tables[table].columns
            if f"{table}.{column.name}" not in ADDED_SINCE_FIRST
            and (
                table not in present
                or column.name not in {c["name"] for c in found.get_columns(table)}
            )
        ]
        if missing:
            raise StoreSchemaError(
                f"store {self.engine.url.render_as_string(hide_password=True)} was made by an "
                f"older pmdesk (missing {', '.join(missing)}): move it aside or delete it, "
                "and pmdesk starts a new one"
            )
        alembic_command.stamp(_alembic(conn), FIRST_REVISION)

    def close(self) -> None:
        self.engine.dispose()
