"""The margin model's data: what an account holds, what the market says, the rules, the result.

Plain frozen dataclasses, no I/O. Quantities carry their unit in the name: ``_qty`` is in the
asset's (or contract's) own units, ``_usd`` in US dollars at the asset index price, ``_ms`` is a
UTC epoch in milliseconds. Parsing from Binance's JSON lives in ``connectors/binance/parse.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from risk.classic import ClassicComparison


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
    base_asset: str
    margin_asset: str
    leverage: float = 1.0


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
    leverage: float = 1.0


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


MARGIN_LOAN_MMR_BY_LEVERAGE = {3: 0.10, 5: 0.08, 10: 0.05}

DEFAULT_STABLECOINS = frozenset({"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDP", "DAI"})


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
    # The account's cross-margin leverage: sets the loans' MMR (the margin tier, below) and their
    # initial margin = borrowed / (leverage − 1) (PM trading-rules FAQ 174861644e7049aa…).
    margin_leverage: float = 10.0
    # "Top up to": the uniMMR a desk wants to be back at; above Binance's 1.5 reminder line.
    top_up_target_uni_mmr: float = 2.0
    stablecoins: frozenset[str] = DEFAULT_STABLECOINS
    betas_to_btc: dict[str, float] = field(default_factory=dict)

    @property
    def margin_loan_mmr(self) -> float:
        """Cross-margin loan MMR by margin leverage (uniMMR FAQ): 3x 10 %, 5x 8 %, 10x 5 %."""
        return MARGIN_LOAN_MMR_BY_LEVERAGE[int(self.margin_leverage)]

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
    stable: bool


@dataclass(frozen=True)
class PositionMargin:
    """One futures position: notional, maintenance margin and its bracket, share of all MM."""

    venue: str
    symbol: str
    position_side: str
    amount: float  # base quantity (UM) or contracts (CM), signed
    mark_price: float
    notional_usd: float
    maint_margin_usd: float
    maint_margin_ratio: float
    bracket_floor: float
    mm_share: float
    asset: str = ""  # the underlying (BTC for BTCUSDT and BTCUSD_PERP)
    bracket: int = 1  # 1-based bracket number in the symbol's leverage brackets
    entry_price: float = 0.0
    unrealized_pnl_usd: float = 0.0  # as the exchange reported it, at its asset's index price


@dataclass(frozen=True)
class HedgeRow:
    """Delta of one underlying by venue, in the asset's units, and how much of it is hedged.

    spot: the asset's own balance (margin account, futures wallets, unrealized PnL in it);
    margin: minus its cross-margin loan and interest; um: USDⓈ-M positions in base units;
    cm: COIN-M positions as coin notional (contracts · size / mark), signed.
    """

    asset: str
    price_usd: float
    spot_qty: float
    margin_qty: float
    um_qty: float
    cm_qty: float
    long_qty: float
    short_qty: float
    futures_initial_usd: float = 0.0  # IM of this asset's UM and CM legs
    own_collateral_usd: float = 0.0  # this asset's holdings as PM counts them (after haircut)

    @property
    def pm_collateral_saving_usd(self) -> float:
        """Futures IM of this asset's legs that its own holdings cover under PM; classic
        margin would need it posted again, in the futures wallet, on top of the holdings."""
        return min(self.futures_initial_usd, max(self.own_collateral_usd, 0.0))

    @property
    def net_qty(self) -> float:
        return self.long_qty - self.short_qty

    @property
    def gross_qty(self) -> float:
        return self.long_qty + self.short_qty

    @property
    def hedge_ratio(self) -> float:
        """Share of the larger side that the smaller side offsets: 1 = perfectly hedged."""
        big = max(self.long_qty, self.short_qty)
        return min(self.long_qty, self.short_qty) / big if big > 0 else 0.0


@dataclass(frozen=True)
class StressGrid:
    """uniMMR, equity and MM under a uniform move of every non-stable asset."""

    shock_pct: tuple[int, ...]
    uni_mmr: tuple[float, ...]
    equity_usd: tuple[float, ...]
    maint_margin_usd: tuple[float, ...]


@dataclass(frozen=True)
class SingleAssetStress:
    """uniMMR when one asset moves and every other price holds: one row per non-stable asset,
    one column per move."""

    moves_pct: tuple[int, ...]
    assets: tuple[str, ...]
    uni_mmr: tuple[tuple[float, ...], ...]  # [asset][move]


@dataclass(frozen=True)
class ScenarioResult:
    kind: str
    name: str
    uni_mmr: float
    equity_usd: float
    maint_margin_usd: float
    status: MarginBand
    source: str = ""


@dataclass(frozen=True)
class LiquidationShock:
    """The uniform move of all non-stable assets that takes uniMMR to the liquidation level.

    ``None`` means no move in the searched range (−99.99 % … +1000 %) does.
    """

    down_pct: float | None
    up_pct: float | None
    btc_down_price_usd: float | None
    btc_up_price_usd: float | None


@dataclass(frozen=True)
class AssetLiquidation:
    """Per asset, with every other price held ("all else equal"): where the account liquidates."""

    asset: str
    price_usd: float
    down_price_usd: float | None
    up_price_usd: float | None
    down_pct: float | None
    up_pct: float | None


@dataclass(frozen=True)
class TopUpBasis:
    """What ``RiskReport.top_up_to`` needs: the stablecoin used and its tiers."""

    asset: str
    value_usd: float
    tiers: tuple[CollateralTier, ...]


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

    @property
    def no_risk(self) -> bool:
        """No maintenance margin at all: uniMMR is ∞, never an error or 0."""
        return math.isinf(self.uni_mmr)

    def top_up_to(self, target: float) -> float:
        """USD of stablecoin to add for uniMMR to reach ``target`` (0 if it already does)."""
        from risk.topup import stable_top_up_usd

        b = self.top_up_basis
        return stable_top_up_usd(
            self.adjusted_equity_usd, self.maint_margin.total_usd, target, b.value_usd, b.tiers
        )


@dataclass(frozen=True)
class ReduceAdvice:
    """Close this fraction of the largest MM contributor to reach the top-up target instead."""

    venue: str
    symbol: str
    fraction: float | None  # None: closing all of it is not enough
