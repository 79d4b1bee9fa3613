"""The collection a process runs: one collector job per account it holds the lease of, with its
user data stream and alert watch; the mark-price hub, the notifier and retention — on one
APScheduler. The leases (``app/collector/leases.py``) decide which accounts: all of them on
SQLite, a fair share among the collectors on one PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.alerts.notify import Notifier
from app.alerts.watch import TICK_S as ALERT_TICK_S
from app.alerts.watch import AlertWatch
from app.cli.common import CliError
from app.cli.outlook_collection import schedule_outlooks
from app.clock import now_ms
from app.collector.account_push import open_user_stream
from app.collector.collector import Collector
from app.collector.gate import IpGate
from app.collector.leases import LeaseKeeper, LeaseTimings
from app.collector.marks_hub import MarkHub
from app.config import Settings
from app.store.leases import Member
from app.store.retention import Pruned
from app.store.store import Store
from connectors.binance.client import ENDPOINTS, SLOW_PATHS, Client
from connectors.binance.keycheck import OVERRIDE_FLAG
from connectors.binance.limits import CARRY_SLOTS, plan_polls

log = logging.getLogger("pmdesk")

# Every request of this process says which collector sent it (python-binance's session header):
# the simulator's request log tells collectors apart. Binance takes any User-Agent: its own
# connector names itself "binance-connector/<version>" (binance/binance-connector-python,
# https://github.com/binance/binance-connector-python/blob/master/binance/api.py).
USER_AGENT = "pmdesk-collector/{}"
FIRST_POLL_GRACE_S = 5.0  # with a user stream: its connection polls first

_POLL_JOB = "collect:{}"
_ALERT_JOB = "alerts:{}"


def start_collection(
    settings: Settings,
    store: Store,
    accounts: list[tuple[str, Client]],
    um_stream_url: str | None = None,
    cm_stream_url: str | None = None,
    pm_stream_url: str | None = None,
) -> Callable[[], None]:
    """One collector job per account whose lease this process holds (on SQLite: every one;
    on PostgreSQL a fair share among the live collectors: ``app/collector/leases.py``), all
    sharing the IP's weight budget and one mark-price hub; a thread each, so one slow or
    failing account never holds up the others. With ``exchange.user_stream`` each account
    follows its user data stream (at ``pm_stream_url``: the simulator's in the demo, else the
    setting) and its poll slows to reconciliation."""
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(2 * len(accounts) + 3)}
    )
    if settings.exchange.allow_key_that_can_trade:
        log.warning("%s given: a key that can trade will be accepted", OVERRIDE_FLAG)
    member = Member(secrets.token_hex(6), socket.gethostname(), os.getpid())
    for _, client in accounts:  # tells this collector's requests apart (simulator's log)
        client.session.headers["User-Agent"] = USER_AGENT.format(member.collector_id)
    gate = IpGate()
    hub = MarkHub(
        accounts[0][1],
        um_stream_url or settings.exchange.um_stream_url,
        cm_stream_url or settings.exchange.cm_stream_url,
        now_ms,
        gate=gate,
        fallback_interval_s=settings.exchange.mark_fallback_interval_s,
    )
    notifier = _start_notifier(settings, store)
    pm_url = _user_stream_url(settings, um_stream_url, pm_stream_url)
    polled = _Polled(settings, store, dict(accounts), scheduler, gate, hub, notifier, pm_url)
    timings = LeaseTimings.derive(settings.store.lease_dead_after_s)
    backend = store.open_leases(member, timings.dead_after_s, timings.keepalive)
    names = [name for name, _ in accounts]
    hub.schedule(scheduler)
    keeper = LeaseKeeper(backend, names, member.collector_id, polled, timings)
    # One collector prunes: the holder of the first account's lease (on SQLite, this one).
    _schedule_retention(scheduler, store, settings, lambda: min(names) in keeper.held)
    # The Outlook (issue 20): the held accounts' outlooks on a worker of their own.
    schedule_outlooks(
        scheduler,
        store,
        settings,
        accounts[0][1],
        gate,
        lambda: {a: leased.watch for a, leased in polled.running.copy().items()},
    )
    scheduler.start()
    keeper.start()
    shared = (
        f"; accounts shared with the other collectors on this database (collector "
        f"{member.collector_id}, holding {', '.join(sorted(keeper.held)) or 'none yet'})"
        if backend.shared
        else ""
    )
    log.info(
        "collecting %s every %.1f s; mark prices streamed between polls%s%s",
        ", ".join(names),
        polled.interval_s,
        (
            f"; account user data streams followed (REST reconciles every "
            f"{polled.reconcile_s:g} s while they are healthy)"
            if pm_url is not None
            else ""
        ),
        shared,
    )

    def stop() -> None:
        keeper.stop()  # each collector stopped (user stream closed), then its lease freed
        scheduler.shutdown(wait=False)
        hub.stop()
        if notifier is not None:
            notifier.stop()

    return stop


class _Polled:
    """The accounts this process polls, started and stopped by their leases (``Holder``):
    a collector, its alert watch and user stream per held account. The poll interval is
    planned for the accounts held (half of every per-IP budget: limits.SHARE)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clients: dict[str, Client],
        scheduler: BackgroundScheduler,
        gate: IpGate,
        hub: MarkHub,
        notifier: Notifier | None,
        pm_url: str | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clients = clients
        self.scheduler = scheduler
        self.gate = gate
        self.hub = hub
        self.notifier = notifier
        self.pm_url = pm_url
        self.running: dict[str, _Leased] = {}
        self.planned_for = 0  # the number of accounts the polls are planned for
        self.interval_s = settings.exchange.poll_interval_s
        self.reconcile_s = settings.exchange.reconcile_interval_s
        self.reconcile_after_s = settings.exchange.reconcile_interval_s

    def gain(self, account: str) -> None:
        settings = self.settings
        watch = AlertWatch(
            self.store.alerts, settings.alert_rules([account]), now_ms, self.notifier
        )  # adopts the account's open alerts: a hand-over fires nothing twice
        collector = Collector(
            self.store,
            self.clients[account],
            settings.risk_rules(),
            account,
            gate=self.gate,
            allow_unsafe_key=settings.exchange.allow_key_that_can_trade,
            hub=self.hub,
            frozen_after_s=settings.exchange.frozen_after_s,
            positions_max_age_s=settings.web.stale_after_s,
            watch=watch,
            reconcile_interval_s=self.reconcile_s,
        )
        # Carry reads in turns (limits.CARRY_SLOTS): a fifth of the accounts' in any minute.
        collector.fetcher.carry_slot = len(self.running) % CARRY_SLOTS
        leased = _Leased(collector, watch)
        self.running[account] = leased
        self._pace(collector)  # until the round is over: settled() plans for all held
        # With a user stream the first poll is the one its connection asks for (what happened
        # before it is not in the stream): the scheduled one comes a little later, in case the
        # stream cannot connect — not both at once (the first minute's weight).
        first_s = 0.0 if self.pm_url is None else min(self.interval_s, FIRST_POLL_GRACE_S)
        self.scheduler.add_job(
            leased.poll,
            "interval",
            seconds=self.interval_s,
            id=_POLL_JOB.format(account),
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_s),
        )
        self.scheduler.add_job(
            watch.tick,
            "interval",
            seconds=ALERT_TICK_S,
            id=_ALERT_JOB.format(account),
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        if self.pm_url is not None:
            open_user_stream(collector, self.clients[account], self.pm_url, now_ms)

    def lose(self, account: str) -> None:
        leased = self.running.pop(account, None)
        if leased is None:
            return
        leased.end()  # waits for a poll in flight; none starts after
        for job in (_POLL_JOB, _ALERT_JOB):
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job.format(account))
        self.hub.unsubscribe(leased.collector)
        leased.collector.stop()  # resync polls ended, user stream closed, listenKey deleted

    def settled(self) -> None:
        """After each lease round: the polls planned for the accounts now held (half of every
        per-IP budget: limits.SHARE); the jobs already scheduled follow a change."""
        held = max(1, len(self.running))
        if held == self.planned_for:
            return
        self.planned_for = held
        plan = plan_polls(
            frozenset(ENDPOINTS) - SLOW_PATHS,
            held,
            self.settings.exchange.poll_interval_s,
            self.settings.exchange.reconcile_interval_s if self.pm_url is not None else None,
        )
        for line in plan.raised():
            log.warning(line)
        self.interval_s = plan.interval_s
        self.reconcile_s = plan.reconcile_s or self.settings.exchange.reconcile_interval_s
        # The collector's threshold: the asked interval (each tick reconciles when it is shorter).
        self.reconcile_after_s = plan.reconcile_after_s or self.reconcile_s
        for account, leased in self.running.items():
            self._pace(leased.collector)
            with contextlib.suppress(JobLookupError):  # its next run kept: a first poll stays now
                self.scheduler.modify_job(
                    _POLL_JOB.format(account),
                    trigger=IntervalTrigger(seconds=self.interval_s, timezone=UTC),
                )

    def _pace(self, collector: Collector) -> None:
        collector.interval_s = self.interval_s
        collector.reconcile_interval_ms = int(self.reconcile_after_s * 1000)


class _Leased:
    """One held account's collector and watch; its scheduled poll runs only while the lease
    is held, and ``end`` returns only once no such poll is in flight."""

    def __init__(self, collector: Collector, watch: AlertWatch) -> None:
        self.collector = collector
        self.watch = watch
        self._active = True
        self._lock = threading.Lock()

    def poll(self) -> None:
        with self._lock:
            if self._active:
                self.collector.run_once()

    def end(self) -> None:
        with self._lock:
            self._active = False


def _user_stream_url(
    settings: Settings, um_stream_url: str | None, pm_stream_url: str | None
) -> str | None:
    """Where the accounts' user data streams are, or None: switched off, or the caller gave its
    own exchange's mark streams but not its user stream (never Binance's with a local key)."""
    if not settings.exchange.user_stream:
        return None
    binance_default = type(settings.exchange).model_fields["pm_stream_url"].default
    own_exchange = um_stream_url is not None or settings.exchange.base_url is not None
    unset = settings.exchange.pm_stream_url == binance_default
    if pm_stream_url is None and own_exchange and unset:
        log.warning(
            "no user data stream URL for this exchange (exchange.pm_stream_url): "
            "accounts are polled only"
        )
        return None
    return pm_stream_url or settings.exchange.pm_stream_url


def _start_notifier(settings: Settings, store: Store) -> Notifier | None:
    """The notifier, when ``notify_urls`` are set (one for every account's alert watch)."""
    urls = [u.get_secret_value() for u in settings.alerts.notify_urls]
    if not urls:
        return None
    try:
        notifier = Notifier(urls, store.alerts, now_ms).start()
    except ValueError as exc:
        raise CliError(str(exc)) from None
    log.info("alerts are sent to %s", ", ".join(notifier.labels))
    return notifier


def _schedule_retention(
    scheduler: BackgroundScheduler, store: Store, settings: Settings, mine: Callable[[], bool]
) -> None:
    """Retention on its own thread, in small transactions: collection never waits for it.
    Only while ``mine()``: several collectors on one database prune once, not each."""
    keep = settings.retention()

    def prune() -> None:
        if not mine():
            return
        try:
            done = store.prune(keep, now_ms())
        except Exception:  # any failure is logged and retried at the next run: collection goes on
            log.exception("retention failed; will retry in %.0f s", settings.store.prune_interval_s)
            return
        if done != Pruned():
            log.info("retention: %s", done)

    scheduler.add_job(
        prune,
        "interval",
        seconds=settings.store.prune_interval_s,
        id="retention",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC) + timedelta(seconds=60),
    )
