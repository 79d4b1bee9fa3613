"""The edge over real HTTP and HTTPS (issue 17): nothing before sign-in costs the server (a
50 MB body is refused from its header while the serving process's memory stays put), a
malformed callback body is a 400, only allowed host names are answered, every response carries
the security headers, and pmdesk serves HTTPS itself with a Secure session cookie."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.config import ConfigError
from app.server import (
    LanBindingRefusedError,
    TlsServer,
    add_health_route,
    bound_url,
    check_binding,
    check_tls_files,
    is_unencrypted,
    make_http_server,
    stop_serving,
)
from app.store.store import Store
from app.web.app import create_app
from app.web.guard import SECURITY_HEADERS
from app.web.signin import SignIn, SignInPolicy
from app.web.users import Roster, add_user
from connectors.simulator.clock import ManualClock
from tests.support.served_app import STALE_AFTER_S, STOP_WITHIN_S, served

MB = 1_048_576
BIG = 50 * MB
PASSWORD = "a long desk password"
CALLBACK = "_dash-update-component"


# ---- raw HTTP ----------------------------------------------------------------------------------
def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _read_response(sock: socket.socket) -> bytes:
    """The response's status line and headers (and whatever body came with them)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _status(response: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    assert m is not None, response[:200]
    return int(m.group(1))


def post_declared(
    url: str, length: int, sent: bytes = b"{}", wrap: Any = None
) -> tuple[bytes, float]:
    """A callback POST that declares ``length`` bytes and sends only ``sent``: the answer and
    how long it took."""
    host, port = _address(url)
    with socket.create_connection((host, port), timeout=10) as raw:
        sock = wrap(raw) if wrap else raw
        t0 = time.perf_counter()
        sock.sendall(
            f"POST /{CALLBACK} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
            + sent
        )
        answer = _read_response(sock)
        return answer, time.perf_counter() - t0


def post_streamed(url: str, total: int, chunked: bool = False) -> tuple[bytes, float, int]:
    """A callback POST that really sends ``total`` bytes, 64 KB at a time from a generator (the
    test never holds the body), while the answer is awaited: (answer, seconds to it, bytes the
    server took before it stopped reading)."""
    host, port = _address(url)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        f"POST /{CALLBACK} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()
    piece = b"[" * 65536
    sent = 0

    def body() -> Iterator[bytes]:
        for _ in range(total // len(piece)):
            yield (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") if chunked else piece
        if chunked:
            yield b"0\r\n\r\n"

    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head)
        t0 = time.perf_counter()

        def send() -> None:
            nonlocal sent
            try:
                for part in body():
                    sock.sendall(part)
                    sent += len(part)
            except OSError:  # the server answered and closed: the rest is never read
                pass

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = _read_response(sock)
        took = time.perf_counter() - t0
        with contextlib.suppress(OSError):  # already closed by the server
            sock.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=30)
        assert not sender.is_alive()
    return answer, took, sent


def _memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


@pytest.fixture
def pmdesk_serve(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``pmdesk serve`` in its own process against a store made here: (URL, PID)."""
    db = tmp_path / "serve.db"
    Store(f"sqlite:///{db}").create_schema()
    env = {**os.environ, "PMDESK_STORE__URL": f"sqlite:///{db}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:  # blocks until serve prints; ends if the process dies
            m = re.search(r"dashboard at (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
                break
        assert url is not None, "pmdesk serve never printed its dashboard URL"
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_fifty_megabytes_cost_the_server_nothing(pmdesk_serve: tuple[str, int]) -> None:
    """Unauthenticated 50 MB callback POSTs — declared and barely sent, really streamed, and
    chunked — are each answered 413 within a second, and the serving process's memory (now and
    at its peak) grows by less than 50 MB."""
    url, pid = pmdesk_serve
    assert requests.get(url, timeout=10).status_code == 200  # warmed up: the page built once
    before = _memory_kb(pid)

    answer, took = post_declared(url, BIG)
    assert _status(answer) == 413 and took < 1.0, (answer[:100], took)
    for name, value in SECURITY_HEADERS:
        assert f"{name}: {value}".encode() in answer  # waitress's own 413 is secured too

    answer, took, sent = post_streamed(url, BIG)
    assert _status(answer) == 413 and took < 1.0, (answer[:100], took)
    # Chunked: no length to judge from; waitress stops reading at the limit.
    answer, took_chunked, sent_chunked = post_streamed(url, BIG, chunked=True)
    assert _status(answer) == 413 and took_chunked < 1.0, (answer[:100], took_chunked)

    after = _memory_kb(pid)
    grew_mb = (after["VmRSS"] - before["VmRSS"]) / 1024
    peak_grew_mb = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(
        f"\n50 MB POST: 413 in {took * 1000:.1f} ms ({sent / MB:.1f} MB sent), chunked in "
        f"{took_chunked * 1000:.1f} ms ({sent_chunked / MB:.1f} MB sent); "
        f"RSS {grew_mb:+.1f} MB, peak {peak_grew_mb:+.1f} MB"
    )
    assert grew_mb < 50 and peak_grew_mb < 50, (before, after)
    # The server stopped reading: most of the 50 MB never left the client.
    assert sent < BIG / 2 and sent_chunked < BIG / 2


def test_body_limit_is_the_setting_inclusive(store: Store, clock: ManualClock) -> None:
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    limit = 4096
    http = make_http_server(app.server, "127.0.0.1", 0, threads=2, max_request_body_bytes=limit)
    with _running(http) as url:
        # At the limit: read and judged (not a callback body: 400), one byte more: 413.
        answer, _ = post_declared(url, limit, b"x" * limit)
        assert _status(answer) == 400
        answer, _ = post_declared(url, limit + 1, b"x")
        assert _status(answer) == 413


@contextmanager
def _running(http: Any) -> Iterator[str]:
    def run() -> None:
        with contextlib.suppress(OSError):  # waitress's loop meets its sockets closed
            http.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield bound_url(http)
    finally:
        stop_serving(http)
        thread.join(timeout=STOP_WITHIN_S)
        assert not thread.is_alive()


# ---- malformed callback bodies -------------------------------------------------------------------
MALFORMED: list[tuple[bytes, str]] = [
    (b"null", "application/json"),
    (b"{}", "application/json"),
    (b"[]", "application/json"),
    (b"not json", "application/json"),
    (b'{"output": 5}', "application/json"),
    (b'{"output": "report-key.data", "outputs": [], "inputs": "x"}', "application/json"),
    (b'{"output": "shortcuts.data", "outputs": {}, "inputs": []}', "application/json"),
    (b"[" * 100_000, "application/json"),
    (b'{"output": "report-key.data"}', "text/plain"),
    (
        b'{"output": "report-key.data", "outputs": {"id": "report-key", "property": "data"},'
        b'"inputs": [{"id": "tick", "property": "n_intervals"}], "state": []}',
        "application/json",
    ),
]


def test_malformed_callback_bodies_are_400_without_a_traceback(
    store: Store, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    with served(app) as url:
        for body, kind in MALFORMED:
            answer = requests.post(
                url + CALLBACK, data=body, headers={"Content-Type": kind}, timeout=10
            )
            assert answer.status_code == 400, (body[:60], answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/plain")
            assert answer.text.startswith("pmdesk: bad callback request:"), answer.text
            assert len(answer.text) < 200
    assert not [r for r in caplog.records if r.levelno >= 40 or r.exc_info], caplog.text


# ---- hosts and headers -------------------------------------------------------------------------
def _signed_in_app(store: Store, clock: ManualClock, tmp_path: Path) -> Any:
    users = tmp_path / "users"
    add_user(users, "maria", PASSWORD, "operator")
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    SignIn(Roster(users, tmp_path / "screens"), b"s" * 32, SignInPolicy()).install(app.server)
    return app


def _secured(answer: requests.Response) -> None:
    for name, value in SECURITY_HEADERS:
        if name == "Content-Security-Policy":
            assert "frame-ancestors 'none'" in answer.headers[name], answer.url
        else:
            assert answer.headers.get(name) == value, (answer.url, name)


def test_unknown_host_is_400_in_loopback_mode(store: Store, clock: ManualClock) -> None:
    """The default: loopback, no sign-in. A rebinding page's name is refused; the loopback
    names (any port) are answered."""
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    with served(app) as url:
        port = _address(url)[1]
        for host in ("evil.example", f"evil.example:{port}", "rebind.attacker.example", ""):
            for path in ("", "_dash-layout", "healthz", "assets/pmdesk.css"):
                answer = requests.get(url + path, headers={"Host": host}, timeout=10)
                assert answer.status_code == 400, (host, path)
                assert answer.text == "pmdesk: unknown host\n"
                _secured(answer)
        posted = requests.post(url + CALLBACK, json={}, headers={"Host": "evil.example"})
        assert posted.status_code == 400 and posted.text == "pmdesk: unknown host\n"
        for host in ("localhost", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}"):
            answer = requests.get(url + "_dash-layout", headers={"Host": host}, timeout=10)
            assert answer.status_code == 200, host


def test_unknown_host_is_400_in_lan_mode(store: Store, clock: ManualClock, tmp_path: Path) -> None:
    """Bound to every interface with sign-in: a wrong Host is refused before sign-in (400,
    not the sign-in page); the listed desk name gets the sign-in page."""
    app = _signed_in_app(store, clock, tmp_path)
    http = make_http_server(
        app.server,
        "0.0.0.0",
        0,
        threads=4,
        authenticated=True,
        insecure_http=True,
        hosts=["desk.example"],
    )
    with _running(http):
        url = f"http://127.0.0.1:{http.getsockname()[1]}/"
        for path in ("", "login", "healthz", CALLBACK):
            answer = requests.get(url + path, headers={"Host": "evil.example"}, timeout=10)
            assert answer.status_code == 400 and answer.text == "pmdesk: unknown host\n", path
            _secured(answer)
        anonymous = requests.get(url, headers={"Host": "desk.example"}, allow_redirects=False)
        assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
        _secured(anonymous)
        login = requests.get(url + "login", headers={"Host": "Desk.Example:8443"}, timeout=10)
        assert login.status_code == 200
        _secured(login)
        # Before sign-in: a big body is 413 (never read), a callback is 401.
        declared, _ = post_declared(url, BIG)
        assert _status(declared) == 413
        refused = requests.post(url + CALLBACK, json={}, timeout=10)
        assert refused.status_code == 401
        _secured(refused)


def test_every_kind_of_response_is_secured(store: Store, clock: ManualClock) -> None:
    app = create_app(store, ["sim-basis"], STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, ["sim-basis"], STALE_AFTER_S)
    with served(app) as url:
        page = requests.get(url, timeout=10)
        assert page.status_code == 200
        # The page's own policy: Dash's inline scripts by hash, no other inline script.
        policy = page.headers["Content-Security-Policy"]
        scripts = policy.split("script-src ", 1)[1].split(";", 1)[0].split()
        assert "'unsafe-inline'" not in scripts and any(s.startswith("'sha256-") for s in scripts)
        inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
        assert inline and len(scripts) >= len(inline) + 2  # 'self', 'unsafe-eval', hashes
        _secured(page)
        for answer in (
            requests.get(url + "_dash-layout", timeout=10),
            requests.get(url + "assets/pmdesk.css", timeout=10),
            requests.get(url + "healthz", timeout=10),
            requests.get(url + "no/such/path.js", timeout=10),
            requests.post(url + CALLBACK, data=b"null", timeout=10),
            requests.delete(url + "healthz", timeout=10),
        ):
            assert answer.status_code in (200, 400, 404, 405, 503), answer.url
            _secured(answer)


# ---- TLS ---------------------------------------------------------------------------------------
def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key (mode 0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pmdesk test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return cert_file, key_file


def test_https_with_sign_in_and_a_secure_cookie(
    store: Store, clock: ManualClock, tmp_path: Path
) -> None:
    """pmdesk serves HTTPS itself (cheroot): a client that trusts only the test's certificate
    signs in; the session cookie is Secure, HttpOnly, SameSite=Strict; the edge works there too
    (413 from the header, unknown host 400, headers); plain HTTP to that port gets no page."""
    cert, key = make_certificate(tmp_path)
    app = _signed_in_app(store, clock, tmp_path)
    http = make_http_server(
        app.server, "127.0.0.1", 0, threads=4, authenticated=True,
        tls_cert_file=cert, tls_key_file=key,
    )  # fmt: skip
    assert isinstance(http, TlsServer)
    with _running(http) as url:
        assert url.startswith("https://127.0.0.1:")
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, timeout=10)  # the system's CAs do not vouch for it
        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify
        s.verify = str(cert)
        form = s.get(url + "login", timeout=10)
        assert form.status_code == 200
        _secured(form)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        signed = s.post(
            url + "login",
            data={"name": "maria", "password": PASSWORD, "csrf": csrf.group(1), "next": "/"},
            allow_redirects=False,
            timeout=30,
        )
        assert signed.status_code == 303
        cookie = next(
            c for c in signed.raw.headers.getlist("Set-Cookie") if c.startswith("pmdesk_session=")
        )
        flags = {f.strip().lower() for f in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite=strict"} <= flags, cookie
        page = s.get(url, timeout=10)
        assert page.status_code == 200 and '<div id="react-entry-point">' in page.text
        _secured(page)

        context = ssl.create_default_context(cafile=str(cert))
        wrap = lambda raw: context.wrap_socket(raw, server_hostname="127.0.0.1")  # noqa: E731
        answer, took = post_declared(url, BIG, wrap=wrap)  # the guard's 413: never read
        assert _status(answer) == 413 and took < 1.0 and b"X-Frame-Options: DENY" in answer
        evil = s.get(url, headers={"Host": "evil.example"}, timeout=10)
        assert evil.status_code == 400

        plain = url.replace("https://", "http://")
        try:
            answer_plain = requests.get(plain, timeout=10)
        except requests.exceptions.ConnectionError:
            pass  # closed without a word: no page either
        else:
            assert answer_plain.status_code == 400 and "react-entry-point" not in answer_plain.text


def test_lan_binding_needs_tls_or_insecure_http(store: Store, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    with pytest.raises(LanBindingRefusedError, match="--insecure-http"):
        check_binding("0.0.0.0", authenticated=True)
    with pytest.raises(LanBindingRefusedError, match="requires sign-in"):
        check_binding("0.0.0.0", authenticated=False, tls=True)
    check_binding("0.0.0.0", authenticated=True, tls=True)
    check_binding("0.0.0.0", authenticated=True, insecure_http=True)
    check_binding("127.0.0.1", authenticated=False)
    assert is_unencrypted("0.0.0.0", tls=False) and is_unencrypted("192.168.1.5", tls=False)
    assert not is_unencrypted("0.0.0.0", tls=True) and not is_unencrypted("127.0.0.1", False)
    assert check_tls_files(cert, key) and not check_tls_files(None, None)

    key.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        check_tls_files(cert, key)
    key.chmod(0o600)
    with pytest.raises(ConfigError, match="both"):
        check_tls_files(cert, None)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        check_tls_files(cert, fifo)
    with pytest.raises(ConfigError, match="not found"):
        check_tls_files(tmp_path / "missing.pem", key)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    app = create_app(store, ["sim-basis"], STALE_AFTER_S)
    with pytest.raises(ConfigError, match="cannot load the TLS certificate") as err:
        make_http_server(app.server, "127.0.0.1", 0, tls_cert_file=garbage, tls_key_file=key)
    assert "PRIVATE KEY" not in str(err.value)


def test_cli_refuses_a_plain_lan_bind_and_takes_insecure_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pmdesk serve --host 0.0.0.0`` with sign-in but no TLS: one line naming the way out;
    the flag is read into the setting."""
    from app.cli import _settings, build_parser, main

    users = tmp_path / "users"
    add_user(users, "maria", PASSWORD, "operator")
    config = tmp_path / "pmdesk.toml"
    config.write_text(f'users_file = "{users}"\ndb_url = "sqlite:///{tmp_path / "s.db"}"\n')
    assert main(["serve", "--config", str(config), "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "over plain HTTP" in err and "--insecure-http" in err and "tls_cert_file" in err
    args = build_parser().parse_args(["serve", "--config", str(config), "--insecure-http"])
    assert _settings(args).web.insecure_http is True
    args = build_parser().parse_args(["demo", "--config", str(config)])
    assert _settings(args).web.insecure_http is False
