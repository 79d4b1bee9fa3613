"""The simulator's Flask app: Binance's paths dispatched to ``Simulator.answer`` (and the
listenKey's POST / PUT / DELETE to ``Simulator.listen_key``), Binance's error JSON and headers, and
the simulator's own control endpoints under ``/_sim``: scenario, faults, and ``/_sim/user``
(actions on an account as a trader or Binance would; ``user_data.py``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Protocol

from flask import Flask, Response, g, request

from connectors.simulated import SIMULATOR_HEADER
from connectors.simulator.auth import BinanceError
from connectors.simulator.faults import Faults
from connectors.simulator.klines import KlineHistory
from connectors.simulator.klines import control as klines_control
from connectors.simulator.limiter import RateLimitError
from connectors.simulator.market import MarketModel
from connectors.simulator.scenarios import SCENARIOS
from connectors.simulator.user_data import UserData
from connectors.simulator.weights import LISTEN_KEY_PATH, RETRY_AFTER_HEADER, USED_WEIGHT_HEADER

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sim"
"""The simulator's own control endpoints (not Binance's): scenario and faults, unsigned."""


class Served(Protocol):
    """What the Flask app serves: the exchange's answers, its market and faults (the
    ``Simulator``)."""

    market: MarketModel
    faults: Faults
    on_request: Callable[[str], None]
    user_data: UserData
    klines: KlineHistory

    def answer(self, path: str) -> Response: ...

    def listen_key(self, method: str) -> Response: ...


def build_app(sim: Served) -> Flask:
    app = Flask("pmdesk-simulator")

    @app.after_request
    def _mark_simulated(response: Response) -> Response:
        response.headers[SIMULATOR_HEADER] = "1"
        return response

    @app.errorhandler(BinanceError)
    def _binance_error(err: BinanceError) -> Response:
        response = Response(json.dumps(err.body()), err.http_status, mimetype="application/json")
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
                sim.market.set_scenario(name)
            except ValueError as exc:
                return _control_error(str(exc))
            log.info("simulator: scenario %s", name)
        sc = sim.market.scenario
        return _json(
            {"scenario": sc.name, "description": sc.description, "available": list(SCENARIOS)}
        )

    @app.route(f"{CONTROL_PREFIX}/faults", methods=["GET", "POST"])
    def _faults() -> Response:
        """Inject faults by hand: ``POST …/faults?fail_5xx=3``; ``?clear=1`` clears all."""
        if request.method == "POST":
            try:
                if request.args.get("clear"):
                    sim.faults.clear()
                sim.faults.set(**sim.faults.parse(request.args, skip=frozenset({"clear"})))
            except ValueError as exc:
                return _control_error(str(exc))
        return _json(sim.faults.as_dict())

    @app.route(f"{CONTROL_PREFIX}/klines", methods=["GET", "POST"])
    def _klines() -> Response:
        """Kline listings and gaps: ``POST …/klines?listing=NEWUSDT&at=MS``,
        ``…/klines?gap=BTCUSDT&start=MS&end=MS`` (``klines.control``)."""
        if request.method == "POST":
            try:
                return _json(klines_control(sim.klines, request.args))
            except ValueError as exc:
                return _control_error(str(exc))
        return _json(sim.klines.as_dict())

    @app.route(f"{CONTROL_PREFIX}/user", methods=["GET"])
    def _user() -> Response:
        """The listenKeys, listeners, risk levels and the liquidation switch."""
        return _json(sim.user_data.as_dict())

    @app.route(f"{CONTROL_PREFIX}/user/<action>", methods=["POST"])
    def _user_action(action: str) -> Response:
        """Act on an account: ``POST …/user/fill?account=A&symbol=BTCUSDT&side=BUY&quantity=2``
        (``price`` = the mark unless given; ``venue`` um|cm|margin), ``…/transfer?asset=USDT
        &amount=1000&from=margin&to=um``, ``…/borrow`` / ``…/repay?asset=&amount=``,
        ``…/funding`` (paid now), ``…/check`` (the risk watch now), ``…/liquidation?on=1``
        (the exchange liquidates at uniMMR ≤ 1.05), ``…/adl?symbol=&quantity=`` (an ADL
        close), ``…/binance_view?uni_mmr=1.18`` (the exchange's own uniMMR set apart from the
        book's by an MM only it counts). Answers the events pushed."""
        args = request.args
        if action == "liquidation":
            sim.user_data.auto_liquidate = args.get("on", "1").lower() in {"1", "true", "on"}
            return _json(sim.user_data.as_dict())
        try:
            out = sim.user_data.act(action, args)
        except KeyError as exc:
            return _control_error(f"missing or unknown: {exc.args[0]}")
        except ValueError as exc:
            return _control_error(str(exc))
        log.info("simulator: %s on %s", action, args.get("account") or "the first account")
        return _json({"events": out})

    @app.route(LISTEN_KEY_PATH, methods=["POST", "PUT", "DELETE"])
    def _listen_key() -> Response:
        sim.on_request(LISTEN_KEY_PATH)
        return sim.listen_key(request.method)

    @app.route("/<path:path>", methods=["GET"])
    def _dispatch(path: str) -> Response:
        sim.on_request("/" + path)
        return sim.answer("/" + path)

    return app


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


def _control_error(message: str) -> Response:
    return _json({"error": message}, 400)
