"""The listenKeys of the Portfolio Margin user data stream, on the simulator's clock.

Binance's rules (https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams):
a listenKey is valid for 60 minutes after creation; a PUT extends it by 60 minutes, and answers
-1125 "This listenKey does not exist." once it is gone (then POST a new one); a DELETE closes the
stream and invalidates the key; a POST on an account with an active key returns that key and
extends it by 60 minutes (one key per account). A single websocket connection lives 24 hours.

Pure bookkeeping: no I/O, the time is passed in (``now_ms``), so a ManualClock drives it exactly.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass
from enum import Enum

from connectors.simulator.auth import BinanceError

VALID_MS = 60 * 60_000
"""A listenKey lives 60 minutes after creation or its last keep-alive."""
CONNECTION_MS = 24 * 3_600_000
"""A user-data websocket connection is closed at its 24 hour mark."""
KEY_LENGTH = 64  # the documented sample keys are 64 letters and digits
_ALPHABET = string.ascii_letters + string.digits


def no_such_key() -> BinanceError:
    """Binance's answer to a keep-alive (or close) of an unknown or expired listenKey."""
    return BinanceError(400, -1125, "This listenKey does not exist.")


class KeyState(Enum):
    LIVE = "live"
    EXPIRED = "expired"  # timed out, or expired by a fault: the stream says listenKeyExpired
    CLOSED = "closed"  # DELETEd by its owner: the stream is closed


@dataclass
class _Key:
    account: str
    key: str
    expires_ms: int
    state: KeyState = KeyState.LIVE


def new_key() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))


class ListenKeys:
    """Every listenKey handed out, with its account, expiry and state; thread-safe."""

    def __init__(self) -> None:
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()

    def _refresh(self, k: _Key, now_ms: int) -> KeyState:
        if k.state is KeyState.LIVE and now_ms >= k.expires_ms:
            k.state = KeyState.EXPIRED
        return k.state

    def _live_of(self, account: str, now_ms: int) -> _Key | None:
        for k in self._keys.values():
            if k.account == account and self._refresh(k, now_ms) is KeyState.LIVE:
                return k
        return None

    def create(self, account: str, now_ms: int) -> str:
        """POST: the account's active key, extended by 60 minutes, or a new one."""
        with self._lock:
            k = self._live_of(account, now_ms)
            if k is None:
                k = _Key(account, new_key(), now_ms + VALID_MS)
                self._keys[k.key] = k
            k.expires_ms = now_ms + VALID_MS
            return k.key

    def _find(self, account: str, key: str | None, now_ms: int) -> _Key:
        k = self._keys.get(key) if key else self._live_of(account, now_ms)
        if k is None or k.account != account or self._refresh(k, now_ms) is not KeyState.LIVE:
            raise no_such_key()
        return k

    def keepalive(self, account: str, key: str | None, now_ms: int) -> None:
        """PUT: 60 more minutes for the key (the account's active key when none is named)."""
        with self._lock:
            self._find(account, key, now_ms).expires_ms = now_ms + VALID_MS

    def close(self, account: str, key: str | None, now_ms: int) -> None:
        """DELETE: the key is invalid from now on and its streams are closed."""
        with self._lock:
            self._find(account, key, now_ms).state = KeyState.CLOSED

    def expire(self, account: str | None, now_ms: int) -> list[str]:
        """Expire the live keys now (of one account, or all): a fault, or a -1125 answer."""
        with self._lock:
            gone = [
                k
                for k in self._keys.values()
                if (account is None or k.account == account)
                and self._refresh(k, now_ms) is KeyState.LIVE
            ]
            for k in gone:
                k.state = KeyState.EXPIRED
            return [k.key for k in gone]

    def state(self, key: str, now_ms: int) -> tuple[KeyState, str] | None:
        """The key's state and account at ``now_ms``, or None for a key never handed out."""
        with self._lock:
            k = self._keys.get(key)
            return None if k is None else (self._refresh(k, now_ms), k.account)

    def expires_ms(self, key: str) -> int | None:
        with self._lock:
            k = self._keys.get(key)
            return None if k is None else k.expires_ms

    def as_dict(self, now_ms: int) -> list[dict[str, object]]:
        """For ``/_sim/user``: every key, its account, state and expiry."""
        with self._lock:
            return [
                {
                    "account": k.account,
                    "listenKey": k.key,
                    "state": self._refresh(k, now_ms).value,
                    "expiresMs": k.expires_ms,
                }
                for k in self._keys.values()
            ]
