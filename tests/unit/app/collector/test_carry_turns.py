"""The accounts of one collector read their carry (interest history, funding income: 61 papi
weight) in turns, so that a minute holds a fifth of those reads, not all of them; and what a poll
will read is known before it is sent (the IP gate reserves it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import app.collector.fetcher as fetcher_module
from app.collector.fetcher import Fetcher
from app.collector.gate import IpGate
from connectors.binance.client import Fetched, RetryPolicy, make_client
from connectors.binance.limits import CARRY_PATHS

MIN = 60_000
FUNDING = 1_767_225_600_000  # 2026-01-01 00:00 UTC: a funding time


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[frozenset[str]]]:
    seen: list[frozenset[str]] = []

    def fake_fetch(
        client: object, paths: frozenset[str] | None = None, policy: object = None
    ) -> Fetched:
        assert paths is not None
        seen.append(paths)
        return Fetched({}, True, {})

    monkeypatch.setattr(fetcher_module, "fetch_payloads", fake_fetch)
    yield seen


def carry_read(reads: list[frozenset[str]]) -> bool:
    return any(paths == CARRY_PATHS for paths in reads)


def make(slot: int, clock: Clock) -> Fetcher:
    client = make_client("key", "secret", "http://127.0.0.1:9")  # never asked: reads are faked
    f = Fetcher(client, f"acct-{slot}", IpGate(), RetryPolicy(), clock)
    f.carry_slot = slot
    f.clock_synced = f.key_checked = True
    return f


def test_slot_k_reads_its_carry_k_minutes_after_the_first_poll(
    reads: list[frozenset[str]],
) -> None:
    clock = Clock(FUNDING + 10 * MIN)  # well after the funding time's settling read
    first, third = make(0, clock), make(2, clock)
    assert first.planned_weight(clock.now)["papi"] == 56 + 2 + 61  # fast + brackets + carry
    first.fetch()
    assert carry_read(reads)
    reads.clear()
    assert third.planned_weight(clock.now)["papi"] == 56 + 2  # its turn is 2 minutes on
    third.fetch()
    assert not carry_read(reads)
    clock.now += 2 * MIN - 1
    third.fetch()
    assert not carry_read(reads)
    clock.now += 1
    assert third.planned_weight(clock.now)["papi"] == 56 + 61  # hourly tables not due again
    third.fetch()
    assert carry_read(reads)
    # Then every 5 minutes from its own read: still two minutes after slot 0's.
    reads.clear()
    clock.now += 5 * MIN - 1
    third.fetch()
    assert not carry_read(reads)
    clock.now += 1
    third.fetch()
    assert carry_read(reads)


def test_after_a_funding_time_each_slot_reads_in_its_own_minute(
    reads: list[frozenset[str]],
) -> None:
    # Slot 3's reads: at 07:57:00 (start + 3 min), then 08:02:00 by the 5-minute cadence — but a
    # funding at 08:00 is settled at 08:01:00 and slot 3 reads 3 minutes later, at 08:04:00.
    start = FUNDING + 8 * 60 * MIN - 6 * MIN  # 07:54 UTC
    clock = Clock(start)
    f = make(3, clock)
    f.fetch()
    clock.now = start + 3 * MIN  # 07:57
    f.fetch()
    assert carry_read(reads)
    reads.clear()
    clock.now = FUNDING + 8 * 60 * MIN + 2 * MIN + 30_000  # 08:02:30: 5 1/2 min after 07:57
    f.fetch()
    assert carry_read(reads)  # the 5-minute cadence
    reads.clear()
    clock.now = FUNDING + 8 * 60 * MIN + 4 * MIN - 1  # 08:03:59.999: not yet slot 3's turn
    f.fetch()
    assert not carry_read(reads)
    clock.now += 1  # 08:04:00: funding settled at 08:01, plus 3 minutes
    f.fetch()
    assert carry_read(reads)
