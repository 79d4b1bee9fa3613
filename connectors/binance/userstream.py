"""One account's Portfolio Margin user data stream: a websocket that reconnects on its own.

Binance ("User Data Streams Connect", https://developers.binance.com/docs/derivatives/
portfolio-margin/user-data-streams): base ``wss://fstream.binance.com/pm``, the stream at
``/ws/<listenKey>``; a connection lives 24 hours at most ("expect to be disconnected at the 24
hour mark": Binance's margin and options user-data-stream Connect pages, e.g.
https://developers.binance.com/docs/margin_trading/risk-data-stream; the PM page does not repeat
it), so pmdesk reconnects on its own before (``max_connection_ms``, 23.5 h). No request weight:
the only REST calls are the listenKey's (``listenkey.py``, weight 1 each).

Shaped like ``stream.MarkStream``: a thread reads messages and hands each parsed event
(``parse.events.parse_event`` → ``risk.account_events``) to ``on_event``; it reconnects at once
after a connection that worked, with full-jitter exponential backoff (tenacity) while Binance is
unreachable or refuses; ``down`` is set while no connection is open; ``stop()`` ends it and
deletes the key. Between messages it keeps the listenKey alive (``ListenKeys.keep_alive``) and
reconnects with a new key when that one changed (-1125, lapse) or after ``listenKeyExpired``.

Fail closed: events missed while no connection was open are lost, so every (re)connection calls
``on_resync`` (the caller reads REST), and so does an unreadable message. ``healthy(now)``: a
connection is open and the key is valid. A quiet account sends nothing, so silence alone is not
a failure; websockets' own pings detect a dead connection.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from tenacity import Retrying, retry_if_exception_type, wait_random_exponential
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException
from websockets.sync.client import ClientConnection, connect

from connectors.binance.errors import BadPayload, ExchangeError
from connectors.binance.listenkey import ListenKeys
from connectors.binance.parse.events import parse_event
from risk.account_events import AccountEvent, ListenKeyExpired

log = logging.getLogger(__name__)

PM_USER_STREAM_URL = "wss://fstream.binance.com/pm"
MAX_CONNECTION_MS = 23 * 3600_000 + 30 * 60_000  # reconnect before Binance's 24 h cut
DEFAULT_MAX_BACKOFF_S = 30.0
OPEN_TIMEOUT_S = 10.0
TICK_S = 1.0  # the longest wait for a message before looking at the key and the clock
MIN_USEFUL_MS = 5_000  # a connection shorter than this that delivered nothing: back off


class UserStreamDroppedError(Exception):
    """The connection ended at once and delivered nothing: back off before the next try."""


def user_stream_url(base_url: str, listen_key: str) -> str:
    return f"{base_url.rstrip('/')}/ws/{listen_key}"


class UserStream:
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
        self.name = name
        self.base_url = base_url
        self.keys = keys
        self._on_event = on_event
        self._on_resync = on_resync or (lambda reason: None)
        self._now_ms = now_ms
        self.max_backoff_s = max_backoff_s
        self.max_connection_ms = max_connection_ms
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._conn: ClientConnection | None = None
        self._lock = threading.Lock()
        self.last_message_ms: int | None = None
        self.connects = 0  # successful handshakes so far
        self.down = threading.Event()  # set while no connection is open
        self.down.set()
        self._thread = threading.Thread(target=self._run, name=f"userstream-{name}", daemon=True)

    def start(self) -> UserStream:
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the thread, close the connection and delete the listenKey."""
        self._stop.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.close()
        self._thread.join(timeout=5)
        self.keys.close()

    def healthy(self, now_ms: int) -> bool:
        return not self.down.is_set() and self.keys.valid(now_ms)

    # ---- the reading thread ----------------------------------------------------------------
    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _run(self) -> None:
        while not self._stop.is_set():
            retrying = Retrying(
                retry=retry_if_exception_type(
                    (OSError, WebSocketException, UserStreamDroppedError, ExchangeError)
                ),
                wait=wait_random_exponential(multiplier=0.5, max=self.max_backoff_s),
                sleep=self._pause,
                reraise=True,
            )
            try:
                retrying(self._connect_and_read)
            except InvalidURI:
                # Not the URL itself: it holds the listenKey, which reads the account's stream.
                log.error("user stream %s: bad URL (see exchange.pm_stream_url)", self.name)
                return
            except Exception:  # anything else: logged, and the thread reconnects (never dies)
                if self._stop.is_set():
                    return
                log.exception("user stream %s: unexpected failure; reconnecting", self.name)

    def _resync(self, reason: str) -> None:
        try:
            self._on_resync(reason)
        except Exception:  # the caller's failure must not end the stream
            log.exception("user stream %s: on_resync failed", self.name)

    def _connect_and_read(self) -> None:
        """Returns when a useful connection ends (the caller reconnects at once); raises when
        connecting fails or the connection died at once (the caller backs off)."""
        if self._stop.is_set():
            return
        key = self.keys.current()  # an ExchangeError here backs off too
        delivered = False
        opened_ms = self._now_ms()
        try:
            with connect(
                user_stream_url(self.base_url, key), open_timeout=OPEN_TIMEOUT_S, compression=None
            ) as conn:
                with self._lock:
                    self._conn = conn
                self.connects += 1
                opened_ms = self._now_ms()
                self.down.clear()
                log.info("user stream %s: connected", self.name)
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
        except InvalidHandshake as exc:
            if not self._stop.is_set():
                log.warning("user stream %s: refused: %s", self.name, exc)
            raise
        except (OSError, WebSocketException) as exc:
            if not self._stop.is_set():
                log.warning("user stream %s: dropped (%s)", self.name, type(exc).__name__)
        finally:
            with self._lock:
                self._conn = None
            self.down.set()
        lasted = self._now_ms() - opened_ms
        if not delivered and lasted < MIN_USEFUL_MS and not self._stop.is_set():
            raise UserStreamDroppedError(self.name)

    def _read(self, conn: ClientConnection, key: str, opened_ms: int) -> bool:
        """Read until the connection ends, the key changes or the connection is old; returns
        whether anything was delivered."""
        delivered = False
        while not self._stop.is_set():
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
