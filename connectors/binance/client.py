"""Signed read-only REST through python-binance's ``Client``, unchanged but for its base URLs.

``ENDPOINTS`` maps each Binance path the collector reads to the python-binance call that reads it;
``fetch_payloads`` returns the raw JSON keyed by path, exactly what ``parse.snapshot_from_payloads``
takes and what ``pmdesk capture`` writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from binance.client import Client

from connectors.simulated import SIMULATOR_HEADER


def make_client(api_key: str, api_secret: str, base_url: str | None = None) -> Client:
    """A python-binance Client; with ``base_url`` every API family points at that host.

    ``ping=False`` avoids a request at construction, so pmdesk starts when the exchange is down.
    ``PAPI_URL`` is formatted with the TLD at call time; the others were formatted in ``__init__``,
    so all can be replaced on the instance.
    """
    client = Client(api_key, api_secret, ping=False)
    if base_url is not None:
        root = base_url.rstrip("/")
        client.API_URL = f"{root}/api"
        client.MARGIN_API_URL = f"{root}/sapi"
        client.FUTURES_URL = f"{root}/fapi"
        client.FUTURES_COIN_URL = f"{root}/dapi"
        client.PAPI_URL = f"{root}/papi"
    return client


def _asset_index_price(client: Client) -> object:
    # python-binance 1.0.37 has no named method for this market-data endpoint.
    return client._request_margin_api("get", "portfolio/asset-index-price", signed=False, data={})


ENDPOINTS: dict[str, Callable[[Client], object]] = {
    "/papi/v1/account": lambda c: c.papi_get_account(),
    "/papi/v1/balance": lambda c: c.papi_get_balance(),
    "/papi/v1/um/positionRisk": lambda c: c.papi_get_um_position_risk(),
    "/papi/v1/cm/positionRisk": lambda c: c.papi_get_cm_position_risk(),
    "/papi/v1/um/leverageBracket": lambda c: c.papi_get_um_leverage_bracket(),
    "/sapi/v2/portfolio/collateralRate": lambda c: c.margin_v2_get_portfolio_collateral_rate(),
    "/sapi/v1/portfolio/asset-index-price": _asset_index_price,
    "/fapi/v1/premiumIndex": lambda c: c.futures_mark_price(),
}


class EndpointError(Exception):
    """Reading one endpoint failed; ``__cause__`` is python-binance's or requests' exception."""

    def __init__(self, path: str, cause: Exception) -> None:
        super().__init__(f"{path}: {type(cause).__name__}")
        self.path = path
        self.cause = cause


@dataclass(frozen=True)
class Fetched:
    payloads: dict[str, object]
    simulated: bool


SLOW_PATHS = frozenset({"/papi/v1/um/leverageBracket", "/sapi/v2/portfolio/collateralRate"})
"""Exchange parameters that change by announcement, not by the second; the tiered collateral
rates alone weigh 50 per call. The collector reads them hourly, not every cycle."""


def fetch_payloads(client: Client, paths: frozenset[str] | None = None) -> Fetched:
    """Read every endpoint (or only ``paths``) once; the first failure raises EndpointError
    naming the path."""
    payloads: dict[str, object] = {}
    simulated = False
    for path, read in ENDPOINTS.items():
        if paths is not None and path not in paths:
            continue
        try:
            payloads[path] = read(client)
        except Exception as exc:
            raise EndpointError(path, exc) from exc
        response = client.response
        simulated |= response is not None and response.headers.get(SIMULATOR_HEADER) == "1"
    return Fetched(payloads, simulated)


def server_time_offset_ms(client: Client) -> int:
    """Exchange time minus this machine's wall clock (the clock python-binance signs with),
    measured at the midpoint of the request; set it as ``client.timestamp_offset``."""
    before = time.time()
    server_ms = int(client.get_server_time()["serverTime"])
    after = time.time()
    return server_ms - int((before + after) * 500)
