"""What every pmdesk websocket client shares: a thread that reads one connection after another,
reconnecting on its own — at once after a connection that worked, with full-jitter exponential
backoff (tenacity, capped at ``max_backoff_s``) while the host is unreachable or refuses.
``down`` is set while no connection is open; ``stop()`` ends the thread and closes the
connection. ``stream.MarkStream`` (mark prices) and ``userstream.UserStream`` (an account's
user data) say what a connection reads (``_connect_and_read``), the rest is here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar, Self

from tenacity import Retrying, retry_if_exception_type, wait_random_exponential
from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException
from websockets.sync.client import ClientConnection, connect

log = logging.getLogger(__name__)

DEFAULT_MAX_BACKOFF_S = 30.0  # longest wait between reconnect attempts
OPEN_TIMEOUT_S = 10.0


class StreamDroppedError(Exception):
    """The connection ended before it was of any use: back off before the next try."""


class ReconnectingSocket:
    kind: ClassVar[str] = "stream"  # how the log names it: "mark stream", "user stream"
    # What a failed connection raises that is worth another try after a backoff.
    retry_on: ClassVar[tuple[type[BaseException], ...]] = (
        OSError,
        WebSocketException,
        StreamDroppedError,
    )

    def __init__(
        self,
        name: str,
        now_ms: Callable[[], int],
        *,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        thread_name: str,
    ) -> None:
        self.name = name
        self._now_ms = now_ms
        self.max_backoff_s = max_backoff_s
        self._stop = threading.Event()
        self._conn: ClientConnection | None = None
        self._lock = threading.Lock()
        self.last_message_ms: int | None = None
        self.connects = 0  # successful handshakes so far (1 = first connection, 2 = one reconnect)
        self.down = threading.Event()  # set while no connection is open
        self.down.set()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            conn = self._conn
        if conn is not None:
            conn.close()
        self._thread.join(timeout=5)

    # ---- the reading thread ----------------------------------------------------------------
    def _connect_and_read(self) -> None:
        """One connection: returns when it ends after being of use (the thread reconnects at
        once); raises one of ``retry_on`` when it failed or died at once (backoff first)."""
        raise NotImplementedError

    def _bad_url(self) -> str:
        """The log's words when the URL cannot be used (the thread then ends)."""
        return "bad URL"

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)  # the backoff between reconnects; ends early on stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            retrying = Retrying(
                retry=retry_if_exception_type(self.retry_on),
                wait=wait_random_exponential(multiplier=0.5, max=self.max_backoff_s),
                sleep=self._pause,
                reraise=True,
            )
            try:
                retrying(self._connect_and_read)
            except InvalidURI:
                log.error("%s %s: %s", self.kind, self.name, self._bad_url())
                return
            except Exception:  # anything else: logged, and the thread reconnects (never dies)
                if self._stop.is_set():
                    return
                log.exception("%s %s: unexpected failure; reconnecting", self.kind, self.name)

    @contextmanager
    def _connection(self, url: str) -> Iterator[ClientConnection]:
        """An open connection to ``url``, counted and kept for ``stop()``; ``down`` is clear
        while it is open. A refusal is logged and raised (backoff)."""
        try:
            with connect(url, open_timeout=OPEN_TIMEOUT_S, compression=None) as conn:
                with self._lock:
                    self._conn = conn
                self.connects += 1
                self.down.clear()
                log.info("%s %s: connected", self.kind, self.name)
                yield conn
        except InvalidHandshake as exc:
            if not self._stop.is_set():
                log.warning("%s %s: refused: %s", self.kind, self.name, exc)
            raise
        finally:
            with self._lock:
                self._conn = None
            self.down.set()

    def _dropped(self, exc: BaseException) -> None:
        if not self._stop.is_set():
            log.warning("%s %s: dropped (%s)", self.kind, self.name, type(exc).__name__)

    def _stopping(self) -> bool:
        return self._stop.is_set()
