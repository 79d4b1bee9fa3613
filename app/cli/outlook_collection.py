"""The Outlook in a collecting process (issue 20): the outlook job (``app/collector/outlook_job``)
scheduled on an executor of its own — one thread, so an outlook being computed never takes a
thread the polls, the mark-price figures or the alert timers need — with the klines cache
(``app/store/klines.py``) refreshed through one keyless client on the accounts' hosts, its
weight within the klines' own budget and counted by the IP gate, and the model with the
``[outlook]`` settings. ``[outlook] enabled = false`` schedules nothing."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import SchedulerNotRunningError

from app.alerts.watch import AlertWatch
from app.clock import now_ms
from app.collector.gate import IpGate
from app.collector.outlook_job import TICK_S, JobSettings, OutlookJob
from app.collector.outlook_model import OutlookModel
from app.config import Settings
from app.episodes import load_episodes
from app.store.klines import KlineCache, KlinePolicy
from app.store.outlooks import OutlookStore
from app.store.store import Store
from connectors.binance.client import Client
from connectors.binance.klines import KlineFetcher, like
from risk.market_history import KlineKey, KlineSeries
from risk.outlook import OutlookSettings

log = logging.getLogger("pmdesk")

EXECUTOR = JOB_ID = "outlook"
NICE = 10  # the outlook's thread yields the CPU to the polls and the mark-driven figures
FIRST_AFTER_S = 10.0  # the first look: once the accounts' first polls are stored


class CacheFeed:
    """The klines cache as the job uses it: refreshed through one fetcher (one budget)."""

    def __init__(self, cache: KlineCache, fetcher: KlineFetcher) -> None:
        self.cache = cache
        self.fetcher = fetcher

    def refresh(self, keys: Sequence[KlineKey], now_ms: int) -> None:
        self.cache.refresh(self.fetcher, keys, now_ms)

    def read(self, keys: Sequence[KlineKey], start_ms: int, end_ms: int) -> list[KlineSeries]:
        return self.cache.read(keys, start_ms, end_ms)


def lower_priority() -> None:
    """This thread (Linux: a thread has its own nice value) at ``NICE``, once; elsewhere, or
    when not allowed, it stays as it is."""
    if getattr(_niced, "done", False):
        return
    _niced.done = True
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not permitted
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), NICE))


_niced = threading.local()


def model_settings(settings: Settings) -> OutlookSettings:
    o = settings.outlook
    base = OutlookSettings()
    return OutlookSettings(
        n_paths=o.n_paths,
        horizons_h=tuple(o.horizons),
        half_life_h=o.half_life_h or base.half_life_h,
    )


def schedule_outlooks(
    scheduler: BackgroundScheduler,
    store: Store,
    settings: Settings,
    client: Client,
    gate: IpGate,
    held: Callable[[], Mapping[str, AlertWatch | None]],
) -> OutlookJob | None:
    """The outlook job on its own one-thread executor, every ``TICK_S`` looking for accounts
    (``held()``: name and alert watch) whose outlook is due; None when switched off."""
    o = settings.outlook
    if not o.enabled:
        log.info("outlook: off ([outlook] enabled = false)")
        return None
    episodes = load_episodes()
    fetcher = KlineFetcher(like(client), blocked=gate.blocked, on_used_weight=gate.record_weight)
    cache = KlineCache(store, KlinePolicy(hourly_days=o.history_days, episodes=episodes))
    rules = settings.risk_rules()
    model = model_settings(settings)
    job = OutlookJob(
        store,
        OutlookStore(store.engine),
        CacheFeed(cache, fetcher),
        OutlookModel(rules, model, episodes),
        rules,
        JobSettings(
            every_s=o.every_s,
            history_days=o.history_days,
            keep_h=settings.retention().raw_h,
            n_paths=o.n_paths,
            half_life_h=model.half_life_h,
            core_share=o.core_share,
        ),
        now_ms,
        episodes=episodes,
    )
    scheduler.add_executor(ThreadPoolExecutor(1), alias=EXECUTOR)

    def tick_after(seconds: float) -> None:
        scheduler.add_job(
            tick,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=seconds),
            id=JOB_ID,
            executor=EXECUTOR,
            replace_existing=True,
            misfire_grace_time=None,  # late on a busy machine: run late, never skip
        )

    def tick() -> None:
        """One look for due accounts, then the next one ``TICK_S`` after it ends: a run that
        takes longer than a tick never overlaps the next (nor makes the scheduler warn)."""
        try:
            lower_priority()
            job.run(held())
        finally:
            with contextlib.suppress(SchedulerNotRunningError):  # the collection stopped
                tick_after(TICK_S)

    tick_after(FIRST_AFTER_S)
    log.info(
        "outlook: each account's every %g s (%s paths, horizons %s h) on a worker of its own",
        o.every_s,
        f"{o.n_paths:,}",
        ", ".join(f"{h:g}" for h in o.horizons),
    )
    return job
