"""The stress and liquidation figures of a report, from one batch of price rows: the uniform
grid, single-asset shocks, portfolio scenarios, and the uniform and per-asset liquidation
moves; and what stands for them when the base figures are unknown (NaN, never "safe"). Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from risk.book import Book, IntArray
from risk.liquidation import LADDERS, liquidation_shocks
from risk.report_parts import (
    AssetLiquidation,
    LiquidationShock,
    ScenarioResult,
    SingleAssetStress,
    StressGrid,
)
from risk.rules import RiskRules
from risk.stress import GRID_PCT, SINGLE_ASSET_SHOCKS, portfolio_scenarios
from risk.tiers import FloatArray
from risk.valuation import BaseMargins, value_rows


@dataclass(frozen=True)
class StressFigures:
    grid: StressGrid
    single: SingleAssetStress
    scenarios: tuple[ScenarioResult, ...]
    uniform: LiquidationShock
    per_asset: tuple[AssetLiquidation, ...]


def stress_figures(book: Book, base: BaseMargins, rules: RiskRules) -> StressFigures:
    """One batch of price rows serves the stress grid, the scenario table and the liquidation
    scans: the uniform move's ladder is the grid, and each asset's ladder holds its single-asset
    shocks (±10/20/30 %)."""
    risky = np.nonzero(~book.stable)[0]
    n_risky = len(risky)
    specs = portfolio_scenarios(
        book.assets, tuple(bool(x) for x in book.stable), rules.betas_to_btc
    )
    column = {book.assets[a]: a for a in risky}
    # Directions: 0 uniform; 1..n_risky one asset each; then one per portfolio scenario.
    directions = np.zeros((1 + n_risky + len(specs), book.n_assets))
    directions[0, risky] = 1.0
    directions[1 + np.arange(n_risky), risky] = 1.0
    for k, spec in enumerate(specs, start=1 + n_risky):
        directions[k, risky] = spec.others
        for asset, move in spec.moves.items():
            if asset in column:
                directions[k, column[asset]] = move
    down, up = LADDERS[(-1.0, False)], LADDERS[(1.0, False)]
    per_asset_t = np.concatenate([-down, up])
    n_grid, n_specs, n_ladder = len(GRID_PCT), len(specs), len(per_asset_t)
    row_dir = np.concatenate(
        [
            np.zeros(n_grid, dtype=np.intp),
            1 + n_risky + np.arange(n_specs),
            np.repeat(1 + np.arange(n_risky), n_ladder),
        ]
    )
    row_t = np.concatenate([GRID_PCT / 100.0, np.ones(n_specs), np.tile(per_asset_t, n_risky)])
    premium = np.zeros(len(row_t))
    premium[n_grid : n_grid + n_specs] = [spec.premium for spec in specs]
    v = value_rows(book, base, directions, row_dir, row_t, premium)
    uni, equity, mm = v.uni_mmr(), v.equity_usd, v.mm_usd
    level = rules.liquidation_uni_mmr
    f = equity - level * mm

    grid = StressGrid(
        tuple(GRID_PCT.tolist()),
        tuple(uni[:n_grid].tolist()),
        tuple(equity[:n_grid].tolist()),
        tuple(mm[:n_grid].tolist()),
    )
    results = [
        ScenarioResult(spec.kind, spec.name, u, e, m, rules.band(u), spec.source)
        for spec, u, e, m in zip(
            specs,
            uni[n_grid : n_grid + n_specs].tolist(),
            equity[n_grid : n_grid + n_specs].tolist(),
            mm[n_grid : n_grid + n_specs].tolist(),
            strict=True,
        )
    ]
    ladder_start = n_grid + n_specs
    step_of = {round(float(t), 6): j for j, t in enumerate(per_asset_t)}
    columns = np.array([step_of[round(move, 6)] for move in SINGLE_ASSET_SHOCKS], dtype=np.intp)
    rows = ladder_start + np.arange(n_risky)[:, None] * n_ladder + columns[None, :]
    single = SingleAssetStress(
        tuple(round(100 * move) for move in SINGLE_ASSET_SHOCKS),
        tuple(book.assets[a] for a in risky),
        tuple(tuple(r) for r in uni[rows].tolist()),
    )

    # Liquidation problems: (direction, sign) for the uniform move and each asset.
    at = {pct: i for i, pct in enumerate(GRID_PCT.tolist())}
    known = {
        0: f[[at[-k] for k in range(1, 61)]],  # uniform, down: the grid's −1 % … −60 %
        1: f[[at[k] for k in range(1, 61)]],  # uniform, up: +1 % … +60 %
    }
    for k in range(n_risky):
        ladder = f[ladder_start + k * n_ladder : ladder_start + (k + 1) * n_ladder]
        known[2 + 2 * k] = ladder[: len(down)]
        known[3 + 2 * k] = ladder[len(down) :]
    problem_dir = np.repeat(np.arange(1 + n_risky), 2)
    problem_sign = np.tile([-1.0, 1.0], 1 + n_risky)
    shocks = liquidation_shocks(
        book, base, directions, problem_dir, problem_sign, problem_dir == 0, level, known
    )
    uniform, per_asset = _liquidation_figures(book, risky, shocks)
    return StressFigures(grid, single, tuple(results), uniform, per_asset)


def _liquidation_figures(
    book: Book, risky: IntArray, shocks: FloatArray
) -> tuple[LiquidationShock, tuple[AssetLiquidation, ...]]:
    def pct(x: float) -> float | None:
        return None if math.isnan(x) else 100.0 * x

    def price(p0: float, x: float) -> float | None:
        return None if math.isnan(x) else p0 * (1.0 + x)

    btc = book.assets.index("BTC") if "BTC" in book.assets else None
    btc_p = float(book.price_usd[btc]) if btc is not None and not book.stable[btc] else math.nan
    uniform = LiquidationShock(
        down_pct=pct(shocks[0]),
        up_pct=pct(shocks[1]),
        btc_down_price_usd=None if math.isnan(btc_p) else price(btc_p, shocks[0]),
        btc_up_price_usd=None if math.isnan(btc_p) else price(btc_p, shocks[1]),
    )
    per_asset = tuple(
        AssetLiquidation(
            book.assets[a],
            float(book.price_usd[a]),
            price(float(book.price_usd[a]), shocks[2 + 2 * k]),
            price(float(book.price_usd[a]), shocks[3 + 2 * k]),
            pct(shocks[2 + 2 * k]),
            pct(shocks[3 + 2 * k]),
        )
        for k, a in enumerate(risky)
    )
    return uniform, per_asset


def unknown_stress(book: Book) -> StressFigures:
    """What stands for the stress figures when the base figures are unknown: NaN, not "safe"."""
    risky = np.nonzero(~book.stable)[0]
    nan = math.nan
    n = len(GRID_PCT)
    return StressFigures(
        StressGrid(tuple(GRID_PCT.tolist()), (nan,) * n, (nan,) * n, (nan,) * n),
        SingleAssetStress(
            tuple(round(100 * m) for m in SINGLE_ASSET_SHOCKS),
            tuple(book.assets[a] for a in risky),
            tuple((nan,) * len(SINGLE_ASSET_SHOCKS) for _ in risky),
        ),
        (),
        LiquidationShock(nan, nan, None, None),
        tuple(
            AssetLiquidation(book.assets[a], float(book.price_usd[a]), None, None, nan, nan)
            for a in risky
        ),
    )
