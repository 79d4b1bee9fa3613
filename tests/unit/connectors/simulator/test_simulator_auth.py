"""The simulator checks signed requests the way Binance documents it."""

from __future__ import annotations

import pytest

from connectors.simulator.auth import BinanceError, hmac_sha256_hex, verify_signed_request

KEY = "k" * 64
SECRET = "s" * 64
NOW = 1_767_225_600_000


def test_binance_documented_hmac_vector() -> None:
    # Binance COIN-M futures "General Info", SIGNED endpoint example (see binance-pm-notes.md).
    secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
    payload = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    assert (
        hmac_sha256_hex(secret, payload)
        == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )


def signed(query: str, secret: str = SECRET) -> str:
    return f"{query}&signature={hmac_sha256_hex(secret, query)}"


def check(total: str, key: str | None = KEY, now: int = NOW) -> None:
    verify_signed_request(
        api_key_header=key, total_params=total, server_time_ms=now, api_key=KEY, api_secret=SECRET
    )


def code_of(total: str, **kw: object) -> int:
    with pytest.raises(BinanceError) as err:
        check(total, **kw)  # type: ignore[arg-type]
    return err.value.code


def test_accepts_a_good_request() -> None:
    check(signed(f"recvWindow=5000&timestamp={NOW - 100}"))


def test_rejects_a_bad_signature_with_1022() -> None:
    assert code_of(signed(f"timestamp={NOW}", secret="wrong")) == -1022


def test_rejects_a_tampered_parameter_with_1022() -> None:
    good = signed(f"recvWindow=5000&timestamp={NOW}")
    assert code_of(good.replace("recvWindow=5000", "recvWindow=6000")) == -1022


def test_timestamp_outside_recv_window_is_1021() -> None:
    # serverTime − timestamp = 5,001 > recvWindow 5,000
    assert code_of(signed(f"recvWindow=5000&timestamp={NOW - 5001}")) == -1021


def test_default_recv_window_is_5000() -> None:
    check(signed(f"timestamp={NOW - 5000}"))
    assert code_of(signed(f"timestamp={NOW - 5001}")) == -1021


def test_timestamp_a_second_ahead_is_1021() -> None:
    # accepted only while timestamp < serverTime + 1000
    check(signed(f"timestamp={NOW + 999}"))
    assert code_of(signed(f"timestamp={NOW + 1000}")) == -1021


def test_recv_window_above_60000_is_refused() -> None:
    assert code_of(signed(f"recvWindow=60001&timestamp={NOW}")) == -1131


def test_missing_timestamp_is_1102() -> None:
    assert code_of(signed("recvWindow=5000")) == -1102


def test_missing_or_unknown_key() -> None:
    assert code_of(signed(f"timestamp={NOW}"), key=None) == -2014
    assert code_of(signed(f"timestamp={NOW}"), key="other") == -2015
