"""The collector: pull → parse → evaluate → store, on an APScheduler interval job.

Never raises out of a cycle: a failure is classified, logged once and stored as an event, and the
last good report stays in the store. The first successful fetch is not required to start.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler

from app.clock import now_ms
from app.collector.feed import Failure, FeedStatus, classify
from app.collector.gate import IpGate
from app.store.errors import StoreWriteError
from app.store.store import CycleRecord, Store, Written
from connectors.binance.client import (
    BRACKET_PATHS,
    ENDPOINTS,
    SLOW_PATHS,
    Client,
    Fetched,
    RetryPolicy,
    fetch_payloads,
    read_key_permissions,
    sync_clock,
)
from connectors.binance.errors import ClockSkew
from connectors.binance.keycheck import KeyRefusedError, judge
from connectors.binance.limits import CARRY_PATHS, CARRY_REFRESH_S
from connectors.binance.marks import (
    MarkUpdate,
    cm_pairs,
    mark_basis,
    relevant_symbols,
    updates_to_json,
)
from connectors.binance.parse import snapshot_from_payloads, unbracketed_symbols
from risk import RiskRules, evaluate
from risk.model import AccountSnapshot, Assumptions, MarketState, Reconciliation
from risk.remark import MarkBasis, remark

if TYPE_CHECKING:
    from app.alerts.watch import AlertWatch
    from app.collector.marks_hub import MarkHub

log = logging.getLogger(__name__)

SLOW_REFRESH_MS = 3_600_000  # brackets and collateral tiers: hourly
CARRY_REFRESH_MS = int(CARRY_REFRESH_S * 1000)  # interest charges and funding: every 5 minutes
CARRY_KEEP_MS = 3 * CARRY_REFRESH_MS  # a carry payload a refresh missed is kept this long
FUNDING_EVERY_MS = 28_800_000  # Binance pays funding at 00:00, 08:00 and 16:00 UTC
FUNDING_SETTLED_AFTER_MS = 60_000  # read again this long after each funding time
DEFAULT_FROZEN_AFTER_S = 30.0
DEFAULT_POSITIONS_MAX_AGE_S = 10.0
MARK_STREAM = "markPrice stream"
STORE = "store"


@dataclass(frozen=True)
class _Poll:
    """The last successful account poll: what mark updates are applied to (parsed once)."""

    snapshot: AccountSnapshot
    market: MarketState
    basis: MarkBasis  # the poll's contract index prices: what index moves are measured from
    snapshot_id: int
    fetched_at_ms: int
    simulated: bool
    relevant: frozenset[str]
    # Settled at the poll against Binance's figures of that moment; between polls the figures
    # move with the marks but Binance's do not, so the poll's assumptions and comparison hold.
    assumptions: Assumptions | None = None
    reconciliation: Reconciliation | None = None


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
        hub: MarkHub | None = None,
        frozen_after_s: float = DEFAULT_FROZEN_AFTER_S,
        positions_max_age_s: float = DEFAULT_POSITIONS_MAX_AGE_S,
        watch: AlertWatch | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.rules = rules
        self.account = account
        self.gate = gate or IpGate()
        self.policy = policy or RetryPolicy()
        self._now_ms = now_ms
        self.allow_unsafe_key = allow_unsafe_key
        self.watch = watch  # alerts: told of every report, failure and successful poll
        self._key_checked = False
        self._key_refused = False
        self._clock_synced = False
        self._slow: dict[str, object] = {}
        self._slow_at_ms: int | None = None
        self._unlisted_tried: frozenset[str] = frozenset()  # symbols a bracket read missed
        self._carry: dict[str, object] = {}  # interest charges and funding, by path
        self._carry_read_ms: dict[str, int] = {}  # when each was last read
        self._carry_at_ms: int | None = None  # the last carry refresh
        # Between polls: mark updates since the last poll, applied on arrival.
        self.hub = hub
        if hub is not None:
            hub.subscribe(self)
        self.frozen_after_ms = int(frozen_after_s * 1000)
        self.positions_max_age_ms = int(positions_max_age_s * 1000)
        self._lock = threading.Lock()
        self._evaluating = threading.Lock()
        self._poll: _Poll | None = None
        self._marks: dict[str, MarkUpdate] = {}
        self._marks_source = "stream"
        self._marks_received_ms = 0
        self._dirty = False
        self._positions_too_old = False
        self._store_trouble: str | None = None  # kind of the store's last write failure
        # Frozen prices: when any mark or index price last changed (local clock).
        self._prices_seen: object = None
        self._prices_changed_ms = 0
        self._frozen_reported = False

    def _fetch(self) -> Fetched:
        """Fast-changing endpoints every cycle; brackets, collateral tables and the margin-asset
        leverage hourly (cached) — the brackets at once when a position in a symbol they do not
        list appears (that account's figures are UNKNOWN only until then); interest charges and
        funding income every 5 minutes and just after each funding time (cached). Every stored
        snapshot still carries all payloads, so each one can be replayed alone."""
        now = self._now_ms()
        fast = fetch_payloads(self.client, frozenset(ENDPOINTS) - SLOW_PATHS, self.policy)
        used = dict(fast.used_weight)
        refresh: frozenset[str] = frozenset()
        if self._slow_at_ms is None or now - self._slow_at_ms >= SLOW_REFRESH_MS:
            refresh = SLOW_PATHS
        else:
            unlisted = unbracketed_symbols({**fast.payloads, **self._slow})
            if unlisted - self._unlisted_tried:
                log.info(
                    "account %s: new symbol(s) %s: reading the leverage brackets now",
                    self.account,
                    ", ".join(sorted(unlisted - self._unlisted_tried)),
                )
                refresh = BRACKET_PATHS
        if refresh:
            slow = fetch_payloads(self.client, refresh, self.policy)
            self._slow = {**self._slow, **slow.payloads}
            if refresh == SLOW_PATHS:
                self._slow_at_ms = now
                # An optional endpoint the account refused this time is not kept from before.
                for path in SLOW_PATHS - slow.payloads.keys():
                    self._slow.pop(path, None)
            for fam, value in slow.used_weight.items():
                used[fam] = max(used.get(fam, 0), value)
        # Symbols the brackets still do not list: read again only when another one appears.
        self._unlisted_tried = unbracketed_symbols({**fast.payloads, **self._slow})
        if self._carry_due(now):
            carry = fetch_payloads(self.client, CARRY_PATHS, self.policy)
            self._carry_at_ms = now
            for path, body in carry.payloads.items():
                self._carry[path] = body
                self._carry_read_ms[path] = now
            for path in CARRY_PATHS - carry.payloads.keys():
                # Missed this time: the last read stands a while, then it is unavailable.
                if now - self._carry_read_ms.get(path, now - CARRY_KEEP_MS) >= CARRY_KEEP_MS:
                    self._carry.pop(path, None)
            for fam, value in carry.used_weight.items():
                used[fam] = max(used.get(fam, 0), value)
        self.gate.record_weight(used, self._now_ms())
        return Fetched({**fast.payloads, **self._slow, **self._carry}, fast.simulated, used)

    def _carry_due(self, now: int) -> bool:
        """Every ``CARRY_REFRESH_MS``, and once just after each funding time (so a payment shows
        within a minute, not up to five)."""
        last = self._carry_at_ms
        if last is None or now - last >= CARRY_REFRESH_MS:
            return True
        settled = (now - FUNDING_SETTLED_AFTER_MS) // FUNDING_EVERY_MS * FUNDING_EVERY_MS
        return last < settled + FUNDING_SETTLED_AFTER_MS <= now

    def _fetch_resyncing(self) -> Fetched:
        """-1021 (timestamp outside recvWindow): resync the clock offset and retry once."""
        try:
            return self._fetch()
        except ClockSkew:
            log.info("account %s: clock skew (-1021): resyncing and retrying once", self.account)
            self._sync_clock()
            return self._fetch()

    def _sync_clock(self) -> None:
        sync_clock(self.client, self.policy)
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
        """One account poll: every endpoint over REST, evaluated and stored."""
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
        except Exception as exc:  # typed exchange errors, and any bug in parse/evaluate: one event
            return CycleResult(None, self._record_failure(exc))
        self._record_weight(fetched.used_weight)
        cycle = CycleRecord(
            account=self.account,
            fetched_at_ms=self._price_time(market, fetched_at),
            exchange_time_ms=market.time_ms or fetched_at,
            simulated=fetched.simulated,
            payloads=fetched.payloads,
            report=report,
            reported=snapshot.reported,
            positions_at_ms=fetched_at,
            marks_source=self._feed_state(fetched_at),
        )
        written = self._write(cycle)
        if written is None:
            return CycleResult(None, None)
        with self._lock:
            self._poll = _Poll(
                snapshot,
                market,
                mark_basis(fetched.payloads),
                written.snapshot_id,
                fetched_at,
                fetched.simulated,
                relevant_symbols(fetched.payloads),
                report.assumptions,
                report.reconciliation,
            )
            self._marks = {}
            self._dirty = False  # marks from before this poll are in it already
            self._positions_too_old = False
        if self.hub is not None:
            self.hub.ensure_streams(cm_pairs(fetched.payloads))
        if self.watch is not None:
            self.watch.on_poll_ok(self.account)
        return CycleResult(written.report_id, None)

    def _feed_state(self, now_ms: int) -> str:
        """What feeds the marks right now: ``stream``, ``rest`` (stream down), or ``poll``
        (no streams: marks arrive with each account poll only)."""
        if self.hub is None or not self.hub.streams:
            return "poll"
        return "stream" if self.hub.live(now_ms) else "rest"

    def _record_weight(self, used: dict[str, int]) -> None:
        try:
            self.store.record_weight(self._now_ms(), used)
        except StoreWriteError as exc:  # the report's write, next, says what is wrong once
            log.debug("could not record the API weight: %s", exc.kind)

    # ---- between polls: mark prices ----------------------------------------------------------
    def on_marks(self, updates: tuple[MarkUpdate, ...], source: str) -> None:
        """Called by the hub for every stream message (or REST fallback read): re-evaluate the
        last poll's positions at the new marks. Bursts coalesce; nothing is evaluated twice."""
        now = self._now_ms()
        with self._lock:
            poll = self._poll
            if poll is None:
                return
            fresh = {u.symbol: u for u in updates if u.symbol in poll.relevant}
            if not fresh:
                return
            self._marks.update(fresh)
            self._marks_source = source
            self._marks_received_ms = now
            self._dirty = True
        self._drain()

    def _drain(self) -> None:
        while self._evaluating.acquire(blocking=False):
            try:
                while True:
                    with self._lock:
                        if not self._dirty or self._poll is None:
                            break
                        self._dirty = False
                        poll, marks = self._poll, tuple(self._marks.values())
                        source, received = self._marks_source, self._marks_received_ms
                    if marks:  # a poll may have taken them in the meantime
                        self._evaluate_marks(poll, marks, source, received)
            finally:
                self._evaluating.release()
            with self._lock:
                if not self._dirty:
                    return

    def _evaluate_marks(
        self, poll: _Poll, marks: tuple[MarkUpdate, ...], source: str, received_ms: int
    ) -> None:
        if received_ms - poll.fetched_at_ms > self.positions_max_age_ms:
            # Fresh marks on old positions would look fresh: let the figures go stale instead.
            if not self._positions_too_old:
                self._positions_too_old = True
                log.warning(
                    "account %s: positions older than %d s: mark updates not applied until the "
                    "next successful poll",
                    self.account,
                    self.positions_max_age_ms // 1000,
                )
            return
        try:
            snapshot, market = remark(poll.snapshot, poll.market, poll.basis, marks)
            rules = dataclasses.replace(self.rules, assumptions=poll.assumptions)
            report = dataclasses.replace(
                evaluate(snapshot, market, rules), reconciliation=poll.reconciliation
            )
        except Exception as exc:  # a bug re-marking must not stop the stream: one event instead
            self._record_failure(exc)
            return
        cycle = CycleRecord(
            account=self.account,
            fetched_at_ms=self._price_time(market, received_ms),
            exchange_time_ms=max(u.event_time_ms for u in marks),
            simulated=poll.simulated,
            payloads={"marks": updates_to_json(marks)},
            report=report,
            reported=snapshot.reported,
            base_snapshot_id=poll.snapshot_id,
            marks_source=source,
            positions_at_ms=poll.fetched_at_ms,
        )
        self._write(cycle)

    def _write(self, cycle: CycleRecord) -> Written | None:
        """Write a cycle; a store that cannot take it (full, read-only, locked past the
        retries) is said once, in one line, until it can again; every cycle retries."""
        try:
            written = self.store.write_cycle(cycle, computed_at_ms=self._now_ms())
        except StoreWriteError as exc:
            if exc.kind != self._store_trouble:
                self._store_trouble = exc.kind
                self._event(FeedStatus.DEGRADED, exc.message, endpoint=STORE)  # logs; may not store
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

    def on_marks_state(self, live: bool, message: str) -> None:
        if not live:
            self._event(FeedStatus.DEGRADED, message, endpoint=MARK_STREAM)

    # ---- frozen prices -------------------------------------------------------------------------
    def _price_time(self, market: MarketState, at_ms: int) -> int:
        """When the prices last moved: the age the figures are shown with. Unchanged marks and
        index prices for ``frozen_after_s`` raise one event; the figures then go stale on
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
            self._event(
                FeedStatus.DEGRADED,
                f"prices frozen: no mark or index price has changed for "
                f"{(at_ms - changed) // 1000} s although the exchange answers",
            )
        return changed

    def _event(
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

    def _record_failure(self, exc: Exception) -> Failure:
        if isinstance(exc, ClockSkew):
            self._clock_synced = False  # resync before the next cycle
        failure = classify(exc)
        if failure.retry_after_s is not None:
            self.gate.hold(
                self._now_ms() + 1000 * failure.retry_after_s,
                failure.status,
                failure.message,
            )
        self._event(failure.status, failure.message, failure.endpoint, failure.code)
        if self.watch is not None:
            refused = isinstance(exc, KeyRefusedError)
            self.watch.on_failure(self.account, failure.message, key_refused=refused)
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
