"""The margin model's data, in one stable place: what an account holds, what the market says,
the rules, the result.

A stable interface (docs/architecture.md): other packages import these names from
``risk.model``. They live in modules by concern: ``risk/reasons.py`` (why a figure is unknown),
``risk/snapshot.py`` (balances, positions, Binance's figures, carry), ``risk/market.py``
(prices, brackets, collateral tiers), ``risk/rules.py`` (ladder, bands, thresholds,
assumptions), ``risk/report_parts.py`` and ``risk/report.py`` (``RiskReport``). Quantities carry
their unit in the name: ``_qty`` in the asset's (or contract's) own units, ``_usd`` in US
dollars at the asset index price, ``_ms`` a UTC epoch in milliseconds.
"""

from __future__ import annotations

from risk.market import (
    COLLATERAL_TABLE_PATH,
    FLAT,
    TIERED,
    Bracket,
    CollateralTier,
    MarketState,
)
from risk.reasons import (
    EQUITY,
    MAINT,
    UnknownReason,
)
from risk.report import (
    RiskReport,
)
from risk.report_parts import (
    AssetEquity,
    AssetLiquidation,
    FundingReport,
    FundingRow,
    HedgeRow,
    LiabilityRow,
    LiquidationShock,
    MaintMargin,
    PositionMargin,
    PositionReconciliation,
    Reconciliation,
    ReduceAdvice,
    ScenarioResult,
    SingleAssetStress,
    StressGrid,
    TopUpBasis,
)
from risk.rules import (
    CONSERVATIVE_LOAN_MMR,
    DEFAULT_STABLECOINS,
    LADDER_BY_PRODUCT,
    LOAN_MMR_ASSUMED,
    LOAN_MMR_FROM_BINANCE,
    LOAN_MMR_IMPLIED,
    MARGIN_LOAN_MMR_BY_LEVERAGE,
    Assumptions,
    Ladder,
    MarginBand,
    Product,
    RiskRules,
)
from risk.snapshot import (
    AccountSnapshot,
    AssetBalance,
    CmPosition,
    FundingPayment,
    InterestCharge,
    InterestHistory,
    ReportedAccount,
    ReportedPositionMargin,
    UmPosition,
)

__all__ = [
    "COLLATERAL_TABLE_PATH",
    "CONSERVATIVE_LOAN_MMR",
    "DEFAULT_STABLECOINS",
    "EQUITY",
    "FLAT",
    "LADDER_BY_PRODUCT",
    "LOAN_MMR_ASSUMED",
    "LOAN_MMR_FROM_BINANCE",
    "LOAN_MMR_IMPLIED",
    "MAINT",
    "MARGIN_LOAN_MMR_BY_LEVERAGE",
    "TIERED",
    "AccountSnapshot",
    "AssetBalance",
    "AssetEquity",
    "AssetLiquidation",
    "Assumptions",
    "Bracket",
    "CmPosition",
    "CollateralTier",
    "FundingPayment",
    "FundingReport",
    "FundingRow",
    "HedgeRow",
    "InterestCharge",
    "InterestHistory",
    "Ladder",
    "LiabilityRow",
    "LiquidationShock",
    "MaintMargin",
    "MarginBand",
    "MarketState",
    "PositionMargin",
    "PositionReconciliation",
    "Product",
    "Reconciliation",
    "ReduceAdvice",
    "ReportedAccount",
    "ReportedPositionMargin",
    "RiskReport",
    "RiskRules",
    "ScenarioResult",
    "SingleAssetStress",
    "StressGrid",
    "TopUpBasis",
    "UmPosition",
    "UnknownReason",
]
