"""Sign-in over real HTTP (waitress, as pmdesk serves it): password guessing from one address
is locked out after the limit and costs no more password checks; a signed-in user's requests
stay fast meanwhile; an unknown user name answers as slowly as a known one (issue 17).

Nothing waits on a timer to synchronise: the guesser says when it has started, and stops when
told."""

from __future__ import annotations

import json
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.security import generate_password_hash

from app.collector.collector import Collector
from app.store.store import Store
from app.web.app import create_app
from app.web.ratelimit import Policy
from app.web.signin import SignIn, SignInPolicy
from app.web.users import Roster, add_user
from connectors.simulator.clock import ManualClock
from tests.support.served_app import STALE_AFTER_S, served

PASSWORD = "a long desk password"
# For the timing comparison: a quarter of werkzeug's default scrypt cost (about 25 ms, not 100),
# so that a busy machine's noise stays well under the 10 ms asked for while an unknown name
# answered without a check (1 ms) would still be 20+ ms off. The dummy hash an unknown name is
# checked against follows the users' own method and cost (tests/unit/app/web/test_signin.py).
CHEAPER_SCRYPT = "scrypt:8192:8:1"


def serve_signed_in(
    store: Store, clock: ManualClock, tmp_path: Path, policy: SignInPolicy, method: str = ""
) -> Iterator[str]:
    users = tmp_path / "users"
    if method:
        users.write_text(f"maria:operator:{generate_password_hash(PASSWORD, method=method)}\n")
        users.chmod(0o600)
    else:
        add_user(users, "maria", PASSWORD, "operator")
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    SignIn(Roster(users, tmp_path / "screens"), b"s" * 32, policy).install(app.server)
    with served(app, authenticated=True) as url:
        yield url


@pytest.fixture
def limited(store: Store, clock: ManualClock, tmp_path: Path) -> Iterator[str]:
    yield from serve_signed_in(store, clock, tmp_path, SignInPolicy())  # the defaults


@pytest.fixture
def unlimited(store: Store, clock: ManualClock, tmp_path: Path) -> Iterator[str]:
    lots = Policy(100_000, 1.0, 1.0, 3600.0)
    yield from serve_signed_in(
        store, clock, tmp_path, SignInPolicy(per_address=lots, per_name=lots), CHEAPER_SCRYPT
    )


def form_session(url: str) -> tuple[requests.Session, str]:
    """A client with the sign-in form's cookie and token, as a browser that opened /login."""
    s = requests.Session()
    page = s.get(url + "login", timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token is not None
    return s, token.group(1)


def attempt(s: requests.Session, url: str, csrf: str, name: str, password: str) -> Any:
    data = {"name": name, "password": password, "csrf": csrf, "next": "/"}
    return s.post(url + "login", data=data, allow_redirects=False, timeout=30)


def report_key_body() -> dict[str, Any]:
    """The request a viewer's screen sends every KEY_CHECK_MS: is there a newer report?"""
    return {
        "output": "report-key.data",
        "outputs": {"id": "report-key", "property": "data"},
        "inputs": [
            {"id": "tick", "property": "n_intervals", "value": 1},
            {"id": "account", "property": "value", "value": "sim-basis"},
        ],
        "changedPropIds": ["tick.n_intervals"],
        "state": [{"id": "report-key", "property": "data", "value": None}],
    }


def test_thirty_wrong_passwords_from_one_address_are_locked_out(limited: str) -> None:
    s, csrf = form_session(limited)
    answers = [attempt(s, limited, csrf, f"guess{i}", "wrong password") for i in range(30)]
    statuses = [a.status_code for a in answers]
    # signin_failures_per_address = 10 (each guess a new name: the address's limit decides).
    assert statuses == [401] * 10 + [429] * 20
    assert {a.headers["Retry-After"] for a in answers[10:]} == {"30"}
    assert "Too many attempts — try again in 30 s." in answers[10].text
    # Locked means locked: the right password from this address waits too.
    assert attempt(s, limited, csrf, "maria", PASSWORD).status_code == 429


def test_signed_in_user_is_served_while_one_address_guesses(
    limited: str, collector: Collector
) -> None:
    assert collector.run_once().report_id is not None
    user, csrf = form_session(limited)
    assert attempt(user, limited, csrf, "maria", PASSWORD).status_code == 303
    body = report_key_body()
    assert user.post(limited + "_dash-update-component", json=body, timeout=10).ok

    quiet_ms = []
    for _ in range(50):
        t0 = time.perf_counter()
        assert user.post(limited + "_dash-update-component", json=body, timeout=10).ok
        quiet_ms.append((time.perf_counter() - t0) * 1000)

    # 12 clients on one address, each guessing 10 times a second (the rate), for as
    # long as the signed-in user is measured.
    guesser = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.guesser", limited, "12", "10"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert guesser.stdin is not None and guesser.stdout is not None
    try:
        assert guesser.stdout.readline().strip() == "started"
        latencies_ms = []
        paced = threading.Event()  # never set: its wait paces the user, as a screen's timers do
        start = time.perf_counter()
        for i in range(50):  # 20 a second: a screen's callbacks (2.5 s, ~300 guesses)
            paced.wait(max(0.0, start + i / 20 - time.perf_counter()))
            t0 = time.perf_counter()
            answer = user.post(limited + "_dash-update-component", json=body, timeout=10)
            latencies_ms.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code in (200, 204)
        guesser.stdin.close()
        statuses: list[int] = json.loads(guesser.stdout.readline())
    finally:
        if not guesser.stdin.closed:
            guesser.stdin.close()  # the guesser stops when its input closes
        try:
            guesser.wait(timeout=60)
        except subprocess.TimeoutExpired:
            guesser.kill()
            raise
    p95 = statistics.quantiles(latencies_ms, n=20)[-1]
    print(
        f"\nsign-in attack: {len(statuses)} guesses from 12 clients on one address, "
        f"{statuses.count(401)} checked (401), {statuses.count(429)} refused (429); a signed-in "
        f"user's 50 requests meanwhile: p50 {statistics.median(latencies_ms):.1f} ms, "
        f"p95 {p95:.1f} ms (without the attack: p50 {statistics.median(quiet_ms):.1f} ms, "
        f"p95 {statistics.quantiles(quiet_ms, n=20)[-1]:.1f} ms)"
    )
    assert len(statuses) >= 30 and set(statuses) <= {401, 429}
    # Never more password checks than the address's limit, however many ask at once.
    assert statuses.count(401) <= 10 and statuses.count(429) >= 20
    # How fast is a benchmark's question (the figures are printed above), not this test's: on a
    # busy machine any fixed bound fails for reasons of its own. What holds anywhere: every one
    # of the user's requests was answered (above) while the guesses were refused.


def timing_round(url: str, s: requests.Session, csrf: str, seed: int) -> tuple[float, float]:
    """Medians (ms) of 20 wrong passwords for the known name and 20 for unknown names,
    interleaved in a shuffled order so that a busy moment weighs on both alike."""
    known: list[float] = []
    unknown: list[float] = []
    order = random.Random(seed)
    for i in range(20):
        pair = [("maria", known), (f"nobody{seed}-{i}", unknown)]
        order.shuffle(pair)
        for name, times in pair:
            t0 = time.perf_counter()
            answer = attempt(s, url, csrf, name, "wrong password")
            times.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 401
    return statistics.median(known), statistics.median(unknown)


def test_unknown_and_known_names_answer_alike(unlimited: str) -> None:
    """A name without a check answers ~20 ms sooner in every round; a busy machine's noise
    rarely reaches 10 ms, so a round that does is measured again (3 rounds at most)."""
    s, csrf = form_session(unlimited)
    attempt(s, unlimited, csrf, "maria", "warm up the path")
    rounds = []
    for seed in range(3):
        known_ms, unknown_ms = timing_round(unlimited, s, csrf, seed)
        rounds.append((known_ms, unknown_ms))
        print(
            f"\nwrong password, median of 20: known {known_ms:.1f} ms, unknown {unknown_ms:.1f} ms"
        )
        # A real password check ran (scrypt at CHEAPER_SCRYPT), so the comparison can fail.
        assert known_ms > 15.0
        if abs(known_ms - unknown_ms) < 10.0:
            break
    else:
        pytest.fail(f"unknown and known names answer differently in every round: {rounds}")
