"""The edge's parts without a server (issue 17): host names, the Guard middleware's answers,
the policy, the settings, and the sanitizers of what a browser sends back."""

from __future__ import annotations

import socket
from typing import Any

import dash
import pytest

from app.config import ConfigError, load_settings
from app.web.alarm import checked_state
from app.web.guard import (
    DEFAULT_MAX_BODY_BYTES,
    SECURITY_HEADERS,
    Guard,
    allowed_hosts,
    content_security_policy,
    normalize_host,
    request_host,
)
from app.web.pages.whatif import ChangeError, checked_changes, parse_change
from app.web.view import checked_pref, clock_text


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost", "localhost"),
        ("LocalHost.:8050", "localhost"),
        ("127.0.0.1:1", "127.0.0.1"),
        ("[::1]:8050", "[::1]"),
        ("[0:0::1]", "[::1]"),
        ("Desk-7.Example.COM", "desk-7.example.com"),
        ("evil.example:80", "evil.example"),
        (None, None),
        ("", None),
        ("[::1", None),
        ("a:b", None),
        ("host:123456", None),
        ("a b", None),
        ("ex\u00e4mple.com", None),
        ("a/b", None),
        ("::1", None),  # an IPv6 address without brackets is not a Host header
    ],
)
def test_request_host(header: str | None, host: str | None) -> None:
    assert request_host(header) == host


def test_allowed_hosts() -> None:
    loopback = {"localhost", "127.0.0.1", "[::1]"}
    assert allowed_hosts("127.0.0.1") == loopback
    assert allowed_hosts("192.168.1.5", ["Desk.Example"]) == loopback | {
        "192.168.1.5",
        "desk.example",
    }
    assert allowed_hosts("::1") == loopback
    # Every interface: no address to add, but this machine's own name.
    assert allowed_hosts("0.0.0.0") == loopback | {normalize_host(socket.gethostname())}
    assert "evil.example" not in allowed_hosts("0.0.0.0", ["desk.example"])
    with pytest.raises(ValueError, match="not a host name"):
        allowed_hosts("127.0.0.1", ["http://desk.example/"])


def _call(guard: Guard, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got["status"], got["headers"] = status, dict(headers)
        return lambda _data: None

    body = b"".join(guard(environ, start_response))
    return got["status"], got["headers"], body


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """An application that sets its own, weaker, framing header: the guard's win."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Frame-Options", "ALLOW")])
    return [b"ok"]


def test_guard_answers() -> None:
    guard = Guard(_app, allowed_hosts("127.0.0.1"), max_body_bytes=100)
    ok = {"HTTP_HOST": "localhost:8050", "REQUEST_METHOD": "GET"}
    status, headers, body = _call(guard, ok)
    assert status == "200 OK" and body == b"ok"
    for name, value in SECURITY_HEADERS:
        assert headers[name] == value
    assert _call(guard, {**ok, "HTTP_HOST": "evil.example"})[0] == "400 Bad Request"
    assert _call(guard, {"REQUEST_METHOD": "GET"})[0] == "400 Bad Request"  # no Host at all
    assert _call(guard, {**ok, "CONTENT_LENGTH": "100"})[0] == "200 OK"
    status, headers, body = _call(guard, {**ok, "CONTENT_LENGTH": "101"})
    assert status.startswith("413") and "Connection" not in headers  # the server's to say
    assert body == b"pmdesk: request body over 100 bytes\n"
    assert headers["X-Frame-Options"] == "DENY"
    assert _call(guard, {**ok, "CONTENT_LENGTH": "-5"})[0] == "400 Bad Request"
    assert DEFAULT_MAX_BODY_BYTES == 1_048_576


def test_policy() -> None:
    policy = content_security_policy(["'sha256-abc='"])
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self' 'unsafe-eval' 'sha256-abc='"
    assert directives["base-uri"] == "'none'" and directives["object-src"] == "'none'"


def test_settings() -> None:
    s = load_settings()
    assert s.web.max_request_body_bytes == 1_048_576 and s.web.allowed_hosts == []
    assert (
        s.web.tls_cert_file is None and s.web.tls_key_file is None and s.web.insecure_http is False
    )
    s = load_settings(allowed_hosts="Desk.Example, 10.0.0.5 ,fe80::1")
    assert s.web.allowed_hosts == ["desk.example", "10.0.0.5", "[fe80::1]"]
    assert load_settings(allowed_hosts=["a.example"]).web.allowed_hosts == ["a.example"]
    with pytest.raises(ConfigError, match="allowed_hosts"):
        load_settings(allowed_hosts=["https://desk.example"])
    with pytest.raises(ConfigError, match="max_request_body_bytes"):
        load_settings(max_request_body_bytes=10)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMDESK_WEB__ALLOWED_HOSTS", "desk.example,screen-3")
    monkeypatch.setenv("PMDESK_WEB__INSECURE_HTTP", "true")
    s = load_settings()
    assert s.web.allowed_hosts == ["desk.example", "screen-3"] and s.web.insecure_http is True


@pytest.mark.parametrize(
    "args",
    [
        ("UM", "BTCUSDT", "1000", "BOTH"),
        ("UM", "BTCUSDT", True, "BOTH"),
        ("UM", ["BTC"], 1.0, "BOTH"),
        ({"k": 1}, "BTCUSDT", 1.0, "BOTH"),
        ("UM", "BTCUSDT", 1.0, ["LONG"]),
        ("UM", "BTCUSDT", float("nan"), "BOTH"),
        ("spot", "", 1.0, None),
    ],
    ids=repr,
)
def test_a_tampered_what_if_line_is_a_change_error(args: tuple[Any, ...]) -> None:
    with pytest.raises(ChangeError):
        parse_change(*args)


def test_checked_changes_keeps_the_good_lines() -> None:
    good = {"kind": "UM", "name": "BTCUSDT", "amount": 0.5, "side": "BOTH"}
    assert checked_changes([good, {"kind": "UM", "amount": "x"}, "junk", None]) == [good]
    assert checked_changes("junk") == [] and checked_changes(None) == []


def test_checked_pref_and_state() -> None:
    assert checked_pref("local") is None and checked_pref({"local": "yes"}) is None
    assert checked_pref({"local": True, "zone": ["x"], "offset_min": 1e308}) == {
        "local": True,
        "zone": "",
        "offset_min": None,
    }
    assert clock_text(0, {"local": True, "zone": 5, "offset_min": 10**12}).endswith("UTC")
    assert checked_state(None) == []
    with pytest.raises(dash.exceptions.PreventUpdate):
        checked_state("abc")
    with pytest.raises(dash.exceptions.PreventUpdate):
        checked_state([{"id": "1"}])
