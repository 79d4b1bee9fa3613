"""On PostgreSQL, `pmdesk collect` and two `pmdesk serve` workers run as separate processes
against one database (started together: one migrates, the others wait), and the web shows what
the collector writes."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from connectors.simulator.server import SimulatorServer

DEADLINE_S = 60.0
METRICS_TOKEN = "postgres-processes-scrape-token"


def _data_age_s(url: str) -> float:
    """sim-basis's data age as the worker's /metrics gives it (+Inf: no report yet)."""
    answer = requests.get(
        url + "metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    )
    assert answer.status_code == 200, answer.status_code
    for family in text_string_to_metric_families(answer.text):
        for s in family.samples:
            if s.name == "pmdesk_account_data_age_seconds" and s.labels["account"] == "sim-basis":
                return float(s.value)
    raise AssertionError("no pmdesk_account_data_age_seconds for sim-basis")


@pytest.fixture
def postgres_db(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.fail("parametrised below to PostgreSQL only")
    return db_url


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _url_of(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:  # ends if the process dies
        m = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return m.group(1)
    pytest.fail("pmdesk serve never printed its URL")


@pytest.fixture
def processes(postgres_db: str, sim_server: SimulatorServer, tmp_path: Path) -> Iterator[list[str]]:
    sim = sim_server.simulator
    token_file = tmp_path / "metrics.token"
    token_file.write_text(METRICS_TOKEN)
    token_file.chmod(0o600)
    env = {
        **os.environ,
        "PMDESK_STORE__URL": postgres_db,
        "PMDESK_EXCHANGE__BASE_URL": sim_server.base_url,
        "PMDESK_EXCHANGE__UM_STREAM_URL": sim_server.um_stream_url,
        "PMDESK_EXCHANGE__CM_STREAM_URL": sim_server.cm_stream_url,
        "PMDESK_EXCHANGE__API_KEY": sim.api_key,
        "PMDESK_EXCHANGE__API_SECRET": sim.api_secret,
        "PMDESK_EXCHANGE__ACCOUNT": "sim-basis",
        # the simulator's clock is manual: judge freshness loosely
        "PMDESK_WEB__STALE_AFTER_S": "3600",
        "PMDESK_WEB__METRICS_TOKEN_FILE": str(token_file),
    }
    procs = [
        _start(["collect"], env),
        _start(["serve", "--port", "0"], env),
        _start(["serve", "--port", "0"], env),
    ]
    try:
        yield [_url_of(p) for p in procs[1:]]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_collect_and_two_web_workers_share_one_postgres(processes: list[str]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    ages: list[float] = []
    while time.monotonic() < deadline:
        ages = [_data_age_s(url) for url in processes]
        if all(math.isfinite(age) for age in ages):
            break
        time.sleep(0.2)  # polling a condition, bounded by the deadline
    assert all(math.isfinite(age) for age in ages), "no report reached the web workers"
    for url in processes:
        assert requests.get(url, timeout=5).ok
