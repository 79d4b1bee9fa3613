"""The store's schema comes from Alembic migrations, matches the models, and adopts or refuses
stores made before migrations with one clear message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from app.store.rollup import MINUTE_S
from app.store.schema import Base
from app.store.store import (
    FIRST_REVISION,
    UNVERSIONED_TABLES,
    Store,
    StoreSchemaError,
    _alembic,
)
from tests.support.store_cycles import T0, cycle_at


def test_migrations_build_exactly_the_models(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert ctx.get_current_revision() == "0010"
        assert compare_metadata(ctx, Base.metadata) == []
    store.close()


def test_older_store_is_refused_by_name(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as con:  # the reports table as an earlier version made it
        con.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY, account VARCHAR(64))")
    store = Store(f"sqlite:///{db}")
    with pytest.raises(StoreSchemaError) as err:
        store.create_schema()
    assert "missing" in str(err.value) and "reports.marks_source" in str(err.value)
    assert "move it aside or delete it" in str(err.value)
    store.close()


def test_store_from_before_migrations_is_adopted_and_its_history_bucketed(tmp_path: Path) -> None:
    db = tmp_path / "v01.db"
    # What pmdesk 0.1 left on disk: its four tables (migration 0001 is exactly them), no
    # alembic_version, one report.
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        alembic_command.upgrade(_alembic(conn), FIRST_REVISION)
        conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == set(UNVERSIONED_TABLES)
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO snapshots VALUES (1, 'a', ?, ?, 1, x'00', NULL)", (T0, T0))
        con.execute(
            "INSERT INTO reports VALUES (1, 1, 'a', ?, ?, ?, 'poll', 1, 2.5, 1000, 1000, 400, "
            "400, 0, 0, 'NORMAL', NULL, NULL, NULL, NULL, NULL, NULL, 2.0, 0, x'00')",
            (T0, T0, T0),
        )
    store = Store(f"sqlite:///{db}")
    store.create_schema()  # adopted as revision 0001, upgraded to head, buckets rebuilt
    (bucket,) = store.history_buckets("a", MINUTE_S, T0)
    assert (bucket.n, bucket.uni_mmr_min) == (1, 2.5)
    store.write_cycle(cycle_at(T0 + 1000, 3.0), computed_at_ms=T0 + 1000)  # and it collects on
    assert store.count_reports("a") == 2
    assert [b.n for b in store.history_buckets("a", MINUTE_S, T0)] == [2]
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0010"
    store.close()


def test_current_store_opens_twice(tmp_path: Path) -> None:
    for _ in range(2):
        store = Store(f"sqlite:///{tmp_path / 'new.db'}")
        store.create_schema()
        store.close()
