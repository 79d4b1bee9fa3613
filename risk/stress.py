"""Stress scenarios: the uniform grid, single-asset shocks, BTC-beta moves, basis breaks and
historical crash days, each valued with collateral tiers and brackets re-applied.

Historical magnitudes are high-to-low moves of the crash as public reports give them; each
preset names its sources (secondary market reports found with the search tool; where they
disagree the larger intraday move is used, since liquidation happens intraday). Presets to
reason with, not forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GRID_PCT = np.arange(-60, 61)  # −60 % … +60 % in 1 % steps: 121 points
SINGLE_ASSET_SHOCKS = (-0.30, -0.20, -0.10, 0.10, 0.20, 0.30)
BASIS_BREAKS = (-0.05, -0.02, 0.02, 0.05)
BETA_BTC_MOVES = (-0.30, -0.15, 0.15, 0.30)


@dataclass(frozen=True)
class HistoricalCrash:
    name: str
    date: str
    moves: dict[str, float]  # asset → fractional move
    others: float  # move of every other non-stable asset
    source: str


HISTORICAL_CRASHES: tuple[HistoricalCrash, ...] = (
    HistoricalCrash(
        "Black Thursday",
        "2020-03-12",
        {"BTC": -0.46, "ETH": -0.55},
        -0.50,
        "BTC 7,300 → 3,900 across the two crashes of 12–13 Mar 2020 "
        "(blog.btcmex.com/black-thursday-what-actually-happened-to-bitcoin); "
        "ETH 200 → 90 (pastorq.com/8162.html)",
    ),
    HistoricalCrash(
        "May 2021 crash",
        "2021-05-19",
        {"BTC": -0.31, "ETH": -0.46},
        -0.45,
        "BTC low 30,201.90, −31.22 % from its 24 h high (ikablog.com/8199.html, citing Bitcoin "
        "Ticker); ETH down as much as 46 % (mtwwr.com/3541.html)",
    ),
    HistoricalCrash(
        "FTX collapse",
        "2022-11-09",
        {"BTC": -0.18, "ETH": -0.25, "SOL": -0.50},
        -0.25,
        "8–9 Nov 2022: BTC −18 %, ETH −25 % in two days, SOL −50 % in 36 hours, other top-10 "
        "coins −15 to −35 % (globelivemedia.com, citing CoinMarketCap)",
    ),
    HistoricalCrash(
        "Yen carry unwind",
        "2024-08-05",
        {"BTC": -0.15, "ETH": -0.21},
        -0.18,
        "BTC 58,350 → 49,513, ETH 2,695 → 2,118, BNB −17 %, DOT −22 % "
        "(cointrolly.com, from CoinChapter, 5 Aug 2024)",
    ),
    HistoricalCrash(
        "October 2025 liquidation cascade",
        "2025-10-10",
        {"BTC": -0.12, "ETH": -0.16, "SOL": -0.31, "XRP": -0.13},
        -0.40,
        "BTC 122,000 → below 107,000, ETH −16 %, some tokens −40 % "
        "(yellow.com/research/trump-100-china-tariff…); SOL −31 % (Coinglass, via "
        "spectropunk.com); XRP −13 % (coinfeather.com)",
    ),
)


@dataclass(frozen=True)
class ScenarioSpec:
    """One named price move: asset moves (others by ``others`` if non-stable) plus a basis."""

    kind: str
    name: str
    moves: dict[str, float] = field(default_factory=dict)
    others: float = 0.0
    premium: float = 0.0
    source: str = ""


def portfolio_scenarios(
    assets: tuple[str, ...],
    stable: tuple[bool, ...],
    betas: dict[str, float] | None = None,
) -> list[ScenarioSpec]:
    """The scenarios that move several prices at once: BTC-beta, basis breaks, historical
    crashes. Single-asset shocks (SINGLE_ASSET_SHOCKS of each asset, ``RiskReport.single_asset``)
    are read off the per-asset liquidation ladders, which value exactly those moves anyway."""
    risky = [a for a, s in zip(assets, stable, strict=True) if not s]
    specs: list[ScenarioSpec] = []
    beta = {a: 1.0 for a in risky} | (betas or {})
    beta["BTC"] = 1.0
    for move in BETA_BTC_MOVES:
        specs.append(
            ScenarioSpec(
                "beta",
                f"BTC {move:+.0%}, others by beta",
                {a: beta.get(a, 1.0) * move for a in risky},
            )
        )
    for premium in BASIS_BREAKS:
        specs.append(ScenarioSpec("basis", f"futures vs spot {premium:+.0%}", premium=premium))
    for crash in HISTORICAL_CRASHES:
        specs.append(
            ScenarioSpec(
                "historical",
                f"{crash.name} ({crash.date})",
                dict(crash.moves),
                crash.others,
                source=crash.source,
            )
        )
    return specs
