"""What every account polled from one IP shares: the exchange's stop signs and its weight budget.

Times are the collector's clock (Retry-After is a duration; the minute window is taken on our
clock, which the measured server-time offset keeps within a second of Binance's).

A 429 or 418 from any account pauses every account on the IP (Binance counts and bans per IP)
until the time the exchange gave; a used-weight header past ``SHARE`` of a family's budget holds
polling until the next minute window, so other software on the same IP keeps its half.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from app.feed_status import FeedStatus
from app.limits import LIMITS_PER_MINUTE
from connectors.binance.limits import SHARE

log = logging.getLogger(__name__)

MINUTE_MS = 60_000


@dataclass(frozen=True)
class Hold:
    until_ms: int
    status: FeedStatus
    reason: str


class IpGate:
    def __init__(self, share: float = SHARE) -> None:
        self.share = share
        self._hold: Hold | None = None
        self._used: dict[str, int] = {}
        self._used_window = -1
        self._lock = threading.Lock()

    def hold(self, until_ms: int, status: FeedStatus, reason: str) -> None:
        with self._lock:
            if self._hold is None or until_ms > self._hold.until_ms:
                self._hold = Hold(until_ms, status, reason)

    def blocked(self, now_ms: int) -> Hold | None:
        with self._lock:
            if self._hold is not None and now_ms >= self._hold.until_ms:
                self._hold = None
            return self._hold

    def record_weight(self, used: dict[str, int], now_ms: int) -> None:
        """Note the used-weight headers of a cycle (the exchange's running count for the
        minute); when a minute ends, log what it used; hold until the next window when a
        family is past its share."""
        window = now_ms // MINUTE_MS
        finished: dict[str, int] = {}
        with self._lock:
            if window != self._used_window:
                finished, self._used, self._used_window = self._used, {}, window
            for fam, value in used.items():
                self._used[fam] = max(self._used.get(fam, 0), value)
            snapshot = dict(self._used)
        if finished:
            log.info("API weight used in the last minute: %s", describe(finished))
        over = [
            fam
            for fam, value in snapshot.items()
            if value >= self.share * LIMITS_PER_MINUTE.get(fam, min(LIMITS_PER_MINUTE.values()))
        ]
        if over:
            self.hold(
                (window + 1) * MINUTE_MS,
                FeedStatus.RATE_LIMITED,
                f"API weight past {self.share:.0%} of the limit ({describe(snapshot)}): "
                "pausing until the next minute",
            )

    def used_weight(self) -> dict[str, int]:
        with self._lock:
            return dict(self._used)


def describe(used: dict[str, int]) -> str:
    parts = []
    for fam, value in sorted(used.items()):
        limit = LIMITS_PER_MINUTE.get(fam, 0)
        pct = f" ({100 * value / limit:.0f} %)" if limit else ""
        parts.append(f"{fam} {value}/{limit}{pct}")
    return ", ".join(parts)
