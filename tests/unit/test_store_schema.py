"""A store made by an older pmdesk is refused with one clear message, never half-written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.store.store import Store, StoreSchemaError


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


def test_current_store_opens_twice(tmp_path: Path) -> None:
    for _ in range(2):
        store = Store(f"sqlite:///{tmp_path / 'new.db'}")
        store.create_schema()
        store.close()
