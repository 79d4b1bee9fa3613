"""Clocks for the simulator: the wall clock, or a manual one that tests move by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class WallClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)


class ManualClock:
    """A clock that only moves when told to; thread-safe."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now_ms = start_ms if start_ms is not None else int(time.time() * 1000)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now_ms

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now_ms += int(seconds * 1000)
