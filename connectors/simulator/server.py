"""A Binance-compatible HTTP server on 127.0.0.1 that python-binance talks to unchanged.

Same paths, JSON shapes, string-encoded decimals, signature checks and error JSON as Binance.
Started in-process by ``pmdesk demo`` or standalone by ``pmdesk simulator``.
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
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.binance.limits import RETRY_AFTER_HEADER, USED_WEIGHT_HEADER
from connectors.simulated import SIMULATOR_HEADER
from connectors.simulator.auth import BinanceError, verify_signed_request
from connectors.simulator.book import PRESETS, AccountBook, dec
from connectors.simulator.clock import Clock, WallClock
from connectors.simulator.faults import Faults
from connectors.simulator.limiter import RateLimitError, WeightLimiter
from connectors.simulator.market import MarketModel
from connectors.simulator.params import (
    CM_BRACKETS,
    CM_SYMBOLS,
    COLLATERAL_TIERS,
    UM_BRACKETS,
    UM_SYMBOLS,
    TierRow,
)

log = logging.getLogger(__name__)

Json = dict[str, object] | list[dict[str, object]]

READ_ONLY_KEY: dict[str, object] = {
    "ipRestrict": True,
    "createTime": 1_700_000_000_000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": False,
}
"""What the simulator's key may do unless a test says otherwise: read, from listed IPs."""


@dataclass(frozen=True)
class Route:
    signed: bool
    render: Callable[[], Json]


class Simulator:
    """Market + one account book + the routes that render them."""

    def __init__(
        self,
        *,
        preset: str = "basis",
        clock: Clock | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        seed: int = 7,
        weight_limits: dict[str, int] | None = None,
    ) -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        self.clock = clock or WallClock()
        self.faults = Faults()
        self.limiter = WeightLimiter(weight_limits)
        self.key_permissions: dict[str, object] = dict(READ_ONLY_KEY)
        self.market = MarketModel(self.clock, seed=seed, frozen=lambda: self.faults.frozen_prices)
        self.book: AccountBook = PRESETS[preset](self.market.index_prices_usd())
        self.on_request: Callable[[str], None] = lambda path: None  # observer hook for tests
        self.api_key = api_key or secrets.token_hex(32)
        self.api_secret = api_secret or secrets.token_hex(32)
        self.routes: dict[str, Route] = {
            "/api/v3/time": Route(False, lambda: {"serverTime": self.now_ms()}),
            "/api/v3/ticker/price": Route(False, self._ticker_price),
            "/papi/v1/ping": Route(False, lambda: {}),
            "/fapi/v1/premiumIndex": Route(False, self._premium_index),
            "/dapi/v1/premiumIndex": Route(False, self._coin_premium_index),
            "/sapi/v1/portfolio/asset-index-price": Route(False, self._asset_index_price),
            "/papi/v1/account": Route(True, lambda: self._with_prices(self.book.account_json)),
            "/papi/v1/balance": Route(True, lambda: self._with_prices(self.book.balance_json)),
            "/papi/v1/um/positionRisk": Route(
                True, lambda: self._with_prices(self.book.um_position_risk_json)
            ),
            "/papi/v1/cm/positionRisk": Route(
                True, lambda: self._with_prices(self.book.cm_position_risk_json)
            ),
            "/papi/v1/um/account": Route(
                True, lambda: self._with_prices(self.book.um_account_json)
            ),
            "/papi/v1/cm/account": Route(
                True, lambda: self._with_prices(self.book.cm_account_json)
            ),
            "/papi/v1/um/leverageBracket": Route(True, self._um_brackets),
            "/papi/v1/cm/leverageBracket": Route(True, self._cm_brackets),
            "/sapi/v2/portfolio/collateralRate": Route(True, self._collateral_rates),
            "/sapi/v1/account/apiRestrictions": Route(True, lambda: dict(self.key_permissions)),
        }

    def now_ms(self) -> int:
        """The exchange's clock: the simulator's clock plus any injected skew."""
        return self.clock.now_ms() + self.faults.clock_skew_ms

    def _with_prices(self, render: Callable[[dict[str, float], int], Json]) -> Json:
        return render(self.market.index_prices_usd(), self.now_ms())

    def _ticker_price(self) -> Json:
        prices = self.market.index_prices_usd()
        rows: list[dict[str, object]] = [
            {"symbol": s, "price": dec(AccountBook.um_mark(s, prices))} for s in UM_SYMBOLS
        ]
        return _one_symbol_or_all(rows)

    def _coin_premium_index(self) -> Json:
        prices = self.market.index_prices_usd()
        now = self.now_ms()
        return [
            {
                "symbol": symbol,
                "pair": symbol.split("_")[0],
                "markPrice": dec(AccountBook.cm_mark(symbol, prices)),
                "indexPrice": dec(AccountBook.cm_mark(symbol, prices)),
                "estimatedSettlePrice": dec(AccountBook.cm_mark(symbol, prices)),
                "lastFundingRate": "0.00010000",
                "interestRate": "0.00010000",
                "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
                "time": now,
            }
            for symbol in CM_SYMBOLS
        ]

    def _premium_index(self) -> Json:
        prices = self.market.index_prices_usd()
        now = self.now_ms()
        rows: list[dict[str, object]] = []
        for symbol in UM_SYMBOLS:
            mark = AccountBook.um_mark(symbol, prices)
            rows.append(
                {
                    "symbol": symbol,
                    "markPrice": dec(mark),
                    "indexPrice": dec(mark),
                    "estimatedSettlePrice": dec(mark),
                    "lastFundingRate": "0.00010000",
                    "interestRate": "0.00010000",
                    "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
                    "time": now,
                }
            )
        return _one_symbol_or_all(rows)

    def _asset_index_price(self) -> Json:
        now = self.now_ms()
        return [
            {"asset": asset, "assetIndexPrice": dec(price), "time": now}
            for asset, price in self.market.index_prices_usd().items()
        ]

    @staticmethod
    def _brackets(
        tables: dict[str, tuple[TierRow, ...]], floor: str, cap: str, extra: dict[str, object]
    ) -> Json:
        return [
            {
                "symbol": symbol,
                **extra,
                "brackets": [
                    {
                        "bracket": i + 1,
                        "initialLeverage": int(row.leverage),
                        cap: int(row.cap),
                        floor: int(row.floor),
                        "maintMarginRatio": row.rate,
                        "cum": row.cum,
                    }
                    for i, row in enumerate(rows)
                ],
            }
            for symbol, rows in tables.items()
        ]

    def _um_brackets(self) -> Json:
        return self._brackets(UM_BRACKETS, "notionalFloor", "notionalCap", {"notionalCoef": "1.50"})

    def _cm_brackets(self) -> Json:
        return self._brackets(CM_BRACKETS, "qtyFloor", "qtyCap", {})

    def _collateral_rates(self) -> Json:
        return [
            {
                "asset": asset,
                "collateralInfo": [
                    {
                        "tierFloor": f"{row.floor:.4f}",
                        "tierCap": f"{row.cap:.4f}",
                        "collateralRate": f"{row.rate:.4f}",
                        "cum": f"{row.cum:.4f}",
                    }
                    for row in rows
                ],
            }
            for asset, rows in COLLATERAL_TIERS.items()
        ]

    # ---- HTTP ----------------------------------------------------------------------------
    def answer(self, path: str) -> Response:
        """One request as Binance would answer it, faults applied in the order they would
        strike: latency, IP ban and weight, injected 429 / 5xx, signature, then the body."""
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
        used = self.limiter.charge(ip, path, now)
        if faults.take("rate_limit"):
            raise RateLimitError(
                429, -1003, "Too many requests (injected).", retry_after_s=30, used_weight=used
            )
        if faults.take("fail_5xx"):
            raise BinanceError(
                503, -1001, "Internal error; unable to process your request. Please try again."
            )
        if route.signed:
            verify_signed_request(
                api_key_header=request.headers.get("X-MBX-APIKEY"),
                total_params=request.query_string.decode(),
                server_time_ms=now,
                api_key=self.api_key,
                api_secret=self.api_secret,
            )
        body = json.dumps(route.render())
        if faults.take("malformed"):
            body = "<html><body>upstream error</body></html>"
        elif faults.take("truncated"):
            body = body[: len(body) // 2]
        response = Response(body, mimetype="application/json")
        response.headers[USED_WEIGHT_HEADER] = str(used)
        return response

    def wsgi_app(self) -> Flask:
        app = Flask("pmdesk-simulator")

        @app.after_request
        def _mark_simulated(response: Response) -> Response:
            response.headers[SIMULATOR_HEADER] = "1"
            return response

        @app.errorhandler(BinanceError)
        def _binance_error(err: BinanceError) -> Response:
            response = Response(
                json.dumps(err.body()), err.http_status, mimetype="application/json"
            )
            if isinstance(err, RateLimitError):
                response.headers[RETRY_AFTER_HEADER] = str(err.retry_after_s)
                if err.used_weight:
                    response.headers[USED_WEIGHT_HEADER] = str(err.used_weight)
            return response

        @app.route("/<path:path>", methods=["GET"])
        def _dispatch(path: str) -> Response:
            self.on_request("/" + path)
            return self.answer("/" + path)

        return app


def _one_symbol_or_all(rows: list[dict[str, object]]) -> Json:
    """Binance's market-data shape: the row for ``?symbol=`` (-1121 if unknown), else all."""
    wanted = request.args.get("symbol")
    if wanted is None:
        return rows
    match = [r for r in rows if r["symbol"] == wanted]
    if not match:
        raise BinanceError(400, -1121, "Invalid symbol.")
    return match[0]


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
    """Serve a Simulator over real HTTP in a background thread (port 0 = any free port)."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._server: BaseWSGIServer = make_server(
            host, port, simulator.wsgi_app(), threaded=True, request_handler=_handler_for(simulator)
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="simulator-http", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self._server.host}:{self._server.server_port}"

    def start(self) -> SimulatorServer:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._thread.start()
        log.info("simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
