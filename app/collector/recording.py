"""What a collector writes and says: cycles into the store (told to the alerts), events (one log
line and one stored row each), failures classified, the API weight, and when the prices last
moved (frozen prices). Split from ``collector.py``; it sees only the store's ``StoreWriteError``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.collector.feed import Failure, FeedStatus, classify
from app.collector.gate import IpGate
from app.store.errors import StoreWriteError
from app.store.store import CycleRecord, Store, Written
from connectors.binance.keycheck import KeyRefusedError
from risk.model import MarketState

if TYPE_CHECKING:
    from app.alerts.watch import AlertWatch

log = logging.getLogger("app.collector.collector")

STORE = "store"


class Recorder:
    def __init__(
        self,
        store: Store,
        account: str,
        gate: IpGate,
        now_ms: Callable[[], int],
        frozen_after_ms: int,
        watch: AlertWatch | None,
    ) -> None:
        self.store = store
        self.account = account
        self.gate = gate
        self._now_ms = now_ms
        self.frozen_after_ms = frozen_after_ms
        self.watch = watch
        self._store_trouble: str | None = None  # kind of the store's last write failure
        self._lock = threading.Lock()
        # Frozen prices: when any mark or index price last changed (local clock).
        self._prices_seen: object = None
        self._prices_changed_ms = 0
        self._frozen_reported = False

    def write(self, cycle: CycleRecord) -> Written | None:
        """Write a cycle; a store that cannot take it (full, read-only, locked past the
        retries) is said once, in one line, until it can again; every cycle retries."""
        try:
            written = self.store.write_cycle(cycle, computed_at_ms=self._now_ms())
        except StoreWriteError as exc:
            if exc.kind != self._store_trouble:
                self._store_trouble = exc.kind
                self.event(FeedStatus.DEGRADED, exc.message, endpoint=STORE)  # logs; may not store
            return None
        if self._store_trouble is not None:
            log.info("account %s: store writable again", self.account)
            self._store_trouble = None
        if self.watch is not None:
            reported = cycle.reported.account_status if cycle.reported else None
            self.watch.on_report(
                self.account, cycle.report, cycle.fetched_at_ms, reported, written.report_id
            )
        return written

    def weight(self, used: dict[str, int]) -> None:
        try:
            self.store.record_weight(self._now_ms(), used)
        except StoreWriteError as exc:  # the report's write, next, says what is wrong once
            log.debug("could not record the API weight: %s", exc.kind)

    def event(
        self,
        status: FeedStatus,
        message: str,
        endpoint: str | None = None,
        code: int | None = None,
    ) -> None:
        """One log line and one stored event (what the header shows)."""
        where = f" ({endpoint})" if endpoint else ""
        log.warning("account %s: %s: %s%s", self.account, status.value, message, where)
        try:
            self.store.record_event(
                self.account, self._now_ms(), status.value, message, endpoint=endpoint, code=code
            )
        except StoreWriteError as exc:  # e.g. the store is full: the log line above still says it
            log.error(
                "account %s: that event could not be stored either (%s)", self.account, exc.kind
            )

    def failure(self, exc: Exception) -> Failure:
        failure = classify(exc)
        if failure.retry_after_s is not None:
            self.gate.hold(
                self._now_ms() + 1000 * failure.retry_after_s,
                failure.status,
                failure.message,
            )
        self.event(failure.status, failure.message, failure.endpoint, failure.code)
        if self.watch is not None:
            refused = isinstance(exc, KeyRefusedError)
            self.watch.on_failure(self.account, failure.message, key_refused=refused)
        return failure

    def price_time(self, market: MarketState, at_ms: int) -> int:
        """When the prices last moved: the age the figures are shown with. Unchanged marks and
        index prices for ``frozen_after_ms`` raise one event; the figures then go stale on
        screen like any other old data."""
        seen = (sorted(market.mark_price.items()), sorted(market.index_price_usd.items()))
        with self._lock:
            if seen != self._prices_seen:
                if self._frozen_reported:
                    log.info("account %s: prices are moving again", self.account)
                self._prices_seen, self._prices_changed_ms = seen, at_ms
                self._frozen_reported = False
                return at_ms
            changed = self._prices_changed_ms
            report = not self._frozen_reported and at_ms - changed >= self.frozen_after_ms
            if report:
                self._frozen_reported = True
        if report:
            self.event(
                FeedStatus.DEGRADED,
                f"prices frozen: no mark or index price has changed for "
                f"{(at_ms - changed) // 1000} s although the exchange answers",
            )
        return changed
