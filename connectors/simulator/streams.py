"""The simulator's mark-price websocket streams, same paths and payloads as Binance's.

One websocket server on 127.0.0.1 serves both futures hosts under a prefix: ``/fstream``
(USDⓈ-M, Binance's ``wss://fstream.binance.com``) and ``/dstream`` (COIN-M,
``wss://dstream.binance.com``). Raw streams (``/fstream/ws/!markPrice@arr@1s``) and combined ones
(``/dstream/stream?streams=btcusd@markPrice@1s/ethusd@markPrice@1s``) are both understood. The
first message goes out on connect, then one every ``interval_s`` (1 s, as ``@1s`` promises).

Faults (``Faults``): ``stream_drop`` cuts the next N connections (the client sees the TCP
connection die, as on a network drop); ``stream_outage`` cuts every connection and refuses new
handshakes with HTTP 503 until cleared.

The Portfolio Margin user data stream (``/fstream/pm/ws/<listenKey>``) is served on the same
server by ``user_stream.UserStreams``, handed in as ``extra`` (any ``ExtraStreams``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from connectors.simulator.faults import Faults
from connectors.simulator.market import FUNDING_HOURS_MS, Quote, funding_rate
from connectors.simulator.params import CM_SYMBOLS, UM_SYMBOLS
from connectors.simulator.wire import dec

log = logging.getLogger(__name__)
WS_LOG = logging.getLogger("pmdesk.simulator.ws")
WS_LOG.setLevel(logging.WARNING)  # not every connection: the client logs what matters

UM_PREFIX = "/fstream"
CM_PREFIX = "/dstream"
UM_ALL = "!markPrice@arr"


def mark_event(symbol: str, q: Quote, now_ms: int) -> dict[str, object]:
    """One ``markPriceUpdate`` event, fields as Binance's Mark Price Stream page shows them."""
    return {
        "e": "markPriceUpdate",
        "E": now_ms,
        "s": symbol,
        "p": dec(q.mark(symbol)),
        "P": dec(q.index(symbol)),
        "i": dec(q.index(symbol)),
        "r": dec(funding_rate(q.basis[symbol])),
        "T": (now_ms // FUNDING_HOURS_MS + 1) * FUNDING_HOURS_MS,
    }


def _symbols_of(prefix: str, stream: str) -> tuple[str, ...] | None:
    """The symbols one stream name covers, or None when this host has no such stream."""
    name = stream.removesuffix("@1s")
    if prefix == UM_PREFIX:
        if name == UM_ALL:
            return tuple(UM_SYMBOLS)
        wanted = name.removesuffix("@markPrice").upper()
        return (wanted,) if name.endswith("@markPrice") and wanted in UM_SYMBOLS else None
    if prefix == CM_PREFIX and name.endswith("@markPrice"):
        pair = name.removesuffix("@markPrice").upper()
        symbols = tuple(s for s in CM_SYMBOLS if s == pair or s.split("_")[0] == pair)
        return symbols or None
    return None


def parse_stream_path(path: str) -> tuple[str, list[str], bool] | None:
    """``/fstream/ws/!markPrice@arr@1s`` → (prefix, [stream], combined?), None if unknown."""
    parts = urlsplit(path)
    for prefix in (UM_PREFIX, CM_PREFIX):
        if parts.path.startswith(prefix + "/ws/"):
            streams = parts.path[len(prefix) + 4 :].split("/")
            return prefix, streams, False
        if parts.path == prefix + "/stream":
            names = parse_qs(parts.query).get("streams", [""])[0]
            return prefix, [n for n in names.split("/") if n], True
    return None


class ExtraStreams(Protocol):
    """More streams on the same server, under paths of their own."""

    def owns(self, path: str) -> bool: ...

    def admit(self, conn: ServerConnection, request: Request) -> Response | None: ...

    def handle(self, conn: ServerConnection, stopping: threading.Event) -> None: ...


class MarkStreamServer:
    """Binance's mark-price streams over a real websocket (port 0 = any free port), and any
    ``extra`` streams (the user data stream)."""

    def __init__(
        self,
        quote: Callable[[], Quote],
        now_ms: Callable[[], int],
        faults: Faults,
        host: str = "127.0.0.1",
        port: int = 0,
        interval_s: float = 1.0,
        extra: ExtraStreams | None = None,
    ) -> None:
        self._extra = extra
        self._quote = quote
        self._now_ms = now_ms
        self._faults = faults
        self.interval_s = interval_s
        self._stopping = threading.Event()
        self._server: Server = serve(
            self._handle,
            host,
            port,
            process_request=self._admit,
            compression=None,
            logger=WS_LOG,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="simulator-ws", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def start(self) -> MarkStreamServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._thread.join(timeout=5)

    def _admit(self, conn: ServerConnection, request: Request) -> Response | None:
        if self._extra is not None and self._extra.owns(request.path):
            return self._extra.admit(conn, request)
        if self._faults.stream_outage:
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "stream outage (injected)\n")
        parsed = parse_stream_path(request.path)
        if parsed is None or not parsed[1]:
            return conn.respond(HTTPStatus.NOT_FOUND, "unknown stream\n")
        prefix, streams, _ = parsed
        if any(_symbols_of(prefix, s) is None for s in streams):
            return conn.respond(HTTPStatus.BAD_REQUEST, "invalid stream name\n")
        return None

    def _payloads(self, prefix: str, streams: list[str], combined: bool) -> list[str]:
        q, now = self._quote(), self._now_ms()
        out: list[str] = []
        for stream in streams:
            symbols = _symbols_of(prefix, stream) or ()
            events = [mark_event(s, q, now) for s in symbols]
            single = stream.removesuffix("@1s").endswith("@markPrice") and prefix == UM_PREFIX
            data: object = events[0] if single else events
            out.append(json.dumps({"stream": stream, "data": data} if combined else data))
        return out

    def _handle(self, conn: ServerConnection) -> None:
        assert conn.request is not None  # set once the handshake is done
        if self._extra is not None and self._extra.owns(conn.request.path):
            self._extra.handle(conn, self._stopping)
            return
        parsed = parse_stream_path(conn.request.path)
        if parsed is None:
            return
        prefix, streams, combined = parsed
        while not self._stopping.is_set():
            if self._faults.stream_outage or self._faults.take("stream_drop"):
                cut(conn)
                return
            try:
                for message in self._payloads(prefix, streams, combined):
                    conn.send(message)
            # Broad on purpose: websockets raises several types (ConnectionClosed, OSError…)
            # when the client went away; either way this connection's loop ends, quietly.
            except Exception:
                return
            self._stopping.wait(self.interval_s)  # the exchange's own pace, not a test wait


def cut(conn: ServerConnection) -> None:
    """Drop the TCP connection without a closing handshake (a network failure)."""
    with contextlib.suppress(OSError):
        conn.socket.shutdown(socket.SHUT_RDWR)
