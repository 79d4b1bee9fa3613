"""Every Binance endpoint pmdesk reads, one row each: the one place to add an endpoint.

A row names the path, the python-binance ``Client`` method that reads it (``client.py`` calls it
by that name, unless it keeps a reader of its own for the path: paging, or no named method), the
request weight from the endpoint's documentation page (``docs``), its security type, its cadence
and whether an account may refuse it. Everything else derives from this table:
``client.ENDPOINTS`` / ``CARRY_ENDPOINTS`` / ``SLOW_PATHS`` / ``OPTIONAL_PATHS``,
``limits.WEIGHTS`` / ``CARRY_PATHS``, the path constants ``parse`` reads, and
``capture.KNOWN_PATHS``. The simulator keeps its own table of Binance's weights
(``connectors/simulator/weights.py``);
``tests/unit/connectors/simulator/test_simulator_weights.py`` holds the two against each
other and against figures copied from the documentation.

Pure data: no I/O, no python-binance import.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from risk.model import COLLATERAL_TABLE_PATH, FLAT, TIERED


class Security(StrEnum):
    """Binance's security type of an endpoint: signed (USER_DATA), not (MARKET_DATA), or the
    API-key header without a signature (USER_STREAM: the listenKey)."""

    USER_DATA = "USER_DATA"
    MARKET_DATA = "MARKET_DATA"
    USER_STREAM = "USER_STREAM"


class Cadence(StrEnum):
    POLL = "poll"  # every account poll
    CARRY = "carry"  # history, read every few minutes (``limits.CARRY_REFRESH_S``)
    SLOW = "slow"  # changes by announcement: read hourly (brackets also on a new symbol)
    START = "start"  # read once when a collector starts (clock, key permissions)
    STREAM = "stream"  # the user data stream's listenKey: at its start, kept alive every 30 min


@dataclass(frozen=True)
class Endpoint:
    path: str
    reader: str  # python-binance ``Client`` method (``client.py`` may keep its own for the path)
    weight: int  # "Request Weight" of the docs page, as pmdesk calls it (no symbol/asset filter)
    security: Security
    cadence: Cadence
    docs: str
    optional: bool = False  # an account may refuse it (4xx): left out, the cycle goes on

    @property
    def captured(self) -> bool:
        """``pmdesk capture`` writes it: every payload a cycle reads (not the start-up reads,
        not the listenKey)."""
        return self.cadence not in (Cadence.START, Cadence.STREAM)


_PM = "https://developers.binance.com/docs/derivatives/portfolio-margin"
_PM_PRO = "https://developers.binance.com/docs/derivatives/portfolio-margin-pro"

ACCOUNT = "/papi/v1/account"
BALANCE = "/papi/v1/balance"
UM_POSITION_RISK = "/papi/v1/um/positionRisk"
CM_POSITION_RISK = "/papi/v1/cm/positionRisk"
UM_ACCOUNT = "/papi/v1/um/account"
CM_ACCOUNT = "/papi/v1/cm/account"
UM_LEVERAGE_BRACKET = "/papi/v1/um/leverageBracket"
CM_LEVERAGE_BRACKET = "/papi/v1/cm/leverageBracket"
COLLATERAL_RATE_TIERED = COLLATERAL_TABLE_PATH[TIERED]  # "/sapi/v2/portfolio/collateralRate"
COLLATERAL_RATE_FLAT = COLLATERAL_TABLE_PATH[FLAT]  # "/sapi/v1/portfolio/collateralRate"
MARGIN_ASSET_LEVERAGE = "/sapi/v1/portfolio/margin-asset-leverage"
ASSET_INDEX_PRICE = "/sapi/v1/portfolio/asset-index-price"
UM_PREMIUM_INDEX = "/fapi/v1/premiumIndex"
CM_PREMIUM_INDEX = "/dapi/v1/premiumIndex"
TICKER_PRICE = "/api/v3/ticker/price"
MARGIN_INTEREST_HISTORY = "/papi/v1/margin/marginInterestHistory"
UM_INCOME = "/papi/v1/um/income"
CM_INCOME = "/papi/v1/cm/income"
SERVER_TIME = "/api/v3/time"
API_RESTRICTIONS = "/sapi/v1/account/apiRestrictions"
LISTEN_KEY = "/papi/v1/listenKey"

U, M, S = Security.USER_DATA, Security.MARKET_DATA, Security.USER_STREAM

REGISTRY: tuple[Endpoint, ...] = (
    # ---- every poll (in this order) --------------------------------------------------------
    Endpoint(
        ACCOUNT, "papi_get_account", 20, U, Cadence.POLL, f"{_PM}/account/Account-Information"
    ),
    # 20 for all assets (no ``asset``).
    Endpoint(BALANCE, "papi_get_balance", 20, U, Cadence.POLL, f"{_PM}/account/Account-Balance"),
    Endpoint(
        UM_POSITION_RISK,
        "papi_get_um_position_risk",
        5,
        U,
        Cadence.POLL,
        f"{_PM}/account/Query-UM-Position-Information",
    ),
    Endpoint(
        CM_POSITION_RISK,
        "papi_get_cm_position_risk",
        1,
        U,
        Cadence.POLL,
        f"{_PM}/account/Query-CM-Position-Information",
    ),
    Endpoint(
        UM_ACCOUNT,
        "papi_get_um_account",
        5,
        U,
        Cadence.POLL,
        f"{_PM}/account/Get-UM-Account-Detail",
    ),
    Endpoint(
        CM_ACCOUNT,
        "papi_get_cm_account",
        5,
        U,
        Cadence.POLL,
        f"{_PM}/account/Get-CM-Account-Detail",
    ),
    # ---- slow: exchange parameters ---------------------------------------------------------
    Endpoint(
        UM_LEVERAGE_BRACKET,
        "papi_get_um_leverage_bracket",
        1,
        U,
        Cadence.SLOW,
        f"{_PM}/account/UM-Notional-and-Leverage-Brackets",
    ),
    Endpoint(
        CM_LEVERAGE_BRACKET,
        "papi_get_cm_leverage_bracket",
        1,
        U,
        Cadence.SLOW,
        f"{_PM}/account/CM-Notional-and-Leverage-Brackets",
    ),
    Endpoint(
        COLLATERAL_RATE_TIERED,
        "margin_v2_get_portfolio_collateral_rate",
        50,
        U,
        Cadence.SLOW,
        f"{_PM_PRO}/market-data/Portfolio-Margin-Pro-Tiered-Collateral-Rate",
    ),
    # "Classic Portfolio Margin Collateral Rate": no named python-binance method.
    Endpoint(
        COLLATERAL_RATE_FLAT,
        "_request_margin_api",
        50,
        M,
        Cadence.SLOW,
        f"{_PM_PRO}/market-data/Classic-Portfolio-Margin-Collateral-Rate",
    ),
    # PM Pro "Get Margin Asset Leverage": a plain PM account may refuse it.
    Endpoint(
        MARGIN_ASSET_LEVERAGE,
        "_request_margin_api",
        50,
        U,
        Cadence.SLOW,
        f"{_PM_PRO}/market-data/Get-Margin-Asset-Leverage",
        optional=True,
    ),
    # ---- every poll: prices ----------------------------------------------------------------
    # 1 with ``asset``, 50 without (pmdesk reads all assets).
    Endpoint(
        ASSET_INDEX_PRICE,
        "_request_margin_api",
        50,
        M,
        Cadence.POLL,
        f"{_PM_PRO}/market-data/Query-Portfolio-Margin-Asset-Index-Price",
    ),
    # 1 with ``symbol``, 10 without.
    Endpoint(
        UM_PREMIUM_INDEX,
        "futures_mark_price",
        10,
        M,
        Cadence.POLL,
        "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/"
        "rest-api/Mark-Price",
    ),
    Endpoint(
        CM_PREMIUM_INDEX,
        "futures_coin_mark_price",
        10,
        M,
        Cadence.POLL,
        "https://developers.binance.com/docs/derivatives/coin-margined-futures/market-data/"
        "rest-api/Index-Price-and-Mark-Price",
    ),
    # "Symbol price ticker": 2 with ``symbol``, 4 without.
    Endpoint(
        TICKER_PRICE,
        "get_all_tickers",
        4,
        M,
        Cadence.POLL,
        "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/"
        "market-data-endpoints#symbol-price-ticker",
    ),
    # ---- carry: interest charged and funding paid (paged) ------------------------------------
    Endpoint(
        MARGIN_INTEREST_HISTORY,
        "papi_get_margin_interest_history",
        1,  # a page
        U,
        Cadence.CARRY,
        f"{_PM}/account/Get-Margin-Borrow-Loan-Interest-History",
    ),
    Endpoint(
        UM_INCOME,
        "papi_get_um_income_history",
        30,  # a page
        U,
        Cadence.CARRY,
        f"{_PM}/account/Get-UM-Income-History",
    ),
    Endpoint(
        CM_INCOME,
        "papi_get_cm_income_history",
        30,  # a page
        U,
        Cadence.CARRY,
        f"{_PM}/account/Get-CM-Income-History",
    ),
    # ---- once, at start ----------------------------------------------------------------------
    Endpoint(
        SERVER_TIME,
        "get_server_time",
        1,
        M,
        Cadence.START,
        "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/"
        "general-endpoints#check-server-time",
    ),
    Endpoint(
        API_RESTRICTIONS,
        "get_account_api_permissions",
        1,
        U,
        Cadence.START,
        "https://developers.binance.com/docs/wallet/account/api-key-permission",
    ),
    # ---- the user data stream (``listenkey.py``) ---------------------------------------------
    # POST (start), PUT (keep alive), DELETE (close) on one path, each "Weight: 1", USER_STREAM:
    # the API-key header, no signature (binance/binance-connector-js clients/derivatives-trading-
    # portfolio-margin/src/rest-api/modules/user-data-streams-api.ts: ``isSigned: false``;
    # python-binance 1.0.37 ``papi_stream_get_listen_key`` / ``_keepalive`` / ``_close``:
    # ``signed=False``). The reader named is the start; ``listenkey.py`` calls all three.
    Endpoint(
        LISTEN_KEY,
        "papi_stream_get_listen_key",
        1,
        S,
        Cadence.STREAM,
        f"{_PM}/user-data-streams/Start-User-Data-Stream",
    ),
)
"""Binance's weights, one row per endpoint; a path not listed weighs 1 (``limits.WEIGHTS``)."""

BY_PATH: dict[str, Endpoint] = {e.path: e for e in REGISTRY}
assert len(BY_PATH) == len(REGISTRY), "a path is listed twice"


def at_cadence(*cadences: Cadence) -> frozenset[str]:
    """The paths read at any of ``cadences``."""
    return frozenset(e.path for e in REGISTRY if e.cadence in cadences)


CAPTURED: tuple[str, ...] = tuple(e.path for e in REGISTRY if e.captured)
"""What ``pmdesk capture`` writes and reads back, in registry order."""
