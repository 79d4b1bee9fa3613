"""The paths the simulator answers and what renders each: one row per Binance endpoint.

A ``Route`` is signed (the request must carry a valid key and signature; the body is rendered
from that key's account) or not (market data and published tables, the same for everyone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import request

from connectors.simulator import account_payloads, futures_payloads, history, market_data
from connectors.simulator.accounts import SimAccount
from connectors.simulator.auth import BinanceError
from connectors.simulator.book import AccountBook
from connectors.simulator.klines import KlineHistory
from connectors.simulator.market import MarketModel, Quote
from connectors.simulator.wire import Json

Render = Callable[[SimAccount], Json | list[list[object]]]  # klines are arrays


@dataclass(frozen=True)
class Route:
    signed: bool
    render: Render


NOT_PM_PRO = BinanceError(400, -21001, "Request ID is not a Portfolio Margin Pro account.")
"""Binance's answer to a PM Pro endpoint asked by an account of another type."""


def _margin_asset_leverage(account: SimAccount) -> Json:
    """``/sapi/v1/portfolio/margin-asset-leverage``: only an account whose hidden truth has a
    margin-asset leverage (a PM Pro account) answers; any other is refused with -21001."""
    rows = account_payloads.margin_asset_leverage_json(account.book)
    if rows is None:
        raise NOT_PM_PRO
    return rows


def _kline_routes(klines: KlineHistory, now_ms: Callable[[], int]) -> dict[str, Route]:
    """The kline endpoints: keyless, rendered from the request's own parameters."""

    def history(path: str) -> Route:
        return Route(False, lambda _a: klines.answer(path, request.args, now_ms()))

    return {path: history(path) for path in klines.paths}


def build_routes(
    market_model: MarketModel, now_ms: Callable[[], int], klines: KlineHistory | None = None
) -> dict[str, Route]:
    """Every path the simulator serves, rendered at the market's quote and the exchange's clock
    (``now_ms``, skew included) of the moment; the kline endpoints from ``klines``."""

    def priced(render: Callable[[AccountBook, Quote, int], Json]) -> Route:
        return Route(True, lambda a: render(a.book, market_model.quote(), now_ms()))

    def market(render: Callable[[Quote, int], Json]) -> Route:
        return Route(False, lambda _a: render(market_model.quote(), now_ms()))

    def unpriced(render: Callable[[], Json], *, signed: bool) -> Route:
        # No quote: reading one moves the random walk, and these answers need no price.
        return Route(signed, lambda _a: render())

    kline_routes = {} if klines is None else _kline_routes(klines, now_ms)
    return {
        **kline_routes,
        "/api/v3/time": unpriced(lambda: {"serverTime": now_ms()}, signed=False),
        "/api/v3/ticker/price": market(lambda q, _now: market_data.ticker_price(q)),
        "/papi/v1/ping": unpriced(lambda: {}, signed=False),
        "/fapi/v1/premiumIndex": market(market_data.premium_index),
        "/dapi/v1/premiumIndex": market(market_data.coin_premium_index),
        "/sapi/v1/portfolio/asset-index-price": market(market_data.asset_index_price),
        "/sapi/v1/portfolio/collateralRate": unpriced(
            market_data.flat_collateral_rates, signed=False
        ),
        "/papi/v1/account": priced(account_payloads.account_json),
        "/papi/v1/balance": priced(account_payloads.balance_json),
        "/papi/v1/um/positionRisk": priced(futures_payloads.um_position_risk_json),
        "/papi/v1/cm/positionRisk": priced(futures_payloads.cm_position_risk_json),
        "/papi/v1/um/account": priced(futures_payloads.um_account_json),
        "/papi/v1/cm/account": priced(futures_payloads.cm_account_json),
        "/papi/v1/um/leverageBracket": unpriced(market_data.um_brackets, signed=True),
        "/papi/v1/cm/leverageBracket": unpriced(market_data.cm_brackets, signed=True),
        "/sapi/v2/portfolio/collateralRate": unpriced(market_data.collateral_rates, signed=True),
        "/sapi/v1/portfolio/margin-asset-leverage": Route(True, _margin_asset_leverage),
        "/sapi/v1/account/apiRestrictions": Route(True, lambda a: dict(a.key_permissions)),
        "/papi/v1/margin/marginInterestHistory": Route(
            True, lambda a: history.interest_history(a.book, now_ms())
        ),
        "/papi/v1/um/income": Route(True, lambda a: history.income(a.book, "UM", now_ms())),
        "/papi/v1/cm/income": Route(True, lambda a: history.income(a.book, "CM", now_ms())),
    }
