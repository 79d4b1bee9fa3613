"""SIGKILL a collecting pmdesk at random moments, over and over: the store stays intact, keeps
every report a reader had seen committed, holds no orphan rows, and the next start collects on
without a manual step."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.simulator.server import Simulator, SimulatorServer

KILLS = 12  # random moments among the writes; each costs a process start (~2.5 s)
START_DEADLINE_S = 30.0  # a restarted collector writes its first report within this


@pytest.fixture
def exchange() -> Iterator[SimulatorServer]:
    # Marks streamed five times a second: the collector writes a report on nearly every one.
    server = SimulatorServer(Simulator(preset="basis"), stream_interval_s=0.2).start()
    yield server
    server.stop()


def _reports(db: Path) -> tuple[int, set[int]]:
    with sqlite3.connect(db, timeout=30) as con:
        ids = {row[0] for row in con.execute("SELECT id FROM reports")}
    return len(ids), ids


def _wait_for_more(db: Path, than: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the collector exited by itself"
        if db.exists():
            try:
                if _reports(db)[0] > than:
                    return
            except sqlite3.OperationalError:  # schema not there yet
                pass
        time.sleep(0.05)  # polling a condition, bounded by the deadline
    pytest.fail(f"no new report within {START_DEADLINE_S:.0f} s of a start")


def _check(db: Path, seen: set[int]) -> None:
    with sqlite3.connect(db, timeout=30) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        ids = {row[0] for row in con.execute("SELECT id FROM reports")}
        assert seen <= ids, f"committed reports lost: {sorted(seen - ids)[:5]}"
        orphans = con.execute(
            "SELECT count(*) FROM snapshots s WHERE NOT EXISTS "
            "(SELECT 1 FROM reports r WHERE r.snapshot_id = s.id)"
        ).fetchone()
        assert orphans == (0,), "snapshot without its report"
        bare = con.execute(  # foreign_key_check above: no row without its report; and back:
            "SELECT count(*) FROM reports r WHERE NOT EXISTS "
            "(SELECT 1 FROM report_assets a WHERE a.report_id = r.id)"
        ).fetchone()
        assert bare == (0,), "report without its asset rows"
        # Buckets move in the report's transaction: they count exactly the reports.
        for period in (60, 600, 3600):
            counted = con.execute(
                "SELECT coalesce(sum(n), 0) FROM rollups WHERE period_s = ?", (period,)
            ).fetchone()
            assert counted == (len(ids),), f"{period}-s buckets count {counted[0]} of {len(ids)}"


# Twenty process starts (about 50 s on 2 quiet cores): on a machine busy with other work each
# start's imports take several times longer, so this test has more than the suite's 120 s.
@pytest.mark.timeout(480)
def test_sigkill_during_writes_loses_nothing_committed(
    exchange: SimulatorServer, tmp_path: Path
) -> None:
    db = tmp_path / "crash.db"
    sim = exchange.simulator
    env = {
        **os.environ,
        "PMDESK_STORE__URL": f"sqlite:///{db}",
        "PMDESK_EXCHANGE__BASE_URL": exchange.base_url,
        "PMDESK_EXCHANGE__UM_STREAM_URL": exchange.um_stream_url,
        "PMDESK_EXCHANGE__CM_STREAM_URL": exchange.cm_stream_url,
        "PMDESK_EXCHANGE__API_KEY": sim.api_key,
        "PMDESK_EXCHANGE__API_SECRET": sim.api_secret,
        "PMDESK_EXCHANGE__ACCOUNT": "sim-basis",
    }
    rng = random.Random(20261125)
    seen: set[int] = set()
    for _ in range(KILLS):
        before = _reports(db)[0] if db.exists() else 0
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "collect"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_more(db, before, proc)  # it resumed collecting by itself
            time.sleep(rng.uniform(0.0, 1.2))  # then a random moment among its writes
            seen = _reports(db)[1]  # everything a reader sees now is committed
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        _check(db, seen)
    assert len(seen) > KILLS
