"""The margin model's data: what an account holds, what the market says, the rules, the result.

Plain frozen dataclasses, no I/O. Quantities carry their unit in the name: ``_qty`` is in the
asset's (or contract's) own units, ``_usd`` in US dollars at the asset index price, ``_ms`` is a
UTC epoch in milliseconds. Parsing from Binance's JSON lives in ``connectors/binance/parse.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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


EQUITY, MAINT = "equity", "mm"
"""What an unknown input makes unknown: adjusted equity, maintenance margin, or both."""


@dataclass(frozen=True)
class UnknownReason:
    """Why a figure cannot be computed: the payload path, the field, and what is wrong with it.

    ``item`` names the row (an asset, a symbol) where the payload has rows; ``affects`` says
    which headline figures it makes unknown (``EQUITY``, ``MAINT`` or both).
    """

    path: str
    field: str
    problem: str
    item: str = ""
    affects: frozenset[str] = frozenset({EQUITY, MAINT})

    def __str__(self) -> str:
        row = f" {self.item}" if self.item else ""
        return f"{self.path}{row}: {self.field}: {self.problem}"


@dataclass(frozen=True)
class ReportedAccount:
    """What ``GET /papi/v1/account`` says, kept beside the recomputation for reconciliation.

    A field Binance left empty, null or out is ``None`` (unavailable), never a made-up 0.
    ``uni_mmr`` is ∞ for Binance's "no maintenance margin" sentinel (``"99999999"``).
    """

    uni_mmr: float | None
    account_equity_usd: float | None
    actual_equity_usd: float | None
    account_maint_margin_usd: float | None
    account_initial_margin_usd: float | None
    account_status: str | None
    total_margin_open_loss_usd: float | None
    update_time_ms: int
    virtual_max_withdraw_usd: float | None = None


@dataclass(frozen=True)
class ReportedPositionMargin:
    """One position's maintenance margin as ``/papi/v1/um/account`` or ``/papi/v1/cm/account``
    reports it, in the position's margin asset (USDⓈ-M: its quote; COIN-M: its coin)."""

    venue: str  # "UM" or "CM"
    symbol: str
    position_side: str
    maint_margin_qty: float
    margin_asset: str


@dataclass(frozen=True)
class InterestCharge:
    """One row of ``GET /papi/v1/margin/marginInterestHistory`` (PM "Get Margin Borrow/Loan
    Interest History"): interest Binance charged on a loan (``PERIODIC`` hourly, ``ON_BORROW``
    at the borrow, ``…_CONVERTED`` paid in BNB) or on a negative balance (``PORTFOLIO``, daily).
    ``daily_rate``: Binance's ``interestRate``, a daily rate; None when it left it out."""

    asset: str
    time_ms: int
    interest_qty: float
    daily_rate: float | None
    principal_qty: float | None
    kind: str
    raw_asset: str = ""  # the borrowed asset when the interest was paid in another (BNB)

    @property
    def loan_asset(self) -> str:
        return self.raw_asset or self.asset


@dataclass(frozen=True)
class InterestHistory:
    """What ``/papi/v1/margin/marginInterestHistory`` returned for the window asked (newest
    first on Binance's side). ``complete``: every row of the window was read (Binance's
    ``total`` is no more than the rows), so sums over it hold."""

    charges: tuple[InterestCharge, ...]
    complete: bool


@dataclass(frozen=True)
class FundingPayment:
    """One ``FUNDING_FEE`` row of ``GET /papi/v1/um/income`` or ``/papi/v1/cm/income``:
    + received, − paid, in ``asset`` (USDⓈ-M: the margin asset; COIN-M: the coin)."""

    venue: str  # "UM" or "CM"
    symbol: str
    asset: str
    income_qty: float
    time_ms: int


@dataclass(frozen=True)
class AccountSnapshot:
    """Everything one account holds at one moment."""

    balances: tuple[AssetBalance, ...]
    um_positions: tuple[UmPosition, ...]
    cm_positions: tuple[CmPosition, ...] = ()
    reported: ReportedAccount | None = None
    open_margin_order_loss_usd: float = 0.0
    update_time_ms: int = 0
    # Binance's own per-position MM (um/cm account); None when those endpoints were not read.
    reported_position_margins: tuple[ReportedPositionMargin, ...] | None = None
    problems: tuple[UnknownReason, ...] = ()  # inputs that could not be read
    # Carry, read every few minutes (None: not read, or refused: the figures are unavailable).
    interest_history: InterestHistory | None = None
    um_funding: tuple[FundingPayment, ...] | None = None
    cm_funding: tuple[FundingPayment, ...] | None = None


@dataclass(frozen=True)
class MarketState:
    """Prices and the exchange's published parameters at one moment."""

    index_price_usd: dict[str, float]
    mark_price: dict[str, float] = field(default_factory=dict)
    um_brackets: dict[str, tuple[Bracket, ...]] = field(default_factory=dict)
    cm_brackets: dict[str, tuple[Bracket, ...]] = field(default_factory=dict)
    collateral_tiers: dict[str, tuple[CollateralTier, ...]] = field(default_factory=dict)
    time_ms: int = 0
    # Binance's flat table (``/sapi/v1/portfolio/collateralRate``) beside the tiered one
    # above (``/sapi/v2``); which governs an account is calibrated (risk/calibrate.py).
    # None: not read.
    collateral_flat: dict[str, tuple[CollateralTier, ...]] | None = None
    # ``/sapi/v1/portfolio/margin-asset-leverage`` (PM Pro): asset → leverage; None when the
    # account did not answer it.
    margin_asset_leverage: dict[str, float] | None = None
    problems: tuple[UnknownReason, ...] = ()


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


FLAT, TIERED = "flat", "tiered"
COLLATERAL_TABLE_PATH = {
    FLAT: "/sapi/v1/portfolio/collateralRate",
    TIERED: "/sapi/v2/portfolio/collateralRate",
}
"""Binance's two collateral tables, by the path that publishes each: "Classic Portfolio Margin
Collateral Rate" (flat, MARKET_DATA) and "Portfolio Margin Pro Tiered Collateral Rate"."""
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


@dataclass(frozen=True)
class PositionReconciliation:
    """One position's maintenance margin: pmdesk's (brackets) against Binance's, in USD."""

    venue: str
    symbol: str
    position_side: str
    pmdesk_mm_usd: float
    binance_mm_usd: float | None  # None: Binance does not list the position

    @property
    def diff_usd(self) -> float | None:
        return None if self.binance_mm_usd is None else self.pmdesk_mm_usd - self.binance_mm_usd


@dataclass(frozen=True)
class Reconciliation:
    """pmdesk's figures against the ones Binance reports for the same account and poll.

    ``binance_*`` are None where Binance left the figure out; ``binance_uni_mmr`` is ∞ for its
    "no maintenance margin" sentinel. ``rel_diff_*`` = (pmdesk − Binance) / |Binance|.
    The loan MM Binance charges is what its ``accountMaintMargin`` leaves after its positions'
    own ``maintMargin`` (``binance_loan_mm_usd``).
    """

    binance_uni_mmr: float | None
    binance_equity_usd: float | None
    binance_mm_usd: float | None
    pmdesk_uni_mmr: float
    pmdesk_equity_usd: float
    pmdesk_mm_usd: float
    rel_diff_uni_mmr: float | None
    rel_diff_equity: float | None
    rel_diff_mm: float | None
    binance_futures_mm_usd: float | None
    binance_loan_mm_usd: float | None
    pmdesk_futures_mm_usd: float
    pmdesk_loan_mm_usd: float
    positions: tuple[PositionReconciliation, ...]
    agrees: bool | None  # None: Binance's figures are unavailable
    explained_by: str
    tolerance: float
    # The product's liquidation level: at or below it on both sides, the two agree on what
    # matters (liquidation) whatever the relative gap near zero.
    liquidation_uni_mmr: float = 1.05

    @property
    def both_liquidating(self) -> bool:
        u, b = self.pmdesk_uni_mmr, self.binance_uni_mmr
        level = self.liquidation_uni_mmr
        return b is not None and not math.isnan(u) and u <= level and b <= level


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
class LiabilityRow:
    """One asset the account owes, or holds below zero: a cross-margin loan, its accrued interest,
    a negative futures wallet, or a negative net balance (e.g. a USDⓈ-M loss larger than the
    asset's holdings). Quantities in the asset's units; ``_usd`` at its index price (NaN when
    the price is unknown).

    ``loan_mmr``: the loan MMR pmdesk uses for this asset (None: no loan); ``loan_mm_usd`` =
    borrowed · MMR · price (uniMMR FAQ). ``loan_daily_rate`` / ``negative_balance_daily_rate``:
    Binance's daily interest rate from its newest interest charge of that kind
    (``/papi/v1/margin/marginInterestHistory``); None when unavailable (not read, refused, or no
    charge in the window). ``interest_24h_qty``: interest Binance charged in the last 24 h; None
    when unavailable."""

    asset: str
    stable: bool
    borrowed_qty: float
    interest_qty: float  # accrued and unpaid: /papi/v1/balance crossMarginInterest
    um_wallet_qty: float
    cm_wallet_qty: float
    unrealized_pnl_qty: float  # USDⓈ-M + COIN-M unrealized PnL in this asset
    equity_qty: float  # x: held − borrowed − interest + wallets + unrealized PnL
    index_price_usd: float
    loan_usd: float  # (borrowed + interest) · price
    negative_wallets_usd: float  # (min(um wallet, 0) + min(cm wallet, 0)) · price, ≤ 0
    equity_usd: float  # x · price (negative: the account owes this asset net)
    loan_mmr: float | None
    loan_mm_usd: float
    loan_daily_rate: float | None
    negative_balance_daily_rate: float | None
    rate_time_ms: int | None  # when Binance charged at that rate
    interest_24h_qty: float | None

    @property
    def negative_wallets_qty(self) -> float:
        return min(self.um_wallet_qty, 0.0) + min(self.cm_wallet_qty, 0.0)

    @property
    def has_loan(self) -> bool:
        return self.borrowed_qty > 0.0 or self.interest_qty > 0.0

    @property
    def negative(self) -> bool:
        """Below zero: a negative futures wallet or a negative net balance."""
        return self.negative_wallets_qty < 0.0 or self.equity_qty < 0.0


@dataclass(frozen=True)
class FundingRow:
    """Funding of one perpetual over the window pmdesk read (``FundingReport.window_start_ms`` to
    its ``as_of_ms``): every payment, + received / − paid, in ``asset``. ``available`` False:
    that venue's income was not read (a position is open there), every figure None/empty."""

    venue: str
    symbol: str
    asset: str
    index_price_usd: float
    available: bool
    times_ms: tuple[int, ...]  # oldest first
    income_qty: tuple[float, ...]
    last_24h_qty: float | None
    last_24h_usd: float | None
    open_position: bool


@dataclass(frozen=True)
class FundingReport:
    """Funding paid and received, per perpetual. ``um_read`` / ``cm_read``: whether each venue's
    income was read. ``last_24h_usd``: the sum over every row, None when a venue with an open
    position was not read (never a 0 for "unknown"). USD at each income asset's index price now."""

    rows: tuple[FundingRow, ...]
    um_read: bool
    cm_read: bool
    window_start_ms: int
    as_of_ms: int
    last_24h_usd: float | None


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
