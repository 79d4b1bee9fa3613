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
