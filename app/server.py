"""HTTP serving: the Dash app plus pmdesk's own Flask routes, under waitress."""

from __future__ import annotations

import ipaddress
import logging

from flask import Flask, Response, jsonify
from waitress.server import BaseWSGIServer, create_server

from app.clock import now_ms
from app.store.store import Store

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


def check_binding(host: str, authenticated: bool) -> None:
    """Refuse to serve beyond loopback without sign-in."""
    if not is_loopback(host) and not authenticated:
        raise LanBindingRefusedError(
            f"refusing to serve on {host}: binding beyond loopback requires sign-in; set "
            "users_file (PMDESK_USERS_FILE) to a file made by `pmdesk user add NAME`, "
            "or use --host 127.0.0.1"
        )


def add_health_route(
    server: Flask, store: Store, accounts: list[str], stale_after_s: float
) -> None:
    """``/healthz``: 200 when every account's newest data is fresh, 503 when any is stale or
    absent; the body gives each account's data age."""

    def healthz() -> tuple[Response, int]:
        ages: dict[str, float | None] = {}
        for account in accounts:
            report = store.latest_report(account)
            ages[account] = None if report is None else (now_ms() - report.data_time_ms) / 1000
        fresh = all(age is not None and age <= stale_after_s for age in ages.values())
        body = {
            "status": "ok" if fresh else "stale",
            "accounts": [{"account": a, "data_age_s": age} for a, age in ages.items()],
        }
        return jsonify(body), 200 if fresh else 503

    server.add_url_rule("/healthz", "healthz", healthz)


def make_http_server(
    server: Flask, host: str, port: int, threads: int = 8, authenticated: bool = False
) -> BaseWSGIServer:
    """A waitress server bound now (port 0 = any free port); run it with ``.run()``.

    Serving beyond loopback requires authentication (``authenticated``: every route of
    ``server`` is protected): without it, refuse.
    """
    check_binding(host, authenticated)
    http = create_server(server, host=host, port=port, threads=threads, ident="pmdesk")
    assert isinstance(http, BaseWSGIServer)  # one host → one socket
    return http


def bound_url(http: BaseWSGIServer) -> str:
    host, port = http.getsockname()
    return f"http://{host}:{port}/"
