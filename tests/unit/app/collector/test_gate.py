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
