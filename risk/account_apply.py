"""Portfolio Margin user-data-stream events applied to a poll's parsed snapshot. Pure.

Between two account polls Binance pushes what changed on the account's user data stream
(``wss://fstream.binance.com/pm/ws/<listenKey>``; docs/binance-pm-notes.md, "User data stream").
``connectors/binance/parse/events.py`` reads each message into a ``risk.account_events`` type;
``apply_events`` applies an ordered run of them to the last poll's ``AccountSnapshot`` and says,
beside the new snapshot, whether a REST resync is needed and why. Nothing here is I/O.

What each event changes (field names: Binance's; pages in the parse module):

- ``ACCOUNT_UPDATE`` (``FuturesUpdate``; ``fs`` UM | CM): each listed balance's futures wallet
  (``wb`` → ``um_wallet_qty`` / ``cm_wallet_qty``); each listed position (changed positions only):
  amount, entry and unrealized PnL; ``pa`` 0 removes it. The balance's futures PnL moves by the
  position's PnL change. The position's ``mark_price`` becomes the mark Binance valued it at,
  implied by ``up = pa · (mark − ep)`` (UM) or ``up = pa · size · (1/ep − 1/mark)`` (CM), so
  ``risk.remark.remark`` re-marks it from there exactly.
- ``outboundAccountPosition`` (``MarginPosition``): margin free ``f`` and locked ``l`` per listed
  asset → ``cross_margin_asset_qty = f + l`` (the margin asset held; loans and interest are not
  in it: they come from ``liabilityChange``).
- ``balanceUpdate`` (``MarginDelta``): ``d`` added to ``cross_margin_asset_qty`` (a following
  ``outboundAccountPosition`` restates the total).
- ``liabilityChange`` (``LiabilityUpdate``): the asset's total liability ``l`` (principal +
  interest) after the change. The stream does not split it: the interest stays as last known
  (at most ``l``) and the principal is the rest — equity exact, the loan MM's principal off by
  the interest accrued since the poll at most. Less owed while interest is owed (a repayment,
  a liquidation covering the loan) asks for a resync: which part was paid is a REST figure.
- ``openOrderLoss`` (``OpenOrderLoss``): per-asset amounts; valued with the given index prices
  into ``open_margin_order_loss_usd`` and a resync asked (the USD total is Binance's REST figure).
- ``riskLevelChange`` (``RiskLevelChange``): Binance's own uniMMR, status, equity and MM into
  ``snapshot.reported`` (shown beside pmdesk's).
- ``ACCOUNT_CONFIG_UPDATE`` (``LeverageUpdate``): a symbol's leverage.
- ``ORDER_TRADE_UPDATE`` / ``executionReport`` (``OrderUpdate`` / ``MarginOrderUpdate``): no
  figure (the fill's balance and position changes come in their own events); liquidation and ADL
  orders are handed back in ``Applied.signals`` with ``riskLevelChange``.
- ``listenKeyExpired`` and any event type pmdesk does not know (``UnknownEvent``): resync.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from risk.account_events import (
    AccountEvent,
    FuturesPosition,
    FuturesUpdate,
    LeverageUpdate,
    LiabilityUpdate,
    ListenKeyExpired,
    MarginDelta,
    MarginPosition,
    OpenOrderLoss,
    OrderUpdate,
    RiskLevelChange,
    UnknownEvent,
)
from risk.snapshot import AccountSnapshot, AssetBalance, CmPosition, ReportedAccount, UmPosition
from risk.symbols import cm_contract_size_usd, cm_symbol_coin, um_symbol_assets

DEFAULT_DISORDER_MS = 1_000
"""Events arriving with an ``E`` this much older than one already seen: a gap, not jitter."""


# ---- the result ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resync:
    """Why the stream-kept snapshot needs a REST read now."""

    kind: str  # one of RESYNC_KINDS
    detail: str
    event_time_ms: int | None = None


UNKNOWN_EVENT, OUT_OF_ORDER, NOT_IN_STREAM, KEY_EXPIRED = (
    "unknown event",
    "out of order",
    "not in the stream",
    "listen key expired",
)
RESYNC_KINDS = (UNKNOWN_EVENT, OUT_OF_ORDER, NOT_IN_STREAM, KEY_EXPIRED)


@dataclass(frozen=True)
class Applied:
    snapshot: AccountSnapshot
    resync: tuple[Resync, ...]
    applied: int  # events that changed or could change the snapshot
    ignored: int  # events not newer than ``since_ms``
    signals: tuple[RiskLevelChange | OrderUpdate, ...]  # riskLevelChange, liquidation / ADL

    @property
    def needs_resync(self) -> bool:
        return bool(self.resync)


# ---- applying ------------------------------------------------------------------------------------
@dataclass
class _State:
    balances: dict[str, AssetBalance]
    um: dict[tuple[str, str], UmPosition]
    cm: dict[tuple[str, str], CmPosition]
    reported: ReportedAccount | None
    open_loss_usd: float
    leverage: dict[str, float]
    resync: list[Resync]


def _balance(state: _State, asset: str) -> AssetBalance:
    old = state.balances.get(asset)
    return old if old is not None else AssetBalance(asset, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def _implied_um_mark(p: FuturesPosition) -> float:
    # up = pa · (mark − ep)  →  mark = ep + up / pa
    return p.entry_price + p.unrealized_pnl_qty / p.amount


def _implied_cm_mark(p: FuturesPosition, size: float) -> float:
    # up = pa · size · (1/ep − 1/mark)  →  1/mark = 1/ep − up / (pa · size)
    if p.entry_price <= 0.0:
        return math.nan
    inverse = 1.0 / p.entry_price - p.unrealized_pnl_qty / (p.amount * size)
    return 1.0 / inverse if inverse > 0.0 else math.nan


def _leverage(state: _State, symbol: str) -> float:
    return state.leverage.get(symbol, math.nan)


def _apply_um(state: _State, p: FuturesPosition, e: FuturesUpdate, pnl: dict[str, float]) -> None:
    key = (p.symbol, p.position_side)
    old = state.um.get(key)
    old_pnl = old.unrealized_pnl_qty if old is not None else 0.0
    assets = (old.base_asset, old.margin_asset) if old else um_symbol_assets(p.symbol)
    if assets is None:
        state.resync.append(
            Resync(NOT_IN_STREAM, f"UM {p.symbol}: margin asset unknown", e.event_time_ms)
        )
        return
    base, margin_asset = assets
    pnl[margin_asset] = pnl.get(margin_asset, 0.0) + p.unrealized_pnl_qty - old_pnl
    if p.amount == 0.0:
        state.um.pop(key, None)
        return
    state.um[key] = UmPosition(
        symbol=p.symbol,
        position_side=p.position_side,
        position_amt_qty=p.amount,
        entry_price=p.entry_price,
        mark_price=_implied_um_mark(p),
        unrealized_pnl_qty=p.unrealized_pnl_qty,
        base_asset=base,
        margin_asset=margin_asset,
        leverage=old.leverage if old is not None else _leverage(state, p.symbol),
    )


def _apply_cm(state: _State, p: FuturesPosition, e: FuturesUpdate, pnl: dict[str, float]) -> None:
    key = (p.symbol, p.position_side)
    old = state.cm.get(key)
    size = old.contract_size_usd if old is not None else cm_contract_size_usd(p.symbol)
    if size is None:
        state.resync.append(
            Resync(NOT_IN_STREAM, f"CM {p.symbol}: contract size unknown", e.event_time_ms)
        )
        return
    coin = old.margin_asset if old is not None else cm_symbol_coin(p.symbol)
    old_pnl = old.unrealized_pnl_qty if old is not None else 0.0
    pnl[coin] = pnl.get(coin, 0.0) + p.unrealized_pnl_qty - old_pnl
    if p.amount == 0.0:
        state.cm.pop(key, None)
        return
    state.cm[key] = CmPosition(
        symbol=p.symbol,
        position_side=p.position_side,
        position_amt_contracts=p.amount,
        entry_price=p.entry_price,
        mark_price=_implied_cm_mark(p, size),
        unrealized_pnl_qty=p.unrealized_pnl_qty,
        contract_size_usd=size,
        margin_asset=coin,
        leverage=old.leverage if old is not None else _leverage(state, p.symbol),
    )


def _futures(state: _State, e: FuturesUpdate) -> None:
    um = e.venue == "UM"
    pnl: dict[str, float] = {}
    for p in e.positions:
        (_apply_um if um else _apply_cm)(state, p, e, pnl)
    for b in e.balances:
        row = _balance(state, b.asset)
        state.balances[b.asset] = (
            dataclasses.replace(row, um_wallet_qty=b.wallet_qty)
            if um
            else dataclasses.replace(row, cm_wallet_qty=b.wallet_qty)
        )
    for asset, change in pnl.items():
        row = _balance(state, asset)
        state.balances[asset] = (
            dataclasses.replace(row, um_unrealized_pnl_qty=row.um_unrealized_pnl_qty + change)
            if um
            else dataclasses.replace(row, cm_unrealized_pnl_qty=row.cm_unrealized_pnl_qty + change)
        )


def _liability(state: _State, e: LiabilityUpdate) -> None:
    row = _balance(state, e.asset)
    owed = row.cross_margin_borrowed_qty + row.cross_margin_interest_qty
    if row.cross_margin_interest_qty > 0.0 and e.total_liability_qty < owed:
        # Less owed while interest was owed (a repayment, or Binance's liquidation covering the
        # loan): how much went to the interest is not in the stream, and keeping the interest
        # as last known would understate the principal, so the loan's MM (fail closed: read REST).
        state.resync.append(
            Resync(NOT_IN_STREAM, f"{e.asset} loan paid down: its principal is a REST figure",
                   e.event_time_ms)
        )  # fmt: skip
    interest = min(row.cross_margin_interest_qty, e.total_liability_qty)
    state.balances[e.asset] = dataclasses.replace(
        row,
        cross_margin_borrowed_qty=e.total_liability_qty - interest,
        cross_margin_interest_qty=interest,
    )


def _open_loss(state: _State, e: OpenOrderLoss, index_price_usd: Mapping[str, float]) -> None:
    total = 0.0
    for asset, amount in e.loss_qty:
        price = index_price_usd.get(asset)
        if price is None or not (math.isfinite(price) and price > 0.0):
            total = math.nan
            continue
        total += abs(amount) * price
    state.open_loss_usd = total
    state.resync.append(
        Resync(
            NOT_IN_STREAM, "open order loss: Binance's USD total is a REST figure", e.event_time_ms
        )
    )


def _risk_level(state: _State, e: RiskLevelChange) -> None:
    old = state.reported
    state.reported = ReportedAccount(
        uni_mmr=e.uni_mmr,
        account_equity_usd=e.equity_usd,
        actual_equity_usd=e.actual_equity_usd,
        account_maint_margin_usd=e.maint_margin_usd,
        account_initial_margin_usd=old.account_initial_margin_usd if old else None,
        account_status=e.status,
        total_margin_open_loss_usd=old.total_margin_open_loss_usd if old else None,
        update_time_ms=e.event_time_ms,
        virtual_max_withdraw_usd=old.virtual_max_withdraw_usd if old else None,
    )


def _apply_one(
    state: _State, e: AccountEvent, index_price_usd: Mapping[str, float], signals: list[object]
) -> None:
    if isinstance(e, FuturesUpdate):
        _futures(state, e)
    elif isinstance(e, MarginPosition):
        for m in e.balances:
            row = _balance(state, m.asset)
            state.balances[m.asset] = dataclasses.replace(
                row, cross_margin_asset_qty=m.free_qty + m.locked_qty
            )
    elif isinstance(e, MarginDelta):
        row = _balance(state, e.asset)
        state.balances[e.asset] = dataclasses.replace(
            row, cross_margin_asset_qty=row.cross_margin_asset_qty + e.delta_qty
        )
    elif isinstance(e, LiabilityUpdate):
        _liability(state, e)
    elif isinstance(e, OpenOrderLoss):
        _open_loss(state, e, index_price_usd)
    elif isinstance(e, RiskLevelChange):
        _risk_level(state, e)
        signals.append(e)
    elif isinstance(e, LeverageUpdate):
        state.leverage[e.symbol] = e.leverage
        for key, u in state.um.items():
            if u.symbol == e.symbol:
                state.um[key] = dataclasses.replace(u, leverage=e.leverage)
        for key, c in state.cm.items():
            if c.symbol == e.symbol:
                state.cm[key] = dataclasses.replace(c, leverage=e.leverage)
    elif isinstance(e, OrderUpdate):
        if e.liquidation or e.adl:
            signals.append(e)
    elif isinstance(e, ListenKeyExpired):
        state.resync.append(
            Resync(KEY_EXPIRED, "no event after it until a new key", e.event_time_ms)
        )
    elif isinstance(e, UnknownEvent) and not e.known:
        state.resync.append(Resync(UNKNOWN_EVENT, e.event_type, e.event_time_ms))


def signals_in(events: Iterable[AccountEvent]) -> list[RiskLevelChange | OrderUpdate]:
    """Binance's own signals among ``events``: riskLevelChange, liquidation and ADL orders. A
    signal says what Binance did, so it is handed on even when the snapshot already shows the
    event's effect (the collector's ledger fires each one once)."""
    return [
        e
        for e in events
        if isinstance(e, RiskLevelChange)
        or (isinstance(e, OrderUpdate) and (e.liquidation or e.adl))
    ]


def apply_events(
    snapshot: AccountSnapshot,
    events: Iterable[AccountEvent],
    *,
    since_ms: int | None = None,
    index_price_usd: Mapping[str, float] | None = None,
    disorder_ms: int = DEFAULT_DISORDER_MS,
) -> Applied:
    """``snapshot`` after ``events`` (in arrival order), applied in ``E`` order; events not newer
    than ``since_ms`` (default: the snapshot's time — pass the poll's start on the exchange clock)
    are already in it and ignored. An event arriving ``disorder_ms`` older than one already seen
    asks for a resync (a gap the stream cannot heal); so do unknown events, an expired listen
    key and anything the stream does not carry. Pure: the inputs are not changed."""
    start = snapshot.update_time_ms if since_ms is None else since_ms
    state = _State(
        balances={b.asset: b for b in snapshot.balances},
        um={(p.symbol, p.position_side): p for p in snapshot.um_positions},
        cm={(p.symbol, p.position_side): p for p in snapshot.cm_positions},
        reported=snapshot.reported,
        open_loss_usd=snapshot.open_margin_order_loss_usd,
        leverage={
            **{u.symbol: u.leverage for u in snapshot.um_positions},
            **{c.symbol: c.leverage for c in snapshot.cm_positions},
        },
        resync=[],
    )
    newest_seen = start
    keep: list[tuple[int, int, AccountEvent]] = []
    signals: list[object] = []
    ignored = 0
    for order, e in enumerate(events):
        t = e.event_time_ms
        if t is None:  # an unknown event without a time: always a resync
            _apply_one(state, e, {}, [])
            continue
        if t <= start:
            ignored += 1
            signals += signals_in((e,))  # in the snapshot already, but still Binance's word
            continue
        if t < newest_seen - disorder_ms:
            state.resync.append(
                Resync(OUT_OF_ORDER, f"{type(e).__name__} at {t} after {newest_seen}", t)
            )
        newest_seen = max(newest_seen, t)
        keep.append((t, order, e))
    latest = snapshot.update_time_ms
    for t, _, e in sorted(keep, key=lambda k: (k[0], k[1])):
        _apply_one(state, e, index_price_usd or {}, signals)
        latest = max(latest, t)
    new = dataclasses.replace(
        snapshot,
        balances=tuple(state.balances.values()),
        um_positions=tuple(state.um.values()),
        cm_positions=tuple(state.cm.values()),
        reported=state.reported,
        open_margin_order_loss_usd=state.open_loss_usd,
        update_time_ms=latest,
    )
    return Applied(
        snapshot=new,
        resync=tuple(state.resync),
        applied=len(keep),
        ignored=ignored,
        signals=tuple(s for s in signals if isinstance(s, RiskLevelChange | OrderUpdate)),
    )
