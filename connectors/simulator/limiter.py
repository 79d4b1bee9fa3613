"""Request-weight accounting as Binance does it: per IP and API family, in fixed one-minute
windows. Past the limit → HTTP 429 with ``Retry-After``; a request during that wait → HTTP 418,
an IP ban that doubles with each repeat, from 2 minutes (Binance "LIMITS" page:
docs/binance-pm-notes.md, "Limits and errors").
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from connectors.simulator.auth import BinanceError
from connectors.simulator.weights import LIMITS_PER_MINUTE, WEIGHTS, family

MINUTE_MS = 60_000
FIRST_BAN_MS = 120_000
MAX_BAN_MS = 3 * 86_400_000


@dataclass
class _IpState:
    window: int = -1  # the minute (epoch ms // 60,000) being counted
    used: dict[str, int] = field(default_factory=dict)
    limited_until_ms: int = 0  # 429 answered; a request before this time earns a ban
    banned_until_ms: int = 0
    ban_ms: int = FIRST_BAN_MS


class WeightLimiter:
    def __init__(self, limits: dict[str, int] | None = None) -> None:
        self.limits = dict(LIMITS_PER_MINUTE if limits is None else limits)
        self._ips: dict[str, _IpState] = {}
        self._lock = threading.Lock()

    def charge(self, ip: str, path: str, now_ms: int, weight: int | None = None) -> int:
        """Count one request (``weight``, else the path's in ``WEIGHTS``); return the family's
        used weight this minute, or raise the BinanceError (429 or 418) Binance would answer
        with. ``retry_after_s`` rides on it."""
        fam = family(path)
        with self._lock:
            state = self._ips.setdefault(ip, _IpState())
            if now_ms < state.banned_until_ms:
                raise _banned(state.banned_until_ms, now_ms)
            if now_ms < state.limited_until_ms:
                state.banned_until_ms = now_ms + state.ban_ms
                state.ban_ms = min(2 * state.ban_ms, MAX_BAN_MS)
                state.limited_until_ms = 0
                raise _banned(state.banned_until_ms, now_ms)
            window = now_ms // MINUTE_MS
            if window != state.window:
                state.window, state.used = window, {}
            used = state.used.get(fam, 0) + (WEIGHTS.get(path, 1) if weight is None else weight)
            state.used[fam] = used
            if used > self.limits.get(fam, min(self.limits.values())):
                state.limited_until_ms = (window + 1) * MINUTE_MS
                raise RateLimitError(
                    429,
                    -1003,
                    "Too many requests; current limit of IP is "
                    f"{self.limits.get(fam)} requests per minute. Please use WebSocket Streams "
                    "for live updates to avoid polling the API.",
                    retry_after_s=_seconds(state.limited_until_ms - now_ms),
                    used_weight=used,
                )
            return used

    def used(self, ip: str, now_ms: int) -> dict[str, int]:
        """The weight counted for ``ip`` in the minute of ``now_ms``, by family (tests)."""
        with self._lock:
            state = self._ips.get(ip)
            if state is None or state.window != now_ms // MINUTE_MS:
                return {}
            return dict(state.used)

    def ban(self, ip: str, now_ms: int, duration_ms: int) -> None:
        """Start an IP ban at once (fault injection)."""
        with self._lock:
            self._ips.setdefault(ip, _IpState()).banned_until_ms = now_ms + duration_ms


@dataclass(frozen=True)
class RateLimitError(BinanceError):
    retry_after_s: int = 1
    used_weight: int = 0


def _seconds(ms: int) -> int:
    return max(1, math.ceil(ms / 1000))


def _banned(until_ms: int, now_ms: int) -> RateLimitError:
    return RateLimitError(
        418,
        -1003,
        f"Way too many requests; IP banned until {until_ms}. Please use the websocket for live "
        "updates to avoid bans.",
        retry_after_s=_seconds(until_ms - now_ms),
    )
