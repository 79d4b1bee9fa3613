"""Weight arithmetic: what a cycle costs and how often it may run."""

from __future__ import annotations

from connectors.binance.client import ENDPOINTS, SLOW_PATHS
from connectors.binance.limits import family, min_poll_interval_s, weight_by_family

FAST = frozenset(ENDPOINTS) - SLOW_PATHS


def test_cycle_weight_by_family() -> None:
    # papi: account 20 + balance 20 + um/positionRisk 5 + cm/positionRisk 1 + um/account 5
    # + cm/account 5 = 56; sapi: asset-index-price (all assets) 50; fapi and dapi
    # premiumIndex 10 each; api: ticker/price (all symbols) 4.
    assert weight_by_family(FAST) == {"papi": 56, "sapi": 50, "fapi": 10, "dapi": 10, "api": 4}
    assert family("/papi/v1/um/account") == "papi"


def test_poll_interval_keeps_half_the_budget() -> None:
    # papi binds: 56 a cycle against half of 6,000 a minute, less room for one carry read per
    # account in the minute (interest history 1 + UM income 30 + CM income 30 = 61):
    # 60 · 56 / (3,000 − 61) = 1.143 s, rounded up to 1.2 s; five accounts on one IP:
    # 60 · 56 · 5 / (3,000 − 5 · 61) = 16,800 / 2,695 = 6.234 s → 6.3 s.
    assert min_poll_interval_s(FAST) == 1.2
    assert min_poll_interval_s(FAST, accounts=5) == 6.3
    # Without the carry reads it would be 60 · 56 · 5 / 3,000 = 5.6 s.
    assert min_poll_interval_s(FAST, accounts=5, besides=()) == 5.6
    # sapi alone: 60 · 50 / 6,000 = 0.5 s.
    assert min_poll_interval_s({"/sapi/v1/portfolio/asset-index-price"}) == 0.5
