"""Failed sign-ins, counted per client address and per user name, with a growing lock-out.

Why not flask-limiter: it counts requests in windows; a failures-only count needs its
``deduct_when``, which deducts after the response — so a burst of parallel guesses all pass the
check and each costs a scrypt — it cannot clear a name's count on a good sign-in, and it has no
growing back-off. This is a small in-memory counter that does those three: attempts being
checked count towards the limit (parallel guesses cannot overtake it: the one that may reach it
is decided first), a good sign-in clears its name's count, and each failure past the free ones
doubles the lock-out.

Per process: several web workers each count their own (README).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_KEYS = 10_000  # entries kept; beyond, the quietest ones are forgotten first
BUSY_S = 1.0  # asked to wait while the attempt that may reach the limit is being checked


@dataclass(frozen=True)
class Policy:
    free: int  # failures allowed before the first lock-out
    first_lockout_s: float  # then locked this long; doubled with each further failure
    max_lockout_s: float
    forget_s: float  # no failure for this long: the count starts again

    def lockout_s(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.max_lockout_s, self.first_lockout_s * 2 ** (failures - self.free)))


@dataclass
class _Entry:
    failures: int
    last: float  # the newest failure
    pending: int = 0  # attempts being checked now


Key = tuple[str, str]  # ("addr", "192.0.2.7") or ("name", "maria")


def address_key(addr: str | None) -> Key:
    """An IPv6 client counts by its /64 (one host has a whole /64 to rotate through)."""
    try:
        ip = ipaddress.ip_address(addr or "")
    except ValueError:
        return ("addr", addr or "?")
    if ip.version == 6:
        return ("addr", str(ipaddress.ip_network(f"{ip}/64", strict=False)))
    return ("addr", str(ip))


def name_key(name: str) -> Key:
    return ("name", name.strip().lower()[:64])


class FailureLimiter:
    def __init__(
        self,
        policies: dict[str, Policy],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policies = policies  # by key kind: "addr", "name"
        self._clock = monotonic
        self._entries: dict[Key, _Entry] = {}
        self._lock = threading.Lock()

    def _live(self, key: Key, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.pending == 0 and now - entry.last > self._policies[key[0]].forget_s:
            del self._entries[key]
            return None
        return entry

    def _wait(self, key: Key, now: float) -> float:
        entry = self._live(key, now)
        if entry is None:
            return 0.0
        policy = self._policies[key[0]]
        until = entry.last + policy.lockout_s(entry.failures)
        if until > now:
            return until - now
        if entry.pending and entry.failures + entry.pending >= policy.free:
            return BUSY_S  # the attempt that may reach the limit is being checked: wait for it
        return 0.0

    def reserve(self, keys: Sequence[Key]) -> float:
        """0 (go on: check the password, then say ``failed``, ``succeeded`` or ``cancel``), or
        the seconds to wait — nothing counted, no password to check."""
        now = self._clock()
        with self._lock:
            wait = max(self._wait(k, now) for k in keys)
            if wait > 0:
                return wait
            if len(self._entries) + len(keys) > MAX_KEYS:
                self._trim(now)
            for k in keys:
                entry = self._live(k, now) or self._entries.setdefault(k, _Entry(0, now))
                entry.pending += 1
            return 0.0

    def failed(self, keys: Sequence[Key]) -> None:
        now = self._clock()
        with self._lock:
            for k in keys:
                entry = self._entries.setdefault(k, _Entry(0, now, 1))
                entry.pending = max(0, entry.pending - 1)
                entry.failures += 1
                entry.last = now

    def succeeded(self, name: Key, addr: Key) -> None:
        """A good sign-in: the name starts afresh; the address's failures stay."""
        with self._lock:
            self._entries.pop(name, None)
            self._settle(addr)

    def cancel(self, keys: Sequence[Key]) -> None:
        """An attempt that was not decided (the server was busy, a screen link was good)."""
        with self._lock:
            for k in keys:
                self._settle(k)

    def _settle(self, key: Key) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.pending = max(0, entry.pending - 1)
            if entry.pending == 0 and entry.failures == 0:
                del self._entries[key]

    def wait_s(self, key: Key) -> float:
        with self._lock:
            return self._wait(key, self._clock())

    def _trim(self, now: float) -> None:
        for k in list(self._entries):
            self._live(k, now)
        if len(self._entries) >= MAX_KEYS:
            quietest = sorted(self._entries, key=lambda k: self._entries[k].last)
            for k in quietest[: len(quietest) - MAX_KEYS // 2]:
                del self._entries[k]
