"""``evaluate()``: one snapshot and market state in, the recomputed PM figures out. Pure, no I/O.

uniMMR = Σ adjusted equity / Σ maintenance margin, both in USD (uniMMR FAQ
4868b2f1aa6c4d08af973328462bb0bd):
    Σ adjusted equity = Σ min(x · p · collateralRate, x · p) − open loss of open margin orders
    Σ MM = Σ USDⓈ-M MM · p + Σ COIN-M MM · p + Σ margin loan · MMR · p
Initial margin (PM trading-rules FAQ 174861644e7049aaa64845f1db2e4376): futures
size · mark / leverage; margin borrowed / (leverage − 1).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from risk.book import Book, IntArray, TierTable, compile_book, with_collateral_table
from risk.calibrate import calibrate
from risk.classic import ClassicComparison
from risk.liabilities import funding_report, liabilities
from risk.liquidation import LADDERS, liquidation_shocks
from risk.model import (
    EQUITY,
    FLAT,
    MAINT,
    AccountSnapshot,
    AssetEquity,
    AssetLiquidation,
    CollateralTier,
    HedgeRow,
    LiquidationShock,
    MaintMargin,
    MarketState,
    PositionMargin,
    ReduceAdvice,
    RiskReport,
    RiskRules,
    ScenarioResult,
    SingleAssetStress,
    StressGrid,
    TopUpBasis,
    UnknownReason,
)
from risk.reconcile import reconcile
from risk.stress import GRID_PCT, SINGLE_ASSET_SHOCKS, portfolio_scenarios
from risk.tiers import FloatArray
from risk.topup import move_top_up_usd, reduce_fraction, stable_top_up_usd
from risk.valuation import (
    BaseMargins,
    adjusted_equity_rows,
    base_margins,
    qty_usd,
    tier_of,
    value_rows,
)

__all__ = ["evaluate"]


def _positions(
    snapshot: AccountSnapshot, book: Book, base: BaseMargins, mm_total: float
) -> tuple[PositionMargin, ...]:
    um_notional = np.abs(book.um_amt_qty) * book.um_mark
    cm_notional = np.abs(book.cm_contracts) * book.cm_size_usd / book.cm_mark
    um_k = tier_of(um_notional, np.arange(len(um_notional)), book.um_brackets)
    cm_k = tier_of(cm_notional, np.arange(len(cm_notional)), book.cm_brackets)
    um_rows = np.arange(len(um_k))
    cm_rows = np.arange(len(cm_k))
    scale = 1.0 / mm_total if mm_total > 0 else 0.0
    um = [p for p in snapshot.um_positions if p.position_amt_qty != 0.0]
    cm = [p for p in snapshot.cm_positions if p.position_amt_contracts != 0.0]
    columns = [
        ["UM"] * len(um_k) + ["CM"] * len(cm_k),
        [*book.um_symbol, *book.cm_symbol],
        [*book.um_side, *book.cm_side],
        np.concatenate([book.um_amt_qty, book.cm_contracts]).tolist(),
        np.concatenate([book.um_mark, book.cm_mark]).tolist(),
        np.concatenate([base.um_notional_usd, base.cm_notional_usd]).tolist(),
        np.concatenate([base.um_usd, base.cm_usd]).tolist(),
        np.concatenate(
            [book.um_brackets.rate[um_rows, um_k], book.cm_brackets.rate[cm_rows, cm_k]]
        ).tolist(),
        np.concatenate(
            [book.um_brackets.floor[um_rows, um_k], book.cm_brackets.floor[cm_rows, cm_k]]
        ).tolist(),
        (np.concatenate([base.um_usd, base.cm_usd]) * scale).tolist(),
        [book.assets[i] for i in np.concatenate([book.um_base, book.cm_coin])],
        (np.concatenate([um_k, cm_k]) + 1).tolist(),
        [p.entry_price for p in um] + [p.entry_price for p in cm],
        [p.unrealized_pnl_qty * book.price_usd[book.um_quote[i]] for i, p in enumerate(um)]
        + [p.unrealized_pnl_qty * book.price_usd[book.cm_coin[i]] for i, p in enumerate(cm)],
    ]
    return tuple(PositionMargin(*row) for row in zip(*columns, strict=True))


def _hedges(
    snapshot: AccountSnapshot,
    book: Book,
    initial: tuple[FloatArray, FloatArray],
    adjusted_by_asset: FloatArray,
) -> tuple[HedgeRow, ...]:
    um_im, cm_im = initial
    n = book.n_assets
    debt = np.zeros(n)  # cross-margin loan + interest per asset
    for b in snapshot.balances:
        if b.asset in book.assets:
            debt[book.index(b.asset)] += b.cross_margin_borrowed_qty + b.cross_margin_interest_qty
    margin = -debt
    spot = book.equity_qty - margin
    um = np.bincount(book.um_base, weights=book.um_amt_qty, minlength=n)
    cm_coin_qty = book.cm_contracts * book.cm_size_usd / book.cm_mark
    cm = np.bincount(book.cm_coin, weights=cm_coin_qty, minlength=n)
    im = np.bincount(book.um_base, weights=um_im, minlength=n) + np.bincount(
        book.cm_coin, weights=cm_im, minlength=n
    )
    legs = np.stack([spot, margin, um, cm])  # (4, A)
    long = np.where(legs > 0.0, legs, 0.0).sum(axis=0)
    short = -np.where(legs < 0.0, legs, 0.0).sum(axis=0)
    columns = (book.price_usd, spot, margin, um, cm, long, short, im, adjusted_by_asset)
    risky = np.nonzero(~book.stable)[0]
    values = [c[risky].tolist() for c in columns]
    return tuple(
        HedgeRow(book.assets[a], *row)
        for a, row in zip(risky.tolist(), zip(*values, strict=True), strict=True)
    )


@dataclass(frozen=True)
class _Stress:
    grid: StressGrid
    single: SingleAssetStress
    scenarios: tuple[ScenarioResult, ...]
    uniform: LiquidationShock
    per_asset: tuple[AssetLiquidation, ...]


def _stress_and_liquidation(book: Book, base: BaseMargins, rules: RiskRules) -> _Stress:
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
    return _Stress(grid, single, tuple(results), uniform, per_asset)


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


def _table_row(table: TierTable, i: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    keep = np.isfinite(table.floor[i])
    return table.floor[i][keep], table.rate[i][keep], table.cum[i][keep]


def _reduce(
    book: Book, base: BaseMargins, equity: float, mm: float, target: float
) -> ReduceAdvice | None:
    """Close part of the position with the largest maintenance margin."""
    candidates = [(float(base.um_usd[i]), "UM", i) for i in range(len(book.um_symbol))] + [
        (float(base.cm_usd[i]), "CM", i) for i in range(len(book.cm_symbol))
    ]
    if mm <= 0.0 or not candidates:
        return None
    pos_mm, venue, i = max(candidates)
    if venue == "UM":
        notional = float(abs(book.um_amt_qty[i]) * book.um_mark[i])
        quote_price = float(book.price_usd[book.um_quote[i]])
        table, symbol = _table_row(book.um_brackets, i), book.um_symbol[i]
    else:
        notional = float(abs(book.cm_contracts[i]) * book.cm_size_usd[i] / book.cm_mark[i])
        quote_price = float(book.price_usd[book.cm_coin[i]])
        table, symbol = _table_row(book.cm_brackets, i), book.cm_symbol[i]
    frac = reduce_fraction(equity, mm, target, pos_mm, notional, quote_price, table)
    return ReduceAdvice(venue, symbol, frac)


def _position_initial_usd(
    base: BaseMargins, snapshot: AccountSnapshot
) -> tuple[FloatArray, FloatArray]:
    """Per position (UM, CM): futures IM = size · mark / leverage (PM trading-rules FAQ)."""
    um_lev = np.array(
        [p.leverage for p in snapshot.um_positions if p.position_amt_qty != 0.0], dtype=np.float64
    )
    cm_lev = np.array(
        [p.leverage for p in snapshot.cm_positions if p.position_amt_contracts != 0.0],
        dtype=np.float64,
    )
    um: FloatArray = base.um_notional_usd / np.maximum(um_lev, 1.0)
    cm: FloatArray = base.cm_notional_usd / np.maximum(cm_lev, 1.0)
    return um, cm


def _rates(market: MarketState, table: str) -> dict[str, tuple[CollateralTier, ...]]:
    return (market.collateral_flat or {}) if table == FLAT else market.collateral_tiers


def _top_up_basis(book: Book, market: MarketState) -> TopUpBasis:
    """Top up in USDT if the account uses it, else the first stablecoin it holds."""
    stables = [book.assets[a] for a in np.nonzero(book.stable)[0]]
    asset = "USDT" if "USDT" in stables or not stables else stables[0]
    value = 0.0
    if asset in book.assets:
        a = book.index(asset)
        value = float(book.equity_qty[a] * book.price_usd[a])
    return TopUpBasis(asset, value, _rates(market, book.collateral_table).get(asset, ()))


WITHDRAW_MM_MULTIPLE = 1.2
"""Binance FAQ 446ce2c3357a449599c82436078b0e3b: "Maxwithdraw = max(account Equity −1.2*MM, 0)"."""


def _headline(
    book: Book, equity: float, mm: MaintMargin
) -> tuple[float, float, MaintMargin, list[UnknownReason]]:
    """Fail closed: (uniMMR, adjusted equity, MM, reasons). A figure any reason touches, or
    that came out non-finite, is NaN. Adjusted equity ≤ 0 is liquidation whatever the MM
    (uniMMR ≤ 0: −∞ when there is no MM to divide by); no MM with positive equity is ∞."""
    reasons = list(book.reasons)
    for name, value, affects in (
        ("adjusted equity", equity, EQUITY),
        ("maintenance margin", mm.total_usd, MAINT),
    ):
        if not math.isfinite(value) and not any(affects in r.affects for r in reasons):
            reasons.append(
                UnknownReason(
                    "evaluation", name, f"not a finite number ({value})", "", frozenset({affects})
                )
            )
    equity_known = not any(EQUITY in r.affects for r in reasons)
    mm_known = not any(MAINT in r.affects for r in reasons)
    total = mm.total_usd
    if not equity_known:
        equity = math.nan
    if not mm_known:
        mm, total = MaintMargin(math.nan, math.nan, math.nan), math.nan
    if equity_known and (equity < 0 or (equity == 0 and mm_known and total > 0)):
        uni = equity / total if mm_known and total > 0 else -math.inf
    elif not (equity_known and mm_known):
        uni = math.nan
    else:
        uni = equity / total if total > 0 else math.inf
    return uni, equity, mm, reasons


def _unknown_stress(book: Book) -> _Stress:
    """What stands for the stress figures when the base figures are unknown: NaN, not "safe"."""
    risky = np.nonzero(~book.stable)[0]
    nan = math.nan
    n = len(GRID_PCT)
    return _Stress(
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


def evaluate(snapshot: AccountSnapshot, market: MarketState, rules: RiskRules) -> RiskReport:
    """Recompute uniMMR, equity, MM, hedges, stress, liquidation distance and top-up; compare
    them with Binance's own figures. Figures that cannot be computed are NaN and the report's
    ``unknown_reasons`` say why (state UNKNOWN, status UNKNOWN unless adjusted equity ≤ 0 is
    known: that is liquidation whatever else is unknown)."""
    book = compile_book(snapshot, market, rules)
    assumptions = rules.assumptions or calibrate(book, snapshot, market, rules)
    if rules.assumptions is None:
        if assumptions.collateral_table != book.collateral_table:
            book = with_collateral_table(book, market, assumptions.collateral_table)
        loan_mmr = [assumptions.loan_mmr_of(a, rules.default_loan_mmr) for a in book.assets]
        book = dataclasses.replace(book, loan_mmr=np.array(loan_mmr, dtype=np.float64))
    base = base_margins(book)
    value = qty_usd(book.equity_qty, book.price_usd)
    adjusted_by_asset = adjusted_equity_rows(book, value[None, :])[0]
    now = value_rows(
        book, base, np.zeros((1, book.n_assets)), np.zeros(1, dtype=np.intp), np.zeros(1)
    )
    raw_mm = MaintMargin(
        float(now.um_mm_usd[0]), float(now.cm_mm_usd[0]), float(now.margin_mm_usd[0])
    )
    uni_mmr, equity, mm, reasons = _headline(book, float(now.equity_usd[0]), raw_mm)
    known = not reasons
    warnings = [
        f"{asset}: no collateral rate published, counted at 0"
        for a, asset in enumerate(book.assets)
        if value[a] > 0 and not book.has_collateral_rate[a]
    ]
    if snapshot.reported is not None and snapshot.reported.total_margin_open_loss_usd is None:
        warnings.append("open-order loss (totalMarginOpenLoss) unavailable: counted as 0")
    warnings += list(assumptions.notes)
    position_im = _position_initial_usd(base, snapshot)
    um_im, cm_im = float(position_im[0].sum()), float(position_im[1].sum())
    # Margin loans: borrowed / (leverage − 1) (PM trading-rules FAQ).
    leverage = np.array(
        [assumptions.loan_leverage.get(a, rules.margin_leverage) for a in book.assets]
    )
    margin_im = float(
        (qty_usd(book.borrowed_qty, book.price_usd) / np.maximum(leverage - 1, 1)).sum()
    )
    initial = um_im + cm_im + margin_im
    classic = _classic_comparison(
        snapshot, book, base, adjusted_by_asset, equity, mm, reasons, rules
    )
    stress = _stress_and_liquidation(book, base, rules) if known else _unknown_stress(book)
    basis = _top_up_basis(book, market)
    target = rules.top_up_target_uni_mmr
    positions = _positions(snapshot, book, base, raw_mm.total_usd)
    reconciliation = reconcile(
        book,
        snapshot,
        market,
        uni_mmr,
        equity,
        mm,
        positions,
        assumptions,
        rules.reconcile_tolerance,
        rules.liquidation_uni_mmr,
    )
    if rules.assumptions is None:
        assumptions = dataclasses.replace(
            assumptions, calibrated=bool(reconciliation and reconciliation.agrees)
        )
    carry_now_ms = max(market.time_ms, snapshot.update_time_ms)
    loan_mmr_by_asset: dict[str, float] = dict(
        zip(book.assets, book.loan_mmr.tolist(), strict=True)
    )

    def loan_mmr_of(asset: str) -> float:
        default = assumptions.loan_mmr_of(asset, rules.default_loan_mmr)
        return loan_mmr_by_asset.get(asset, default)

    return RiskReport(
        uni_mmr=uni_mmr,
        adjusted_equity_usd=equity,
        actual_equity_usd=float(now.actual_equity_usd[0]),
        maint_margin=mm,
        initial_margin_usd=initial,
        withdrawable_usd=max(equity - WITHDRAW_MM_MULTIPLE * mm.total_usd, 0.0)
        if known
        else math.nan,
        status=rules.band(uni_mmr),
        assets=tuple(
            AssetEquity(
                asset,
                float(book.equity_qty[a]),
                float(book.price_usd[a]),
                float(value[a]),
                float(adjusted_by_asset[a]),
                bool(book.stable[a]),
            )
            for a, asset in enumerate(book.assets)
        ),
        positions=positions,
        hedges=_hedges(snapshot, book, position_im, adjusted_by_asset),
        stablecoin_buffer_usd=float(np.maximum(value, 0.0)[book.stable].sum()),
        net_stablecoin_buffer_usd=float(value[book.stable].sum()),
        stress=stress.grid,
        single_asset=stress.single,
        scenarios=stress.scenarios,
        liquidation_shock=stress.uniform,
        asset_liquidations=stress.per_asset,
        top_up_target_uni_mmr=target,
        top_up_usd=stable_top_up_usd(equity, mm.total_usd, target, basis.value_usd, basis.tiers)
        if known
        else math.nan,
        reduce=_reduce(book, base, equity, mm.total_usd, target) if known else None,
        top_up_basis=basis,
        top_up_clear_move_pct=rules.top_up_clear_move_pct,
        top_up_move_usd=move_top_up_usd(
            stress.grid.shock_pct,
            stress.grid.equity_usd,
            stress.grid.maint_margin_usd,
            rules.top_up_clear_move_pct,
            rules.liquidation_uni_mmr,
            basis.value_usd,
            basis.tiers,
        )
        if known
        else math.nan,
        classic=classic,
        warnings=tuple(warnings),
        unknown_reasons=tuple(reasons),
        reconciliation=reconciliation,
        assumptions=assumptions,
        liabilities=liabilities(
            snapshot, market.index_price_usd, loan_mmr_of, rules.stablecoins, carry_now_ms
        ),
        funding=funding_report(snapshot, market.index_price_usd, carry_now_ms),
    )


def _classic_comparison(
    snapshot: AccountSnapshot,
    book: Book,
    base: BaseMargins,
    adjusted_by_asset: FloatArray,
    equity: float,
    mm: MaintMargin,
    reasons: list[UnknownReason],
    rules: RiskRules,
) -> ClassicComparison:
    """PM vs classic (risk/classic.py): maintenance margin per classic account against PM's
    one pool; figures an unknown input touches are NaN."""
    from risk.classic import compare

    return compare(
        snapshot,
        book,
        base,
        adjusted_by_asset,
        equity,
        mm.total_usd,
        rules.liquidation_uni_mmr,
        equity_known=not any(EQUITY in r.affects for r in reasons),
        maint_known=not any(MAINT in r.affects for r in reasons),
    )
