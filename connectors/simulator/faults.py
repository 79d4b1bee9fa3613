"""Faults a test (or ``pmdesk simulator``'s control endpoint) can inject, each chosen per test.

Counted faults (``fail_5xx``, ``rate_limit``, ``malformed``, ``truncated``, ``reset``) hit the
next N signed or unsigned requests; ``outage`` resets every connection until cleared;
``latency_s`` delays every answer; ``clock_skew_ms`` shifts the server's clock (signed requests
then fail with -1021 until the client resyncs); ``frozen_prices`` stops the market.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields


@dataclass
class Faults:
    latency_s: float = 0.0
    fail_5xx: int = 0
    rate_limit: int = 0
    ban_s: int = 0  # > 0: the next request starts an IP ban of this length (HTTP 418)
    malformed: int = 0
    truncated: int = 0
    reset: int = 0
    outage: bool = False
    clock_skew_ms: int = 0
    frozen_prices: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def take(self, name: str) -> bool:
        """Consume one use of a counted fault; True when it applies to this request."""
        with self._lock:
            left = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def clear(self) -> None:
        with self._lock:
            for f in fields(self):
                setattr(self, f.name, f.default)

    def set(self, **changes: object) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)
