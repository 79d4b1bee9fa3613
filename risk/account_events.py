"""Portfolio Margin user-data-stream events: the typed events the stream parser makes. Pure.

Between two account polls Binance pushes what changed on the account's user data stream
(``wss://fstream.binance.com/pm/ws/<listenKey>``; docs/binance-pm-notes.md, "User data stream").
``connectors/binance/parse/events.py`` reads each message into one of the types below (the
neutral model home, like ``risk.remark.MarkUpdate``); ``risk/account_apply.py`` applies an
ordered run of them to the last poll's ``AccountSnapshot``. Field names: Binance's; their pages
are cited in the parse module.
"""

from __future__ import annotations

from dataclasses import dataclass

LIQUIDATION_PREFIX = "autoclose-"  # client order id of Binance's liquidation orders
ADL_ID = "adl_autoclose"  # client order id of an auto-deleveraging close
SETTLEMENT_PREFIX = "settlement_autoclose-"  # delisting / delivery settlement


# ---- the events --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FuturesBalance:
    asset: str
    wallet_qty: float  # wb
    cross_wallet_qty: float  # cw
    change_qty: float  # bc: balance change except PnL and commission


@dataclass(frozen=True)
class FuturesPosition:
    symbol: str
    position_side: str  # ps: BOTH, LONG, SHORT
    amount: float  # pa: base units (UM) or contracts (CM), signed
    entry_price: float  # ep
    unrealized_pnl_qty: float  # up, in the margin asset (UM) or the coin (CM)
    realized_qty: float  # cr: (pre-fee) accumulated realized
    breakeven_price: float  # bep


@dataclass(frozen=True)
class FuturesUpdate:
    event_time_ms: int
    venue: str  # "UM" or "CM"
    reason: str  # a.m: ORDER, FUNDING_FEE, DEPOSIT, …
    balances: tuple[FuturesBalance, ...]
    positions: tuple[FuturesPosition, ...]


@dataclass(frozen=True)
class MarginBalance:
    asset: str
    free_qty: float
    locked_qty: float


@dataclass(frozen=True)
class MarginPosition:
    event_time_ms: int
    balances: tuple[MarginBalance, ...]


@dataclass(frozen=True)
class MarginDelta:
    event_time_ms: int
    asset: str
    delta_qty: float


@dataclass(frozen=True)
class LiabilityUpdate:
    event_time_ms: int
    asset: str
    kind: str  # t: BORROW, REPAY, …
    principal_qty: float  # p
    interest_qty: float  # i
    total_liability_qty: float  # l: what the asset owes after the change


@dataclass(frozen=True)
class OpenOrderLoss:
    event_time_ms: int
    loss_qty: tuple[tuple[str, float], ...]  # (asset, amount): negative is a loss


@dataclass(frozen=True)
class OrderUpdate:
    """A futures order (``ORDER_TRADE_UPDATE``)."""

    event_time_ms: int
    venue: str
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    execution_type: str
    status: str
    last_filled_qty: float
    filled_qty: float
    last_price: float
    position_side: str
    order_id: int | None = None  # ``i``
    orig_qty: float | None = None  # ``q``: the order's quantity (None: not sent)

    @property
    def liquidation(self) -> bool:
        return self.client_order_id.startswith(LIQUIDATION_PREFIX)

    @property
    def adl(self) -> bool:
        return self.client_order_id == ADL_ID


@dataclass(frozen=True)
class MarginOrderUpdate:
    """A cross-margin order (``executionReport``)."""

    event_time_ms: int
    symbol: str
    client_order_id: str
    side: str
    execution_type: str
    status: str
    last_filled_qty: float
    last_price: float


@dataclass(frozen=True)
class RiskLevelChange:
    event_time_ms: int
    uni_mmr: float
    status: str  # MARGIN_CALL, REDUCE_ONLY, FORCE_LIQUIDATION
    equity_usd: float
    actual_equity_usd: float
    maint_margin_usd: float


@dataclass(frozen=True)
class LeverageUpdate:
    event_time_ms: int
    venue: str
    symbol: str
    leverage: float


@dataclass(frozen=True)
class ListenKeyExpired:
    event_time_ms: int


@dataclass(frozen=True)
class UnknownEvent:
    """An event type pmdesk does not know, or knows carries nothing it applies."""

    event_time_ms: int | None
    event_type: str
    known: bool = False  # a documented type with no effect on the figures (ALGO_UPDATE, …)


AccountEvent = (
    FuturesUpdate
    | MarginPosition
    | MarginDelta
    | LiabilityUpdate
    | OpenOrderLoss
    | OrderUpdate
    | MarginOrderUpdate
    | RiskLevelChange
    | LeverageUpdate
    | ListenKeyExpired
    | UnknownEvent
)
