"""`pmdesk demo` as a newcomer runs it: one process, a URL printed, a live uniMMR served."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

DEADLINE_S = 40.0


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "demo.db"
    env = {**os.environ, "PMDESK_DB_URL": f"sqlite:///{db}", "PMDESK_POLL_INTERVAL_S": "0.5"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:  # blocks until the demo prints; ends if the process dies
            m = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
                break
        assert url is not None, "pmdesk demo never printed its dashboard URL"
        yield url, db
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_serves_a_uni_mmr_that_changes(demo: tuple[str, Path]) -> None:
    url, db = demo
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "pmdesk" in page.text
    # Wait (bounded) for the collector to store several reports; prices walk every second.
    deadline = time.monotonic() + DEADLINE_S
    values: set[float] = set()
    while time.monotonic() < deadline and len(values) < 2:
        health = requests.get(url + "healthz", timeout=5)
        if health.status_code == 200 and db.exists():
            with sqlite3.connect(db) as con:
                values = {r[0] for r in con.execute("SELECT uni_mmr FROM reports")}
        time.sleep(0.5)  # polling interval of a bounded wait for a condition, not a sync point
    assert len(values) >= 2, f"uniMMR did not change within {DEADLINE_S} s: {values}"
    assert requests.get(url + "healthz", timeout=5).json()["account"] == "sim-basis"
