"""Planning many accounts on one IP: the poll interval, and with user streams the reconciliation
interval actually kept, both within half of every family's budget in every minute window.

Figures by hand from the registry's weights: a poll reads papi 56 (account 20, balance 20,
um/positionRisk 5, cm/positionRisk 1, um/account 5, cm/account 5), sapi 50, fapi 10, dapi 10,
api 4; the worst minute also holds one hourly read (papi 2 brackets, sapi 150 tables) per account
and the carry reads (papi 61: interest history 1, UM income 30, CM income 30) of two of the five
turns the accounts take (limits.carry_reads_in_minute: 2 · ceil(N / 5), at most N); with user
streams the listenKey's keep-alive adds papi 1 per account. A calendar minute can hold
floor(60 / I) + 1 polls every I s. papi's limit is 6,000 a minute, half of it 3,000, and a minute
must stay strictly under it (the IP gate never lets a poll reach it).
"""

from __future__ import annotations

import pytest

from connectors.binance.client import ENDPOINTS, SLOW_PATHS
from connectors.binance.limits import (
    STREAM_PATHS,
    over_share,
    plan_polls,
    share_of_limit,
    weight_by_family,
)

FAST = frozenset(ENDPOINTS) - SLOW_PATHS


def test_the_listen_key_weighs_one_on_papi() -> None:
    assert weight_by_family(STREAM_PATHS) == {"papi": 1}


def test_poll_only_25_accounts_poll_once_a_minute() -> None:
    # Carry: 10 of the 25 accounts in a minute (2 · ceil(25 / 5)). (3,000 − 25 · 2 − 10 · 61)
    # / (25 · 56) = 2,340 / 1,400 = 1.67: one poll a minute each, so floor(60 / I) = 0:
    # I > 60 s → 60.1 s.
    plan = plan_polls(FAST, 25, 2.0)
    assert plan.interval_s == 60.1 and plan.fits
    assert plan.reconcile_s is None and plan.healthy_per_minute is None
    # The worst minute: 1,400 + 50 + 610 = 2,060 papi (34.3 %); sapi 25 · 50 + 25 · 150 = 5,000.
    assert plan.per_minute["papi"] == pytest.approx(2_060)
    assert plan.per_minute["sapi"] == pytest.approx(5_000)
    assert not over_share(plan.per_minute)
    assert plan.raised() == [
        "poll interval raised from 2.0 s to 60.1 s to stay under half the API weight limit "
        "(25 accounts on one IP)"
    ]


def test_25_streamed_accounts_reconcile_slower_than_asked() -> None:
    # Reconciling every 30 s: 3 polls in some minute (floor(60 / 30) + 1) · 1,400 + 25 · 3
    # + 10 · 61 = 4,200 + 75 + 610 = 4,885 > 3,000: too much.
    plan = plan_polls(FAST, 25, 2.0, reconcile_interval_s=30.0)
    assert plan.asked_reconcile_per_minute is not None
    assert plan.asked_reconcile_per_minute["papi"] == pytest.approx(4_885)
    assert over_share(plan.asked_reconcile_per_minute)
    # With the keep-alives: (3,000 − 685) / 1,400 = 1.65: one poll a minute, 60.1 s; the worst
    # minute 1,400 + 685 = 2,085 (34.75 %).
    assert plan.interval_s == 60.1 and plan.reconcile_s == 60.1 and plan.fits
    assert plan.healthy_per_minute is not None
    assert plan.healthy_per_minute["papi"] == pytest.approx(2_085)
    assert share_of_limit(plan.healthy_per_minute)["papi"] == pytest.approx(0.3475)
    assert not over_share(plan.healthy_per_minute)
    lines = plan.raised()
    assert len(lines) == 2
    assert lines[1] == (
        "reconcile interval raised from 30 s to 60.1 s (the poll interval): 25 accounts "
        "reconciling every 30 s would use more than half the API weight limit"
    )


def test_30_accounts_do_not_fit_and_say_so() -> None:
    # sapi binds: 30 · 150 (hourly tables) = 4,500 leaves 1,500 of 6,000 — exactly one poll of
    # all 30 (30 · 50), which would reach half: even one poll a minute is too much in the
    # minute they all read their hourly tables.
    plan = plan_polls(FAST, 30, 2.0, reconcile_interval_s=30.0)
    assert not plan.fits
    assert plan.interval_s == 60.1  # one poll a minute; the IP gate holds the rest
    assert over_share(plan.per_minute)
    assert plan.raised()[0].startswith(
        "30 accounts on one IP cannot stay under half the API weight limit"
    )
    assert plan_polls(FAST, 29, 2.0, reconcile_interval_s=30.0).fits


def test_five_streamed_accounts_keep_the_30_s_reconciliation() -> None:
    # Poll floor: (3,000 − 5 · 3 − 2 · 61) / 280 = 2,863 / 280 = 10.2 → 10 polls,
    # I > 60 / 10 = 6 → 6.1 s. Reconciling every 30 s: 3 polls in some minute · 280 + 15 + 122
    # = 977 papi (16.3 %).
    plan = plan_polls(FAST, 5, 2.0, reconcile_interval_s=30.0)
    assert plan.interval_s == 6.1
    assert plan.reconcile_s == 30.0
    assert plan.healthy_per_minute is not None
    assert share_of_limit(plan.healthy_per_minute)["papi"] == pytest.approx(977 / 6_000)
    assert plan.raised() == [
        "poll interval raised from 2.0 s to 6.1 s to stay under half the API weight limit "
        "(5 accounts on one IP)"
    ]


def test_a_reconciliation_never_comes_more_often_than_the_poll() -> None:
    # One account, poll every 60 s (asked), reconcile every 30 s: the collector looks only at
    # its poll's tick, so 60 s; not for weight (3 · 56 + 64 = 232 a minute, 3.9 %).
    plan = plan_polls(FAST, 1, 60.0, reconcile_interval_s=30.0)
    assert plan.interval_s == 60.0 and plan.reconcile_s == 60.0
    assert plan.raised() == [
        "reconcile interval raised from 30 s to 60 s (the poll interval): reconciliations "
        "come with the polls, no more often"
    ]


def test_one_account_asks_nothing_raised() -> None:
    plan = plan_polls(FAST, 1, 2.0, reconcile_interval_s=30.0)
    assert (plan.interval_s, plan.reconcile_s, plan.raised()) == (2.0, 30.0, [])


def test_the_collector_is_handed_the_asked_reconcile_interval() -> None:
    # Raised to the tick (60.1 s), the reconciliation comes every tick: the collector compares
    # with the asked 30 s, never with 60.1 s (a poll started 1 ms late would skip a tick).
    plan = plan_polls(FAST, 25, 2.0, reconcile_interval_s=30.0)
    assert plan.reconcile_s == 60.1 and plan.reconcile_after_s == 30.0
    assert plan_polls(FAST, 25, 2.0).reconcile_after_s is None
