"""The allocator settings pmdesk applies at start take effect (CI and the desk run glibc), and the
trimmer hands free memory back on its period until stopped."""

from __future__ import annotations

import threading

from app.allocator import Trimmer, keep_freed_memory, release_free_memory
from app.cli import LONG_RUNNING, build_parser


def test_glibc_takes_all_three_settings() -> None:
    assert keep_freed_memory() is True


def test_malloc_trim_is_reachable() -> None:
    # A bool either way (True when some page went back); the point is that the call links.
    assert release_free_memory() in (True, False)


def test_the_trimmer_releases_on_its_period_until_stopped() -> None:
    calls = threading.Semaphore(0)

    def release() -> bool:
        calls.release()
        return True

    trimmer = Trimmer(every_s=0.01, release=release).start()
    for _ in range(3):
        assert calls.acquire(timeout=60)
    trimmer.stop()
    rounds = trimmer.rounds
    assert rounds >= 3
    assert trimmer.rounds == rounds  # stopped: no more rounds


def test_every_long_running_command_is_a_command() -> None:
    parser = build_parser()
    for name in LONG_RUNNING:
        assert parser.parse_args([name]).command == name
