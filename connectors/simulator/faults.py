"""Faults a test (or ``pmdesk simulator``'s control endpoint) can inject, each chosen per test.

Counted faults (``fail_5xx``, ``rate_limit``, ``malformed``, ``truncated``, ``reset``) hit the
next N signed or unsigned requests; ``outage`` resets every connection until cleared;
``latency_s`` delays every answer; ``clock_skew_ms`` shifts the server's clock (signed requests
then fail with -1021 until the client resyncs); ``frozen_prices`` stops the market;
``stream_drop`` / ``stream_outage`` cut the mark-price websockets (``streams.py``; the outage
cuts the user-data streams too).

The Portfolio Margin user data stream (``user_stream.py``), each also per account:
``listen_key_expire`` expires the live listenKey(s) now (the stream pushes ``listenKeyExpired``);
``listen_key_invalid`` answers the next N keep-alives with -1125 (the key is gone);
``user_stream_drop`` cuts the next N user-data connections; ``user_event_drop`` drops the next
N events unsent (a gap only a REST reconciliation heals: the REST payloads show the change);
``user_stream_age_out`` closes the next N connections as Binance does at their 24 hour mark.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
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
    stream_drop: int = 0  # cut the next N mark-price websocket connections
    stream_outage: bool = False  # cut every websocket and refuse new ones until cleared
    listen_key_expire: int = 0  # > 0: the live listenKey(s) expire now (taken once)
    listen_key_invalid: int = 0  # the next N keep-alives answer -1125
    user_stream_drop: int = 0  # cut the next N user-data websocket connections
    user_event_drop: int = 0  # the next N user-data events are never sent
    user_stream_age_out: int = 0  # the next N connections close as at their 24 h mark

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

    def as_dict(self) -> dict[str, object]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self)}

    def parse(
        self, raw: Mapping[str, str], skip: frozenset[str] = frozenset()
    ) -> dict[str, object]:
        """Text values (a query string) → typed fault values; ValueError names a bad one."""
        types: dict[str, type] = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        out: dict[str, object] = {}
        for name, text in raw.items():
            if name in skip:
                continue
            kind = types.get(name)
            if kind is None:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(types)}")
            try:
                out[name] = (
                    text.lower() in {"1", "true", "yes", "on"} if kind is bool else kind(text)
                )
            except ValueError:
                raise ValueError(f"fault {name}: {text!r} is not a {kind.__name__}") from None
        return out
