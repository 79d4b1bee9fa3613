"""The parts of a ``RiskReport``: margins by component, per-asset and per-position rows, hedges,
stress and liquidation figures, top-up advice, reconciliation with Binance, and carry rows.
Plain frozen dataclasses, no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

from risk.market import CollateralTier
from risk.rules import MarginBand


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
    # When Binance's figures were read (the account poll) or pushed (riskLevelChange's E), as
    # the collector stamps it; None: not known (a capture, or a report stored before it was).
    binance_at_ms: int | None = None

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
class ReduceAdvice:
    """Close this fraction of the largest MM contributor to reach the top-up target instead."""

    venue: str
    symbol: str
    fraction: float | None  # None: closing all of it is not enough
