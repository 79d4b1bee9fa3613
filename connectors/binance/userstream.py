"""One account's Portfolio Margin user data stream: a websocket that reconnects on its own.

Binance ("User Data Streams Connect", https://developers.binance.com/docs/derivatives/
portfolio-margin/user-data-streams): base ``wss://fstream.binance.com/pm``, the stream at
``/ws/<listenKey>``; a connection lives 24 hours at most ("expect to be disconnected at the 24
hour mark": Binance's margin and options user-data-stream Connect pages, e.g.
https://developers.binance.com/docs/margin_trading/risk-data-stream; the PM page does not repeat
it), so pmdesk reconnects on its own before (``max_connection_ms``, 23.5 h). No request weight:
the only REST calls are the listenKey's (``listenkey.py``, weight 1 each).

A ``reconnecting.ReconnectingSocket`` like ``stream.MarkStream``: a thread reads messages and
hands each parsed event (``parse.events.parse_event`` → ``risk.account_events``) to
``on_event``; it reconnects at once after a connection that worked, with full-jitter exponential
backoff (tenacity) while Binance is unreachable or refuses (or no listenKey can be had); ``down``
is set while no connection is open; ``stop()`` ends it and deletes the key. Between messages it
keeps the listenKey alive (``ListenKeys.keep_alive``) and reconnects with a new key when that one
changed (-1125, lapse) or after ``listenKeyExpired``.

Fail closed: events missed while no connection was open are lost, so every (re)connection calls
``on_resync`` (the caller reads REST), and so does an unreadable message. ``healthy(now)``: a
connection is open and the key is valid. A quiet account sends nothing, so silence alone is not
a failure; websockets' own pings detect a dead connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import ClassVar

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection

from connectors.binance.errors import BadPayload, ExchangeError
from connectors.binance.listenkey import ListenKeys
from connectors.binance.parse.events import parse_event
from connectors.binance.reconnecting import (
    DEFAULT_MAX_BACKOFF_S,
    ReconnectingSocket,
    StreamDroppedError,
)
from risk.account_events import AccountEvent, ListenKeyExpired

log = logging.getLogger(__name__)

PM_USER_STREAM_URL = "wss://fstream.binance.com/pm"
MAX_CONNECTION_MS = 23 * 3600_000 + 30 * 60_000  # reconnect before Binance's 24 h cut
TICK_S = 1.0  # the longest wait for a message before looking at the key and the clock
MIN_USEFUL_MS = 5_000  # a connection shorter than this that delivered nothing: back off


def user_stream_url(base_url: str, listen_key: str) -> str:
    return f"{base_url.rstrip('/')}/ws/{listen_key}"


class UserStream(ReconnectingSocket):
    kind = "user stream"
    # A listenKey that cannot be had (ExchangeError) backs off like a refused connection.
    retry_on: ClassVar[tuple[type[BaseException], ...]] = (
        *ReconnectingSocket.retry_on,
        ExchangeError,
    )

    def __init__(
        self,
        name: str,
        base_url: str,
        keys: ListenKeys,
        on_event: Callable[[AccountEvent], None],
        now_ms: Callable[[], int],
        *,
        on_resync: Callable[[str], None] | None = None,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        max_connection_ms: int = MAX_CONNECTION_MS,
        tick_s: float = TICK_S,
    ) -> None:
        super().__init__(
            name, now_ms, max_backoff_s=max_backoff_s, thread_name=f"userstream-{name}"
        )
        self.base_url = base_url
        self.keys = keys
        self._on_event = on_event
        self._on_resync = on_resync or (lambda reason: None)
        self.max_connection_ms = max_connection_ms
        self.tick_s = tick_s

    def stop(self) -> None:
        """End the thread, close the connection and delete the listenKey."""
        super().stop()
        self.keys.close()

    def healthy(self, now_ms: int) -> bool:
        return not self.down.is_set() and self.keys.valid(now_ms)

    # ---- the reading thread ----------------------------------------------------------------
    def _bad_url(self) -> str:
        # Not the URL itself: it holds the listenKey, which reads the account's stream.
        return "bad URL (see exchange.pm_stream_url)"

    def _resync(self, reason: str) -> None:
        try:
            self._on_resync(reason)
        except Exception:  # the caller's failure must not end the stream
            log.exception("user stream %s: on_resync failed", self.name)

    def _connect_and_read(self) -> None:
        """Returns when a useful connection ends (the caller reconnects at once); raises when
        connecting fails or the connection died at once (the caller backs off)."""
        if self._stopping():
            return
        key = self.keys.current()  # an ExchangeError here backs off too
        delivered = False
        opened_ms = self._now_ms()
        try:
            with self._connection(user_stream_url(self.base_url, key)) as conn:
                opened_ms = self._now_ms()
                self._resync("connected: what happened before is not in the stream")
                delivered = self._read(conn, key, opened_ms)
        except BadPayload as exc:
            log.warning("user stream %s: unreadable event (%s); reconnecting", self.name, exc)
            self._resync(f"unreadable event: {exc}")
            delivered = True
        except ValueError as exc:  # not JSON
            log.warning("user stream %s: not JSON (%s); reconnecting", self.name, exc)
            self._resync("unreadable message")
            delivered = True
        except (OSError, WebSocketException) as exc:
            self._dropped(exc)
        lasted = self._now_ms() - opened_ms
        if not delivered and lasted < MIN_USEFUL_MS and not self._stopping():
            raise StreamDroppedError(self.name)

    def _read(self, conn: ClientConnection, key: str, opened_ms: int) -> bool:
        """Read until the connection ends, the key changes or the connection is old; returns
        whether anything was delivered."""
        delivered = False
        while not self._stopping():
            if self._now_ms() - opened_ms >= self.max_connection_ms:
                log.info("user stream %s: renewing the connection before 24 h", self.name)
                return True
            if self.keys.keep_alive() != key:
                log.info("user stream %s: new listenKey; reconnecting", self.name)
                return True
            try:
                raw = conn.recv(timeout=self.tick_s)
            except TimeoutError:
                continue
            event = parse_event(json.loads(raw))
            self.last_message_ms = self._now_ms()
            delivered = True
            if isinstance(event, ListenKeyExpired):
                self.keys.expired()
                self._on_event(event)
                return True
            self._on_event(event)
        return delivered
