"""``connectors.binance.client.Client`` signs on its owner's clock (``use_clock``): the stamp of
a signed request is that clock plus the exchange's measured offset. On the wall clock it is
python-binance's own stamp; on a frozen manual clock (the tests' simulator) wall time passing
between the clock sync and a request does not push the stamp ahead of the exchange.

The wall clock is faked (``time.time`` patched) so that seconds pass without waiting; the
stamp is the one python-binance itself puts on a signed request (``_get_request_kwargs``)."""

from __future__ import annotations

import re
import time

import pytest

from connectors.binance.client import make_client

WALL_S = 1_800_000_000.0  # the fake wall clock's start, seconds
EXCHANGE_AHEAD_MS = 250  # the exchange's clock runs this far ahead of the wall


class Wall:
    def __init__(self) -> None:
        self.s = WALL_S

    def __call__(self) -> float:
        return self.s


def stamp(client: object) -> int:
    kwargs = client._get_request_kwargs("get", True, data={"a": 1})  # type: ignore[attr-defined]
    found = re.search(r"(?:^|&)timestamp=(\d+)", kwargs["params"])
    assert found is not None, kwargs
    return int(found.group(1))


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    w = Wall()
    monkeypatch.setattr(time, "time", w)
    return w


def test_on_the_wall_clock_the_stamp_is_python_binances(wall: Wall) -> None:
    client = make_client("key", "secret", "http://127.0.0.1:9")
    client.timestamp_offset = EXCHANGE_AHEAD_MS  # as sync_clock sets it: exchange - wall
    assert stamp(client) == 1_800_000_000_000 + EXCHANGE_AHEAD_MS
    wall.s += 7.5
    assert stamp(client) == 1_800_000_007_500 + EXCHANGE_AHEAD_MS  # it follows the wall


def test_on_a_frozen_clock_the_stamp_does_not_run_ahead(wall: Wall) -> None:
    manual_ms = 1_767_225_600_000  # the test's exchange time, frozen
    client = make_client("key", "secret", "http://127.0.0.1:9")
    client.use_clock(lambda: manual_ms)
    # The sync measures exchange - wall (the simulator answers its frozen time).
    client.timestamp_offset = manual_ms - int(wall.s * 1000)
    assert client.exchange_minus_clock_ms == 0
    wall.s += 3.0  # a busy machine: three seconds of wall time before the next request
    assert stamp(client) == manual_ms  # not 3,000 ms ahead (the exchange's -1021)
    # What python-binance reads back is still exchange - wall, now.
    assert client.timestamp_offset == manual_ms - 1_800_000_003_000


def test_switching_clocks_keeps_the_measured_offset(wall: Wall) -> None:
    client = make_client("key", "secret", "http://127.0.0.1:9")
    client.timestamp_offset = EXCHANGE_AHEAD_MS
    ours = 1_000_000.0
    client.use_clock(lambda: ours)
    # At the switch the stamp is unchanged: wall + 250 = ours + (exchange - ours).
    assert stamp(client) == 1_800_000_000_000 + EXCHANGE_AHEAD_MS
