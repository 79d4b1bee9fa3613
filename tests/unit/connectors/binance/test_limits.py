"""Weight arithmetic: what a cycle costs and how often it may run."""

from __future__ import annotations

from connectors.binance.client import ENDPOINTS, SLOW_PATHS
from connectors.binance.limits import (
    CARRY_PATHS,
    carry_reads_in_minute,
    family,
    min_poll_interval_s,
    polls_in_minute,
    weight_by_family,
)

FAST = frozenset(ENDPOINTS) - SLOW_PATHS


def test_cycle_weight_by_family() -> None:
    # papi: account 20 + balance 20 + um/positionRisk 5 + cm/positionRisk 1 + um/account 5
    # + cm/account 5 = 56; sapi: asset-index-price (all assets) 50; fapi and dapi
    # premiumIndex 10 each; api: ticker/price (all symbols) 4.
    assert weight_by_family(FAST) == {"papi": 56, "sapi": 50, "fapi": 10, "dapi": 10, "api": 4}
    # Hourly: UM and CM brackets 1 each; both collateral tables and the margin-asset leverage
    # 50 each. Every few minutes: interest history 1, UM income 30, CM income 30.
    assert weight_by_family(SLOW_PATHS) == {"papi": 2, "sapi": 150}
    assert weight_by_family(CARRY_PATHS) == {"papi": 61}
    assert family("/papi/v1/um/account") == "papi"


def test_a_calendar_minute_holds_one_poll_more_than_the_average() -> None:
    # Binance counts per minute window: polls every I s can put floor(60 / I) + 1 in one
    # (polls at 0.5 s and 58.5 s, 58 s apart, share a minute).
    assert polls_in_minute(2.0) == 31
    assert polls_in_minute(58.0) == 2
    assert polls_in_minute(60.0) == 2  # a late poll
    assert polls_in_minute(60.1) == 1
    assert polls_in_minute(6.7) == 9  # 60 / 6.7 = 8.96


def test_poll_interval_keeps_half_the_budget_in_every_minute() -> None:
    # papi binds: 56 a poll against half of 6,000, less room for one carry read (61) and one
    # hourly bracket read (2) per account in the minute. One account: (3,000 − 63) / 56 =
    # 52.4, so 52 polls a minute at most: floor(60 / I) + 1 ≤ 52 ⇔ I > 60 / 52 = 1.154 → 1.2 s.
    assert min_poll_interval_s(FAST) == 1.2
    # Five accounts on one IP read their carry in turns (CARRY_SLOTS = 5), so a minute holds
    # two accounts' carry (two neighbouring turns can meet), not five: (3,000 − 5 · 2 − 2 · 61)
    # / (5 · 56) = 2,868 / 280 = 10.24 → 10 polls, I > 60 / 10 = 6 → 6.1 s. (All five in one
    # minute, as before the turns, left 2,685 / 280 = 9.59 → 9 polls: 6.7 s.)
    assert carry_reads_in_minute(5) == 2
    assert min_poll_interval_s(FAST, accounts=5) == 6.1
    # Without the carry and hourly reads: 3,000 / 280 = 10.71 → 10 polls, I > 6 → 6.1 s.
    assert min_poll_interval_s(FAST, accounts=5, besides=()) == 6.1
    # sapi alone: 6,000 / 50 = 120 polls, but the 120th would reach half exactly (never
    # allowed): 119, I > 60 / 119 = 0.504 → 0.6 s.
    assert min_poll_interval_s({"/sapi/v1/portfolio/asset-index-price"}) == 0.6


def test_how_many_accounts_one_ip_takes() -> None:
    slow = SLOW_PATHS | CARRY_PATHS | {"/papi/v1/listenKey"}
    # 25 accounts: papi 25 · 56 + 25 · (2 + 1) + carry_reads_in_minute(25) = 10 carry reads · 61
    # = 1,400 + 75 + 610 = 2,085 (35 % of 6,000); sapi 25 · (50 + 150) = 5,000 (42 % of 12,000):
    # one poll a minute each (60.1 s).
    assert carry_reads_in_minute(25) == 10
    assert min_poll_interval_s(FAST, accounts=25, besides=slow) == 60.1
    # 29: sapi 29 · 150 = 4,350 leaves 1,650 >= 29 · 50 = 1,450: fits. 30: 30 · 150 = 4,500
    # leaves 1,500 = 30 · 50, which would reach half exactly: does not fit.
    assert min_poll_interval_s(FAST, accounts=29, besides=slow) == 60.1
    assert min_poll_interval_s(FAST, accounts=30, besides=slow) == float("inf")
