"""A Binance-compatible HTTP server on 127.0.0.1 that python-binance talks to unchanged.

Same paths, JSON shapes, string-encoded decimals, signature checks and error JSON as Binance.
Started in-process by ``pmdesk demo`` or standalone by ``pmdesk simulator``.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

from connectors.simulated import SIMULATOR_HEADER
from connectors.simulator.auth import BinanceError, verify_signed_request
from connectors.simulator.book import PRESETS, AccountBook, dec
from connectors.simulator.clock import Clock, WallClock
from connectors.simulator.market import MarketModel
from connectors.simulator.params import COLLATERAL_TIERS, UM_BRACKETS, UM_SYMBOLS

log = logging.getLogger(__name__)

Json = dict[str, object] | list[dict[str, object]]


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
    ) -> None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        self.clock = clock or WallClock()
        self.market = MarketModel(self.clock, seed=seed)
        self.book: AccountBook = PRESETS[preset](self.market.index_prices_usd())
        self.on_request: Callable[[str], None] = lambda path: None  # observer hook for tests
        self.api_key = api_key or secrets.token_hex(32)
        self.api_secret = api_secret or secrets.token_hex(32)
        self.routes: dict[str, Route] = {
            "/api/v3/time": Route(False, lambda: {"serverTime": self.clock.now_ms()}),
            "/papi/v1/ping": Route(False, lambda: {}),
            "/fapi/v1/premiumIndex": Route(False, self._premium_index),
            "/sapi/v1/portfolio/asset-index-price": Route(False, self._asset_index_price),
            "/papi/v1/account": Route(True, lambda: self._with_prices(self.book.account_json)),
            "/papi/v1/balance": Route(True, lambda: self._with_prices(self.book.balance_json)),
            "/papi/v1/um/positionRisk": Route(
                True, lambda: self._with_prices(self.book.um_position_risk_json)
            ),
            "/papi/v1/cm/positionRisk": Route(True, lambda: []),
            "/papi/v1/um/leverageBracket": Route(True, self._um_brackets),
            "/sapi/v2/portfolio/collateralRate": Route(True, self._collateral_rates),
        }

    def _with_prices(self, render: Callable[[dict[str, float], int], Json]) -> Json:
        return render(self.market.index_prices_usd(), self.clock.now_ms())

    def _premium_index(self) -> Json:
        prices = self.market.index_prices_usd()
        now = self.clock.now_ms()
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
        wanted = request.args.get("symbol")
        if wanted is not None:
            match = [r for r in rows if r["symbol"] == wanted]
            if not match:
                raise BinanceError(400, -1121, "Invalid symbol.")
            return match[0]
        return rows

    def _asset_index_price(self) -> Json:
        now = self.clock.now_ms()
        return [
            {"asset": asset, "assetIndexPrice": dec(price), "time": now}
            for asset, price in self.market.index_prices_usd().items()
        ]

    def _um_brackets(self) -> Json:
        return [
            {
                "symbol": symbol,
                "notionalCoef": "1.50",
                "brackets": [
                    {
                        "bracket": i + 1,
                        "initialLeverage": int(row.leverage),
                        "notionalCap": int(row.cap),
                        "notionalFloor": int(row.floor),
                        "maintMarginRatio": row.rate,
                        "cum": row.cum,
                    }
                    for i, row in enumerate(rows)
                ],
            }
            for symbol, rows in UM_BRACKETS.items()
        ]

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
    def wsgi_app(self) -> Flask:
        app = Flask("pmdesk-simulator")

        @app.after_request
        def _mark_simulated(response: Response) -> Response:
            response.headers[SIMULATOR_HEADER] = "1"
            return response

        @app.errorhandler(BinanceError)
        def _binance_error(err: BinanceError) -> tuple[Response, int]:
            return jsonify(err.body()), err.http_status

        @app.route("/<path:path>", methods=["GET"])
        def _dispatch(path: str) -> Response:
            self.on_request("/" + path)
            route = self.routes.get("/" + path)
            if route is None:
                return Response("Not Found", status=404)
            if route.signed:
                verify_signed_request(
                    api_key_header=request.headers.get("X-MBX-APIKEY"),
                    total_params=request.query_string.decode(),
                    server_time_ms=self.clock.now_ms(),
                    api_key=self.api_key,
                    api_secret=self.api_secret,
                )
            return jsonify(route.render())

        return app


class SimulatorServer:
    """Serve a Simulator over real HTTP in a background thread (port 0 = any free port)."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._server: BaseWSGIServer = make_server(host, port, simulator.wsgi_app(), threaded=True)
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
