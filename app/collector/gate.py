"""What every account polled from one IP shares: the exchange's stop signs and its weight budget.

Times are the collector's clock (Retry-After is a duration; the minute window is taken on our
clock, which the measured server-time offset keeps within a second of Binance's).

A 429 or 418 from any account pauses every account on the IP (Binance counts and bans per IP)
until the time the exchange gave; a used-weight header at or past ``SHARE`` of a family's budget
holds polling until the next minute window, so other software on the same IP keeps its half.

Before a poll sends anything it reserves its weight (``reserve``): the minute's count is what the
exchange's headers last said plus what this IP's polls reserved and have not yet reported back (a
poll's requests are in no header until they come back, and 25 accounts' polls run at once). A
poll that would bring a family to its share is not sent, and polling holds until the next minute:
the share is a ceiling never reached, not a target corrected after the fact.
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
        self._used: dict[str, int] = {}  # the exchange's count this minute (headers)
        self._pending: dict[str, int] = {}  # reserved this minute, not yet in a header
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

    def record_weight(
        self, used: dict[str, int], now_ms: int, settled: dict[str, int] | None = None
    ) -> None:
        """Note the used-weight headers of a cycle (the exchange's running count for the
        minute) and that its reservation ``settled`` is now in them; when a minute ends, log
        what it used; hold until the next window when a family is at or past its share."""
        window = now_ms // MINUTE_MS
        with self._lock:
            finished = self._roll(window)
            for fam, value in (settled or {}).items():
                self._pending[fam] = max(0, self._pending.get(fam, 0) - value)
            for fam, value in used.items():
                self._used[fam] = max(self._used.get(fam, 0), value)
            snapshot = dict(self._used)
        if finished:
            log.info("API weight used in the last minute: %s", describe(finished))
        over = [fam for fam, value in snapshot.items() if value >= self.share * _limit(fam)]
        if over:
            self.hold(
                (window + 1) * MINUTE_MS,
                FeedStatus.RATE_LIMITED,
                f"API weight past {self.share:.0%} of the limit ({describe(snapshot)}): "
                "pausing until the next minute",
            )

    def reserve(self, weight: dict[str, int], now_ms: int) -> Hold | None:
        """Count a poll's ``weight`` (by family) in this minute before it sends anything; when
        it would bring a family to its share, reserve nothing, hold polling until the next
        minute and return the hold (the poll is not sent)."""
        window = now_ms // MINUTE_MS
        with self._lock:
            finished = self._roll(window)
            counted = {fam: self._used.get(fam, 0) + self._pending.get(fam, 0) for fam in weight}
            full = [
                fam
                for fam, value in weight.items()
                if counted[fam] + value >= self.share * _limit(fam)
            ]
            if not full:
                for fam, value in weight.items():
                    self._pending[fam] = self._pending.get(fam, 0) + value
        if finished:
            log.info("API weight used in the last minute: %s", describe(finished))
        if not full:
            return None
        shown = {fam: counted[fam] for fam in full}
        self.hold(
            (window + 1) * MINUTE_MS,
            FeedStatus.RATE_LIMITED,
            f"the next poll would bring the API weight to {self.share:.0%} of the limit "
            f"({describe(shown)} used this minute): pausing until the next minute",
        )
        return self.blocked(now_ms)

    def _roll(self, window: int) -> dict[str, int]:
        """A new minute window: its counts start at 0; the finished minute's headers returned."""
        if window == self._used_window:
            return {}
        finished, self._used, self._pending = self._used, {}, {}
        self._used_window = window
        return finished

    def used_weight(self) -> dict[str, int]:
        with self._lock:
            return dict(self._used)


def _limit(fam: str) -> int:
    return LIMITS_PER_MINUTE.get(fam, min(LIMITS_PER_MINUTE.values()))


def describe(used: dict[str, int]) -> str:
    parts = []
    for fam, value in sorted(used.items()):
        limit = LIMITS_PER_MINUTE.get(fam, 0)
        pct = f" ({100 * value / limit:.0f} %)" if limit else ""
        parts.append(f"{fam} {value}/{limit}{pct}")
    return ", ".join(parts)
