"""Shared fixtures: a simulator on a manual clock over real HTTP, a store, a collector.

Also a session-wide watch: every log line any test produces, at any level, is kept, and at the
end none may contain an API key or secret a simulator was started with.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from binance.client import Client
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.client import make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules
from tests.support.secret_watch import SECRETS
from tests.support.start_time import START_MS


class _EveryLine(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a broken record must not hide the others
            self.lines.append(repr(record.msg))


EVERY_LINE = _EveryLine()
_simulator_init = Simulator.__init__


def _recording_init(self: Simulator, *args: Any, **kwargs: Any) -> None:
    _simulator_init(self, *args, **kwargs)
    SECRETS.update(x for a in self.accounts for x in (a.api_key, a.api_secret))


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(EVERY_LINE)
    root.setLevel(logging.DEBUG)
    Simulator.__init__ = _recording_init  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaked = [line for line in EVERY_LINE.lines if any(s in line for s in SECRETS)]
    if leaked:
        print(f"\nSECRET LEAK: {len(leaked)} log line(s) carry an API key or secret:")
        for line in leaked[:5]:
            print("   ", line[:200])
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(
            f"\nsecret watch: {len(EVERY_LINE.lines)} log lines, "
            f"{len(SECRETS)} keys and secrets, none leaked"
        )


@pytest.fixture(autouse=True)
def _own_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the working copy's ./var store: each gets its own by default."""
    monkeypatch.setenv("PMDESK_STORE__URL", f"sqlite:///{tmp_path / 'default.db'}")


POSTGRES_URL_FILE = Path(__file__).resolve().parents[1] / "var" / "test-postgres.url"


def _postgres_admin_url() -> str:
    url = os.environ.get("PMDESK_TEST_POSTGRES_URL") or (
        POSTGRES_URL_FILE.read_text().strip() if POSTGRES_URL_FILE.exists() else ""
    )
    if not url:
        pytest.fail(
            "the store tests need PostgreSQL: run `make test` (it starts one: "
            "scripts/ensure-postgres.sh) or set PMDESK_TEST_POSTGRES_URL"
        )
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend the store supports: a SQLite file, and a new
    database on the real PostgreSQL server, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin = make_url(_postgres_admin_url())
    name = f"pmdesk_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(engine, name)
        engine.dispose()


def _drop_database(engine: Engine, name: str, within_s: float = 60.0) -> None:
    """``DROP DATABASE … WITH (FORCE)`` ends the test's own sessions, but not an autovacuum
    worker busy in it (PostgreSQL refuses to end a superuser's process for a non-superuser role:
    "must be a member of the role whose process is being terminated"): such a worker finishes
    in moments on a test database, so the drop is tried again until it does (bounded)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except DBAPIError as exc:
            if "must be a member of the role" not in str(exc) or time.monotonic() > deadline:
                raise
        with engine.connect() as conn:  # wait for the worker to leave, asking the server
            conn.exec_driver_sql("SELECT pg_sleep(0.2)")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_MS)


@pytest.fixture
def sim_server(clock: ManualClock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    yield server
    server.stop()


@pytest.fixture
def client(sim_server: SimulatorServer) -> Client:
    sim = sim_server.simulator
    return make_client(sim.api_key, sim.api_secret, sim_server.base_url)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'pmdesk.db'}")
    s.create_schema()
    yield s
    s.close()


@pytest.fixture
def collector(store: Store, client: Client, clock: ManualClock) -> Collector:
    return Collector(store, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
