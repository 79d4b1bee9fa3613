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

import numpy as np

from risk.book import Book, compile_book, with_collateral_table
from risk.calibrate import calibrate
from risk.classic import ClassicComparison, compare
from risk.liabilities import funding_report, liabilities
from risk.market import MarketState
from risk.reasons import EQUITY, MAINT, UnknownReason
from risk.reconcile import reconcile
from risk.report import RiskReport
from risk.report_parts import (
    AssetEquity,
    MaintMargin,
)
from risk.report_rows import hedge_rows, position_initial_usd, position_rows
from risk.rules import RiskRules
from risk.snapshot import AccountSnapshot
from risk.stress_figures import stress_figures, unknown_stress
from risk.tiers import FloatArray
from risk.topup import move_top_up_usd, reduce_advice, stable_top_up_usd, top_up_basis
from risk.valuation import (
    BaseMargins,
    adjusted_equity_rows,
    base_margins,
    qty_usd,
    value_rows,
)

__all__ = ["evaluate"]

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
    position_im = position_initial_usd(base, snapshot)
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
    stress = stress_figures(book, base, rules) if known else unknown_stress(book)
    basis = top_up_basis(book, market)
    target = rules.top_up_target_uni_mmr
    positions = position_rows(snapshot, book, base, raw_mm.total_usd)
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
        hedges=hedge_rows(snapshot, book, position_im, adjusted_by_asset),
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
        reduce=reduce_advice(book, base, equity, mm.total_usd, target) if known else None,
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
