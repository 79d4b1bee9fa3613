"""The mark-price stream client: one websocket per futures host, reconnecting on its own.

Binance: ``wss://fstream.binance.com`` (USDⓈ-M, ``!markPrice@arr@1s``) and
``wss://dstream.binance.com`` (COIN-M, ``<pair>@markPrice@1s`` per pair), read as combined
streams (``/stream?streams=…``). Market data only: no key, no signature, no API weight.

A thread per stream reads messages and hands the parsed updates to ``on_marks``. When the
connection drops, it reconnects at once, then with full-jitter exponential backoff (tenacity,
capped at ``max_backoff_s``) while the host stays unreachable. ``healthy(now)`` says whether a
message arrived within ``silence_s``: the collector polls marks over REST while it is False.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence

from tenacity import Retrying, retry_if_exception_type, wait_random_exponential
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException
from websockets.sync.client import ClientConnection, connect

from connectors.binance.errors import BadPayload
from connectors.binance.marks import MarkUpdate, parse_mark_message

log = logging.getLogger(__name__)

UM_STREAM_URL = "wss://fstream.binance.com"
CM_STREAM_URL = "wss://dstream.binance.com"
DEFAULT_SILENCE_S = 5.0  # no message for this long (1 s streams) → treat the stream as down
DEFAULT_MAX_BACKOFF_S = 30.0  # longest wait between reconnect attempts
OPEN_TIMEOUT_S = 10.0


class StreamDroppedError(Exception):
    """The connection ended before delivering anything: back off before the next try."""


def combined_url(base_url: str, streams: Sequence[str]) -> str:
    return f"{base_url.rstrip('/')}/stream?streams={'/'.join(streams)}"


class MarkStream:
    def __init__(
        self,
        name: str,
        base_url: str,
        streams: Sequence[str],
        on_marks: Callable[[tuple[MarkUpdate, ...]], None],
        now_ms: Callable[[], int],
        *,
        silence_s: float = DEFAULT_SILENCE_S,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
    ) -> None:
        if not streams:
            raise ValueError(f"{name}: no stream to subscribe to")
        self.name = name
        self.url = combined_url(base_url, streams)
        self._on_marks = on_marks
        self._now_ms = now_ms
        self.silence_s = silence_s
        self.max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._conn: ClientConnection | None = None
        self._lock = threading.Lock()
        self.last_message_ms: int | None = None
        self.connects = 0  # successful handshakes so far (1 = first connection, 2 = one reconnect)
        self.down = threading.Event()  # set while no connection is open
        self.down.set()
        self._thread = threading.Thread(target=self._run, name=f"stream-{name}", daemon=True)

    def start(self) -> MarkStream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.close()
        self._thread.join(timeout=5)

    def healthy(self, now_ms: int) -> bool:
        last = self.last_message_ms
        return last is not None and now_ms - last <= self.silence_s * 1000

    # ---- the reading thread ----------------------------------------------------------------
    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)  # the backoff between reconnects; ends early on stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            retrying = Retrying(
                retry=retry_if_exception_type((OSError, WebSocketException, StreamDroppedError)),
                wait=wait_random_exponential(multiplier=0.5, max=self.max_backoff_s),
                sleep=self._pause,
                reraise=True,
            )
            try:
                retrying(self._connect_and_read)
            except InvalidURI as exc:
                log.error("mark stream %s: bad URL %s: %s", self.name, self.url, exc)
                return
            except Exception:  # anything else: logged, and the thread reconnects (never dies)
                if self._stop.is_set():
                    return
                log.exception("mark stream %s: unexpected failure; reconnecting", self.name)

    def _connect_and_read(self) -> None:
        """Returns after a connection that delivered messages ends (the caller reconnects at
        once); raises when connecting fails or nothing came (the caller backs off)."""
        if self._stop.is_set():
            return
        delivered = False
        try:
            with connect(self.url, open_timeout=OPEN_TIMEOUT_S, compression=None) as conn:
                with self._lock:
                    self._conn = conn
                self.connects += 1
                self.down.clear()
                log.info("mark stream %s: connected", self.name)
                for raw in conn:
                    updates = parse_mark_message(json.loads(raw))
                    self.last_message_ms = self._now_ms()
                    delivered = True
                    self._on_marks(updates)
        except (BadPayload, ValueError) as exc:  # a bad event, or not JSON
            log.warning("mark stream %s: unreadable message (%s); reconnecting", self.name, exc)
        except InvalidHandshake as exc:
            if not self._stop.is_set():
                log.warning("mark stream %s: refused: %s", self.name, exc)
            raise
        except (OSError, WebSocketException) as exc:
            if not self._stop.is_set():
                log.warning("mark stream %s: dropped (%s)", self.name, type(exc).__name__)
            if not delivered:
                raise
        finally:
            with self._lock:
                self._conn = None
            self.down.set()
        if not delivered and not self._stop.is_set():
            raise StreamDroppedError(self.name)
