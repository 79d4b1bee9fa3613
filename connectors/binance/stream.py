"""The mark-price stream client: one websocket per futures host, reconnecting on its own.

Binance: ``wss://fstream.binance.com`` (USDⓈ-M, ``!markPrice@arr@1s``) and
``wss://dstream.binance.com`` (COIN-M, ``<pair>@markPrice@1s`` per pair), read as combined
streams (``/stream?streams=…``). Market data only: no key, no signature, no API weight.

A thread per stream (``reconnecting.ReconnectingSocket``) reads messages and hands the parsed
updates to ``on_marks``. When the connection drops, it reconnects at once, then with full-jitter
exponential backoff (tenacity, capped at ``max_backoff_s``) while the host stays unreachable.
``healthy(now)`` says whether a message arrived within ``silence_s``: the collector polls marks
over REST while it is False.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from websockets.exceptions import WebSocketException

from connectors.binance.errors import BadPayload
from connectors.binance.marks import MarkUpdate, parse_mark_message
from connectors.binance.reconnecting import (
    DEFAULT_MAX_BACKOFF_S,
    ReconnectingSocket,
    StreamDroppedError,
)

log = logging.getLogger(__name__)

UM_STREAM_URL = "wss://fstream.binance.com"
CM_STREAM_URL = "wss://dstream.binance.com"
DEFAULT_SILENCE_S = 5.0  # no message for this long (1 s streams) → treat the stream as down


def combined_url(base_url: str, streams: Sequence[str]) -> str:
    return f"{base_url.rstrip('/')}/stream?streams={'/'.join(streams)}"


class MarkStream(ReconnectingSocket):
    kind = "mark stream"

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
        super().__init__(name, now_ms, max_backoff_s=max_backoff_s, thread_name=f"stream-{name}")
        self.url = combined_url(base_url, streams)
        self._on_marks = on_marks
        self.silence_s = silence_s

    def healthy(self, now_ms: int) -> bool:
        last = self.last_message_ms
        return last is not None and now_ms - last <= self.silence_s * 1000

    def _bad_url(self) -> str:
        return f"bad URL {self.url}"

    def _connect_and_read(self) -> None:
        """Returns after a connection that delivered messages ends (the caller reconnects at
        once); raises when connecting fails or nothing came (the caller backs off)."""
        if self._stopping():
            return
        delivered = False
        try:
            with self._connection(self.url) as conn:
                for raw in conn:
                    updates = parse_mark_message(json.loads(raw))
                    self.last_message_ms = self._now_ms()
                    delivered = True
                    self._on_marks(updates)
        except (BadPayload, ValueError) as exc:  # a bad event, or not JSON
            log.warning("mark stream %s: unreadable message (%s); reconnecting", self.name, exc)
        except (OSError, WebSocketException) as exc:
            self._dropped(exc)
            if not delivered:
                raise
        if not delivered and not self._stopping():
            raise StreamDroppedError(self.name)
