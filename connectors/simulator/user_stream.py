"""The Portfolio Margin user data stream over the simulator's websocket server.

Binance serves it at ``wss://fstream.binance.com/pm/ws/<listenKey>``
(https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams); the
simulator's websocket server stands for ``fstream.binance.com`` under ``/fstream``
(``streams.py``), so the stream is ``/fstream/pm/ws/<listenKey>`` there. Each connection gets the
events of its key's account from the moment it connects (``UserData.subscribe``), as JSON text
messages, one event each.

- An unknown, expired or closed key is refused at the handshake (HTTP 400: the simulator's
  choice; Binance's pages do not say what it answers).
- When the key expires, ``listenKeyExpired`` is pushed and nothing more on that connection; a
  DELETE of the key closes its connections.
- A connection is closed at its 24 hour mark on the simulator's clock, as Binance's are.
- Faults: ``stream_outage`` / ``user_stream_drop`` cut the TCP connection, ``user_stream_age_out``
  closes it as at 24 h, ``listen_key_expire`` expires the key (``faults.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from http import HTTPStatus

from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.sync.server import ServerConnection

from connectors.simulator import events
from connectors.simulator.faults import Faults
from connectors.simulator.listen_keys import CONNECTION_MS, KeyState
from connectors.simulator.streams import cut
from connectors.simulator.user_data import Subscription, UserData

log = logging.getLogger(__name__)

PM_PATH = "/fstream/pm"
"""Stands for ``wss://fstream.binance.com/pm`` on the simulator's websocket server."""
_WS = PM_PATH + "/ws/"
TICK_S = 0.05
"""How often (wall time) a connection looks at its key, faults and clock between events."""


def listen_key_of(path: str) -> str | None:
    """``/fstream/pm/ws/<listenKey>`` → the key; None for any other path."""
    if not path.startswith(_WS):
        return None
    key = path[len(_WS) :].split("?", 1)[0]
    return key if key and "/" not in key else None


class UserStreams:
    """The user-data half of the websocket server (``MarkStreamServer`` hands it its paths)."""

    def __init__(
        self,
        user_data: UserData,
        now_ms: Callable[[], int],
        faults: Faults,
    ) -> None:
        self._data = user_data
        self._now_ms = now_ms
        self._faults = faults
        # Subscribed at the handshake (events from the moment the client is told it is
        # connected), with the time of the handshake: the 24 hours run from there.
        self._accepted: dict[ServerConnection, tuple[Subscription, int]] = {}
        self._lock = threading.Lock()

    def owns(self, path: str) -> bool:
        return path.startswith(PM_PATH + "/")

    def admit(self, conn: ServerConnection, request: Request) -> Response | None:
        if self._faults.stream_outage:
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "stream outage (injected)\n")
        key = listen_key_of(request.path)
        if key is None:
            return conn.respond(HTTPStatus.NOT_FOUND, "unknown stream\n")
        now = self._now_ms()
        self._data.apply_key_faults(now)
        sub = self._data.subscribe(key)
        if sub is None:
            return conn.respond(HTTPStatus.BAD_REQUEST, "invalid listenKey\n")
        with self._lock:
            self._accepted[conn] = (sub, now)
        return None

    def handle(self, conn: ServerConnection, stopping: threading.Event) -> None:
        with self._lock:
            sub, opened = self._accepted.pop(conn)
        try:
            self._serve(conn, sub, opened, stopping)
        # Broad on purpose: websockets raises several types (ConnectionClosed, OSError…) when
        # the client went away; either way this connection's loop ends, quietly.
        except Exception:
            return
        finally:
            self._data.unsubscribe(sub)

    def _serve(
        self, conn: ServerConnection, sub: Subscription, opened: int, stopping: threading.Event
    ) -> None:
        account = self._data.account(sub.account)
        expired = False
        while not stopping.is_set() and conn.state is not State.CLOSED:
            faults = (self._faults, account.faults)
            if self._faults.stream_outage or any(f.take("user_stream_drop") for f in faults):
                cut(conn)
                return
            now = self._now_ms()
            if now - opened >= CONNECTION_MS or any(f.take("user_stream_age_out") for f in faults):
                while not expired and not sub.events.empty():  # what came before the mark
                    conn.send(json.dumps(sub.events.get_nowait()))
                conn.close(1000, "connection open 24 hours")
                return
            self._data.apply_key_faults(now)
            state = self._data.key_state(sub.key)
            if state is None or state[0] is KeyState.CLOSED:
                conn.close(1000, "listenKey closed")
                return
            if state[0] is KeyState.EXPIRED and not expired:
                conn.send(json.dumps(events.listen_key_expired(now)))
                expired = True  # "no more user data event … until a new valid listenKey"
            with contextlib.suppress(queue.Empty):
                event = sub.events.get(timeout=TICK_S)  # the exchange's pace, not a test wait
                if not expired:
                    conn.send(json.dumps(event))
