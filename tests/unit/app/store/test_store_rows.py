"""Each report's positions and asset balances are rows written with it and deleted with it; the
store lists its accounts; migrating a store from before these tables fills the accounts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from alembic import command as alembic_command
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.store.retention import DAY_MS, Retention
from app.store.schema import ReportAssetRow, ReportPositionRow, ReportRow
from app.store.store import Store, StoreWriteError, _alembic
from tests.support.store_cycles import T0, cycle_at


def test_positions_and_assets_are_rows_of_their_report(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    # The basis book (tests/support/books.py): short 2 BTCUSDT at mark 50,000 entered at
    # 49,750; balances 2 BTC (index 50,000) and 10,000 − 500 = 9,500 USDT.
    first = store.write_cycle(cycle_at(T0, 3.0), computed_at_ms=T0)
    store.write_cycle(dataclasses.replace(cycle_at(T0 + 1000, 2.9), account="b"), T0 + 1000)
    store.write_cycle(cycle_at(T0 + 2000, 2.8), computed_at_ms=T0 + 2000)

    (pos,) = store.position_rows("a", T0, T0 + 2000)  # [since, until): not a's second report
    assert len(store.position_rows("a", T0, T0 + 2001)) == 2
    assert (pos["report_id"], pos["data_time_ms"]) == (first.report_id, T0)
    assert (pos["venue"], pos["symbol"], pos["asset"]) == ("UM", "BTCUSDT", "BTC")
    assert (pos["amount"], pos["entry_price"], pos["mark_price"]) == (-2.0, 49_750.0, 50_000.0)
    assert pos["notional_usd"] == 100_000.0  # 2 × 50,000
    assert pos["unrealized_pnl_usd"] == -500.0
    assets = {a["asset"]: a for a in store.asset_rows("a", T0, T0 + 1)}
    assert assets.keys() == {"BTC", "USDT"}
    assert (assets["BTC"]["equity_qty"], assets["BTC"]["actual_equity_usd"]) == (2.0, 100_000.0)
    assert (assets["USDT"]["equity_qty"], assets["USDT"]["stable"]) == (9_500.0, True)
    assert store.position_rows("b", T0, T0 + 5000)[0]["data_time_ms"] == T0 + 1000
    assert store.accounts() == ["a", "b"]  # first seen first
    store.close()


def test_retention_takes_a_reports_rows_with_it(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    for i, uni in enumerate((3.0, 2.9, 2.95, 3.1)):  # one minute: 2.9 is its worst
        store.write_cycle(cycle_at(T0 + 1000 * i, uni), computed_at_ms=T0 + 1000 * i)
    store.prune(Retention(), T0 + 3 * DAY_MS)
    with store.engine.connect() as conn:
        kept = set(conn.scalars(select(ReportRow.id)))
        with_rows = set(conn.scalars(select(ReportPositionRow.report_id)))
        assets = conn.scalar(select(func.count()).select_from(ReportAssetRow))
    assert len(kept) == 2  # the first (its status change) and the minute's worst
    assert with_rows == kept and assets == 2 * len(kept)  # no row left of a dropped report
    store.close()


def test_upgrade_from_0003_lists_the_accounts_already_stored(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    with store.engine.begin() as conn:
        alembic_command.upgrade(_alembic(conn), "0003")
        conn.exec_driver_sql(
            "INSERT INTO snapshots VALUES (1, 'desk-b', 5, 5, 0, x'00', NULL), "
            "(2, 'desk-a', 9, 9, 0, x'00', NULL)"
        )
        for rid, account, at in ((1, "desk-b", 5), (2, "desk-a", 9)):
            conn.exec_driver_sql(
                "INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, 'poll', 0, 2.5, 1000, 1000, 400, "
                "400, 0, 0, 'NORMAL', NULL, NULL, NULL, NULL, NULL, NULL, 2.0, 0, x'00')",
                (rid, rid, account, at, at, at),
            )
    store.create_schema()
    assert store.accounts() == ["desk-b", "desk-a"]
    store.write_cycle(dataclasses.replace(cycle_at(T0, 3.0), account="desk-a"), T0)
    assert store.accounts() == ["desk-b", "desk-a"]  # not registered twice
    store.close()


def test_a_write_that_fails_is_the_stores_own_error(tmp_path: Path) -> None:
    """Issue 18: the collector sees ``StoreWriteError`` (kind + the screen's line), never
    SQLAlchemy's types. A store opened read-only refuses every write."""
    path = tmp_path / "s.db"
    made = Store(f"sqlite:///{path}")
    made.create_schema()
    made.close()
    store = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    writes = (
        lambda: store.write_cycle(cycle_at(T0, 3.0), computed_at_ms=T0),
        lambda: store.record_event("a", T0, "DEGRADED", "m"),
        lambda: store.record_weight(T0, {"papi": 5}),
    )
    for write in writes:
        with pytest.raises(StoreWriteError) as err:
            write()
        assert not isinstance(err.value, SQLAlchemyError)
        assert err.value.kind == "read-only"
        assert err.value.message.startswith("store is read-only: new data cannot be saved")
        assert isinstance(err.value.__cause__, SQLAlchemyError)  # kept for the log
    store.close()
