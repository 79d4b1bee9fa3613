"""Feed status: what the last collector cycle says about the exchange connection.

Each failure becomes one event whose ``kind`` is a FeedStatus; the header shows the status of the
newest event when it is newer than the newest report, and OK otherwise. The connector raises typed
errors (``connectors/binance/errors.py``); this module only maps them to a status and a line.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.feed_status import FeedStatus as FeedStatus
from connectors.binance.errors import (
    AuthRejected,
    BadPayload,
    Banned,
    ExchangeDown,
    ExchangeError,
    RateLimited,
)


@dataclass(frozen=True)
class Failure:
    status: FeedStatus
    endpoint: str | None
    code: int | None
    message: str
    retry_after_s: int | None = None  # 429 / 418: how long the exchange asked us to stay away


def classify(exc: Exception) -> Failure:
    """One clear line for the log and the screen; never includes a key, secret or signature."""
    if isinstance(exc, RateLimited):
        wait = exc.retry_after_s
        return Failure(
            FeedStatus.RATE_LIMITED,
            exc.path,
            exc.code,
            f"rate limited (HTTP 429): polling paused {wait} s as the exchange asked",
            wait,
        )
    if isinstance(exc, Banned):
        wait = exc.retry_after_s
        return Failure(
            FeedStatus.BANNED,
            exc.path,
            exc.code,
            f"IP banned (HTTP 418) for {wait} s: polling stopped until the ban ends",
            wait,
        )
    if isinstance(exc, AuthRejected):
        return Failure(FeedStatus.AUTH_ERROR, exc.path, exc.code, exc.message)
    if isinstance(exc, BadPayload):
        return Failure(FeedStatus.DEGRADED, exc.path, None, f"bad payload: {exc}")
    if isinstance(exc, ExchangeDown):
        return Failure(FeedStatus.DOWN, exc.path, exc.code, exc.message)
    if isinstance(exc, ExchangeError):
        return Failure(FeedStatus.DEGRADED, exc.path, exc.code, exc.message)
    return Failure(FeedStatus.DEGRADED, None, None, f"{type(exc).__name__}: {exc}")
