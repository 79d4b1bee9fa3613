"""Feed status: what the last collector cycle says about the exchange connection.

Each failure becomes one event whose ``kind`` is a FeedStatus; the header shows the status of the
newest event when it is newer than the newest report, and OK otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from binance.exceptions import BinanceAPIException, BinanceRequestException

from app.feed_status import FeedStatus as FeedStatus
from connectors.binance.client import EndpointError
from connectors.binance.keycheck import KeyRefusedError
from connectors.binance.limits import RETRY_AFTER_HEADER
from connectors.binance.parse import API_RESTRICTIONS, PayloadError


@dataclass(frozen=True)
class Failure:
    status: FeedStatus
    endpoint: str | None
    code: int | None
    message: str
    retry_after_s: int | None = None  # 429 / 418: how long the exchange asked us to stay away


DEFAULT_RETRY_AFTER_S = {429: 60, 418: 120}


def retry_after_s(exc: BinanceAPIException) -> int:
    """The ``Retry-After`` header of a 429/418 answer (seconds), or a safe default."""
    response = getattr(exc, "response", None)
    raw = response.headers.get(RETRY_AFTER_HEADER) if response is not None else None
    if raw is not None and raw.strip().isdigit():
        return max(1, int(raw.strip()))
    return DEFAULT_RETRY_AFTER_S.get(int(exc.status_code), 60)


AUTH_CODES = {
    -2014: "API-key format invalid",
    -2015: "invalid key, IP not allowed, or missing permission",
    -1022: "signature rejected: check the API secret",
}


def classify(exc: Exception) -> Failure:
    """One clear line for the log and the screen; never includes a key, secret or signature."""
    if isinstance(exc, KeyRefusedError):
        return Failure(FeedStatus.AUTH_ERROR, API_RESTRICTIONS, None, str(exc))
    if isinstance(exc, PayloadError):
        return Failure(FeedStatus.DEGRADED, exc.path, None, f"bad payload: {exc}")
    if not isinstance(exc, EndpointError):
        return Failure(FeedStatus.DEGRADED, None, None, f"{type(exc).__name__}: {exc}")
    path, cause = exc.path, exc.cause
    if isinstance(cause, BinanceAPIException):
        status = int(cause.status_code)
        if status == 429:
            wait = retry_after_s(cause)
            return Failure(
                FeedStatus.RATE_LIMITED,
                path,
                cause.code,
                f"rate limited (HTTP 429): polling paused {wait} s as the exchange asked",
                wait,
            )
        if status == 418:
            wait = retry_after_s(cause)
            return Failure(
                FeedStatus.BANNED,
                path,
                cause.code,
                f"IP banned (HTTP 418) for {wait} s: polling stopped until the ban ends",
                wait,
            )
        if cause.code in AUTH_CODES:
            return Failure(FeedStatus.AUTH_ERROR, path, cause.code, AUTH_CODES[cause.code])
        if status >= 500:
            return Failure(FeedStatus.DOWN, path, cause.code, f"exchange error HTTP {status}")
        return Failure(FeedStatus.DEGRADED, path, cause.code, f"exchange said: {cause.message}")
    if isinstance(cause, BinanceRequestException):
        return Failure(FeedStatus.DEGRADED, path, None, "unreadable response from exchange")
    if isinstance(cause, requests.Timeout):
        return Failure(FeedStatus.DOWN, path, None, "exchange timed out")
    if isinstance(cause, requests.ConnectionError):
        return Failure(FeedStatus.DOWN, path, None, "exchange unreachable")
    return Failure(FeedStatus.DEGRADED, path, None, f"{type(cause).__name__}")
