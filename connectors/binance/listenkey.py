"""The listenKey of one account's Portfolio Margin user data stream: create, keep alive, recreate,
close.

Binance ("User Data Streams Connect", https://developers.binance.com/docs/derivatives/
portfolio-margin/user-data-streams, and the Start / Keepalive / Close pages beside it):
``POST /papi/v1/listenKey`` starts a stream (an account's active key is returned again and
extended), a key lives 60 minutes unless ``PUT`` extends it by 60 minutes, and a ``PUT`` answered
-1125 ("This listenKey does not exist.") means: ``POST`` a new one; ``DELETE`` closes it. Each
weighs 1 and is USER_STREAM: the API-key header, no signature (``endpoints.LISTEN_KEY``).

``ListenKeys`` keeps one key on an injected clock: ``current()`` gives a valid key (creating one
when there is none or it has lapsed), ``keep_alive()`` extends it when due (every 30 minutes,
half its life) and recreates it on -1125; ``expired()`` forgets it (the stream said
``listenKeyExpired``); ``close()`` deletes it on exit. The HTTP goes through a ``KeyTransport``:
python-binance's ``papi_stream_*`` methods in production (``BinanceKeyTransport``), a fake in the
tests. Failures leave as ``errors`` types.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from connectors.binance.client import Client, RetryPolicy, call
from connectors.binance.endpoints import LISTEN_KEY
from connectors.binance.errors import BadPayload, ExchangeError

log = logging.getLogger(__name__)

KEY_LIFE_MS = 60 * 60 * 1000  # a key lapses 60 minutes after its creation or last keep-alive
KEEP_ALIVE_EVERY_MS = 30 * 60 * 1000  # well before that
KEY_MISSING_CODE = -1125  # "This listenKey does not exist."


class KeyTransport(Protocol):
    """The three listenKey requests; each raises an ``errors.ExchangeError`` on failure."""

    def create(self) -> str: ...

    def keep_alive(self, key: str) -> None: ...

    def close(self, key: str) -> None: ...


class BinanceKeyTransport:
    """python-binance 1.0.37's Portfolio Margin listenKey methods (``signed=False``), with the
    client's retries on transient failures and its exception → ``errors`` typing."""

    def __init__(self, client: Client, policy: RetryPolicy | None = None) -> None:
        self._client = client
        self._policy = policy or RetryPolicy()

    def create(self) -> str:
        key = call(self._client, LISTEN_KEY, lambda c: c.papi_stream_get_listen_key(), self._policy)
        if not isinstance(key, str) or not key:
            raise BadPayload(LISTEN_KEY, "listenKey", f"expected a key, got {key!r}")
        return key

    def keep_alive(self, key: str) -> None:
        call(self._client, LISTEN_KEY, lambda c: c.papi_stream_keepalive(key), self._policy)

    def close(self, key: str) -> None:
        call(self._client, LISTEN_KEY, lambda c: c.papi_stream_close(key), self._policy)


class ListenKeys:
    """One account's key on ``now_ms``'s clock. Thread-safe: the stream thread and the
    collector may both ask."""

    def __init__(
        self,
        transport: KeyTransport,
        now_ms: Callable[[], int],
        *,
        keep_alive_every_ms: int = KEEP_ALIVE_EVERY_MS,
        life_ms: int = KEY_LIFE_MS,
    ) -> None:
        if not 0 < keep_alive_every_ms < life_ms:
            raise ValueError("keep the key alive more often than it lapses")
        self._transport = transport
        self._now_ms = now_ms
        self.keep_alive_every_ms = keep_alive_every_ms
        self.life_ms = life_ms
        self._lock = threading.Lock()
        self.key: str | None = None
        self.extended_ms: int | None = None  # when it was created or last kept alive
        self.created = 0  # keys created so far (a recreation counts)

    def _create(self) -> str:
        key = self._transport.create()
        self.key, self.extended_ms = key, self._now_ms()
        self.created += 1
        return key

    def valid(self, now_ms: int) -> bool:
        """A key is held and has not lapsed by Binance's 60 minutes."""
        return (
            self.key is not None
            and self.extended_ms is not None
            and now_ms - self.extended_ms < self.life_ms
        )

    def current(self) -> str:
        """A valid key: the held one, or a new one."""
        with self._lock:
            if self.key is not None and self.valid(self._now_ms()):
                return self.key
            return self._create()

    def due(self, now_ms: int) -> bool:
        return (
            self.extended_ms is not None and now_ms - self.extended_ms >= self.keep_alive_every_ms
        )

    def keep_alive(self) -> str:
        """Extend the key when due; a key Binance no longer knows (-1125) or one that lapsed is
        replaced. Returns the key to use (a new one means: reconnect with it)."""
        with self._lock:
            now = self._now_ms()
            if self.key is None or not self.valid(now):
                return self._create()
            if not self.due(now):
                return self.key
            try:
                self._transport.keep_alive(self.key)
            except ExchangeError as exc:
                if exc.code != KEY_MISSING_CODE:
                    raise
                log.info("listenKey gone (-1125); creating a new one")
                return self._create()
            self.extended_ms = now
            return self.key

    def expired(self) -> None:
        """The stream said ``listenKeyExpired``: the next ``current()`` creates a new key."""
        with self._lock:
            self.key, self.extended_ms = None, None

    def close(self) -> None:
        """Delete the key on exit; a failure is logged (the key lapses on its own in 60 min)."""
        with self._lock:
            key, self.key, self.extended_ms = self.key, None, None
        if key is None:
            return
        try:
            self._transport.close(key)
        except ExchangeError as exc:
            log.warning("closing the listenKey failed (%s); it lapses on its own", exc.message)
