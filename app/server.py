"""HTTP serving: the Dash app plus pmdesk's own Flask routes, under waitress."""

from __future__ import annotations

import ipaddress
import logging
import ssl
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.wsgi import Server as CherootServer
from flask import Flask, Response, jsonify
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from app.clock import now_ms
from app.config import ConfigError
from app.store.store import Store
from app.web.guard import (
    DEFAULT_MAX_BODY_BYTES,
    SCRIPT_HASHES,
    SECURITY_HEADERS,
    Guard,
    allowed_hosts,
    content_security_policy,
    with_security_headers,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger(__name__)


class LanBindingRefusedError(Exception):
    """Binding beyond loopback without authentication configured."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(
    host: str, authenticated: bool, tls: bool = False, insecure_http: bool = False
) -> None:
    """Refuse to serve beyond loopback without sign-in, or over plain HTTP unless told to
    (``insecure_http``: every screen then says so)."""
    if is_loopback(host):
        return
    if not authenticated:
        raise LanBindingRefusedError(
            f"refusing to serve on {host}: binding beyond loopback requires sign-in; set "
            "users_file (PMDESK_USERS_FILE) to a file made by `pmdesk user add NAME`, "
            "or use --host 127.0.0.1"
        )
    if not tls and not insecure_http:
        raise LanBindingRefusedError(
            f"refusing to serve on {host} over plain HTTP: passwords and positions would "
            "cross the LAN unencrypted; set tls_cert_file and tls_key_file "
            "(PMDESK_TLS_CERT_FILE, PMDESK_TLS_KEY_FILE), or pass --insecure-http "
            "(every screen then shows UNENCRYPTED)"
        )


def is_unencrypted(host: str, tls: bool) -> bool:
    """Served beyond loopback over plain HTTP (only with ``insecure_http``): the screens say so."""
    return not tls and not is_loopback(host)


def add_health_route(
    server: Flask,
    store: Store,
    accounts: list[str],
    stale_after_s: float,
    clock: Callable[[], int] = now_ms,
) -> None:
    """``/healthz``, answered without sign-in (container health checks, load balancers): 200
    ``{"status": "ok"}`` when every account's newest data is fresh, 503 ``{"status": "stale"}``
    when any is stale or absent, or the store cannot be read. Nothing else — no account name,
    no age: per-account figures are on ``/metrics``, behind its token."""

    def healthz() -> tuple[Response, int]:
        try:
            reports = [store.latest_report(account) for account in accounts]
        except Exception as exc:  # an unreadable store is not healthy; the log says why
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""]
            log.warning("/healthz: the store cannot be read: %s", cause[0][:200])
            reports = [None]
        now = clock()
        fresh = all(
            r is not None and (now - r.data_time_ms) / 1000 <= stale_after_s for r in reports
        )
        return jsonify({"status": "ok" if fresh else "stale"}), 200 if fresh else 503

    server.add_url_rule("/healthz", "healthz", healthz)


class _SecuredErrorTask(ErrorTask):
    """waitress's own error answers (a 413 from the header alone, a 400 for a request it
    cannot parse) with the security headers too."""

    def build_response_header(self) -> bytes:
        self.response_headers = with_security_headers(self.response_headers, SECURITY_HEADERS)
        return super().build_response_header()


class _SecuredChannel(HTTPChannel):
    error_task_class = _SecuredErrorTask


def _cheroot_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's messages in pmdesk's log: its INFO ones (a client that dropped the handshake,
    e.g. a browser that does not trust the certificate yet, or spoke plain HTTP) at DEBUG."""
    log.log(logging.DEBUG if level <= logging.INFO else level, "https: %s", msg, exc_info=traceback)


class TlsServer:
    """HTTPS: cheroot (waitress has no TLS) with Python's ssl, bound now; the same use as
    waitress's server: ``run()`` until ``close()``, ``getsockname()``."""

    def __init__(
        self, app: WSGIApplication, host: str, port: int, threads: int, cert: Path, key: Path
    ) -> None:
        self._server = CherootServer(
            (host, port), app, numthreads=threads, server_name="pmdesk", request_queue_size=128
        )
        try:
            self._server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(
                f"config: cannot load the TLS certificate {cert} with key {key}: "
                f"{type(exc).__name__}"
            ) from None
        self._server.error_log = _cheroot_log  # type: ignore[method-assign]  # to logging
        self._server.prepare()
        self._address: tuple[Any, ...] = self._server.socket.getsockname()

    def getsockname(self) -> tuple[Any, ...]:
        return self._address

    def run(self) -> None:
        self._server.serve()

    def close(self) -> None:
        self._server.stop()


def check_tls_files(cert: Path | None, key: Path | None) -> bool:
    """Whether TLS is configured; both files or neither, regular files, the key owner-only."""
    if cert is None and key is None:
        return False
    if cert is None or key is None:
        raise ConfigError("config: set both tls_cert_file and tls_key_file, or neither")
    for what, path in (("tls_cert_file", cert), ("tls_key_file", key)):
        try:
            mode = path.stat().st_mode
        except OSError:
            raise ConfigError(f"config: {what} not found: {path}") from None
        if not stat.S_ISREG(mode):
            raise ConfigError(f"config: {what} {path} is not a regular file")
    mode = key.stat().st_mode
    if mode & 0o077:
        raise ConfigError(
            f"config: tls_key_file {key} can be read by others (mode {mode & 0o777:03o}); "
            f"run: chmod 600 {key}"
        )
    return True


WebServer = BaseWSGIServer | TlsServer


def make_http_server(
    server: Flask,
    host: str,
    port: int,
    threads: int = 8,
    authenticated: bool = False,
    *,
    tls_cert_file: Path | None = None,
    tls_key_file: Path | None = None,
    insecure_http: bool = False,
    hosts: Sequence[str] = (),
    max_request_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> WebServer:
    """The web server, bound now (port 0 = any free port); run it with ``.run()``: HTTPS
    (cheroot) when the TLS files are given, else HTTP (waitress).

    Serving beyond loopback requires authentication (``authenticated``: every route of
    ``server`` is protected) and TLS or ``insecure_http``: without them, refuse. Every request
    passes the ``Guard`` (allowed hosts: the loopback names, ``host`` and ``hosts``; the body
    limit; the security headers)."""
    tls = check_tls_files(tls_cert_file, tls_key_file)
    check_binding(host, authenticated, tls=tls, insecure_http=insecure_http)
    server.config["MAX_CONTENT_LENGTH"] = max_request_body_bytes  # a chunked body too
    if tls:
        server.config["SESSION_COOKIE_SECURE"] = True
    csp = content_security_policy(server.config.get(SCRIPT_HASHES, ()))
    app = Guard(server, allowed_hosts(host, hosts), max_request_body_bytes, csp)
    if tls_cert_file is not None and tls_key_file is not None:
        return TlsServer(app, host, port, threads, tls_cert_file, tls_key_file)
    http = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="pmdesk",
        # waitress refuses a body of this size or more from the header alone (413)
        max_request_body_size=max_request_body_bytes + 1,
    )
    assert isinstance(http, BaseWSGIServer)  # one host → one socket
    http.channel_class = _SecuredChannel
    return http


def stop_serving(http: WebServer) -> None:
    """From another thread: ``http.run()`` returns now and its worker threads end.

    waitress's ``close()`` closes only the listening socket, and its loop runs while any
    connection is open (a browser's keep-alive ones: for minutes). Here the loop's own thread
    closes everything in it (through waitress's trigger, the one thread-safe way in), then the
    task threads are stopped. cheroot's ``stop()`` already does the same."""
    if isinstance(http, TlsServer):
        http.close()
        return
    server: Any = http  # types-waitress declares neither the loop's map nor its trigger
    sockets = server._map  # the loop's sockets: listener, trigger, every connection
    server.trigger.pull_trigger(lambda: wasyncore.close_all(sockets))
    http.task_dispatcher.shutdown()


def bound_url(http: WebServer) -> str:
    host, port = http.getsockname()[:2]
    if ":" in str(host):
        host = f"[{host}]"
    scheme = "https" if isinstance(http, TlsServer) else "http"
    return f"{scheme}://{host}:{port}/"
