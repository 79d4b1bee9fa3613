"""The simulator's OWN table of Binance's published request weights, per-minute IP limits and
header names, written from Binance's documentation — deliberately not imported from the client
(``connectors/binance/limits.py``), so a wrong weight on one side shows up against the other.
See docs/architecture.md ("never import" rules).

Sources (each endpoint's "Request Weight" line):
- https://developers.binance.com/docs/derivatives/portfolio-margin/general-info
  (``X-MBX-USED-WEIGHT-1M`` on every response; 429 then 418 with ``Retry-After``)
- https://developers.binance.com/docs/derivatives/portfolio-margin/account (``/papi/v1/...``)
- https://developers.binance.com/docs/derivatives/portfolio-margin/market-data and
  .../derivatives/portfolio-margin-pro (``/sapi/v1|v2/portfolio/...``)
- https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price,
  .../coin-margined-futures/market-data/rest-api/Index-Price-and-Mark-Price (``premiumIndex``)
- https://developers.binance.com/docs/binance-spot-api-docs/rest-api (``/api/v3/...``, limits)
"""

from __future__ import annotations

from collections.abc import Mapping

USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
RETRY_AFTER_HEADER = "Retry-After"

WEIGHTS: dict[str, int] = {
    "/api/v3/time": 1,
    "/api/v3/ticker/price": 4,  # "Symbol price ticker": 2 with symbol, 4 without
    "/papi/v1/ping": 1,
    "/papi/v1/account": 20,
    "/papi/v1/balance": 20,  # without ``asset``
    "/papi/v1/um/positionRisk": 5,
    "/papi/v1/cm/positionRisk": 1,
    "/papi/v1/um/account": 5,
    "/papi/v1/cm/account": 5,
    "/papi/v1/um/leverageBracket": 1,
    "/papi/v1/cm/leverageBracket": 1,
    "/sapi/v2/portfolio/collateralRate": 50,
    "/sapi/v1/portfolio/collateralRate": 50,  # "Classic Portfolio Margin Collateral Rate"
    "/sapi/v1/portfolio/margin-asset-leverage": 50,  # PM Pro "Get Margin Asset Leverage"
    "/sapi/v1/portfolio/asset-index-price": 50,  # 1 with ``asset``, 50 without
    "/sapi/v1/account/apiRestrictions": 1,
    "/fapi/v1/premiumIndex": 10,  # 1 with ``symbol``, 10 without
    "/dapi/v1/premiumIndex": 10,
    "/papi/v1/margin/marginInterestHistory": 1,
    "/papi/v1/um/income": 30,
    "/papi/v1/cm/income": 30,
    # "Start / Keepalive / Close User Data Stream (USER_STREAM)": POST / PUT / DELETE, each
    # "Request Weight 1": https://developers.binance.com/docs/derivatives/portfolio-margin/
    # user-data-streams/Start-User-Data-Stream (and …/Keepalive-User-Data-Stream,
    # …/Close-User-Data-Stream).
    "/papi/v1/listenKey": 1,
}
"""Weight of one request, by path; a path not listed weighs 1."""

LIMITS_PER_MINUTE: dict[str, int] = {
    "papi": 6_000,
    "sapi": 12_000,
    "fapi": 2_400,
    "dapi": 2_400,
    "api": 6_000,
}
"""Per-IP request-weight limit of each API family, per minute."""


LISTEN_KEY_PATH = "/papi/v1/listenKey"


def family(path: str) -> str:
    """``/papi/v1/account`` → ``papi``."""
    return path.lstrip("/").split("/", 1)[0]


SPOT_KLINES = "/api/v3/klines"
FUTURES_KLINES = frozenset(
    {
        "/fapi/v1/klines",
        "/fapi/v1/markPriceKlines",
        "/fapi/v1/indexPriceKlines",
        "/dapi/v1/klines",
        "/dapi/v1/markPriceKlines",
        "/dapi/v1/indexPriceKlines",
    }
)


def kline_weight(path: str, limit: int) -> int:
    """A kline request's weight. Spot ``/api/v3/klines``: 2 ("Kline/Candlestick data", Weight 2:
    https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints,
    as generated in https://hexdocs.pm/binance_spot_rest/BinanceSpotRest.Endpoints.MarketData.Klines.Query.html).
    Futures klines, mark- and index-price klines: by ``limit``, [1,100) 1, [100,500) 2,
    [500,1000] 5, above 1000 10 (USDS-M: .../usds-margined-futures/market-data/rest-api/
    Kline-Candlestick-Data, Mark-Price-Kline-Candlestick-Data, Index-Price-Kline-Candlestick-Data;
    COIN-M: .../coin-margined-futures/market-data/rest-api/ Mark-Price-Kline-Candlestick-Data,
    Index-Price-Kline-Candlestick-Data, all under https://developers.binance.com/docs/derivatives)."""
    if path == SPOT_KLINES:
        return 2
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    return 5 if limit <= 1000 else 10


def request_weight(path: str, args: Mapping[str, str]) -> int:
    """One request's weight: a kline request by its ``limit`` (default 500), any other by
    ``WEIGHTS`` (1 when not listed)."""
    if path == SPOT_KLINES or path in FUTURES_KLINES:
        raw = args.get("limit", "500")
        return kline_weight(path, int(raw) if raw.isdigit() else 500)
    return WEIGHTS.get(path, 1)
