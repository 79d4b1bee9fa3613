"""Several `pmdesk collect` processes on one PostgreSQL share the accounts through leases:
three collectors and six accounts settle at two each; one is SIGKILLed and the other two take
its accounts over — no account goes more than 20 s without a new report, and no account is
polled by two collectors at once (from the simulator's per-key request log: each collector
names itself in its User-Agent)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text

from app.cli.collection import USER_AGENT
from app.collector.leases import DEFAULT_DEAD_AFTER_S
from app.store.leases import LeaseTable, read_leases
from app.store.schema import Base
from app.store.store import Store
from connectors.simulator.request_log import LoggedRequest
from connectors.simulator.server import Simulator, SimulatorServer
from connectors.simulator.weights import LISTEN_KEY_PATH

ACCOUNTS = {f"desk-{i}": p for i, p in enumerate(["basis", "directional"] * 3)}
COLLECTORS = 3
MAX_SILENCE_MS = 20_000  # no account without a new report for longer
SETTLE_S = 120.0  # generous bounds on a busy machine; the test goes on as soon as each is met
TAKEOVER_S = 120.0
BUDGET_S = 400.0  # the whole test, processes started to judged (about 15 s on quiet cores)
T = TypeVar("T")


@pytest.fixture
def postgres_db(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.fail("parametrised below to PostgreSQL only")
    return db_url


@pytest.fixture
def desk() -> Iterator[SimulatorServer]:
    server = SimulatorServer(Simulator(accounts=ACCOUNTS)).start()  # the wall clock
    server.requests.recording = True
    yield server
    server.stop()


def _config(tmp_path: Path, sim: Simulator) -> tuple[Path, dict[str, str]]:
    lines, env = [], {}
    for i, a in enumerate(sim.accounts):
        lines += [
            "[[accounts]]",
            f'name = "{a.name}"',
            f'api_key_env = "DESK_KEY_{i}"',
            f'api_secret_env = "DESK_SECRET_{i}"',
            "",
        ]
        env[f"DESK_KEY_{i}"], env[f"DESK_SECRET_{i}"] = a.api_key, a.api_secret
    path = tmp_path / "pmdesk.toml"
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path, env


@dataclass
class Collectors:
    command: list[str]
    env: dict[str, str]
    store: Store
    folder: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    deadline: float = field(default_factory=lambda: time.monotonic() + BUDGET_S)

    def start(self) -> None:
        log = self.folder / f"collect-{len(self.procs)}.log"
        with log.open("wb") as out:
            self.procs.append(
                subprocess.Popen(self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
            )

    def leases(self) -> LeaseTable:
        return read_leases(self.store.engine, list(ACCOUNTS), DEFAULT_DEAD_AFTER_S)

    def pids(self) -> dict[str, int]:
        """collector id -> process id (collector_members.pid)."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(text("SELECT collector_id, pid FROM collector_members")).all()
        return {str(c): int(p) for c, p in rows}

    def report_times(self, since_ms: int) -> dict[str, list[int]]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT account, computed_at_ms FROM reports WHERE computed_at_ms >= :t "
                    "ORDER BY computed_at_ms"
                ),
                {"t": since_ms},
            ).all()
        out: dict[str, list[int]] = {a: [] for a in ACCOUNTS}
        for account, at in rows:
            out[str(account)].append(int(at))
        return out

    def kill(self, pid: int) -> None:
        """SIGKILL, and reaped: the process is gone when this returns."""
        (proc,) = (p for p in self.procs if p.pid == pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def alive(self) -> None:
        for i, p in enumerate(self.procs):
            if p.poll() is not None and p.returncode != -signal.SIGKILL:
                log = (self.folder / f"collect-{i}.log").read_text()
                pytest.fail(f"a collector exited ({p.returncode}):\n{log[-3000:]}")


@pytest.fixture
def collectors(postgres_db: str, desk: SimulatorServer, tmp_path: Path) -> Iterator[Collectors]:
    store = Store(postgres_db)
    store.create_schema()
    with store.engine.begin() as conn:
        # No autovacuum worker in this busy database when the fixture drops it: PostgreSQL 15's
        # DROP DATABASE ... WITH (FORCE) cannot end one for a role that is not a superuser.
        for table in Base.metadata.tables:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
    config, keys = _config(tmp_path, desk.simulator)
    env = {
        **os.environ,
        **keys,
        "PMDESK_STORE__URL": postgres_db,
        "PMDESK_EXCHANGE__BASE_URL": desk.base_url,
        "PMDESK_EXCHANGE__UM_STREAM_URL": desk.um_stream_url,
        "PMDESK_EXCHANGE__CM_STREAM_URL": desk.cm_stream_url,
        "PMDESK_EXCHANGE__PM_STREAM_URL": desk.pm_stream_url,
        # reconcile often: many signed requests per account, for the log to judge
        "PMDESK_EXCHANGE__POLL_INTERVAL_S": "1",
        "PMDESK_EXCHANGE__RECONCILE_INTERVAL_S": "2",
    }
    command = [sys.executable, "-m", "app.cli", "collect", "--config", str(config)]
    c = Collectors(command, env, store, tmp_path)
    try:
        yield c
    finally:
        for p in c.procs:
            if p.poll() is None:
                p.terminate()
        for p in c.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=15)
        store.close()


def _wait(what: str, deadline_s: float, check: Callable[[], T | None], c: Collectors) -> T:
    """Poll a condition, bounded (and within the whole test's budget); the collectors' health
    checked at every turn."""
    end = min(time.monotonic() + deadline_s, c.deadline)
    while time.monotonic() < end:
        c.alive()
        found = check()
        if found is not None:
            return found
        time.sleep(0.25)  # polling a condition, bounded by the deadline
    table = c.leases()
    logs = "\n".join(
        f"--- collector {i}:\n" + (c.folder / f"collect-{i}.log").read_text()[-1500:]
        for i in range(len(c.procs))
    )
    pytest.fail(
        f"not within {deadline_s:g} s (or the test's {BUDGET_S:g} s): {what}; leases "
        f"{_per_member(table)}, live {sorted(table.live)}\n{logs}"
    )


def _per_member(table: LeaseTable) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {m: set() for m in table.live}
    for account, holder in table.holders().items():
        out.setdefault(holder, set()).add(account)
    return out


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(480)  # three process starts: slow on a machine busy with other work
def test_three_collectors_share_six_accounts_and_survive_a_kill(
    collectors: Collectors, desk: SimulatorServer
) -> None:
    c, sim = collectors, desk.simulator
    started_ms = int(time.time() * 1000)

    def holding(shares: list[int]) -> dict[str, set[str]] | None:
        """The collectors started so far hold these many leases each, all alive and known,
        and every account has a report."""
        table = c.leases()
        held = _per_member(table)
        known = len(table.live) == len(c.procs) == len(shares) and set(c.pids()) == table.live
        reported = c.report_times(started_ms)
        fair = sorted(len(v) for v in held.values()) == shares
        return held if known and fair and all(reported[a] for a in ACCOUNTS) else None

    # The first alone, then two more: leases are handed over as they join, 6 -> 2 + 2 + 2
    # (each surplus given up: its collector stopped first, the lock released after).
    c.start()
    _wait("the first collector holds and reported every account", SETTLE_S, lambda: holding([6]), c)
    c.start()
    c.start()
    held = _wait("two more collectors: two leases each", SETTLE_S, lambda: holding([2, 2, 2]), c)
    balanced_at, balanced_ms = time.monotonic(), int(time.time() * 1000)
    holder_at_balance = {a: m for m, accounts in held.items() for a in accounts}

    keys = {a.api_key: a.name for a in sim.accounts}

    def asked_since(t: float, n: int) -> bool | None:
        """Each account has at least n signed requests started since t (monotonic)."""
        polls = _polls(desk, keys)
        counts = [sum(r.started_s >= t for _, r in polls.get(a, [])) for a in ACCOUNTS]
        return True if min(counts) >= n else None

    # the settled collectors poll (reconcile) their accounts before one is killed
    _wait(
        "two requests of every account after settling",
        SETTLE_S,
        lambda: asked_since(balanced_at, 2),
        c,
    )
    victim = sorted(held)[0]
    orphans = held[victim]
    c.kill(c.pids()[victim])
    killed_at, killed_ms = time.monotonic(), int(time.time() * 1000)

    def taken_over() -> dict[str, str] | None:
        table = c.leases()
        now = table.holders()
        if victim in table.live or any(now.get(a) in (None, victim) for a in orphans):
            return None
        if sorted(len(v) for v in _per_member(table).values()) != [3, 3]:
            return None
        # a report of every account since the kill (the orphans': by their new holder)
        fresh = c.report_times(killed_ms + 1)
        return now if all(fresh[a] for a in ACCOUNTS) else None

    final = _wait("the killed collector's accounts taken over", TAKEOVER_S, taken_over, c)
    _wait(
        "two requests of every account after the kill",
        TAKEOVER_S,
        lambda: asked_since(killed_at, 2),
        c,
    )
    ended_ms = int(time.time() * 1000)
    assert all(final[a] != victim for a in ACCOUNTS)
    assert {final[a] for a in orphans} <= set(held) - {victim}

    # ---- no account without a new report for more than 20 s (the store's report times) ----
    times = c.report_times(balanced_ms)
    for account in ACCOUNTS:
        ts = [balanced_ms, *times[account], ended_ms]
        longest = max(b - a for a, b in itertools.pairwise(ts))
        assert longest <= MAX_SILENCE_MS, f"{account}: no report for {longest / 1000:.1f} s"

    # ---- no account polled by two collectors at once (the simulator's request log) ---------
    by_account = _polls(desk, keys)
    assert set(by_account) == set(ACCOUNTS)
    for account, polls in by_account.items():
        runs = _runs(polls)
        for before, after in itertools.pairwise(runs):
            # a hand-over: the last request of one collector ended before the next one's first
            assert before[-1][1].ended_s <= after[0][1].started_s, (account, before, after)
        # before the kill each collector held an account for one stretch: none came back to it
        before_kill = [run[0][0] for run in runs if run[0][1].started_s < killed_at]
        assert len(before_kill) == len(set(before_kill)), (account, before_kill)
        settled = [(who, r) for who, r in polls if r.started_s >= balanced_at]
        sequence = [run[0][0] for run in _runs(settled)]
        if account in orphans:
            # the victim's until it died, then one survivor's
            assert sequence in ([victim, final[account]], [final[account]]), (account, sequence)
        else:
            assert sequence == [holder_at_balance[account]], (account, sequence)


def _polls(
    desk: SimulatorServer, keys: dict[str, str]
) -> dict[str, list[tuple[str, LoggedRequest]]]:
    """Each account's signed reads and listenKey requests, with the collector that sent each
    (from its User-Agent), in the order they started. Unsigned market data is left out: any
    collector's mark-price fallback may read it with whichever key its client holds."""
    prefix = USER_AGENT.format("")
    routes = desk.simulator.routes
    out: dict[str, list[tuple[str, LoggedRequest]]] = {}
    for key, requests in desk.requests.by_key().items():
        if key not in keys:
            continue
        for r in requests:
            route = routes.get(r.path)
            if r.path != LISTEN_KEY_PATH and (route is None or not route.signed):
                continue
            assert r.agent.startswith(prefix), r
            out.setdefault(keys[key], []).append((r.agent[len(prefix) :], r))
    return out


def _runs(
    polls: list[tuple[str, LoggedRequest]],
) -> list[list[tuple[str, LoggedRequest]]]:
    """Consecutive requests of one collector grouped: a new group at each change of sender."""
    runs: list[list[tuple[str, LoggedRequest]]] = []
    for who, r in polls:
        if runs and runs[-1][0][0] == who:
            runs[-1].append((who, r))
        else:
            runs.append([(who, r)])
    return runs
