"""`pmdesk demo` as a newcomer runs it: one process, a URL printed, a live uniMMR served."""

from __future__ import annotations

import json
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

from connectors.binance.limits import LIMITS_PER_MINUTE

DEADLINE_S = 40.0


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "demo.db"
    env = {**os.environ, "PMDESK_STORE__URL": f"sqlite:///{db}"}
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


def _stream_reports(db: Path) -> list[tuple[int, float]]:
    with sqlite3.connect(db) as con:
        return list(
            con.execute(
                "SELECT data_time_ms, uni_mmr FROM reports WHERE marks_source = 'stream' "
                "ORDER BY id"
            )
        )


def test_demo_moves_every_second_under_half_the_weight(demo: tuple[str, Path]) -> None:
    """The issue's "done when": with the basis preset the figures change every second (mark
    prices streamed, applied between account polls) while the API weight Binance reports
    stays under half of every family's limit."""
    url, db = demo
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "pmdesk" in page.text
    deadline = time.monotonic() + DEADLINE_S
    seconds: dict[int, set[float]] = {}
    while time.monotonic() < deadline and len(seconds) < 5:
        if requests.get(url + "healthz", timeout=5).status_code == 200 and db.exists():
            seconds = {}
            for t, uni in _stream_reports(db):
                seconds.setdefault(t // 1000, set()).add(uni)
        time.sleep(0.5)  # polling interval of a bounded wait for a condition, not a sync point
    assert len(seconds) >= 5, f"fewer than 5 seconds with streamed figures: {seconds}"
    ordered = sorted(seconds)
    firsts = [min(seconds[s]) for s in ordered]
    # Consecutive seconds carry different figures (the market steps once a second).
    assert len(set(firsts)) >= len(firsts) - 1, firsts
    with sqlite3.connect(db) as con:
        weights = [json.loads(r[0]) for r in con.execute("SELECT used_json FROM api_weight")]
    assert weights, "no API weight recorded"
    for used in weights:
        for fam, value in used.items():
            assert value < 0.5 * LIMITS_PER_MINUTE[fam], (fam, value)
    assert requests.get(url + "healthz", timeout=5).json() == {"status": "ok"}  # nothing more
