"""Weight arithmetic: what a cycle costs and how often it may run."""

from __future__ import annotations

from connectors.binance.client import ENDPOINTS, SLOW_PATHS
from connectors.binance.limits import (
    CARRY_PATHS,
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
    # Five accounts on one IP: (3,000 − 5 · 63) / (5 · 56) = 2,685 / 280 = 9.59 → 9 polls,
    # I > 60 / 9 = 6.67 → 6.7 s (at 6.3 s a minute could hold 10: 10 · 280 + 315 = 3,115).
    assert min_poll_interval_s(FAST, accounts=5) == 6.7
    # Without the carry and hourly reads: 3,000 / 280 = 10.7 → 10 polls, I > 6 → 6.1 s.
    assert min_poll_interval_s(FAST, accounts=5, besides=()) == 6.1
    # sapi alone: 6,000 / 50 = 120 polls, I > 0.5 → 0.6 s.
    assert min_poll_interval_s({"/sapi/v1/portfolio/asset-index-price"}) == 0.6
    # 26 accounts: 26 · 63 = 1,638 leaves 1,362, under one poll of all 26 (1,456): never fits.
    assert min_poll_interval_s(FAST, accounts=26) == float("inf")
