"""Binance request weights and per-minute IP limits, and the poll interval they allow.

Weights are the "Request Weight" of each endpoint's documentation page, kept in the registry
(``connectors/binance/endpoints.py``, each row with its link); each API family (``/papi``,
``/sapi``, ``/fapi``, ``/dapi``, ``/api``) has its own per-IP, per-minute budget, reported back on
every response in ``X-MBX-USED-WEIGHT-1M``. pmdesk plans to use at most ``SHARE`` of each budget,
so a trader's own bots on the same IP keep the other half. The simulator counts weight with its
own table (``connectors/simulator/weights.py``), held against this one by a test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from app.limits import LIMITS_PER_MINUTE as LIMITS_PER_MINUTE
from connectors.binance.endpoints import REGISTRY, Cadence, at_cadence

USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
RETRY_AFTER_HEADER = "Retry-After"
SHARE = 0.5

WEIGHTS: dict[str, int] = {e.path: e.weight for e in REGISTRY}
"""Weight of one request by path, from the registry (each row cites its docs page); a path not
listed weighs 1."""

CARRY_PATHS: frozenset[str] = at_cadence(Cadence.CARRY)
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
