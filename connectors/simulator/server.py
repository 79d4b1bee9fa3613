"""A Binance-compatible HTTP server on 127.0.0.1 that python-binance talks to unchanged.

Same paths, JSON shapes, string-encoded decimals, signature checks and error JSON as Binance.
Started in-process by ``pmdesk demo`` or standalone by ``pmdesk simulator``.

``Simulator`` holds the market, one account per API key and the routes (``routes.py``), and
answers one request with faults, weights and signatures applied; ``SimulatorServer`` serves it
over real HTTP (the Flask app: ``wsgi.py``), its mark-price websockets (``streams.py``) and,
on the same websocket server, the Portfolio Margin user data stream (``user_stream.py``, its
state in ``user_data.py``).
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable

from flask import Response, g, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.simulator.accounts import STALL_LIMIT_S, SimAccount
from connectors.simulator.auth import BinanceError, verify_signed_request
from connectors.simulator.book import AccountBook
from connectors.simulator.clock import Clock, WallClock
from connectors.simulator.faults import Faults
from connectors.simulator.klines import KlineHistory
from connectors.simulator.limiter import RateLimitError, WeightLimiter
from connectors.simulator.market import (
    BASIS_SD,
    DEFAULT_ASSETS,
    JUMPS_PER_DAY,
    QUIET_BASIS_SD,
    MarketModel,
    still_assets,
)
from connectors.simulator.presets import PRESETS
from connectors.simulator.request_log import RequestLog
from connectors.simulator.routes import Route, build_routes
from connectors.simulator.streams import CM_PREFIX, UM_PREFIX, MarkStreamServer
from connectors.simulator.user_data import UserData
from connectors.simulator.user_stream import PM_PATH, UserStreams
from connectors.simulator.weights import LISTEN_KEY_PATH, USED_WEIGHT_HEADER, request_weight
from connectors.simulator.wsgi import build_app

log = logging.getLogger(__name__)


class Simulator:
    """Market + one account book per API key + the routes that render them.

    ``accounts`` maps account names to presets (several sub-accounts of one desk); without it
    there is one account named after ``preset``, whose key is ``api_key``/``api_secret``.
    """

    def __init__(
        self,
        *,
        preset: str = "basis",
        clock: Clock | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        seed: int = 7,
        weight_limits: dict[str, int] | None = None,
        scenario: str = "calm",
        accounts: dict[str, str] | None = None,
        still: bool = False,
        auto_liquidate: bool = False,
        listings: dict[str, int] | None = None,
    ) -> None:
        wanted = accounts or {preset: preset}
        unknown = sorted({p for p in wanted.values() if p not in PRESETS})
        if unknown:
            raise ValueError(
                f"unknown preset {', '.join(map(repr, unknown))}; choose from {', '.join(PRESETS)}"
            )
        self.clock = clock or WallClock()
        self.faults = Faults()
        self.limiter = WeightLimiter(weight_limits)
        # still: no random walk, no jumps — only the scenario moves prices (tests whose figures
        # are worked by hand through a crash and a recovery).
        self.market = MarketModel(
            self.clock,
            assets=still_assets() if still else DEFAULT_ASSETS,
            seed=seed,
            frozen=lambda: self.faults.frozen_prices,
            scenario_name=scenario,
            basis_sd=QUIET_BASIS_SD if still else BASIS_SD,
            jumps_per_day=0.0 if still else JUMPS_PER_DAY,
        )
        start = self.market.index_prices_usd()
        self.accounts: list[SimAccount] = [
            SimAccount(
                name,
                (api_key if i == 0 and api_key else None) or secrets.token_hex(32),
                (api_secret if i == 0 and api_secret else None) or secrets.token_hex(32),
                PRESETS[p](start),
            )
            for i, (name, p) in enumerate(wanted.items())
        ]
        self._by_key = {a.api_key: a for a in self.accounts}
        for a in self.accounts:  # the books open now: their loans' first interest charge
            a.book.settle(self.market.quote(), self.now_ms())
        self.on_request: Callable[[str], None] = lambda path: None  # observer hook for tests
        # listings: symbol (or pair) -> the time its klines begin (kline_history.py)
        self.klines = KlineHistory(
            self.market,
            seed=seed,
            basis_sd=QUIET_BASIS_SD if still else BASIS_SD,
            listings=listings,
        )
        self.routes: dict[str, Route] = build_routes(self.market, self.now_ms, self.klines)
        # auto_liquidate: the exchange closes positions at uniMMR ≤ 1.05 (off by default, so
        # that a crash scenario still shows the account at its liquidation level).
        self.user_data = UserData(
            self.accounts, self.market.quote, self.now_ms, self.faults, auto_liquidate
        )

    # The first account, for the common one-account case.
    @property
    def api_key(self) -> str:
        return self.accounts[0].api_key

    @property
    def api_secret(self) -> str:
        return self.accounts[0].api_secret

    @property
    def book(self) -> AccountBook:
        return self.accounts[0].book

    @property
    def key_permissions(self) -> dict[str, object]:
        return self.accounts[0].key_permissions

    def account(self, name: str) -> SimAccount:
        for a in self.accounts:
            if a.name == name:
                return a
        raise KeyError(name)

    def now_ms(self) -> int:
        """The exchange's clock: the simulator's clock plus any injected skew."""
        return self.clock.now_ms() + self.faults.clock_skew_ms

    # ---- HTTP ----------------------------------------------------------------------------
    def answer(self, path: str) -> Response:
        """One request as Binance would answer it, faults applied in the order they would
        strike: latency, IP ban and weight, injected 429 / 5xx, signature, then the body.
        A signed request then meets its own account's faults (one sub-account failing)."""
        faults = self.faults
        if faults.latency_s > 0:
            time.sleep(faults.latency_s)  # the exchange being slow, not test synchronisation
        route = self.routes.get(path)
        if route is None:
            return Response("Not Found", status=404)
        ip = request.remote_addr or "?"
        now = self.now_ms()
        if faults.ban_s > 0:
            self.limiter.ban(ip, now, faults.ban_s * 1000)
            faults.set(ban_s=0)
        used = self.limiter.charge(ip, path, now, request_weight(path, request.args))
        g.used_weight = used  # Binance sends the header on refusals too (the error handler)
        _strike(faults, used)
        account = self.accounts[0]
        if route.signed:
            header = request.headers.get("X-MBX-APIKEY")
            account = self._by_key.get(header or "", account)
            verify_signed_request(
                api_key_header=header,
                total_params=request.query_string.decode(),
                server_time_ms=now,
                api_key=account.api_key,
                api_secret=account.api_secret,
            )
            account.released.wait(STALL_LIMIT_S)
            if account.faults.latency_s > 0:
                time.sleep(account.faults.latency_s)  # this account's requests are slow
            _strike(account.faults, used)
            # interest and funding due by now (the funding paid is pushed on the user stream)
            self.user_data.settle(account, self.market.quote(), now)
        body = json.dumps(route.render(account))
        for f in (faults, account.faults) if route.signed else (faults,):
            if f.take("malformed"):
                body = "<html><body>upstream error</body></html>"
            elif f.take("truncated"):
                body = body[: len(body) // 2]
        response = Response(body, mimetype="application/json")
        response.headers[USED_WEIGHT_HEADER] = str(used)
        return response

    def listen_key(self, method: str) -> Response:
        """``POST`` / ``PUT`` / ``DELETE /papi/v1/listenKey``: USER_STREAM security, the API key
        header and no signature (Binance's "Endpoint Security Type"); weight 1; -1125 for a key
        that does not exist (``listen_keys.py``)."""
        faults = self.faults
        if faults.latency_s > 0:
            time.sleep(faults.latency_s)  # the exchange being slow, not test synchronisation
        ip = request.remote_addr or "?"
        now = self.now_ms()
        used = self.limiter.charge(ip, LISTEN_KEY_PATH, now)
        g.used_weight = used
        _strike(faults, used)
        header = request.headers.get("X-MBX-APIKEY")
        if not header:
            raise BinanceError(401, -2014, "API-key format invalid.")
        account = self._by_key.get(header)
        if account is None:
            raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        _strike(account.faults, used)
        key = request.values.get("listenKey") or None
        body = self.user_data.listen_key(account, method, key)
        response = Response(json.dumps(body), mimetype="application/json")
        response.headers[USED_WEIGHT_HEADER] = str(used)
        return response


def _strike(faults: Faults, used: int) -> None:
    """The counted faults that turn a request into an error answer."""
    if faults.take("rate_limit"):
        raise RateLimitError(
            429, -1003, "Too many requests (injected).", retry_after_s=30, used_weight=used
        )
    if faults.take("fail_5xx"):
        raise BinanceError(
            503, -1001, "Internal error; unable to process your request. Please try again."
        )


def _handler_for(simulator: Simulator) -> type[WSGIRequestHandler]:
    class Handler(WSGIRequestHandler):
        """Drops the connection with a TCP reset, before any answer, when a reset or an outage
        is injected: what a client sees when the exchange or a proxy in between goes away."""

        def run_wsgi(self) -> None:
            faults = simulator.faults
            if faults.outage or faults.take("reset"):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                self.connection.close()
                return
            super().run_wsgi()

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # quiet: the collector logs what matters

    return Handler


class SimulatorServer:
    """Serve a Simulator over real HTTP, and its mark-price websockets, in background threads
    (port 0 = any free port; the websockets take a free port of their own)."""

    def __init__(
        self,
        simulator: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        stream_interval_s: float = 1.0,
        watch_interval_s: float = 0.2,
    ) -> None:
        self.simulator = simulator
        self.requests = RequestLog()  # per-key request log, off until .recording (tests)
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            self.requests.wrap(build_app(simulator)),
            threaded=True,
            request_handler=_handler_for(simulator),
        )
        self.streams = MarkStreamServer(
            simulator.market.quote,
            simulator.now_ms,
            simulator.faults,
            host=host,
            interval_s=stream_interval_s,
            extra=UserStreams(simulator.user_data, simulator.now_ms, simulator.faults),
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="simulator-http", daemon=True
        )
        self._watching = threading.Event()
        self._watch_s = watch_interval_s
        self._watch = threading.Thread(target=self._watch_loop, name="simulator-watch", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self._server.host}:{self._server.server_port}"

    @property
    def um_stream_url(self) -> str:
        """Stands for ``wss://fstream.binance.com``."""
        return self.streams.base_url + UM_PREFIX

    @property
    def cm_stream_url(self) -> str:
        """Stands for ``wss://dstream.binance.com``."""
        return self.streams.base_url + CM_PREFIX

    @property
    def pm_stream_url(self) -> str:
        """Stands for ``wss://fstream.binance.com/pm``: the user data stream is
        ``pm_stream_url + "/ws/" + listenKey``."""
        return self.streams.base_url + PM_PATH

    def _watch_loop(self) -> None:
        """The exchange's own work between requests: carry, key expiry faults, risk watch."""
        while not self._watching.wait(self._watch_s):  # the exchange's pace, not a test wait
            self.simulator.user_data.watch()

    def start(self) -> SimulatorServer:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._thread.start()
        self.streams.start()
        self._watch.start()
        log.info("simulator listening on %s (streams %s)", self.base_url, self.streams.base_url)
        return self

    def stop(self) -> None:
        self._watching.set()
        self._watch.join(timeout=5)
        self.streams.stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
