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
from app.collector.gate import IpGate
from app.store.store import CycleRecord, Store
from connectors.binance.client import (
    ENDPOINTS,
    SLOW_PATHS,
    EndpointError,
    Fetched,
    RetryPolicy,
    call,
    fetch_payloads,
    read_key_permissions,
    server_time_offset_ms,
)
from connectors.binance.keycheck import KeyRefusedError, judge
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
        gate: IpGate | None = None,
        policy: RetryPolicy | None = None,
        allow_unsafe_key: bool = False,
    ) -> None:
        self.store = store
        self.client = client
        self.rules = rules
        self.account = account
        self.gate = gate or IpGate()
        self.policy = policy or RetryPolicy()
        self._now_ms = now_ms
        self.allow_unsafe_key = allow_unsafe_key
        self._key_checked = False
        self._key_refused = False
        self._clock_synced = False
        self._slow: dict[str, object] = {}
        self._slow_at_ms: int | None = None

    def _fetch(self) -> Fetched:
        """Fast-changing endpoints every cycle; brackets and collateral tiers hourly (cached).
        Every stored snapshot still carries all payloads, so each one can be replayed alone."""
        now = self._now_ms()
        fast = fetch_payloads(self.client, frozenset(ENDPOINTS) - SLOW_PATHS, self.policy)
        used = dict(fast.used_weight)
        if self._slow_at_ms is None or now - self._slow_at_ms >= SLOW_REFRESH_MS:
            slow = fetch_payloads(self.client, SLOW_PATHS, self.policy)
            self._slow, self._slow_at_ms = slow.payloads, now
            for fam, value in slow.used_weight.items():
                used[fam] = max(used.get(fam, 0), value)
        self.gate.record_weight(used, self._now_ms())
        return Fetched({**fast.payloads, **self._slow}, fast.simulated, used)

    def _fetch_resyncing(self) -> Fetched:
        """-1021 (timestamp outside recvWindow): resync the clock offset and retry once."""
        try:
            return self._fetch()
        except EndpointError as exc:
            cause = exc.cause
            if not (isinstance(cause, BinanceAPIException) and cause.code == CLOCK_SKEW_CODE):
                raise
            log.info("account %s: clock skew (-1021): resyncing and retrying once", self.account)
            self._sync_clock()
            return self._fetch()

    def _sync_clock(self) -> None:
        offset = call(self.client, SERVER_TIME_PATH, server_time_offset_ms, self.policy)
        self.client.timestamp_offset = offset
        self._clock_synced = True

    def _check_key(self) -> None:
        """Once, before any account data is read: refuse a key that can trade, withdraw or
        transfer (unless overridden), warn when it has no IP restriction."""
        perms = read_key_permissions(self.client, self.policy)
        verdict = judge(perms, allow_unsafe=self.allow_unsafe_key)
        for warning in verdict.warnings:
            log.warning("account %s: API key: %s", self.account, warning)
        if not verdict.acceptable:
            self._key_refused = True
            raise KeyRefusedError(
                "key refused: " + "; ".join(verdict.problems) + ". Create a read-only key "
                "('Enable Reading' only), restricted to this machine's IP."
            )
        self._key_checked = True

    def run_once(self) -> CycleResult:
        if self._key_refused:
            return CycleResult(None, None)  # never poll with a refused key
        if self.gate.blocked(self._now_ms()) is not None:
            return CycleResult(None, None)  # the exchange asked us to stay away: no request
        try:
            if not self._clock_synced:
                self._sync_clock()
            if not self._key_checked:
                self._check_key()
            fetched_at = self._now_ms()
            fetched = self._fetch_resyncing()
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
        if failure.retry_after_s is not None:
            self.gate.hold(
                self._now_ms() + 1000 * failure.retry_after_s,
                failure.status,
                failure.message,
            )
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
