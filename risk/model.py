"""The margin model's data: what an account holds, what the market says, the rules, the result.

Plain frozen dataclasses, no I/O. Quantities carry their unit in the name: ``_qty`` is in the
asset's (or contract's) own units, ``_usd`` in US dollars at the asset index price, ``_ms`` is a
UTC epoch in milliseconds. Parsing from Binance's JSON lives in ``connectors/binance/parse.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class AssetBalance:
    """One asset of the PM unified wallet, as ``GET /papi/v1/balance`` reports it (asset units)."""

    asset: str
    cross_margin_asset_qty: float
    cross_margin_borrowed_qty: float
    cross_margin_interest_qty: float
    um_wallet_qty: float
    um_unrealized_pnl_qty: float
    cm_wallet_qty: float
    cm_unrealized_pnl_qty: float

    @property
    def equity_qty(self) -> float:
        """x = margin asset − margin loan − interest + futures wallet + futures unrealized PnL.

        Binance FAQ "What Is the Unified Account Maintenance Margin Ratio (uniMMR)"
        (faq 4868b2f1aa6c4d08af973328462bb0bd).
        """
        return (
            self.cross_margin_asset_qty
            - self.cross_margin_borrowed_qty
            - self.cross_margin_interest_qty
            + self.um_wallet_qty
            + self.um_unrealized_pnl_qty
            + self.cm_wallet_qty
            + self.cm_unrealized_pnl_qty
        )


@dataclass(frozen=True)
class UmPosition:
    """A USDⓈ-M futures position (``GET /papi/v1/um/positionRisk``); amount in base units."""

    symbol: str
    position_side: str
    position_amt_qty: float
    entry_price: float
    mark_price: float
    unrealized_pnl_qty: float
    margin_asset: str = "USDT"


@dataclass(frozen=True)
class CmPosition:
    """A COIN-M futures position (``GET /papi/v1/cm/positionRisk``); amount in contracts."""

    symbol: str
    position_side: str
    position_amt_contracts: float
    entry_price: float
    mark_price: float
    unrealized_pnl_qty: float
    contract_size_usd: float
    margin_asset: str


@dataclass(frozen=True)
class Bracket:
    """One leverage bracket: notional in [floor, cap) has MM = notional · ratio − cum."""

    floor: float
    cap: float
    maint_margin_ratio: float
    cum: float
    initial_leverage: float


@dataclass(frozen=True)
class CollateralTier:
    """One tier of an asset's collateral rate: value in [floor, cap) counts value · rate + cum."""

    floor_usd: float
    cap_usd: float
    collateral_rate: float
    cum_usd: float


@dataclass(frozen=True)
class ReportedAccount:
    """What ``GET /papi/v1/account`` says, kept beside the recomputation for reconciliation."""

    uni_mmr: float
    account_equity_usd: float
    actual_equity_usd: float
    account_maint_margin_usd: float
    account_initial_margin_usd: float
    account_status: str
    total_margin_open_loss_usd: float
    update_time_ms: int


@dataclass(frozen=True)
class AccountSnapshot:
    """Everything one account holds at one moment."""

    balances: tuple[AssetBalance, ...]
    um_positions: tuple[UmPosition, ...]
    cm_positions: tuple[CmPosition, ...] = ()
    reported: ReportedAccount | None = None
    open_margin_order_loss_usd: float = 0.0
    update_time_ms: int = 0


@dataclass(frozen=True)
class MarketState:
    """Prices and the exchange's published parameters at one moment."""

    index_price_usd: dict[str, float]
    mark_price: dict[str, float] = field(default_factory=dict)
    um_brackets: dict[str, tuple[Bracket, ...]] = field(default_factory=dict)
    cm_brackets: dict[str, tuple[Bracket, ...]] = field(default_factory=dict)
    collateral_tiers: dict[str, tuple[CollateralTier, ...]] = field(default_factory=dict)
    time_ms: int = 0


class MarginBand(StrEnum):
    """Where a uniMMR sits on the ladder.

    pmdesk's own bands; Binance's ``accountStatus`` is shown verbatim beside them.
    """

    NORMAL = "NORMAL"
    MARGIN_CALL = "MARGIN_CALL"
    REDUCE_ONLY = "REDUCE_ONLY"
    LIQUIDATION = "LIQUIDATION"
    LIQUIDATION_WITH_LOSS = "LIQUIDATION_WITH_LOSS"


@dataclass(frozen=True)
class RiskRules:
    """Thresholds and defaults; Binance publishes them and changes them, so they are settings.

    Ladder defaults from the uniMMR FAQ (faq 4868b2f1aa6c4d08af973328462bb0bd): above 1.5 trade
    freely; 1.2–1.5 reminder; 1.05–1.2 reduce only; 1.0–1.05 liquidation; at or below 1.0
    liquidation with a possible claim for the loss.
    """

    margin_call_uni_mmr: float = 1.5
    reduce_only_uni_mmr: float = 1.2
    liquidation_uni_mmr: float = 1.05
    loss_uni_mmr: float = 1.0
    # Cross-margin loan MMR by the account's margin leverage (same FAQ): 3x 10 %, 5x 8 %, 10x 5 %.
    margin_loan_mmr: float = 0.05

    def band(self, uni_mmr: float) -> MarginBand:
        if uni_mmr > self.margin_call_uni_mmr:
            return MarginBand.NORMAL
        if uni_mmr > self.reduce_only_uni_mmr:
            return MarginBand.MARGIN_CALL
        if uni_mmr > self.liquidation_uni_mmr:
            return MarginBand.REDUCE_ONLY
        if uni_mmr > self.loss_uni_mmr:
            return MarginBand.LIQUIDATION
        return MarginBand.LIQUIDATION_WITH_LOSS


@dataclass(frozen=True)
class MaintMargin:
    """Maintenance margin in USD, by component."""

    um_usd: float
    cm_usd: float
    margin_usd: float

    @property
    def total_usd(self) -> float:
        return self.um_usd + self.cm_usd + self.margin_usd


@dataclass(frozen=True)
class AssetEquity:
    """One asset's contribution to equity."""

    asset: str
    equity_qty: float
    index_price_usd: float
    actual_equity_usd: float
    adjusted_equity_usd: float


@dataclass(frozen=True)
class PositionMargin:
    """One futures position's notional and maintenance margin."""

    venue: str
    symbol: str
    position_side: str
    notional_usd: float
    maint_margin_usd: float
    bracket_floor: float


@dataclass(frozen=True)
class RiskReport:
    """The recomputed portfolio-margin figures for one snapshot."""

    uni_mmr: float
    adjusted_equity_usd: float
    actual_equity_usd: float
    maint_margin: MaintMargin
    status: MarginBand
    assets: tuple[AssetEquity, ...]
    positions: tuple[PositionMargin, ...]
    warnings: tuple[str, ...] = ()

    @property
    def no_risk(self) -> bool:
        """No maintenance margin at all: uniMMR is ∞, never an error or 0."""
        return math.isinf(self.uni_mmr)
