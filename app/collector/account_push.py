"""The account side of real time: one account's Portfolio Margin user data stream as the collector
uses it (docs/architecture.md, "Data flow").

- ``open_user_stream`` — a ``ListenKeys`` + ``UserStream`` (connectors/binance) for one collector:
  each event goes to ``Collector.on_account_event`` (applied between polls with
  ``risk.account_apply.apply_events``), each resync request (a (re)connection, an unreadable
  message) to ``Collector.request_poll`` (a REST poll at once). ``stop()`` closes the key.
- ``differences`` — what a reconciliation poll compares (pure): the stream-kept snapshot against
  the REST one just read, positions' amounts per symbol and side, futures wallets and the margin
  asset held per asset, relative ``RECONCILE_REL``.
- ``SignalLedger`` — Binance's own signals (``riskLevelChange``, liquidation / ADL orders) handed on
  once each, however often the events carrying them are re-applied.
- ``StreamWords`` — the events that say the stream connected, went down or is back (the header
  keeps showing "down" for as long as it is: ``app.web.view.feed_state``).
- ``PollRequests`` — "read REST now" from any thread: one worker runs the poll, never two at once.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from app.feed_status import USER_STREAM, FeedStatus
from connectors.binance.client import Client
from connectors.binance.listenkey import BinanceKeyTransport, ListenKeys
from connectors.binance.userstream import UserStream
from risk.account_events import AccountEvent, OrderUpdate, RiskLevelChange
from risk.model import AccountSnapshot

log = logging.getLogger(__name__)

RECONCILE_REL = 1e-9
"""Stream and REST agree when within this relative difference (the decimals are the same)."""
ABS_FLOOR = 1e-12  # below this both are zero

Signal = RiskLevelChange | OrderUpdate


class AccountStream(Protocol):
    """What the collector needs of a ``UserStream``."""

    @property
    def connects(self) -> int: ...

    def healthy(self, now_ms: int) -> bool: ...

    def stop(self) -> None: ...


class EventSink(Protocol):
    account: str

    def on_account_event(self, event: AccountEvent) -> None: ...

    def request_poll(self, reason: str) -> None: ...

    def attach_stream(self, stream: AccountStream) -> None: ...


def open_user_stream(
    sink: EventSink,
    client: Client,
    base_url: str,
    now_ms: Callable[[], int],
    *,
    max_backoff_s: float | None = None,
) -> UserStream:
    """``sink``'s account's user data stream at ``base_url`` (``.../pm``), attached and started."""
    keys = ListenKeys(BinanceKeyTransport(client), now_ms)
    extra: dict[str, Any] = {} if max_backoff_s is None else {"max_backoff_s": max_backoff_s}
    stream = UserStream(
        sink.account,
        base_url,
        keys,
        sink.on_account_event,
        now_ms,
        on_resync=sink.request_poll,
        **extra,
    )
    sink.attach_stream(stream)
    return stream.start()


def _differ(a: float, b: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return not (a == b or (math.isnan(a) and math.isnan(b)))
    return not math.isclose(a, b, rel_tol=RECONCILE_REL, abs_tol=ABS_FLOOR)


def differences(stream: AccountSnapshot, rest: AccountSnapshot) -> list[str]:
    """Every figure the stream keeps that REST reads otherwise, as ``what: stream X, REST Y``.
    Loans are not compared: interest accrues between polls without an event."""
    out: list[str] = []

    def compare(what: str, left: dict[Any, float], right: dict[Any, float]) -> None:
        for key in sorted(left.keys() | right.keys(), key=str):
            s, r = left.get(key, 0.0), right.get(key, 0.0)
            if _differ(s, r):
                name = " ".join(key) if isinstance(key, tuple) else key
                out.append(f"{what} {name}: stream {s:.10g}, REST {r:.10g}")

    compare(
        "UM position",
        {(p.symbol, p.position_side): p.position_amt_qty for p in stream.um_positions},
        {(p.symbol, p.position_side): p.position_amt_qty for p in rest.um_positions},
    )
    compare(
        "CM position",
        {(p.symbol, p.position_side): p.position_amt_contracts for p in stream.cm_positions},
        {(p.symbol, p.position_side): p.position_amt_contracts for p in rest.cm_positions},
    )
    for what, field in (
        ("UM wallet", "um_wallet_qty"),
        ("CM wallet", "cm_wallet_qty"),
        ("margin asset", "cross_margin_asset_qty"),
    ):
        compare(
            what,
            {b.asset: float(getattr(b, field)) for b in stream.balances},
            {b.asset: float(getattr(b, field)) for b in rest.balances},
        )
    return out


class SignalLedger:
    """Binance's signals already handed on, so a re-applied event never fires twice. Keyed by
    the event itself (its time, type and every field: an order's NEW and FILLED are two)."""

    def __init__(self) -> None:
        self._sent: set[tuple[int, str, Signal]] = set()

    def fresh(self, signals: Iterable[Signal]) -> list[Signal]:
        out = []
        for s in signals:
            key = (s.event_time_ms, type(s).__name__, s)
            if key not in self._sent:
                self._sent.add(key)
                out.append(s)
        return out

    def forget_until(self, since_ms: int) -> None:
        """Events at or before ``since_ms`` are never applied again: their keys can go."""
        self._sent = {k for k in self._sent if k[0] > since_ms}


class StreamWords:
    """One event when the account's stream connects or is back (polling slows to
    reconciliation) and one when it goes down (polling back to the normal interval) — or has
    not connected by the second poll. The header shows the newest while it says "down"."""

    def __init__(self, say: Callable[[FeedStatus, str, str], None]) -> None:
        self._say = say  # (status, message, endpoint): the recorder's event
        self._up: bool | None = None  # as last seen
        self._said: bool | None = None  # as last recorded

    def seen(self, up: bool, interval_s: float | None, reconcile_s: float) -> None:
        before, self._up = self._up, up
        said = self._said
        if up == said or (before is None and not up):
            return  # nothing new; or just started: it has one interval to connect
        self._said = up
        if up:
            self._say(
                FeedStatus.OK,
                f"account stream {'connected' if said is None else 'back'}: positions and "
                f"balances pushed, REST reconciles every {reconcile_s:g} s",
                USER_STREAM,
            )
        else:
            every = f"{interval_s:g} s" if interval_s else "cycle"
            what = "not connected" if said is None else "down"
            self._say(
                FeedStatus.DEGRADED, f"account stream {what}: polling every {every}", USER_STREAM
            )


class PollRequests:
    """Polls asked for now (a resync): run on one worker thread, one at a time; ``run`` is the
    collector's ``run_once``, which itself never overlaps another poll."""

    def __init__(self, name: str, run: Callable[[], object]) -> None:
        self.name = name
        self._run = run
        self._lock = threading.Lock()
        self._kick = False
        self._stopped = False
        self._worker: threading.Thread | None = None

    def ask(self) -> None:
        with self._lock:
            self._kick = True
            if self._stopped or (self._worker is not None and self._worker.is_alive()):
                return  # the running worker polls again after its current poll
            worker = self._worker = threading.Thread(
                target=self._loop, name=f"resync-{self.name}", daemon=True
            )
        worker.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._kick or self._stopped:
                    self._worker = None
                    return
                self._kick = False
            try:
                self._run()
            except Exception:  # run_once never raises; a bug must not end the worker silently
                log.exception("%s: a resync poll failed", self.name)

    def pending(self) -> bool:
        with self._lock:
            return self._kick or (self._worker is not None and self._worker.is_alive())

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            worker = self._worker
        if worker is not None:
            worker.join(timeout=30)
