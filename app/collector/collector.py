"""The collector: pull → parse → evaluate → store, on an APScheduler interval job.

Never raises out of a cycle: a failure is classified, logged once and stored as an event, and the
last good report stays in the store. The first successful fetch is not required to start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from binance.client import Client
from binance.exceptions import BinanceAPIException

from app.clock import now_ms
from app.collector.feed import Failure, classify
from app.store.store import CycleRecord, Store
from connectors.binance.client import (
    ENDPOINTS,
    SLOW_PATHS,
    EndpointError,
    Fetched,
    fetch_payloads,
    server_time_offset_ms,
)
from connectors.binance.parse import snapshot_from_payloads
from risk import RiskRules, evaluate

log = logging.getLogger(__name__)

CLOCK_SKEW_CODE = -1021
SERVER_TIME_PATH = "/api/v3/time"
SLOW_REFRESH_MS = 3_600_000  # brackets and collateral tiers: hourly


@dataclass(frozen=True)
class CycleResult:
    report_id: int | None
    failure: Failure | None


class Collector:
    def __init__(
        self,
        store: Store,
        client: Client,
        rules: RiskRules,
        account: str,
        now_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.client = client
        self.rules = rules
        self.account = account
        self._now_ms = now_ms
        self._clock_synced = False
        self._slow: dict[str, object] = {}
        self._slow_at_ms: int | None = None

    def _fetch(self) -> Fetched:
        """Fast-changing endpoints every cycle; brackets and collateral tiers hourly (cached).
        Every stored snapshot still carries all payloads, so each one can be replayed alone."""
        now = self._now_ms()
        fast = fetch_payloads(self.client, frozenset(ENDPOINTS) - SLOW_PATHS)
        if self._slow_at_ms is None or now - self._slow_at_ms >= SLOW_REFRESH_MS:
            slow = fetch_payloads(self.client, SLOW_PATHS)
            self._slow, self._slow_at_ms = slow.payloads, now
        return Fetched({**fast.payloads, **self._slow}, fast.simulated)

    def _sync_clock(self) -> None:
        try:
            offset = server_time_offset_ms(self.client)
        except Exception as exc:
            raise EndpointError(SERVER_TIME_PATH, exc) from exc
        self.client.timestamp_offset = offset
        self._clock_synced = True

    def run_once(self) -> CycleResult:
        try:
            if not self._clock_synced:
                self._sync_clock()
            fetched_at = self._now_ms()
            fetched = self._fetch()
            snapshot, market = snapshot_from_payloads(fetched.payloads)
            report = evaluate(snapshot, market, self.rules)
        except Exception as exc:
            return CycleResult(None, self._record_failure(exc))
        cycle = CycleRecord(
            account=self.account,
            fetched_at_ms=fetched_at,
            exchange_time_ms=market.time_ms or fetched_at,
            simulated=fetched.simulated,
            payloads=fetched.payloads,
            report=report,
            reported=snapshot.reported,
        )
        try:
            report_id = self.store.write_cycle(cycle, computed_at_ms=self._now_ms())
        except Exception:
            log.exception("store write failed for account %s", self.account)
            return CycleResult(None, None)
        return CycleResult(report_id, None)

    def _record_failure(self, exc: Exception) -> Failure:
        cause = exc.cause if isinstance(exc, EndpointError) else None
        if isinstance(cause, BinanceAPIException) and cause.code == CLOCK_SKEW_CODE:
            self._clock_synced = False  # resync before the next cycle
        failure = classify(exc)
        log.warning(
            "account %s: %s: %s%s",
            self.account,
            failure.status.value,
            failure.message,
            f" ({failure.endpoint})" if failure.endpoint else "",
        )
        try:
            self.store.record_event(
                self.account,
                self._now_ms(),
                failure.status.value,
                failure.message,
                endpoint=failure.endpoint,
                code=failure.code,
            )
        except Exception:
            log.exception("could not record the failure event")
        return failure

    def schedule(self, scheduler: BackgroundScheduler, interval_s: float) -> None:
        """One job per account; a slow cycle never stacks (max_instances=1, coalesce)."""
        scheduler.add_job(
            self.run_once,
            "interval",
            seconds=interval_s,
            id=f"collect:{self.account}",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
