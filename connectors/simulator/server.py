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
from dataclasses import dataclass, field

from flask import Flask, Response, g, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.simulated import SIMULATOR_HEADER
from connectors.simulator.auth import BinanceError, verify_signed_request
from connectors.simulator.book import PRESETS, AccountBook, dec
from connectors.simulator.clock import Clock, WallClock
from connectors.simulator.faults import Faults
from connectors.simulator.limiter import RateLimitError, WeightLimiter
from connectors.simulator.market import (
    BASIS_SD,
    DEFAULT_ASSETS,
    FUNDING_HOURS_MS,
    INTEREST_RATE,
    JUMPS_PER_DAY,
    QUIET_BASIS_SD,
    MarketModel,
    Quote,
    funding_rate,
    still_assets,
)
from connectors.simulator.params import (
    CM_BRACKETS,
    CM_SYMBOLS,
    COLLATERAL_TIERS,
    UM_BRACKETS,
    UM_SYMBOLS,
    TierRow,
)
from connectors.simulator.scenarios import SCENARIOS
from connectors.simulator.streams import CM_PREFIX, UM_PREFIX, MarkStreamServer
from connectors.simulator.truth import FLAT_COLLATERAL
from connectors.simulator.weights import RETRY_AFTER_HEADER, USED_WEIGHT_HEADER

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


@dataclass
class SimAccount:
    """One account the simulator serves, found by the API key of a signed request."""

    name: str
    api_key: str
    api_secret: str
    book: AccountBook
    key_permissions: dict[str, object] = field(default_factory=lambda: dict(READ_ONLY_KEY))
    faults: Faults = field(default_factory=Faults)  # hit this account's signed requests only
    # Cleared: this account's signed requests hang (up to STALL_LIMIT_S) until it is set again —
    # one sub-account's requests stuck at the exchange while the others' go through.
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.released.set()


Render = Callable[[SimAccount], Json]
STALL_LIMIT_S = 60.0


@dataclass(frozen=True)
class Route:
    signed: bool
    render: Render


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

        def priced(render: Callable[[AccountBook], Callable[[Quote, int], Json]]) -> Render:
            return lambda a: render(a.book)(self.market.quote(), self.now_ms())

        def market_data(render: Callable[[], Json]) -> Route:
            return Route(False, lambda _a: render())

        self.routes: dict[str, Route] = {
            "/api/v3/time": market_data(lambda: {"serverTime": self.now_ms()}),
            "/api/v3/ticker/price": market_data(self._ticker_price),
            "/papi/v1/ping": market_data(lambda: {}),
            "/fapi/v1/premiumIndex": market_data(self._premium_index),
            "/dapi/v1/premiumIndex": market_data(self._coin_premium_index),
            "/sapi/v1/portfolio/asset-index-price": market_data(self._asset_index_price),
            "/sapi/v1/portfolio/collateralRate": market_data(self._flat_collateral_rates),
            "/papi/v1/account": Route(True, priced(lambda b: b.account_json)),
            "/papi/v1/balance": Route(True, priced(lambda b: b.balance_json)),
            "/papi/v1/um/positionRisk": Route(True, priced(lambda b: b.um_position_risk_json)),
            "/papi/v1/cm/positionRisk": Route(True, priced(lambda b: b.cm_position_risk_json)),
            "/papi/v1/um/account": Route(True, priced(lambda b: b.um_account_json)),
            "/papi/v1/cm/account": Route(True, priced(lambda b: b.cm_account_json)),
            "/papi/v1/um/leverageBracket": Route(True, lambda _a: self._um_brackets()),
            "/papi/v1/cm/leverageBracket": Route(True, lambda _a: self._cm_brackets()),
            "/sapi/v2/portfolio/collateralRate": Route(True, lambda _a: self._collateral_rates()),
            "/sapi/v1/portfolio/margin-asset-leverage": Route(True, _margin_asset_leverage),
            "/sapi/v1/account/apiRestrictions": Route(True, lambda a: dict(a.key_permissions)),
            "/papi/v1/margin/marginInterestHistory": Route(True, self._interest_history),
            "/papi/v1/um/income": Route(True, lambda a: self._income(a, "UM")),
            "/papi/v1/cm/income": Route(True, lambda a: self._income(a, "CM")),
        }

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

    def _ticker_price(self) -> Json:
        q = self.market.quote()
        rows: list[dict[str, object]] = [
            {"symbol": s, "price": dec(q.index(s))} for s in UM_SYMBOLS
        ]
        return _one_symbol_or_all(rows)

    def _premium_index(self) -> Json:
        q, now = self.market.quote(), self.now_ms()  # one moment for every row
        return _one_symbol_or_all([premium_index_row(s, q, now) for s in UM_SYMBOLS])

    def _coin_premium_index(self) -> Json:
        q, now = self.market.quote(), self.now_ms()
        return [
            {"pair": symbol.split("_")[0], **premium_index_row(symbol, q, now)}
            for symbol in CM_SYMBOLS
        ]

    def _asset_index_price(self) -> Json:
        now = self.now_ms()
        return [
            {"asset": asset, "assetIndexPrice": dec(price), "time": now}
            for asset, price in self.market.quote().index_usd.items()
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

    def _interest_history(self, account: SimAccount) -> Json:
        """``GET /papi/v1/margin/marginInterestHistory`` as Binance documents it: newest first;
        no times → the last 7 days; ``startTime`` alone → from it to now, at most 30 days;
        ``endTime`` alone → the 7 days before it; ``current`` (1-based) and ``size`` (default
        10, at most 100) page it; ``{"rows": [...], "total": n}``."""
        now = self.now_ms()
        start, end = _ms_arg("startTime"), _ms_arg("endTime")
        if start is None and end is None:
            start, end = now - 7 * DAY_MS, now
        elif end is None:
            start, end = max(start or 0, now - 30 * DAY_MS), now
        elif start is None:
            start = end - 7 * DAY_MS
        asset = request.args.get("asset")
        rows = [
            r
            for r in account.book.interest_rows
            if start <= _row_time(r, "interestAccuredTime") <= end
            and (asset is None or r["asset"] == asset)
        ]
        rows.sort(key=lambda r: _row_time(r, "interestAccuredTime"), reverse=True)
        size = min(max(_int_arg("size", 10), 1), 100)
        current = max(_int_arg("current", 1), 1)
        return {"rows": rows[(current - 1) * size : current * size], "total": len(rows)}

    def _income(self, account: SimAccount, venue: str) -> Json:
        """``GET /papi/v1/um/income`` / ``/papi/v1/cm/income``: oldest first; no times → the
        last 7 days (UM) or 200 days (CM); filtered by ``symbol`` and ``incomeType``;
        ``page`` (1-based) and ``limit`` (default 100, at most 1000) page it."""
        now = self.now_ms()
        start, end = _ms_arg("startTime"), _ms_arg("endTime")
        default_days = 7 if venue == "UM" else 200
        if end is None:
            end = now
        if start is None:
            start = end - default_days * DAY_MS
        symbol, kind = request.args.get("symbol"), request.args.get("incomeType")
        rows = [
            r
            for r in account.book.income_rows[venue]
            if start <= _row_time(r, "time") <= end
            and (symbol is None or r["symbol"] == symbol)
            and (kind is None or r["incomeType"] == kind)
        ]
        rows.sort(key=lambda r: _row_time(r, "time"))
        limit = min(max(_int_arg("limit", 100), 1), 1000)
        page = max(_int_arg("page", 1), 1)
        return rows[(page - 1) * limit : page * limit]

    @staticmethod
    def _flat_collateral_rates() -> Json:
        """``/sapi/v1/portfolio/collateralRate`` ("Classic Portfolio Margin Collateral Rate")."""
        return [
            {"asset": asset, "collateralRate": f"{rate:.4f}"}
            for asset, rate in FLAT_COLLATERAL.items()
        ]

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
        used = self.limiter.charge(ip, path, now)
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
            account.book.settle(self.market.quote(), now)  # interest and funding due by now
        body = json.dumps(route.render(account))
        for f in (faults, account.faults) if route.signed else (faults,):
            if f.take("malformed"):
                body = "<html><body>upstream error</body></html>"
            elif f.take("truncated"):
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
            elif "used_weight" in g:
                response.headers[USED_WEIGHT_HEADER] = str(g.used_weight)
            return response

        @app.route(f"{CONTROL_PREFIX}/scenario", methods=["GET", "POST"])
        def _scenario() -> Response:
            """Switch the market's scenario at run time: ``POST …/scenario?name=crash``."""
            name = request.args.get("name")
            if request.method == "POST":
                if name is None:
                    return _control_error("give the scenario: ?name=" + "|".join(SCENARIOS))
                try:
                    self.market.set_scenario(name)
                except ValueError as exc:
                    return _control_error(str(exc))
                log.info("simulator: scenario %s", name)
            sc = self.market.scenario
            return _json(
                {"scenario": sc.name, "description": sc.description, "available": list(SCENARIOS)}
            )

        @app.route(f"{CONTROL_PREFIX}/faults", methods=["GET", "POST"])
        def _faults() -> Response:
            """Inject faults by hand: ``POST …/faults?fail_5xx=3``; ``?clear=1`` clears all."""
            if request.method == "POST":
                try:
                    if request.args.get("clear"):
                        self.faults.clear()
                    self.faults.set(**self.faults.parse(request.args, skip=frozenset({"clear"})))
                except ValueError as exc:
                    return _control_error(str(exc))
            return _json(self.faults.as_dict())

        @app.route("/<path:path>", methods=["GET"])
        def _dispatch(path: str) -> Response:
            self.on_request("/" + path)
            return self.answer("/" + path)

        return app


NOT_PM_PRO = BinanceError(400, -21001, "Request ID is not a Portfolio Margin Pro account.")
"""Binance's answer to a PM Pro endpoint asked by an account of another type."""


def _margin_asset_leverage(account: SimAccount) -> Json:
    """``/sapi/v1/portfolio/margin-asset-leverage``: only an account whose hidden truth has a
    margin-asset leverage (a PM Pro account) answers; any other is refused with -21001."""
    rows = account.book.margin_asset_leverage_json()
    if rows is None:
        raise NOT_PM_PRO
    return rows


DAY_MS = 86_400_000


def _row_time(row: dict[str, object], key: str) -> int:
    t = row.get(key)
    return t if isinstance(t, int) else 0


def _ms_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return int(raw)


def _int_arg(name: str, default: int) -> int:
    value = _ms_arg(name)
    return default if value is None else value


def premium_index_row(symbol: str, q: Quote, now_ms: int) -> dict[str, object]:
    """One row of ``/fapi/v1/premiumIndex`` (and, with ``pair``, ``/dapi/v1/premiumIndex``)."""
    return {
        "symbol": symbol,
        "markPrice": dec(q.mark(symbol)),
        "indexPrice": dec(q.index(symbol)),
        "estimatedSettlePrice": dec(q.index(symbol)),
        "lastFundingRate": dec(funding_rate(q.basis[symbol])),
        "interestRate": dec(INTEREST_RATE),
        "nextFundingTime": (now_ms // FUNDING_HOURS_MS + 1) * FUNDING_HOURS_MS,
        "time": now_ms,
    }


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


CONTROL_PREFIX = "/_sim"
"""The simulator's own control endpoints (not Binance's): scenario and faults, unsigned."""


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _control_error(message: str) -> Response:
    return _json({"error": message}, 400)


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
    """Serve a Simulator over real HTTP, and its mark-price websockets, in background threads
    (port 0 = any free port; the websockets take a free port of their own)."""

    def __init__(
        self,
        simulator: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        stream_interval_s: float = 1.0,
    ) -> None:
        self.simulator = simulator
        self._server: BaseWSGIServer = make_server(
            host, port, simulator.wsgi_app(), threaded=True, request_handler=_handler_for(simulator)
        )
        self.streams = MarkStreamServer(
            simulator.market.quote,
            simulator.now_ms,
            simulator.faults,
            host=host,
            interval_s=stream_interval_s,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="simulator-http", daemon=True
        )

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

    def start(self) -> SimulatorServer:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._thread.start()
        self.streams.start()
        log.info("simulator listening on %s (streams %s)", self.base_url, self.streams.base_url)
        return self

    def stop(self) -> None:
        self.streams.stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
