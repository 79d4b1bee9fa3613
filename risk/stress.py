"""Stress scenarios: the uniform grid, single-asset shocks, BTC-beta moves, basis breaks and
historical crash days, each valued with collateral tiers and brackets re-applied.

Historical magnitudes are open-to-low moves on the day as widely reported at the time (daily
OHLC of the BTC/USD and ETH/USD indices, and the market press named per preset). They were
written down from those reports and are NOT yet checked figure by figure against a stored
source: verification is an open point of issue 4. Presets to reason with, not forecasts.
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
        {"BTC": -0.39, "ETH": -0.43},
        -0.45,
        "BTC/USD ~7,900 → ~4,800 and ETH/USD ~194 → ~110 on 12 Mar 2020, as reported by the"
        " market press (unverified)",
    ),
    HistoricalCrash(
        "May 2021 crash",
        "2021-05-19",
        {"BTC": -0.30, "ETH": -0.40},
        -0.45,
        "BTC/USD ~42,900 → intraday ~30,000 and ETH/USD ~3,380 → ~1,900 on 19 May 2021, as"
        " reported by the market press (unverified)",
    ),
    HistoricalCrash(
        "FTX collapse",
        "2022-11-09",
        {"BTC": -0.16, "ETH": -0.20, "SOL": -0.45},
        -0.25,
        "BTC/USD ~18,500 → ~15,600 on 9 Nov 2022, SOL about −45 %, as reported by the market"
        " press (unverified)",
    ),
    HistoricalCrash(
        "Yen carry unwind",
        "2024-08-05",
        {"BTC": -0.15, "ETH": -0.22},
        -0.25,
        "BTC/USD ~58,100 → ~49,200 and ETH/USD ~2,690 → ~2,110 on 5 Aug 2024, as reported by"
        " the market press (unverified)",
    ),
    HistoricalCrash(
        "October 2025 liquidation cascade",
        "2025-10-10",
        {"BTC": -0.14, "ETH": -0.20, "SOL": -0.30, "XRP": -0.40},
        -0.40,
        "BTC/USD ~122,000 → ~104,700 on 10–11 Oct 2025, altcoins 30–70 % lower intraday,"
        " the largest liquidation day on record, as reported by the market press (unverified)",
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


def single_asset_name(asset: str, move: float) -> str:
    return f"{asset} {move:+.0%}"


def portfolio_scenarios(
    assets: tuple[str, ...],
    stable: tuple[bool, ...],
    betas: dict[str, float] | None = None,
) -> list[ScenarioSpec]:
    """The scenarios that move several prices at once: BTC-beta, basis breaks, historical
    crashes. Single-asset shocks (SINGLE_ASSET_SHOCKS of each asset) are read off the per-asset
    liquidation ladders, which value exactly those moves anyway."""
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
