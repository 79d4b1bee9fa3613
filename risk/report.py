"""``RiskReport``: the recomputed portfolio-margin figures for one snapshot. No I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

from risk.classic import ClassicComparison
from risk.reasons import UnknownReason
from risk.report_parts import (
    AssetEquity,
    AssetLiquidation,
    FundingReport,
    HedgeRow,
    LiabilityRow,
    LiquidationShock,
    MaintMargin,
    PositionMargin,
    Reconciliation,
    ReduceAdvice,
    ScenarioResult,
    SingleAssetStress,
    StressGrid,
    TopUpBasis,
)
from risk.rules import Assumptions, MarginBand
from risk.topup import stable_top_up_usd


@dataclass(frozen=True)
class RiskReport:
    """The recomputed portfolio-margin figures for one snapshot."""

    uni_mmr: float
    adjusted_equity_usd: float
    actual_equity_usd: float
    maint_margin: MaintMargin
    initial_margin_usd: float
    withdrawable_usd: float
    status: MarginBand
    assets: tuple[AssetEquity, ...]
    positions: tuple[PositionMargin, ...]
    hedges: tuple[HedgeRow, ...]
    stablecoin_buffer_usd: float
    stress: StressGrid
    single_asset: SingleAssetStress
    scenarios: tuple[ScenarioResult, ...]
    liquidation_shock: LiquidationShock
    asset_liquidations: tuple[AssetLiquidation, ...]
    top_up_target_uni_mmr: float
    top_up_usd: float
    reduce: ReduceAdvice | None
    top_up_basis: TopUpBasis
    classic: ClassicComparison
    warnings: tuple[str, ...] = ()
    # Fail closed: why a figure could not be computed (empty: every figure is known).
    unknown_reasons: tuple[UnknownReason, ...] = ()
    reconciliation: Reconciliation | None = None
    assumptions: Assumptions | None = None
    # Stablecoins held minus stablecoin debts (loans, interest, negative futures wallets) at
    # their index prices: negative when the account owes more stablecoin than it holds.
    net_stablecoin_buffer_usd: float = 0.0
    # Carry: what the account owes (loans, interest, negative balances) and funding.
    liabilities: tuple[LiabilityRow, ...] = ()
    funding: FundingReport | None = None
    # The stablecoin that keeps every uniform move of up to ±top_up_clear_move_pct clear of
    # the liquidation level (``risk.topup.move_top_up_usd``); the one top-up to show is the
    # larger of this and ``top_up_usd`` (``top_up_needed_usd``): it meets both targets.
    top_up_clear_move_pct: float = 0.0
    top_up_move_usd: float = 0.0

    @property
    def state(self) -> str:
        """``"OK"`` or ``"UNKNOWN"`` (some figure could not be computed: see the reasons)."""
        return "UNKNOWN" if self.unknown_reasons else "OK"

    @property
    def no_risk(self) -> bool:
        """No maintenance margin at all: uniMMR is ∞, never an error or 0."""
        return self.uni_mmr == math.inf

    @property
    def top_up_needed_usd(self) -> float:
        """The one top-up: enough for the uniMMR target and for the clear move (NaN: unknown)."""
        if math.isnan(self.top_up_usd) or math.isnan(self.top_up_move_usd):
            return math.nan
        return max(self.top_up_usd, self.top_up_move_usd)

    def top_up_to(self, target: float) -> float:
        """USD of stablecoin to add for uniMMR to reach ``target`` (0 if it already does)."""
        b = self.top_up_basis
        return stable_top_up_usd(
            self.adjusted_equity_usd, self.maint_margin.total_usd, target, b.value_usd, b.tiers
        )
