"""Signed read-only REST through python-binance's ``Client``, unchanged but for its base URLs.

``ENDPOINTS`` maps each Binance path a cycle reads to the python-binance call that reads it, built
from the registry (``endpoints.REGISTRY``); ``fetch_payloads`` returns the raw JSON keyed by path,
exactly what ``parse.snapshot_from_payloads`` takes and what ``pmdesk capture`` writes. Every
failure leaves here as a typed ``errors.ExchangeError`` naming the path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from binance.client import Client as BinanceClient
from binance.exceptions import BinanceAPIException, BinanceRequestException
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from connectors.binance.endpoints import (
    API_RESTRICTIONS,
    ASSET_INDEX_PRICE,
    CM_INCOME,
    CM_LEVERAGE_BRACKET,
    COLLATERAL_RATE_FLAT,
    MARGIN_ASSET_LEVERAGE,
    MARGIN_INTEREST_HISTORY,
    REGISTRY,
    SERVER_TIME,
    UM_INCOME,
    UM_LEVERAGE_BRACKET,
    Cadence,
    at_cadence,
)
from connectors.binance.errors import (
    AUTH_CODES,
    CLOCK_SKEW_CODE,
    DEFAULT_RETRY_AFTER_S,
    AuthRejected,
    Banned,
    ClockSkew,
    ExchangeDown,
    ExchangeError,
    RateLimited,
)
from connectors.binance.limits import CARRY_PATHS, RETRY_AFTER_HEADER, USED_WEIGHT_HEADER, family
from connectors.binance.parse import FUNDING_FEE, KeyPermissions, parse_key_permissions
from connectors.simulated import SIMULATOR_HEADER
from risk.liabilities import FUNDING_LOOKBACK_MS, INTEREST_LOOKBACK_MS

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0
T = TypeVar("T")


def _wall_ms() -> float:
    return time.time() * 1000


class Client(BinanceClient):  # type: ignore[misc]  # python-binance has no type hints
    """python-binance's ``Client`` (the type callers hold), signing with a clock its owner may
    choose.

    python-binance stamps each signed request ``time.time() * 1000 + timestamp_offset`` and
    ``sync_clock`` sets that offset as the exchange's time minus the wall clock. A collector
    runs on a clock of its own (``use_clock``: the wall clock in production, a test's manual
    clock): the offset is kept as the exchange's time minus *that* clock and turned into
    python-binance's terms each time it is read, so the stamp is that clock plus the offset.
    On the wall clock it is python-binance's own stamp; on a manual clock a request sent
    seconds of wall time after the sync (a busy machine) is no longer stamped those seconds
    ahead of the exchange's frozen clock (-1021 from the simulator)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._clock_ms: Callable[[], float] = _wall_ms
        self._exchange_minus_clock_ms = 0.0
        super().__init__(*args, **kwargs)

    @property
    def timestamp_offset(self) -> float:
        """The exchange's time minus the wall clock, now (python-binance's terms)."""
        return self._clock_ms() + self._exchange_minus_clock_ms - _wall_ms()

    @timestamp_offset.setter
    def timestamp_offset(self, exchange_minus_wall_ms: float) -> None:
        self._exchange_minus_clock_ms = exchange_minus_wall_ms + _wall_ms() - self._clock_ms()

    @property
    def exchange_minus_clock_ms(self) -> float:
        """The exchange's time minus the signing clock (``use_clock``), as last measured."""
        return self._exchange_minus_clock_ms

    def use_clock(self, clock_ms: Callable[[], float]) -> None:
        """Sign with ``clock_ms`` from now on (the exchange's offset as measured so far kept)."""
        offset = self.timestamp_offset
        self._clock_ms = clock_ms
        self.timestamp_offset = offset


def make_client(
    api_key: str,
    api_secret: str,
    base_url: str | None = None,
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> Client:
    """A python-binance Client; with ``base_url`` every API family points at that host.

    ``ping=False`` avoids a request at construction, so pmdesk starts when the exchange is down.
    ``PAPI_URL`` is formatted with the TLD at call time; the others were formatted in ``__init__``,
    so all can be replaced on the instance.
    """
    client = Client(api_key, api_secret, requests_params={"timeout": timeout_s}, ping=False)
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


def _flat_collateral_rate(client: Client) -> object:
    # "Classic Portfolio Margin Collateral Rate" (MARKET_DATA, unsigned, weight 50); python-binance
    # names only the v2 (tiered) method.
    return client._request_margin_api("get", "portfolio/collateralRate", signed=False, data={})


def _margin_asset_leverage(client: Client) -> object:
    # PM Pro "Get Margin Asset Leverage" (USER_DATA, signed, weight 50): no python-binance method.
    return client._request_margin_api(
        "get", "portfolio/margin-asset-leverage", signed=True, data={}
    )


class IncompleteHistoryError(Exception):
    """A history endpoint still had rows after the last page pmdesk reads: what was read would
    under-count, so the figures it feeds are left unavailable."""


def exchange_now_ms(client: Client) -> int:
    """The exchange's clock as this client signs with it (wall clock + measured offset)."""
    return int(time.time() * 1000) + int(getattr(client, "timestamp_offset", 0) or 0)


INTEREST_PAGE_SIZE = 100  # the largest page ("size") the interest history serves
INTEREST_MAX_PAGES = 10  # one day of hourly charges for up to ~40 borrowed assets
INCOME_PAGE_LIMIT = 1000  # "limit" max of the income endpoints
INCOME_MAX_PAGES = 3  # 7 days of 8-hourly funding for up to ~140 perpetuals


def _interest_history(client: Client) -> object:
    """``GET /papi/v1/margin/marginInterestHistory`` (PM "Get Margin Borrow/Loan Interest
    History", USER_DATA, weight 1 a page; binance/binance-connector-js
    clients/derivatives-trading-portfolio-margin/src/rest-api/modules/account-api.ts): the last
    day's charges, newest first, every page joined into Binance's ``{rows, total}`` shape."""
    start = exchange_now_ms(client) - INTEREST_LOOKBACK_MS
    rows: list[object] = []
    total: object = None
    for current in range(1, INTEREST_MAX_PAGES + 1):
        page = client.papi_get_margin_interest_history(
            startTime=start, size=INTEREST_PAGE_SIZE, current=current
        )
        if not isinstance(page, Mapping) or not isinstance(page.get("rows"), list):
            return page  # not Binance's shape: parse says so
        batch = page["rows"]
        rows += batch
        total = page.get("total", total)
        read_all = isinstance(total, int) and len(rows) >= total
        if len(batch) < INTEREST_PAGE_SIZE or read_all:
            break
    return {"rows": rows, "total": total}


def _funding_income(path: str) -> Callable[[Client], object]:
    """``GET /papi/v1/um/income`` or ``/papi/v1/cm/income`` (USER_DATA, weight 30 a page; same
    source: "Get UM Income History", "Get CM Income History") with ``incomeType=FUNDING_FEE``
    over the last 7 days, every page joined into one list."""

    def read(client: Client) -> object:
        method = (
            client.papi_get_um_income_history
            if path == UM_INCOME
            else client.papi_get_cm_income_history
        )
        start = exchange_now_ms(client) - FUNDING_LOOKBACK_MS
        rows: list[object] = []
        for page in range(1, INCOME_MAX_PAGES + 1):
            batch = method(
                incomeType=FUNDING_FEE, startTime=start, limit=INCOME_PAGE_LIMIT, page=page
            )
            if not isinstance(batch, list):
                return batch
            rows += batch
            if len(batch) < INCOME_PAGE_LIMIT:
                return rows
        raise IncompleteHistoryError(f"{path}: more than {len(rows)} funding rows in 7 days")

    return read


_OWN_READERS: dict[str, Callable[[Client], object]] = {
    COLLATERAL_RATE_FLAT: _flat_collateral_rate,
    MARGIN_ASSET_LEVERAGE: _margin_asset_leverage,
    ASSET_INDEX_PRICE: _asset_index_price,
    MARGIN_INTEREST_HISTORY: _interest_history,
    UM_INCOME: _funding_income(UM_INCOME),
    CM_INCOME: _funding_income(CM_INCOME),
}
"""Paths read by a function of this module (paging, or no named python-binance method); every
other registry row is read by calling its ``reader`` method with no arguments."""


def _named(method: str) -> Callable[[Client], object]:
    def read(client: Client) -> object:
        return getattr(client, method)()

    return read


def _reader(path: str) -> Callable[[Client], object]:
    own = _OWN_READERS.get(path)
    return own if own is not None else _named(next(e.reader for e in REGISTRY if e.path == path))


ENDPOINTS: dict[str, Callable[[Client], object]] = {
    e.path: _reader(e.path) for e in REGISTRY if e.cadence in (Cadence.POLL, Cadence.SLOW)
}
"""Everything a cycle reads (the slow ones hourly). The key's permissions
(``/sapi/v1/account/apiRestrictions``) are read once at start, by ``read_key_permissions``; the
carry endpoints every few minutes (``CARRY_ENDPOINTS``)."""

CARRY_ENDPOINTS: dict[str, Callable[[Client], object]] = {
    e.path: _reader(e.path) for e in REGISTRY if e.cadence is Cadence.CARRY
}
"""Loans' interest charges and funding income (``limits.CARRY_PATHS``): read every few minutes,
by ``pmdesk capture`` and by the collector's carry refresh, never in the per-poll set. Any
failure other than a rate limit leaves the payload out: the figures it feeds read
"unavailable", the rest of the cycle goes on."""

SLOW_PATHS = at_cadence(Cadence.SLOW)
"""Exchange parameters that change by announcement, not by the second; each collateral table and
the margin-asset leverage weigh 50 per call. The collector reads them hourly, not every cycle
(and the brackets at once when a position in a new symbol appears)."""
BRACKET_PATHS = frozenset({UM_LEVERAGE_BRACKET, CM_LEVERAGE_BRACKET})
OPTIONAL_PATHS = frozenset(e.path for e in REGISTRY if e.optional)
"""Endpoints an account may refuse (a PM Pro endpoint on a PM account): a 4xx answer leaves the
payload out instead of failing the cycle. Rate limits (429/418) still fail it."""


@dataclass(frozen=True)
class Fetched:
    payloads: dict[str, object]
    simulated: bool
    used_weight: dict[str, int] = field(default_factory=dict)  # by API family, last header seen


# ---- python-binance's and requests' exceptions → errors.py's types ---------------------------
def retry_after_s(exc: BinanceAPIException) -> int:
    """The ``Retry-After`` header of a 429/418 answer (seconds), or a safe default."""
    response = getattr(exc, "response", None)
    raw = response.headers.get(RETRY_AFTER_HEADER) if response is not None else None
    if raw is not None and raw.strip().isdigit():
        return max(1, int(raw.strip()))
    return DEFAULT_RETRY_AFTER_S.get(int(exc.status_code), 60)


def from_exception(path: str | None, exc: BaseException) -> ExchangeError:
    """python-binance's, requests' or any other exception from reading ``path``, typed."""
    if isinstance(exc, ExchangeError):
        return exc
    if isinstance(exc, BinanceAPIException):
        return _from_answer(path, exc)
    if isinstance(exc, BinanceRequestException):
        return ExchangeError(path, "unreadable response from exchange")
    if isinstance(exc, requests.Timeout):
        return ExchangeDown(path, "exchange timed out")
    if isinstance(exc, requests.ConnectionError):
        return ExchangeDown(path, "exchange unreachable")
    return ExchangeError(path, type(exc).__name__)


def _from_answer(path: str | None, exc: BinanceAPIException) -> ExchangeError:
    status, code = int(exc.status_code), exc.code
    if status == 429:
        return RateLimited(path, retry_after_s(exc), code)
    if status == 418:
        return Banned(path, retry_after_s(exc), code)
    if code in AUTH_CODES:
        return AuthRejected(path, AUTH_CODES[code], code, status)
    if status >= 500:
        return ExchangeDown(path, f"exchange error HTTP {status}", code, status)
    if code == CLOCK_SKEW_CODE:
        return ClockSkew(path, f"exchange said: {exc.message}", code, status)
    return ExchangeError(path, f"exchange said: {exc.message}", code, status)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying at once: an exchange-side 5xx, a timeout, a reset connection or an
    unreadable (truncated, malformed) body. Never 4xx: 429/418 have their own handling and
    auth errors do not heal by repetition."""
    if isinstance(exc, BinanceAPIException):
        return int(exc.status_code) >= 500
    return isinstance(exc, BinanceRequestException | requests.Timeout | requests.ConnectionError)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter (tenacity) for transient failures."""

    attempts: int = 3
    max_wait_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep

    def retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=0.25, max=self.max_wait_s),
            sleep=self.sleep,
            reraise=True,
        )


def call(client: Client, path: str, read: Callable[[Client], T], policy: RetryPolicy) -> T:
    """One endpoint, with retries; the final failure raises a typed ``ExchangeError`` naming
    the path (``__cause__``: python-binance's or requests' exception)."""
    try:
        for attempt in policy.retrying():
            with attempt:
                return read(client)
    except Exception as exc:  # anything a read raises is typed here, at the edge
        raise from_exception(path, exc) from exc
    raise AssertionError("unreachable: tenacity either returns or re-raises")


def fetch_payloads(
    client: Client, paths: frozenset[str] | None = None, policy: RetryPolicy | None = None
) -> Fetched:
    """Read every endpoint, the carry ones included (or only ``paths``) once; the first failure
    raises an ``ExchangeError`` naming the path — except an optional endpoint the account
    refuses, and a carry endpoint that fails for any reason but a rate limit: those are left
    out. Records the used-weight header of each API family."""
    policy = policy or RetryPolicy()
    payloads: dict[str, object] = {}
    used: dict[str, int] = {}
    simulated = False
    for path, read in {**ENDPOINTS, **CARRY_ENDPOINTS}.items():
        if paths is not None and path not in paths:
            continue
        try:
            payloads[path] = call(client, path, read, policy)
        except ExchangeError as exc:
            if path in CARRY_PATHS and not isinstance(exc, RateLimited | Banned):
                log.info("%s unavailable this time (%s)", path, exc.message)
            elif path not in OPTIONAL_PATHS or not exc.refused:
                raise
        response = client.response
        if response is None:
            continue
        simulated |= response.headers.get(SIMULATOR_HEADER) == "1"
        header = response.headers.get(USED_WEIGHT_HEADER)
        if header is not None and header.isdigit():
            used[family(path)] = int(header)
    return Fetched(payloads, simulated, used)


def read_key_permissions(client: Client, policy: RetryPolicy | None = None) -> KeyPermissions:
    """What the client's key may do (``GET /sapi/v1/account/apiRestrictions``), parsed."""
    raw = call(
        client,
        API_RESTRICTIONS,
        lambda c: c.get_account_api_permissions(),
        policy or RetryPolicy(),
    )
    return parse_key_permissions({API_RESTRICTIONS: raw})


def server_time_offset_ms(client: Client) -> int:
    """Exchange time minus this machine's wall clock (the clock python-binance signs with),
    measured at the midpoint of the request; set it as ``client.timestamp_offset``."""
    before = time.time()
    server_ms = int(client.get_server_time()["serverTime"])
    after = time.time()
    return server_ms - int((before + after) * 500)


def sync_clock(client: Client, policy: RetryPolicy | None = None) -> None:
    """Measure the exchange's clock and sign with it from now on (``GET /api/v3/time``)."""
    client.timestamp_offset = call(
        client, SERVER_TIME, server_time_offset_ms, policy or RetryPolicy()
    )
