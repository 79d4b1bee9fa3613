"""Time a full ``evaluate`` against a bare numpy bracket-MM kernel over the same book.

Prints figures and their ratio (same run, same machine); no pass/fail. Book: 300 USDⓈ-M
positions over 60 assets, each asset with a spot balance, tiered and flat collateral and 12
brackets, loans in 10 assets, and Binance's own figures for the account and every position — so
the evaluation includes calibration (table choice, loan MMR implied by Binance's MM) and the
reconciliation, as every poll does.

Measured twice: with the allocator setting every pmdesk process applies at start
(``app/allocator.py``), then in a child process with glibc's defaults, for comparison.

    .venv/bin/python -m bench.bench_risk
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from app.allocator import keep_freed_memory
from risk import RiskRules, evaluate
from risk.book import compile_book
from risk.model import (
    AccountSnapshot,
    AssetBalance,
    Bracket,
    CollateralTier,
    MarketState,
    ReportedAccount,
    ReportedPositionMargin,
    UmPosition,
)

N_ASSETS = 60
N_POSITIONS = 300
REPEATS = 200


def brackets() -> tuple[Bracket, ...]:
    floors = [0, 5e4, 2.5e5, 1e6, 5e6, 2e7, 5e7, 1e8, 2e8, 3e8, 5e8, 8e8]
    ratios = [0.004, 0.005, 0.01, 0.025, 0.05, 0.1, 0.125, 0.15, 0.25, 0.3, 0.4, 0.5]
    out: list[Bracket] = []
    cum = 0.0
    for i, (f, r) in enumerate(zip(floors, ratios, strict=True)):
        if i:
            cum += f * (r - ratios[i - 1])
        cap = floors[i + 1] if i + 1 < len(floors) else 1.2e9
        out.append(Bracket(f, cap, r, cum, 1.0))
    return tuple(out)


def book() -> tuple[AccountSnapshot, MarketState]:
    rng = np.random.default_rng(1)
    assets = [f"A{i:02d}" for i in range(N_ASSETS)]
    prices = {a: float(p) for a, p in zip(assets, rng.uniform(0.5, 50_000, N_ASSETS), strict=True)}
    prices["USDT"] = 1.0
    table = brackets()
    positions = []
    for k in range(N_POSITIONS):
        a = assets[k % N_ASSETS]
        qty = float(rng.normal(0, 2e5)) / prices[a]
        positions.append(
            UmPosition(f"{a}USDT{k}", "BOTH", qty, prices[a], prices[a], 0.0, a, "USDT")
        )
    balances = [
        AssetBalance(
            a,
            float(rng.uniform(0, 1e5)) / prices[a],
            float(rng.uniform(0, 1e4)) / prices[a] if i < 10 else 0.0,  # loans in 10 assets
            0,
            0,
            0,
            0,
            0,
        )
        for i, a in enumerate(assets)
    ]
    balances.append(AssetBalance("USDT", 1e6, 0, 0, 0, 0, 0, 0))
    tiers = (CollateralTier(0, 1e6, 0.95, 0), CollateralTier(1e6, 1e12, 0.9, 1e6 * 0.05))
    flat = (CollateralTier(0, float("inf"), 0.92, 0),)
    market = MarketState(
        index_price_usd=prices,
        mark_price={p.symbol: p.mark_price for p in positions},
        # One table object per symbol, as parse.py builds them (no sharing to exploit).
        um_brackets={p.symbol: tuple(list(table)) for p in positions},
        collateral_tiers={a: tiers for a in [*assets, "USDT"]},
        collateral_flat={a: flat for a in [*assets, "USDT"]},
    )
    snapshot = AccountSnapshot(tuple(balances), tuple(positions))
    # Binance's own figures, as the account would report them (here: pmdesk's own at an 8 %
    # loan MMR, so calibration has something to find).
    truth = evaluate(snapshot, market, RiskRules(default_loan_mmr=0.08))
    reported = ReportedAccount(
        uni_mmr=truth.uni_mmr,
        account_equity_usd=truth.adjusted_equity_usd,
        actual_equity_usd=truth.actual_equity_usd,
        account_maint_margin_usd=truth.maint_margin.total_usd,
        account_initial_margin_usd=truth.initial_margin_usd,
        account_status="NORMAL",
        total_margin_open_loss_usd=0.0,
        update_time_ms=0,
    )
    margins = tuple(
        ReportedPositionMargin("UM", p.symbol, p.position_side, p.maint_margin_usd, "USDT")
        for p in truth.positions
    )
    snapshot = AccountSnapshot(
        tuple(balances), tuple(positions), reported=reported, reported_position_margins=margins
    )
    return snapshot, market


def median_ms(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


GLIBC_DEFAULTS = "--glibc-defaults"


def measure(label: str) -> None:
    snapshot, market = book()
    rules = RiskRules()
    # The bare kernel: bracket MM only, over the same arrays the stress grid values — every
    # position's notional at each of the 121 uniform moves — with the same padded brackets.
    compiled = compile_book(snapshot, market, rules)
    floors = compiled.um_brackets.floor
    ratios = compiled.um_brackets.rate
    cums = compiled.um_brackets.cum
    moves = 1.0 + np.arange(-60, 61)[:, None] / 100.0
    notional0 = np.abs(compiled.um_amt_qty) * compiled.um_mark
    pos = np.arange(len(notional0))

    def kernel() -> float:
        notional = notional0[None, :] * moves  # (121, P)
        k = (notional[:, :, None] >= floors[None, :, :]).sum(axis=-1) - 1
        return float(np.sum(notional * ratios[pos, k] - cums[pos, k]))

    report = evaluate(snapshot, market, rules)
    assert report.assumptions is not None and report.assumptions.calibrated  # the path it times
    fixed = replace(rules, assumptions=report.assumptions)  # between polls: no calibration
    full = median_ms(lambda: evaluate(snapshot, market, rules))
    between = median_ms(lambda: evaluate(snapshot, market, fixed))
    bare = median_ms(kernel)
    print(f"{label}:")
    print(f"  full evaluate (calibrate + reconcile): {full:8.3f} ms")
    print(f"  evaluate with fixed assumptions:       {between:8.3f} ms")
    print(f"  bare kernel (bracket MM, 121 x {N_POSITIONS}):     {bare:8.3f} ms")
    print(f"  ratio evaluate / kernel:               {full / bare:8.1f}x")
    if label.startswith("as pmdesk"):
        singles = len(report.single_asset.assets) * len(report.single_asset.moves_pct)
        print(f"book: {N_POSITIONS} UM positions over {N_ASSETS} assets, 12 brackets each;")
        print(
            f"      {len(report.stress.shock_pct)}-point grid, {len(report.scenarios)} portfolio "
            f"scenarios, {singles} single-asset shocks,"
        )
        roots = 2 + 2 * len(report.asset_liquidations)
        print(f"      {roots} liquidation roots; median of {REPEATS}")


def main() -> None:
    if GLIBC_DEFAULTS in sys.argv[1:]:
        measure("glibc allocator defaults (child process)")
        return
    tuned = keep_freed_memory()
    measure("as pmdesk runs (app/allocator.py applied)" if tuned else "as pmdesk runs (no mallopt)")
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "bench.bench_risk", GLIBC_DEFAULTS], check=True)


if __name__ == "__main__":
    main()
