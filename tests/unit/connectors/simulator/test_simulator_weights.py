"""Three tables of Binance's weights, held against each other: the connector's registry
(connectors/binance/endpoints.py, what pmdesk plans with), the simulator's own table
(connectors/simulator/weights.py, what the demo and the tests are charged), and a few figures
copied here by hand from Binance's documentation pages. A wrong weight on one side shows up
against the others; the simulator never imports the client's table."""

from __future__ import annotations

import pytest

from connectors.binance import limits as client
from connectors.binance.endpoints import BY_PATH, REGISTRY
from connectors.simulator import weights as simulator

DOCUMENTED: dict[str, tuple[int, str]] = {
    # path: ("Request Weight" on the page, as pmdesk calls it: no symbol / asset filter; page)
    "/papi/v1/um/positionRisk": (
        5,
        "https://developers.binance.com/docs/derivatives/portfolio-margin/account/"
        "Query-UM-Position-Information",
    ),
    "/papi/v1/cm/positionRisk": (
        1,
        "https://developers.binance.com/docs/derivatives/portfolio-margin/account/"
        "Query-CM-Position-Information",
    ),
    "/papi/v1/um/account": (
        5,
        "https://developers.binance.com/docs/derivatives/portfolio-margin/account/"
        "Get-UM-Account-Detail",
    ),
    "/papi/v1/cm/account": (
        5,
        "https://developers.binance.com/docs/derivatives/portfolio-margin/account/"
        "Get-CM-Account-Detail",
    ),
    "/papi/v1/um/leverageBracket": (
        1,
        "https://developers.binance.com/docs/derivatives/portfolio-margin/account/"
        "UM-Notional-and-Leverage-Brackets",
    ),
    "/papi/v1/cm/leverageBracket": (
        1,
        "https://developers.binance.com/docs/derivatives/portfolio-margin/account/"
        "CM-Notional-and-Leverage-Brackets",
    ),
    # "1 with asset, 50 without": pmdesk reads every asset.
    "/sapi/v1/portfolio/asset-index-price": (
        50,
        "https://developers.binance.com/docs/derivatives/portfolio-margin-pro/market-data/"
        "Query-Portfolio-Margin-Asset-Index-Price",
    ),
    # "Classic Portfolio Margin Collateral Rate (MARKET_DATA)", Weight(IP): 50.
    "/sapi/v1/portfolio/collateralRate": (
        50,
        "https://hexdocs.pm/binance/Binance.PortfolioMargin.html (generated from Binance's spec)",
    ),
}
"""Checked against the pages on 2026-11-30."""

SIMULATOR_ONLY = frozenset({"/papi/v1/ping"})
"""Served (and charged) by the simulator, never read by pmdesk."""


def test_every_endpoint_pmdesk_reads_weighs_the_same_in_the_simulator() -> None:
    differ = {
        e.path: (e.weight, simulator.WEIGHTS.get(e.path))
        for e in REGISTRY
        if simulator.WEIGHTS.get(e.path) != e.weight
    }
    assert not differ, f"registry vs simulator (path: (registry, simulator)): {differ}"
    assert set(simulator.WEIGHTS) - set(BY_PATH) == SIMULATOR_ONLY


def test_the_client_plans_with_the_registry() -> None:
    assert {e.path: e.weight for e in REGISTRY} == client.WEIGHTS


@pytest.mark.parametrize("path", sorted(DOCUMENTED))
def test_documented_weights(path: str) -> None:
    weight, page = DOCUMENTED[path]
    assert BY_PATH[path].weight == weight, page
    assert simulator.WEIGHTS[path] == weight, page


def test_limits_and_headers_agree() -> None:
    assert simulator.LIMITS_PER_MINUTE == client.LIMITS_PER_MINUTE
    assert simulator.USED_WEIGHT_HEADER == client.USED_WEIGHT_HEADER == "X-MBX-USED-WEIGHT-1M"
    assert simulator.RETRY_AFTER_HEADER == client.RETRY_AFTER_HEADER == "Retry-After"
    assert simulator.family("/papi/v1/account") == client.family("/papi/v1/account") == "papi"
