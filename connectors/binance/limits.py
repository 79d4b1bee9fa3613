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
from dataclasses import dataclass

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
CARRY_SLOTS = 5
"""The accounts of one collector read their carry in turns: account k's reads come
``k mod CARRY_SLOTS`` minutes after the others' (at start, every ``CARRY_REFRESH_S`` after, and
after each funding time), so a minute holds a fifth of them, not all (``carry_reads_in_minute``)."""


def family(path: str) -> str:
    """``/papi/v1/account`` → ``papi``."""
    return path.lstrip("/").split("/", 1)[0]


def weight_by_family(paths: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for path in paths:
        out[family(path)] = out.get(family(path), 0) + WEIGHTS.get(path, 1)
    return out


HOURLY_PATHS: frozenset[str] = at_cadence(Cadence.SLOW)
"""Leverage brackets, collateral tables, margin-asset leverage: read at a collector's start and
hourly after, so the worst minute holds one read of each per account."""

PERIODIC_PATHS: frozenset[str] = CARRY_PATHS | HOURLY_PATHS
"""Read less often than once a minute: the worst minute holds one read of each per account."""


def polls_in_minute(interval_s: float) -> int:
    """The most polls, one every ``interval_s``, that one calendar minute can hold (Binance
    counts weight per minute window), whatever their phase and a poll's small delay:
    floor(60 / interval) + 1. Every 2 s: 31; every 58 s: 2 in some minutes; every 60.1 s: 1."""
    return math.floor(60.0 / interval_s + 1e-9) + 1


ONE_A_MINUTE_S = 60.1
"""The shortest interval with one poll in every minute window (``polls_in_minute`` = 1)."""


def carry_reads_in_minute(accounts: int) -> int:
    """The most accounts whose carry reads one calendar minute can hold: two slots' worth (the
    accounts' polls drift apart by a few seconds, so two neighbouring slots can meet in one
    minute), never more than every account."""
    return min(accounts, 2 * math.ceil(accounts / CARRY_SLOTS))


def periodic_weight(periodic: Iterable[str], accounts: int) -> dict[str, int]:
    """The worst minute's weight of the reads made less often than once a minute: one read of
    each per account, the carry reads of ``carry_reads_in_minute`` accounts."""
    out: dict[str, int] = {}
    paths = frozenset(periodic)
    for group, count in (
        (paths - CARRY_PATHS, accounts),
        (paths & CARRY_PATHS, carry_reads_in_minute(accounts)),
    ):
        for fam, weight in weight_by_family(group).items():
            out[fam] = out.get(fam, 0) + weight * count
    return out


def min_poll_interval_s(
    paths: Iterable[str],
    accounts: int = 1,
    share: float = SHARE,
    besides: Iterable[str] = PERIODIC_PATHS,
) -> float:
    """The shortest period, a multiple of 0.1 s, at which ``accounts`` accounts, each reading
    ``paths`` once a cycle from one IP, stay within ``share`` of every family's budget in every
    minute window — with room left in the minute for the reads of ``besides`` (read every few
    minutes or hourly: ``periodic_weight``). Infinite when even one poll a minute does not fit
    (the accounts all reading at once)."""
    worst = 0.0
    extra = periodic_weight(besides, accounts)
    for fam, weight in weight_by_family(paths).items():
        per_minute = share * LIMITS_PER_MINUTE.get(fam, min(LIMITS_PER_MINUTE.values()))
        room = per_minute - extra.get(fam, 0)
        # The most a minute may hold, strictly under the share (the IP gate never lets a poll
        # reach it: app/collector/gate.py).
        polls = math.ceil(room / (weight * accounts) - 1e-9) - 1
        if polls < 1:
            return math.inf
        # polls_in_minute(I) <= polls  <=>  floor(60 / I) < polls  <=>  I > 60 / polls
        worst = max(worst, 60.0 / polls)
    return (math.floor(worst * 10.0 + 1e-9) + 1) / 10.0  # the next 0.1 s above


def planned_weight_per_minute(
    paths: Iterable[str],
    interval_s: float,
    accounts: int = 1,
    periodic: Iterable[str] = PERIODIC_PATHS,
) -> dict[str, float]:
    """The worst minute's weight by family: ``paths`` every ``interval_s`` (``polls_in_minute``
    reads of each) plus ``periodic_weight(periodic)``, for ``accounts`` accounts."""
    out: dict[str, float] = {}
    for fam, weight in weight_by_family(paths).items():
        out[fam] = out.get(fam, 0.0) + polls_in_minute(interval_s) * weight * accounts
    for fam, weight in periodic_weight(periodic, accounts).items():
        out[fam] = out.get(fam, 0.0) + weight
    return out


STREAM_PATHS: frozenset[str] = at_cadence(Cadence.STREAM)
"""The listenKey: one keep-alive per account every 30 minutes while its user stream is followed,
or a new key after a drop, so the worst minute holds one request per account (weight 1, its
registry row; https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams:
a key lives 60 minutes, a PUT extends it)."""


@dataclass(frozen=True)
class PollPlan:
    """How often ``accounts`` accounts on one IP read REST, within ``share`` of every budget.

    ``interval_s`` is the poll interval: every account's pace in poll-only mode, and the pace of
    an account whose user stream is down. It is planned as if every account polled at it, since
    one network cut drops every stream at once. ``reconcile_s`` (None without user streams) is
    how often a healthy account's REST reconciliation comes: the setting, or the poll interval
    when that is longer (the collector looks at each poll's tick, so reconciling more often than
    it ticks cannot happen)."""

    accounts: int
    asked_interval_s: float
    interval_s: float
    asked_reconcile_s: float | None
    reconcile_s: float | None
    per_minute: dict[str, float]  # the worst minute by family, every account at interval_s
    healthy_per_minute: dict[str, float] | None  # every stream healthy: reconciliations only
    asked_reconcile_per_minute: dict[str, float] | None = None  # at the asked reconcile interval
    fits: bool = True  # False: even one poll a minute each is past the share (see raised())

    @property
    def reconcile_after_s(self) -> float | None:
        """What the collector compares the time since an account's last poll with: the asked
        interval. When that is shorter than the poll interval every tick reconciles, which is
        ``reconcile_s``; handing it ``reconcile_s`` itself, equal to the tick, would make it
        skip every other tick whenever a poll started a few milliseconds late."""
        return self.asked_reconcile_s

    def raised(self) -> list[str]:
        """What was slowed down to fit, in words (for the log)."""
        out = []
        if not self.fits:
            out.append(
                f"{self.accounts} accounts on one IP cannot stay under half the API weight "
                "limit in a minute where they all read their hourly tables with a poll: "
                f"polling every {self.interval_s:.1f} s; the IP gate pauses polling when "
                "a family passes half (more IPs: several collectors on one PostgreSQL)"
            )
        elif self.interval_s > self.asked_interval_s:
            out.append(
                f"poll interval raised from {self.asked_interval_s:.1f} s to "
                f"{self.interval_s:.1f} s to stay under half the API weight limit "
                f"({self.accounts} accounts on one IP)"
            )
        asked, planned = self.asked_reconcile_s, self.reconcile_s
        if asked is not None and planned is not None and planned > asked:
            if self.asked_reconcile_per_minute is not None and over_share(
                self.asked_reconcile_per_minute
            ):
                why = (
                    f"{self.accounts} accounts reconciling every {asked:g} s would use more "
                    "than half the API weight limit"
                )
            else:
                why = "reconciliations come with the polls, no more often"
            out.append(
                f"reconcile interval raised from {asked:g} s to {planned:g} s (the poll "
                f"interval): {why}"
            )
        return out


def plan_polls(
    paths: Iterable[str],
    accounts: int,
    poll_interval_s: float,
    reconcile_interval_s: float | None = None,
    share: float = SHARE,
) -> PollPlan:
    """The poll interval (never under ``min_poll_interval_s``) and, with user streams
    (``reconcile_interval_s`` given), the reconciliation interval actually kept. With streams
    the listenKey's keep-alives count beside the carry reads."""
    streams = reconcile_interval_s is not None
    periodic = PERIODIC_PATHS | STREAM_PATHS if streams else PERIODIC_PATHS
    floor = min_poll_interval_s(paths, accounts, share, besides=periodic)
    fits = math.isfinite(floor)
    interval = max(poll_interval_s, floor if fits else ONE_A_MINUTE_S)
    reconcile = None if reconcile_interval_s is None else max(reconcile_interval_s, interval)
    return PollPlan(
        accounts=accounts,
        asked_interval_s=poll_interval_s,
        interval_s=interval,
        asked_reconcile_s=reconcile_interval_s,
        reconcile_s=reconcile,
        per_minute=planned_weight_per_minute(paths, interval, accounts, periodic),
        healthy_per_minute=(
            None
            if reconcile is None
            else planned_weight_per_minute(paths, reconcile, accounts, periodic)
        ),
        asked_reconcile_per_minute=(
            None
            if reconcile_interval_s is None
            else planned_weight_per_minute(paths, reconcile_interval_s, accounts, periodic)
        ),
        fits=fits,
    )


def share_of_limit(per_minute: dict[str, float]) -> dict[str, float]:
    """Each family's planned or used weight as a fraction of its per-minute limit."""
    return {
        fam: value / LIMITS_PER_MINUTE.get(fam, min(LIMITS_PER_MINUTE.values()))
        for fam, value in per_minute.items()
    }


def over_share(per_minute: dict[str, float], share: float = SHARE) -> bool:
    """Some family's weight a minute reaches ``share`` of its limit (the share is a ceiling
    never reached: the IP gate holds a poll that would)."""
    return any(v >= share - 1e-12 for v in share_of_limit(per_minute).values())
