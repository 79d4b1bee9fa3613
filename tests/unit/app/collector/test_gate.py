"""The per-IP gate: minute figures logged, a budget past its share holds polling."""

from __future__ import annotations

import logging

import pytest

from app.collector.gate import IpGate

MINUTE = 60_000


def test_a_finished_minute_is_logged_with_its_peak(caplog: pytest.LogCaptureFixture) -> None:
    gate = IpGate()
    with caplog.at_level(logging.INFO, logger="app.collector.gate"):
        gate.record_weight({"papi": 58}, 10 * MINUTE + 1_000)
        gate.record_weight({"papi": 1_680}, 10 * MINUTE + 59_000)
        gate.record_weight({"papi": 56}, 11 * MINUTE + 1_000)
    lines = [r.getMessage() for r in caplog.records]
    # 1,680 of 6,000 = 28 %
    assert lines == ["API weight used in the last minute: papi 1680/6000 (28 %)"]
    assert gate.blocked(11 * MINUTE + 2_000) is None


def test_past_half_the_budget_holds_until_the_next_minute() -> None:
    gate = IpGate()
    gate.record_weight({"papi": 3_000}, 10 * MINUTE + 30_000)  # half of 6,000
    hold = gate.blocked(10 * MINUTE + 31_000)
    assert hold is not None and hold.status == "RATE_LIMITED"
    assert hold.until_ms == 11 * MINUTE
    assert gate.blocked(11 * MINUTE) is None


def test_polls_reserve_their_weight_and_the_one_reaching_half_is_not_sent() -> None:
    gate = IpGate()
    poll = {"papi": 120}  # one account's poll with its carry read: 56 + 61 + 2 + 1
    at = 10 * MINUTE + 1_000
    # Half of papi's 6,000 is 3,000: 24 polls reserve 24 * 120 = 2,880; a 25th would make
    # 3,000 — at the share, which is never reached — so it is held, with nothing reserved.
    for _ in range(24):
        assert gate.reserve(poll, at) is None
    hold = gate.reserve(poll, at)
    assert hold is not None and hold.status == "RATE_LIMITED"
    assert hold.until_ms == 11 * MINUTE
    assert "2880/6000 (48 %)" in hold.reason
    # A smaller poll that still fits is held too: the IP pauses until the next minute.
    assert gate.blocked(at + 1) is not None
    # The next minute counts from 0 again.
    assert gate.blocked(11 * MINUTE) is None
    assert gate.reserve(poll, 11 * MINUTE) is None


def test_the_exchange_count_is_used_when_it_is_higher_than_what_was_reserved() -> None:
    # Another program on the IP used 2,900 papi this minute: the headers say so, and a poll of
    # 120 (3,020 >= 3,000) is not sent although pmdesk itself reserved nothing yet.
    gate = IpGate()
    gate.record_weight({"papi": 2_900}, 10 * MINUTE + 1_000)
    assert gate.reserve({"papi": 120}, 10 * MINUTE + 2_000) is not None
    # 2,800 + 120 = 2,920 < 3,000: sent.
    gate = IpGate()
    gate.record_weight({"papi": 2_800}, 10 * MINUTE + 1_000)
    assert gate.reserve({"papi": 120}, 10 * MINUTE + 2_000) is None
    # Reserved 2,920 is now the larger count: 2,920 + 120 = 3,040 is held.
    assert gate.reserve({"papi": 120}, 10 * MINUTE + 3_000) is not None
