"""Binance request weights and per-minute IP limits, and the poll interval they allow.

Weights are the "Request Weight" of each endpoint's documentation page (docs/binance-pm-notes.md,
"Endpoints" and "Limits and errors"); each API family (``/papi``, ``/sapi``, ``/fapi``, ``/dapi``,
``/api``) has its own per-IP, per-minute budget, reported back on every response in
``X-MBX-USED-WEIGHT-1M``. pmdesk plans to use at most ``SHARE`` of each budget, so a trader's own
bots on the same IP keep the other half. The simulator counts weight with the same table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from app.limits import LIMITS_PER_MINUTE as LIMITS_PER_MINUTE

USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
RETRY_AFTER_HEADER = "Retry-After"
SHARE = 0.5

WEIGHTS: dict[str, int] = {
    "/api/v3/time": 1,
    "/api/v3/ticker/price": 4,  # spot docs "Symbol price ticker": 2 with symbol, 4 without
    "/papi/v1/ping": 1,
    "/papi/v1/account": 20,
    "/papi/v1/balance": 20,  # all assets
    "/papi/v1/um/positionRisk": 5,
    "/papi/v1/cm/positionRisk": 1,
    "/papi/v1/um/account": 5,
    "/papi/v1/cm/account": 5,
    "/papi/v1/um/leverageBracket": 1,
    "/papi/v1/cm/leverageBracket": 1,
    "/sapi/v2/portfolio/collateralRate": 50,
    # "Classic Portfolio Margin Collateral Rate" (MARKET_DATA, unsigned): 50.
    "/sapi/v1/portfolio/collateralRate": 50,
    # PM Pro "Get Margin Asset Leverage" (USER_DATA, signed): 50; binance-connector-js
    # clients/derivatives-trading-portfolio-margin-pro, market-data-api.ts.
    "/sapi/v1/portfolio/margin-asset-leverage": 50,
    # Docs page "Query Portfolio Margin Asset Index Price": 1 with ``asset``, 50 without.
    "/sapi/v1/portfolio/asset-index-price": 50,
    "/sapi/v1/account/apiRestrictions": 1,
    # Docs pages "Mark Price" (USDⓈ-M): 1 with ``symbol``, 10 without; "Index Price and Mark
    # Price" (COIN-M): 10.
    "/fapi/v1/premiumIndex": 10,
    "/dapi/v1/premiumIndex": 10,
    # Carry (read every CARRY_REFRESH_S, not every poll). binance/binance-connector-js,
    # clients/derivatives-trading-portfolio-margin/src/rest-api/modules/account-api.ts:
    # "Get Margin Borrow/Loan Interest History" Weight(IP) 1; "Get UM Income History" and
    # "Get CM Income History" Weight(IP) 30 each.
    "/papi/v1/margin/marginInterestHistory": 1,
    "/papi/v1/um/income": 30,
    "/papi/v1/cm/income": 30,
}

CARRY_PATHS: frozenset[str] = frozenset(
    {"/papi/v1/margin/marginInterestHistory", "/papi/v1/um/income", "/papi/v1/cm/income"}
)
"""Loans' interest history and funding income: history, not state. The collector reads them every
``CARRY_REFRESH_S`` (and just after each 8-hourly funding time), never every poll."""
CARRY_REFRESH_S = 300.0


def family(path: str) -> str:
    """``/papi/v1/account`` → ``papi``."""
    return path.lstrip("/").split("/", 1)[0]


def weight_by_family(paths: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for path in paths:
        out[family(path)] = out.get(family(path), 0) + WEIGHTS.get(path, 1)
    return out


def min_poll_interval_s(
    paths: Iterable[str],
    accounts: int = 1,
    share: float = SHARE,
    besides: Iterable[str] = CARRY_PATHS,
) -> float:
    """The shortest period at which ``accounts`` accounts, each reading ``paths`` once a cycle
    from one IP, stay within ``share`` of every family's per-minute budget — with room left in
    the minute for one read of each of ``besides`` per account (the carry endpoints, read every
    few minutes: the worst minute holds one such read)."""
    worst = 0.0
    extra = weight_by_family(besides)
    for fam, weight in weight_by_family(paths).items():
        per_minute = share * LIMITS_PER_MINUTE.get(fam, min(LIMITS_PER_MINUTE.values()))
        room = per_minute - extra.get(fam, 0) * accounts
        if room <= 0:
            return math.inf
        worst = max(worst, 60.0 * weight * accounts / room)
    return math.ceil(worst * 10.0) / 10.0


def planned_weight_per_minute(
    paths: Iterable[str],
    interval_s: float,
    accounts: int = 1,
    periodic: Iterable[str] = CARRY_PATHS,
) -> dict[str, float]:
    """The worst minute's weight by family: ``paths`` every ``interval_s`` plus one read of each
    of ``periodic`` (read less often than once a minute), for ``accounts`` accounts."""
    out: dict[str, float] = {}
    for fam, weight in weight_by_family(paths).items():
        out[fam] = out.get(fam, 0.0) + 60.0 / interval_s * weight * accounts
    for fam, weight in weight_by_family(periodic).items():
        out[fam] = out.get(fam, 0.0) + weight * accounts
    return out
