"""Mark prices for every collector on this machine: Binance's streams, REST when they fail.

Market data is the same for every account, so one hub serves them all: one USDⓈ-M stream
(``!markPrice@arr@1s``), one COIN-M stream (``<pair>@markPrice@1s`` for every listed pair), each
update fanned out to the collectors. While a stream is silent for longer than its ``silence_s``,
the hub reads ``/fapi/v1/premiumIndex`` and ``/dapi/v1/premiumIndex`` over REST every
``fallback_interval_s`` instead (weight 10 each, through the shared IP gate), and says so once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from app.collector.gate import IpGate
from connectors.binance.client import Client, RetryPolicy, fetch_payloads
from connectors.binance.limits import weight_by_family
from connectors.binance.marks import (
    UM_ALL_MARKS_1S,
    MarkUpdate,
    cm_pair_stream,
    updates_from_premium_index,
)
from connectors.binance.parse import CM_PREMIUM_INDEX, UM_PREMIUM_INDEX
from connectors.binance.reconnecting import DEFAULT_MAX_BACKOFF_S
from connectors.binance.stream import DEFAULT_SILENCE_S, MarkStream

log = logging.getLogger(__name__)

FALLBACK_PATHS = frozenset({UM_PREMIUM_INDEX, CM_PREMIUM_INDEX})
DEFAULT_FALLBACK_INTERVAL_S = 2.0


class MarksListener(Protocol):
    def on_marks(self, updates: tuple[MarkUpdate, ...], source: str) -> None: ...

    def on_marks_state(self, live: bool, message: str) -> None: ...


class MarkHub:
    def __init__(
        self,
        client: Client,
        um_stream_url: str,
        cm_stream_url: str,
        now_ms: Callable[[], int],
        *,
        gate: IpGate,
        policy: RetryPolicy | None = None,
        fallback_interval_s: float = DEFAULT_FALLBACK_INTERVAL_S,
        silence_s: float = DEFAULT_SILENCE_S,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
    ) -> None:
        self.client = client
        self.um_stream_url = um_stream_url
        self.cm_stream_url = cm_stream_url
        self._now_ms = now_ms
        self.gate = gate
        self.policy = policy or RetryPolicy()
        self.fallback_interval_s = fallback_interval_s
        self.silence_s = silence_s
        self.max_backoff_s = max_backoff_s
        self._listeners: list[MarksListener] = []
        self._streams: list[MarkStream] = []
        self._lock = threading.Lock()
        self._started_ms: int | None = None
        self._live: bool | None = None  # None until the first verdict

    def subscribe(self, listener: MarksListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: MarksListener) -> None:
        """No more marks for a collector whose account's lease went (app/collector/leases.py)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _fan_out(self, updates: tuple[MarkUpdate, ...], source: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener.on_marks(updates, source)
            # Broad on purpose: one account's collector failing on an update must not stop the
            # others' (each listener is an account); logged with its traceback.
            except Exception:
                log.exception("a collector failed on a mark update")

    def ensure_streams(self, cm_pairs: Sequence[str]) -> None:
        """Open the streams once (idempotent); called by a collector after its first poll,
        when the COIN-M pairs are known."""
        with self._lock:
            if self._streams:
                return
            self._started_ms = self._now_ms()
            wanted = [("USDⓈ-M", self.um_stream_url, [UM_ALL_MARKS_1S])]
            if cm_pairs:
                wanted.append(("COIN-M", self.cm_stream_url, [cm_pair_stream(p) for p in cm_pairs]))
            self._streams = [
                MarkStream(
                    name,
                    url,
                    names,
                    lambda u: self._fan_out(u, "stream"),
                    self._now_ms,
                    silence_s=self.silence_s,
                    max_backoff_s=self.max_backoff_s,
                )
                for name, url, names in wanted
            ]
            streams = list(self._streams)
        for stream in streams:
            stream.start()

    @property
    def streams(self) -> tuple[MarkStream, ...]:
        with self._lock:
            return tuple(self._streams)

    def live(self, now_ms: int) -> bool:
        """Every stream delivered within its silence limit (a grace of one limit at start)."""
        streams = self.streams
        if not streams:
            return False
        started = self._started_ms or now_ms
        grace = max(s.silence_s for s in streams) * 1000
        return all(
            s.healthy(now_ms) or (s.last_message_ms is None and now_ms - started <= grace)
            for s in streams
        )

    def check(self) -> None:
        """The fallback job: when a stream is down, read the marks over REST instead."""
        if not self.streams:
            return  # no poll has succeeded yet: nothing to move
        now = self._now_ms()
        live = self.live(now)
        if live != self._live:
            self._live = live
            self._announce(live)
        if live or self.gate.blocked(now) is not None:
            return
        reserved = weight_by_family(FALLBACK_PATHS)  # like a poll: reserved before it is sent
        if self.gate.reserve(reserved, now) is not None:
            return
        try:
            fetched = fetch_payloads(self.client, FALLBACK_PATHS, self.policy)
        # Broad on purpose: the fallback runs on the hub's check and must not end it; the
        # account's own poll classifies and reports exchange failures.
        except Exception as exc:
            log.info("mark prices over REST failed too: %s", type(exc).__name__)
            return  # the account poll reports exchange failures; nothing to add here
        self.gate.record_weight(fetched.used_weight, self._now_ms(), settled=reserved)
        self._fan_out(updates_from_premium_index(fetched.payloads), "rest")

    def _announce(self, live: bool) -> None:
        if live:
            message = "mark-price stream live: figures move with every mark update"
            log.info(message)
        else:
            message = (
                "mark-price stream down: mark prices read over REST every "
                f"{self.fallback_interval_s:g} s until it is back"
            )
            log.warning(message)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.on_marks_state(live, message)

    def schedule(self, scheduler: BackgroundScheduler) -> None:
        scheduler.add_job(
            self.check,
            "interval",
            seconds=self.fallback_interval_s,
            id="marks:fallback",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )

    def stop(self) -> None:
        for stream in self.streams:
            stream.stop()
