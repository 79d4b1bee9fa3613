"""Signed-request checks as Binance does them, with Binance's error codes and messages.

Binance "General Info" / "SIGNED Endpoint security": HMAC-SHA256 of the total parameters (query
string, then body) with the secret, sent as ``signature``; ``X-MBX-APIKEY`` header; ``timestamp``
in ms and optional ``recvWindow`` ≤ 60000. The server accepts when
``timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000


@dataclass(frozen=True)
class BinanceError(Exception):
    """An error Binance would answer with: HTTP status plus ``{"code": .., "msg": ..}``."""

    http_status: int
    code: int
    msg: str

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def hmac_sha256_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(total_params: str) -> tuple[str, str | None]:
    """The signed payload (every parameter but ``signature``, as sent) and the signature."""
    kept: list[str] = []
    signature: str | None = None
    for part in total_params.split("&"):
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        elif part:
            kept.append(part)
    return "&".join(kept), signature


def verify_signed_request(
    *,
    api_key_header: str | None,
    total_params: str,
    server_time_ms: int,
    api_key: str,
    api_secret: str,
) -> None:
    """Raise the BinanceError Binance would give, or return if the request is acceptable."""
    if not api_key_header:
        raise BinanceError(401, -2014, "API-key format invalid.")
    if not hmac.compare_digest(api_key_header, api_key):
        raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    payload, signature = split_signature(total_params)
    params = dict(parse_qsl(payload, keep_blank_values=True))
    timestamp = _int_param(params, "timestamp")
    if timestamp is None:
        raise _mandatory("timestamp")
    recv_window = _int_param(params, "recvWindow")
    if recv_window is None:
        recv_window = DEFAULT_RECV_WINDOW_MS
    if recv_window > MAX_RECV_WINDOW_MS or recv_window <= 0:
        raise BinanceError(400, -1131, "recvWindow must be less than 60000")
    if signature is None:
        raise _mandatory("signature")
    if not hmac.compare_digest(signature.lower(), hmac_sha256_hex(api_secret, payload)):
        raise BinanceError(400, -1022, "Signature for this request is not valid.")
    if timestamp >= server_time_ms + 1000:
        raise BinanceError(
            400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if server_time_ms - timestamp > recv_window:
        raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def _mandatory(name: str) -> BinanceError:
    return BinanceError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        ) from None
