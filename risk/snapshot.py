"""What one account holds at one moment: balances, positions, Binance's own figures, carry.

Plain frozen dataclasses, no I/O. ``_qty`` is in the asset's (or contract's) own units, ``_usd``
in US dollars, ``_ms`` a UTC epoch in milliseconds. Parsing from Binance's JSON lives in
``connectors/binance/parse.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from risk.reasons import UnknownReason


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
