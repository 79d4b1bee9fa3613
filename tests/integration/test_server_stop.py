"""``app.server.stop_serving``: a served dashboard stops at once from another thread, its clients'
keep-alive connections included (waitress's own ``close()`` leaves its loop running for as long
as one is open: every served test waited 5 s for it to give up)."""

from __future__ import annotations

import socket
import threading

from flask import Flask

from app.server import make_http_server, stop_serving
from tests.support.served_app import STOP_WITHIN_S


def test_stop_ends_the_server_with_a_keep_alive_connection_open() -> None:
    app = Flask("stop")
    app.add_url_rule("/", "hello", lambda: "hello")
    http = make_http_server(app, "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    host, port = http.getsockname()[:2]
    with socket.create_connection((host, port), timeout=STOP_WITHIN_S) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while not answer.endswith(b"hello"):
            chunk = client.recv(65536)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")  # answered; the connection stays open

        stop_serving(http)
        thread.join(timeout=STOP_WITHIN_S)
        assert not thread.is_alive(), "run() still running with a client connected"
        assert client.recv(65536) == b""  # the client's connection was closed by the server
