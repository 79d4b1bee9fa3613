"""The rules: the product's uniMMR ladder and bands, thresholds and defaults, and the inputs
Binance does not publish per account as pmdesk settled them (``Assumptions``). No I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MARGIN_LOAN_MMR_BY_LEVERAGE = {3: 0.10, 5: 0.08, 10: 0.05}
"""Cross-margin loan MMR by the account's margin leverage. The uniMMR FAQ (4868b2f1…) says "the
MMR varies based on the chosen leverage" but its table is an image no stored copy keeps; these
values are NOT verified by any source (docs/binance-pm-notes.md). pmdesk uses them only to turn a
leverage Binance reports (margin-asset-leverage) into an MMR, and says so on screen; Binance's own
maintenance margin overrides them whenever it can (risk/calibrate.py)."""
CONSERVATIVE_LOAN_MMR = 0.10
"""The loan MMR assumed when Binance says nothing: the strictest of the table (3x), and the one
the PM Pro FAQ's worked example implies (BTC loan 0.04 → MM 0.004)."""

DEFAULT_STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDP", "DAI"})


class Product(StrEnum):
    """Which Binance product the account is: the levels it publishes differ."""

    PM = "PM"  # Portfolio Margin (the papi endpoints)
    PM_PRO = "PM_PRO"  # Portfolio Margin Pro


@dataclass(frozen=True)
class Ladder:
    """The uniMMR levels a product publishes; None where it publishes none."""

    margin_call: float | None
    reduce_only: float | None
    liquidation: float
    loss: float | None


LADDER_BY_PRODUCT: dict[Product, Ladder] = {
    # PM: "Liquidation occurs when an account's uniMMR falls below 1.05" and "when your
    # Portfolio Margin Account Adjusted Equity falls below 0" (FAQ d0c3558829fa41ea…).
    Product.PM: Ladder(None, None, 1.05, None),
    # PM Pro: > 1.5 trade freely, 1.2–1.5 reminder, 1.05–1.2 reduce only, 1.0–1.05 liquidation,
    # ≤ 1.0 claim for loss (FAQ 5e33af8e6ac04d57a1d0a3398e0a0752).
    Product.PM_PRO: Ladder(1.5, 1.2, 1.05, 1.0),
}


class MarginBand(StrEnum):
    """Where a uniMMR sits on the ladder.

    pmdesk's own bands; Binance's ``accountStatus`` is shown verbatim beside them. UNKNOWN: the
    figures could not be computed (fail closed: never NORMAL).
    """

    UNKNOWN = "UNKNOWN"
    NORMAL = "NORMAL"
    MARGIN_CALL = "MARGIN_CALL"
    REDUCE_ONLY = "REDUCE_ONLY"
    LIQUIDATION = "LIQUIDATION"
    LIQUIDATION_WITH_LOSS = "LIQUIDATION_WITH_LOSS"


@dataclass(frozen=True)
class RiskRules:
    """Thresholds and defaults; Binance publishes them and changes them, so they are settings.

    The ladder is the product's (``LADDER_BY_PRODUCT``; ``for_product`` builds it). These field
    defaults are PM Pro's published ladder, the one with every level.
    """

    margin_call_uni_mmr: float | None = 1.5
    reduce_only_uni_mmr: float | None = 1.2
    liquidation_uni_mmr: float = 1.05
    loss_uni_mmr: float | None = 1.0
    product: Product = Product.PM_PRO
    # The loans' initial margin = borrowed / (leverage − 1) (PM trading-rules FAQ 174861644e…)
    # uses this leverage unless Binance reports the account's own (margin-asset-leverage).
    margin_leverage: float = 3.0
    # The loan MMR when Binance's figures cannot tell it: the conservative end.
    default_loan_mmr: float = CONSERVATIVE_LOAN_MMR
    # Calibration: a table or loan MMR "reproduces" Binance when its figure is within this
    # relative distance of Binance's; reconciliation: pmdesk and Binance "agree" likewise.
    calibration_tolerance: float = 0.001
    reconcile_tolerance: float = 0.005
    # Fixed assumptions (e.g. a poll's, reused between polls); None: calibrate per snapshot.
    assumptions: Assumptions | None = None
    # "Top up to": the uniMMR a desk wants to be back at; above Binance's 1.5 reminder line.
    top_up_target_uni_mmr: float = 2.0
    # … and far enough from liquidation that no uniform move of up to this % either way reaches
    # it: the desk's warning distance (settings ``liquidation_warn_pct``). 0: uniMMR only.
    top_up_clear_move_pct: float = 15.0
    stablecoins: frozenset[str] = DEFAULT_STABLECOINS
    betas_to_btc: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def for_product(product: Product, **changes: Any) -> RiskRules:
        """Rules with the product's published ladder (``changes`` override any field)."""
        ladder = LADDER_BY_PRODUCT[product]
        levels: dict[str, Any] = {
            "margin_call_uni_mmr": ladder.margin_call,
            "reduce_only_uni_mmr": ladder.reduce_only,
            "liquidation_uni_mmr": ladder.liquidation,
            "loss_uni_mmr": ladder.loss,
        }
        return RiskRules(product=product, **(levels | changes))

    def band(self, uni_mmr: float) -> MarginBand:
        if math.isnan(uni_mmr):
            return MarginBand.UNKNOWN
        levels = (self.margin_call_uni_mmr, self.reduce_only_uni_mmr, self.liquidation_uni_mmr)
        top = next(level for level in levels if level is not None)
        if uni_mmr > top:
            return MarginBand.NORMAL
        if self.margin_call_uni_mmr is not None and uni_mmr > (
            self.reduce_only_uni_mmr or self.liquidation_uni_mmr
        ):
            return MarginBand.MARGIN_CALL
        if uni_mmr > self.liquidation_uni_mmr:
            return MarginBand.REDUCE_ONLY
        if self.loss_uni_mmr is not None and uni_mmr <= self.loss_uni_mmr:
            return MarginBand.LIQUIDATION_WITH_LOSS
        return MarginBand.LIQUIDATION


LOAN_MMR_FROM_BINANCE = "from Binance"
LOAN_MMR_IMPLIED = "implied by Binance's MM"
LOAN_MMR_ASSUMED = "assumed"


@dataclass(frozen=True)
class Assumptions:
    """The inputs Binance does not publish per account, as pmdesk settled them, and how.

    ``collateral_table``: which table values the account's equity (``FLAT`` or ``TIERED``),
    chosen because it reproduces Binance's ``accountEquity`` (``equity_rel_diff`` per candidate
    table). ``loan_mmr``: per borrowed asset, with ``loan_mmr_source`` one of
    ``LOAN_MMR_FROM_BINANCE`` (margin-asset-leverage), ``LOAN_MMR_IMPLIED`` (the part of Binance's
    ``accountMaintMargin`` its positions' own ``maintMargin`` leave) or ``LOAN_MMR_ASSUMED``.
    ``calibrated``: every choice reproduces Binance's figures within tolerance.
    """

    product: Product
    collateral_table: str
    collateral_source: str
    equity_rel_diff: dict[str, float]
    loan_mmr: dict[str, float]
    loan_mmr_source: str
    loan_leverage: dict[str, float]
    calibrated: bool
    notes: tuple[str, ...] = ()

    def loan_mmr_of(self, asset: str, default: float) -> float:
        return self.loan_mmr.get(asset, default)
