"""The collector: pull → parse → evaluate → store, on an APScheduler interval job.

Never raises out of a cycle: a failure is classified, logged once and stored as an event, and the
last good report stays in the store. The first successful fetch is not required to start.

Between polls the last poll's parsed inputs move with what is pushed (``between_polls.py``): the
account's user data stream (``account_push.py``) and the mark prices (``marks_hub.py``). While the
account's stream is healthy the poll only reconciles, every ``reconcile_interval_s``: what the
stream kept is compared with what REST reads, and every difference is recorded.
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
from app.collector.account_push import (
    AccountStream,
    PollRequests,
    SignalLedger,
    StreamWords,
    differences,
)
from app.collector.between_polls import moved_since_poll
from app.collector.event_codec import EVENTS_KEY, encode_events
from app.collector.feed import Failure, FeedStatus
from app.collector.fetcher import Fetcher
from app.collector.gate import IpGate
from app.collector.last_poll import LastPoll, binance_read_at
from app.collector.recording import Recorder
from app.feed_status import RECONCILIATION
from app.store.store import CycleRecord, Store
from connectors.binance.client import Client, RetryPolicy
from connectors.binance.errors import ClockSkew
from connectors.binance.marks import (
    MarkUpdate,
    cm_pairs,
    mark_basis,
    relevant_symbols,
    updates_to_json,
)
from connectors.binance.parse import snapshot_from_payloads
from risk import RiskRules, evaluate
from risk.account_apply import apply_events, signals_in
from risk.account_events import AccountEvent, OrderUpdate, RiskLevelChange
from risk.model import AccountSnapshot, MarketState

if TYPE_CHECKING:
    from app.alerts.watch import AlertWatch
    from app.collector.marks_hub import MarkHub

log = logging.getLogger(__name__)

DEFAULT_FROZEN_AFTER_S = 30.0
DEFAULT_POSITIONS_MAX_AGE_S = 10.0
DEFAULT_RECONCILE_INTERVAL_S = 30.0
CLOCK_DRIFT_MS = 1_000  # how far our clock may have drifted from the exchange's since a sync
SIGNAL_MEMORY_MS = 3_600_000  # Binance's signals handed on are remembered this long (event time)
MARK_STREAM = "markPrice stream"


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
        reconcile_interval_s: float = DEFAULT_RECONCILE_INTERVAL_S,
    ) -> None:
        self.store = store
        self.client = client
        self.rules = rules
        self.account = account
        self.gate = gate or IpGate()
        self._now_ms = now_ms
        self.fetcher = Fetcher(
            client, account, self.gate, policy or RetryPolicy(), now_ms, allow_unsafe_key
        )
        # Between polls: mark updates and account events since the last poll, applied on arrival.
        self.hub = hub
        if hub is not None:
            hub.subscribe(self)
        self.frozen_after_ms = int(frozen_after_s * 1000)
        self.positions_max_age_ms = int(positions_max_age_s * 1000)
        self.reconcile_interval_ms = int(reconcile_interval_s * 1000)
        self.interval_s: float | None = None  # the normal poll interval, once scheduled
        self._lock = threading.Lock()
        self._evaluating = threading.Lock()
        self._polling = threading.Lock()  # one poll in flight: the job's or a resync's
        self._poll: LastPoll | None = None
        self._marks: dict[str, MarkUpdate] = {}
        self._marks_source = "stream"
        self._marks_received_ms = 0
        self._events: list[AccountEvent] = []  # received since the last poll read REST
        self._events_since_ms = 0
        self._events_received_ms = 0
        self._dirty = False
        self._positions_too_old = False
        self.rec = Recorder(store, account, self.gate, now_ms, self.frozen_after_ms, watch)
        self.watch = watch  # alerts: told of every report, failure, poll and Binance signal
        # The account's user data stream (account_push.open_user_stream attaches it).
        self.stream: AccountStream | None = None
        self.stream_words = StreamWords(self.rec.event)  # says when it connects, drops, is back
        self._resync_due = False  # a REST poll is wanted now, whatever the cadence
        self.resyncs = PollRequests(account, self.run_once)
        self.signals = SignalLedger()
        self._level_poll_ms = -(2**62)  # when a pushed riskLevelChange last asked for a poll

    # ---- the poll ----------------------------------------------------------------------------
    @property
    def watch(self) -> AlertWatch | None:
        return self._watch

    @watch.setter
    def watch(self, watch: AlertWatch | None) -> None:
        """One watch for the poll, the reports and failures the recorder writes, and the
        signals: set later (tests, the CLI), it reaches all of them."""
        self._watch = watch
        self.rec.watch = watch

    def run_once(self) -> CycleResult:
        """One account poll: every endpoint over REST, evaluated and stored — unless the user
        stream keeps the account and no reconciliation is due (then nothing is requested)."""
        with self._polling:
            return self._run_once()

    def _run_once(self) -> CycleResult:
        if self.fetcher.key_refused:
            return CycleResult(None, None)  # never poll with a refused key
        now = self._now_ms()
        if self.gate.blocked(now) is not None:
            return CycleResult(None, None)  # the exchange asked us to stay away: no request
        if not self._poll_due(now):
            return CycleResult(None, None)  # the stream keeps the account: no request
        reserved = self.fetcher.planned_weight(now)
        if self.gate.reserve(reserved, now) is not None:
            return CycleResult(None, None)  # this minute's share is used up: nothing sent
        with self._lock:
            self._resync_due = False
            cut = len(self._events)  # received before REST is read: in what REST shows
            since = max([self._events_since_ms, *(e.event_time_ms or 0 for e in self._events)])
        stream = self.stream
        connects = stream.connects if stream is not None and stream.healthy(now) else None
        try:
            self.fetcher.prepare()
            fetched_at = self._now_ms()
            # Everything Binance did before the read began is in what it returns: an event
            # from before then that arrives during or after the read is not applied on top
            # (a balanceUpdate is a delta: applied twice, the balance would be off by it). The
            # read's start on the exchange's clock, less what the clock sync cannot tell apart
            # and a second of drift since it (an event wrongly dropped is a change missed).
            f = self.fetcher
            margin = max(f.clock_uncertainty_ms, CLOCK_DRIFT_MS)
            since = max(since, fetched_at + f.clock_offset_ms - margin)
            fetched = self.fetcher.fetch(reserved)
            snapshot, market = snapshot_from_payloads(fetched.payloads)
            report = binance_read_at(evaluate(snapshot, market, self.rules), fetched_at)
        except Exception as exc:  # typed exchange errors, and any bug in parse/evaluate: one event
            return CycleResult(None, self._record_failure(exc))
        self._reconcile(snapshot, cut, connects)
        self.rec.weight(fetched.used_weight)
        cycle = CycleRecord(
            account=self.account,
            fetched_at_ms=self.rec.price_time(market, fetched_at),
            exchange_time_ms=market.time_ms or fetched_at,
            simulated=fetched.simulated,
            payloads=fetched.payloads,
            report=report,
            reported=snapshot.reported,
            positions_at_ms=fetched_at,
            marks_source=self._feed_state(fetched_at),
        )
        written = self.rec.write(cycle)
        if written is None:
            return CycleResult(None, None)
        with self._lock:
            self._poll = LastPoll(
                snapshot,
                market,
                mark_basis(fetched.payloads),
                written.snapshot_id,
                fetched_at,
                fetched.simulated,
                relevant_symbols(fetched.payloads),
                report.assumptions,
                report.reconciliation,
                since,
                connects,
            )
            self._marks = {}
            in_poll = tuple(self._events[:cut])
            self._events = self._events[cut:]
            self._events_since_ms = since
            self._dirty = bool(self._events)  # events during the read: applied on top of it
            self._positions_too_old = False
        # Binance's signals among the events REST now shows: most were handed on as they came;
        # one that came before the first poll (or during a read) was not (the ledger fires each
        # once). Remembered an hour of event time, so a re-applied late event never fires again.
        self._hand_on(tuple(signals_in(in_poll)))
        self.signals.forget_until(since - SIGNAL_MEMORY_MS)
        if self.hub is not None:
            self.hub.ensure_streams(cm_pairs(fetched.payloads))
        if self.watch is not None:
            self.watch.on_poll_ok(self.account)
        self._drain()
        return CycleResult(written.report_id, None)

    def _poll_due(self, now: int) -> bool:
        """Every cycle while the account's user stream is not in sync; while it is, only every
        ``reconcile_interval_s`` (and at once when a resync is asked)."""
        stream = self.stream
        if stream is None:
            return True
        # Polls come on the interval's ticks: never more often than the interval.
        every_s = max(self.interval_s or 0.0, self.reconcile_interval_ms / 1000)
        self.stream_words.seen(stream.healthy(now), self.interval_s, every_s)
        with self._lock:
            poll, due = self._poll, self._resync_due
        if due or poll is None or not self._in_sync(poll, now):
            return True
        return now - poll.fetched_at_ms >= self.reconcile_interval_ms

    def _in_sync(self, poll: LastPoll, now: int) -> bool:
        """The stream is healthy on the connection the poll was read under: nothing missed."""
        stream = self.stream
        return (
            stream is not None
            and poll.stream_connects is not None
            and poll.stream_connects == stream.connects
            and stream.healthy(now)
        )

    def stream_in_sync(self) -> bool:
        with self._lock:
            poll = self._poll
        return poll is not None and self._in_sync(poll, self._now_ms())

    def _reconcile(self, rest: AccountSnapshot, cut: int, connects: int | None) -> None:
        """At a poll while the stream kept the account since the last one: the stream's snapshot
        (the last poll's with the events since applied) against REST's; each difference is
        recorded (there should be none). Skipped when events arrived during the read (REST may
        or may not show them) or the stream asked for a resync (a difference is expected)."""
        with self._lock:
            prev, events, late = self._poll, self._events[:cut], len(self._events) > cut
        if prev is None or connects is None or prev.stream_connects != connects or late:
            return
        applied = apply_events(
            prev.snapshot,
            events,
            since_ms=prev.events_since_ms,
            index_price_usd=prev.market.index_price_usd,
        )
        if applied.needs_resync:
            return
        found = differences(applied.snapshot, rest)
        if found:
            self.rec.event(
                FeedStatus.DEGRADED,
                f"stream and REST differ: {'; '.join(found)} (REST taken)",
                endpoint=RECONCILIATION,
            )

    def _feed_state(self, now_ms: int) -> str:
        """What feeds the marks right now: ``stream``, ``rest`` (stream down), or ``poll``
        (no streams: marks arrive with each account poll only)."""
        if self.hub is None or not self.hub.streams:
            return "poll"
        return "stream" if self.hub.live(now_ms) else "rest"

    # ---- the user data stream ------------------------------------------------------------------
    def attach_stream(self, stream: AccountStream) -> None:
        self.stream = stream

    def on_account_event(self, event: AccountEvent) -> None:
        """Called by the user stream for every event: applied on arrival (bursts coalesce)."""
        now = self._now_ms()
        with self._lock:
            self._events.append(event)
            self._events_received_ms = now
            if self._poll is None:
                return  # the first poll reads it, or applies it after
            self._dirty = True
        self._drain()

    def request_poll(self, reason: str) -> None:
        """A REST poll now (the stream reconnected, or cannot be applied): on a worker thread,
        never overlapping another poll."""
        log.info("account %s: reading REST now: %s", self.account, reason)
        with self._lock:
            self._resync_due = True
        self.resyncs.ask()

    def polls_pending(self) -> bool:
        """A poll is asked for or in flight (the tests wait for quiet)."""
        return self.resyncs.pending() or self._polling.locked()

    def stop(self) -> None:
        """No more polls asked; the user stream closed (its listenKey deleted)."""
        self.resyncs.stop()
        if self.stream is not None:
            self.stream.stop()

    # ---- between polls: account events and mark prices -----------------------------------------
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
                        events, since = tuple(self._events), self._events_since_ms
                        source = self._marks_source
                        received = max(self._marks_received_ms, self._events_received_ms)
                    if marks or events:  # a poll may have taken them in the meantime
                        self._evaluate_between(poll, marks, events, since, source, received)
            finally:
                self._evaluating.release()
            with self._lock:
                if not self._dirty:
                    return

    def _evaluate_between(
        self,
        poll: LastPoll,
        marks: tuple[MarkUpdate, ...],
        events: tuple[AccountEvent, ...],
        since: int,
        source: str,
        received_ms: int,
    ) -> None:
        try:
            snapshot, market, applied = moved_since_poll(
                poll.snapshot, poll.market, poll.basis, events, since, marks
            )
        except Exception as exc:  # a bug applying must not stop the streams: one event instead
            self._record_failure(exc)
            return
        pushed_level = False
        if applied is not None:
            pushed_level = self._level_moved(poll, self._hand_on(applied.signals))
            if applied.needs_resync:  # fail closed: no figure from a state that cannot be kept
                self.request_poll("; ".join(f"{r.kind}: {r.detail}" for r in applied.resync))
                return
            if applied.applied == 0 and not marks:
                return  # every event was in the poll already
        self._write_between(poll, snapshot, market, marks, events, since, source, received_ms)
        if pushed_level:
            # Binance's status moved: read all of its figures (/papi/v1/account) now rather
            # than at the next reconciliation, after the pushed figures are on screen.
            self.request_poll("Binance pushed a riskLevelChange")

    def _write_between(
        self,
        poll: LastPoll,
        snapshot: AccountSnapshot,
        market: MarketState,
        marks: tuple[MarkUpdate, ...],
        events: tuple[AccountEvent, ...],
        since: int,
        source: str,
        received_ms: int,
    ) -> None:
        """The moved inputs evaluated and stored as a between-polls report (unless positions the
        stream does not keep have grown too old to show beside fresh marks)."""
        in_sync = self._in_sync(poll, self._now_ms())
        if not in_sync and received_ms - poll.fetched_at_ms > self.positions_max_age_ms:
            # Fresh marks on old positions would look fresh: let the figures go stale instead.
            if not self._positions_too_old:
                self._positions_too_old = True
                log.warning(
                    "account %s: positions older than %d s: updates not applied until the "
                    "next successful poll",
                    self.account,
                    self.positions_max_age_ms // 1000,
                )
            return
        try:
            rules = dataclasses.replace(self.rules, assumptions=poll.assumptions)
            report = evaluate(snapshot, market, rules)
            if snapshot.reported is poll.snapshot.reported:
                # Binance's figures are the poll's: compared at the poll, not with moved marks.
                report = dataclasses.replace(report, reconciliation=poll.reconciliation)
            elif snapshot.reported is not None:
                # Binance pushed its own figures (riskLevelChange) since the poll: compared now,
                # so a pmdesk calmer than Binance shows at once, not at the next REST poll.
                report = binance_read_at(report, snapshot.reported.update_time_ms)
        except Exception as exc:  # a bug evaluating must not stop the streams: one event instead
            self._record_failure(exc)
            return
        payloads: dict[str, object] = {}
        if marks:
            payloads["marks"] = updates_to_json(marks)
        if events:
            payloads[EVENTS_KEY] = encode_events(since, events)
        times = [u.event_time_ms for u in marks] + [e.event_time_ms or 0 for e in events]
        cycle = CycleRecord(
            account=self.account,
            fetched_at_ms=self.rec.price_time(market, received_ms),
            exchange_time_ms=max(times),
            simulated=poll.simulated,
            payloads=payloads,
            report=report,
            reported=snapshot.reported,
            base_snapshot_id=poll.snapshot_id,
            marks_source=source if marks else self._feed_state(received_ms),
            # Positions the stream keeps are as fresh as its last event.
            positions_at_ms=received_ms if in_sync else poll.fetched_at_ms,
        )
        self.rec.write(cycle)

    def _hand_on(
        self, signals: tuple[RiskLevelChange | OrderUpdate, ...]
    ) -> list[RiskLevelChange | OrderUpdate]:
        """Binance's own signals to the alerts, each once; the new ones returned."""
        fresh = self.signals.fresh(signals)
        if self.watch is not None:
            for signal in fresh:
                self.watch.on_binance_signal(self.account, signal, self._now_ms())
        return fresh

    def _level_moved(self, poll: LastPoll, fresh: list[RiskLevelChange | OrderUpdate]) -> bool:
        """Whether a new riskLevelChange says another status than REST last read — worth a
        REST poll at once, but at most one a poll interval (Binance may push again and again
        while the status holds; REST then says the same)."""
        read = poll.snapshot.reported.account_status if poll.snapshot.reported else None
        if not any(isinstance(s, RiskLevelChange) and s.status != read for s in fresh):
            return False
        now = self._now_ms()
        if now - self._level_poll_ms < (self.interval_s or 0.0) * 1000:
            return False
        self._level_poll_ms = now
        return True

    def on_marks_state(self, live: bool, message: str) -> None:
        if not live:
            self.rec.event(FeedStatus.DEGRADED, message, endpoint=MARK_STREAM)

    def _record_failure(self, exc: Exception) -> Failure:
        if isinstance(exc, ClockSkew):
            self.fetcher.clock_synced = False  # resync before the next cycle
        return self.rec.failure(exc)

    def schedule(self, scheduler: BackgroundScheduler, interval_s: float) -> None:
        """One job per account; a slow cycle never stacks (max_instances=1, coalesce)."""
        self.interval_s = interval_s
        scheduler.add_job(
            self.run_once,
            "interval",
            seconds=interval_s,
            id=f"collect:{self.account}",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
