"""The collection a process runs: one collector job per account with its user data stream, the
mark-price hub, the alert watch and notifier, and retention — on one APScheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from binance.client import Client

from app.alerts.notify import Notifier
from app.alerts.watch import AlertWatch
from app.cli.common import CliError
from app.clock import now_ms
from app.collector.account_push import open_user_stream
from app.collector.collector import Collector
from app.collector.gate import IpGate
from app.collector.marks_hub import MarkHub
from app.config import Settings
from app.store.retention import Pruned
from app.store.store import Store
from connectors.binance.client import ENDPOINTS, SLOW_PATHS
from connectors.binance.keycheck import OVERRIDE_FLAG
from connectors.binance.limits import min_poll_interval_s

log = logging.getLogger("pmdesk")


def start_collection(
    settings: Settings,
    store: Store,
    accounts: list[tuple[str, Client]],
    um_stream_url: str | None = None,
    cm_stream_url: str | None = None,
    pm_stream_url: str | None = None,
) -> Callable[[], None]:
    """One collector job per account, all sharing the IP's weight budget and one mark-price
    hub; a thread each, so one slow or failing account never holds up the others. With
    ``exchange.user_stream`` each account follows its user data stream (at ``pm_stream_url``:
    the simulator's in the demo, else the setting) and its poll slows to reconciliation."""
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(len(accounts) + 3)}
    )
    # Keep the planned weight under half of every per-IP budget (limits.SHARE).
    floor = min_poll_interval_s(frozenset(ENDPOINTS) - SLOW_PATHS, accounts=len(accounts))
    interval = max(settings.exchange.poll_interval_s, floor)
    if interval > settings.exchange.poll_interval_s:
        log.warning(
            "poll interval raised from %.1f s to %.1f s to stay under half the API weight limit",
            settings.exchange.poll_interval_s,
            interval,
        )
    if settings.exchange.allow_key_that_can_trade:
        log.warning("%s given: a key that can trade will be accepted", OVERRIDE_FLAG)
    gate = IpGate()
    hub = MarkHub(
        accounts[0][1],
        um_stream_url or settings.exchange.um_stream_url,
        cm_stream_url or settings.exchange.cm_stream_url,
        now_ms,
        gate=gate,
        fallback_interval_s=settings.exchange.mark_fallback_interval_s,
    )
    watch, notifier = _start_alerts(settings, store, [name for name, _ in accounts])
    watch.schedule(scheduler)
    collectors: list[Collector] = []
    for name, client in accounts:
        collector = Collector(
            store,
            client,
            settings.risk_rules(),
            name,
            gate=gate,
            allow_unsafe_key=settings.exchange.allow_key_that_can_trade,
            hub=hub,
            frozen_after_s=settings.exchange.frozen_after_s,
            positions_max_age_s=settings.web.stale_after_s,
            watch=watch,
            reconcile_interval_s=settings.exchange.reconcile_interval_s,
        )
        collector.schedule(scheduler, interval)
        collectors.append(collector)
    pm_url = _user_stream_url(settings, um_stream_url, pm_stream_url)
    if pm_url is not None:
        for collector, (_, client) in zip(collectors, accounts, strict=True):
            open_user_stream(collector, client, pm_url, now_ms)
    hub.schedule(scheduler)
    _schedule_retention(scheduler, store, settings)
    scheduler.start()
    log.info(
        "collecting %s every %.1f s; mark prices streamed between polls%s",
        ", ".join(name for name, _ in accounts),
        interval,
        (
            f"; account user data streams followed (REST reconciles every "
            f"{settings.exchange.reconcile_interval_s:g} s while they are healthy)"
            if pm_url is not None
            else ""
        ),
    )

    def stop() -> None:
        scheduler.shutdown(wait=False)
        for collector in collectors:
            collector.stop()  # closes its user stream and deletes the listenKey
        hub.stop()
        if notifier is not None:
            notifier.stop()

    return stop


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


def _start_alerts(
    settings: Settings, store: Store, accounts: list[str]
) -> tuple[AlertWatch, Notifier | None]:
    """The alert watch of these accounts, and the notifier when ``notify_urls`` are set."""
    urls = [u.get_secret_value() for u in settings.alerts.notify_urls]
    notifier = None
    if urls:
        try:
            notifier = Notifier(urls, store.alerts, now_ms).start()
        except ValueError as exc:
            raise CliError(str(exc)) from None
        log.info("alerts are sent to %s", ", ".join(notifier.labels))
    return AlertWatch(store.alerts, settings.alert_rules(accounts), now_ms, notifier), notifier


def _schedule_retention(scheduler: BackgroundScheduler, store: Store, settings: Settings) -> None:
    """Retention on its own thread, in small transactions: collection never waits for it."""
    keep = settings.retention()

    def prune() -> None:
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
