"""The Dash app served over HTTP on 127.0.0.1, as pmdesk serves it: for the browser tests and the
integration tests that speak HTTP to the dashboard."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dash

from app.server import bound_url, is_loopback, make_http_server, stop_serving

STALE_AFTER_S = 10.0  # the dashboards' stale limit in these tests
STOP_WITHIN_S = 60.0  # a busy machine's bound: the server stops at once (app.server.stop_serving)


@contextmanager
def served(app: dash.Dash, host: str = "127.0.0.1", authenticated: bool = False) -> Iterator[str]:
    """The Dash app under waitress on a free port, as pmdesk serves it; yields its URL. Beyond
    loopback over plain HTTP, as ``--insecure-http`` allows (tests/integration/test_edge_http.py
    serves HTTPS)."""
    http = make_http_server(
        app.server,
        host,
        0,
        threads=4,
        authenticated=authenticated,
        insecure_http=not is_loopback(host),
    )
    thread = threading.Thread(target=http.run, name="waitress", daemon=True)
    thread.start()
    try:
        port = http.getsockname()[1]
        yield bound_url(http) if host == "127.0.0.1" else f"http://127.0.0.1:{port}/"
    finally:
        stop_serving(http)
        thread.join(timeout=STOP_WITHIN_S)
        assert not thread.is_alive(), f"the server did not stop within {STOP_WITHIN_S} s"
