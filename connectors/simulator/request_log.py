"""The simulator's log of HTTP requests per API key: who asked what, and when it started and
ended (``time.monotonic`` of the simulator's process). Off until ``recording`` is set (a demo
left running for days keeps nothing); tests read it to check, for instance, that no account is
polled by two collectors at once (each collector names itself in its User-Agent).

``RequestLog.wrap`` is a WSGI middleware around the simulator's Flask app; it never changes a
request or its answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    api_key: str  # the X-MBX-APIKEY header ("" without one); never logged
    agent: str  # the User-Agent header
    started_s: float  # monotonic, when the request reached the app
    ended_s: float  # monotonic, when the app had answered
    query: str = ""  # the query string (market data parameters; a signed one holds no secret)

    def __repr__(self) -> str:  # the key stays out of any message
        return (
            f"LoggedRequest({self.method} {self.path}, agent={self.agent!r}, "
            f"{self.started_s:.3f}-{self.ended_s:.3f})"
        )


class RequestLog:
    def __init__(self) -> None:
        self.recording = False
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def wrap(self, app: WsgiApp) -> WsgiApp:
        def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if not self.recording:
                return app(environ, start_response)
            started = time.monotonic()
            try:
                return app(environ, start_response)
            finally:
                entry = LoggedRequest(
                    environ.get("REQUEST_METHOD", ""),
                    environ.get("PATH_INFO", ""),
                    environ.get("HTTP_X_MBX_APIKEY", ""),
                    environ.get("HTTP_USER_AGENT", ""),
                    started,
                    time.monotonic(),
                    environ.get("QUERY_STRING", ""),
                )
                with self._lock:
                    self._entries.append(entry)

        return logged

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def by_key(self) -> dict[str, list[LoggedRequest]]:
        """Each API key's requests in the order they started."""
        out: dict[str, list[LoggedRequest]] = {}
        for e in sorted(self.entries(), key=lambda e: e.started_s):
            out.setdefault(e.api_key, []).append(e)
        return out
