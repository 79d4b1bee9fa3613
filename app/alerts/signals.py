"""Alerts from Binance's own signals on the Portfolio Margin user data stream (issue 19). Pure:
the signals and time are passed in; ``AlertBook.on_signal`` steps the checks made here.

- ``riskLevelChange`` (``RiskLevelChange``; ``u`` uniMMR, ``s`` MARGIN_CALL | REDUCE_ONLY |
  FORCE_LIQUIDATION, pushed "when the user's position risk ratio is too high";
  https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams/Event-riskLevelChange)
  is Binance's status, pushed: it raises — or escalates — the **same** ``account_status`` alert
  Binance's polled ``accountStatus`` raises (one fact, one alert: a push and the next poll
  saying the same status never make two), at once, at that status's level in Binance's order
  (MARGIN_CALL warn; REDUCE_ONLY and FORCE_LIQUIDATION critical: ``STATUS_TIERS``), its words
  "Binance says ACCOUNT is REDUCE_ONLY: uniMMR 1.18". It eases and clears as that alert does:
  once every report's Binance status (the stream's, then the reconciliation poll's) has been
  better for ``cooldown_s`` (Binance pushes no return to NORMAL: the poll's ``accountStatus``
  brings it). ``account_status = false`` in the settings turns both off.
- ``ORDER_TRADE_UPDATE`` of a liquidation order (client id ``c`` beginning ``autoclose-``) or an
  ADL close (``c`` = ``adl_autoclose``)
  (https://developers.binance.com/docs/derivatives/portfolio-margin/user-data-streams/Event-Futures-Order-update)
  raises one CRITICAL alert per order, "Binance is liquidating ACCOUNT: SYMBOL SIDE qty": its
  NEW, PARTIALLY_FILLED and FILLED updates change the same alert's quantity (``z``, the
  cumulative filled quantity, "of" the order's quantity ``q`` when the event carries it). Keys:
  ``binance_liquidation:<c>``; every ADL order has the same ``c``, so ADL alerts are told apart
  by symbol, position side and the first event's time — ``binance_adl:<symbol>:<E>`` — a new
  one once the previous ADL order of that symbol and side is done. An order is an event, not a
  value that can hover: its alert holds until the order is done (FILLED, CANCELED, EXPIRED,
  EXPIRED_IN_MATCH) **and** someone acknowledged it on screen, then clears after
  ``cooldown_s`` like any other alert (a liquidation nobody has seen never leaves the strip).
  An order alert adopted after a restart counts as done (its updates were not seen).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.alerts.checks import status_check
from app.alerts.levels import Check, Severity, Tier
from risk.account_events import OrderUpdate, RiskLevelChange

BinanceSignal = RiskLevelChange | OrderUpdate

LIQUIDATION_KEY = "binance_liquidation"
ADL_KEY = "binance_adl"
KEY_MAX = 64  # the store's key column (String(64)); Binance's client ids are at most 36
DONE = frozenset({"FILLED", "CANCELED", "EXPIRED", "EXPIRED_IN_MATCH"})  # final order statuses


def qty_words(qty: float) -> str:
    """A quantity as typed on the exchange: plain decimals, no exponent, no trailing zeros."""
    return f"{qty:.8f}".rstrip("0").rstrip(".") or "0"


def order_words(account: str, order: OrderUpdate) -> str:
    doing = "auto-deleveraging" if order.adl else "liquidating"
    head = f"Binance is {doing} {account}: {order.symbol} {order.side}"
    of = "" if order.orig_qty is None else f" of {qty_words(order.orig_qty)}"
    if order.filled_qty <= 0:
        return f"{head}, nothing filled yet{of} ({order.status})"
    last = (
        f", last {qty_words(order.last_filled_qty)} at {order.last_price:,.2f}"
        if order.last_filled_qty > 0
        else ""
    )
    return f"{head} {qty_words(order.filled_qty)}{of} ({order.status}{last})"


def order_check(account: str, key: str, order: OrderUpdate, calm: bool) -> Check:
    """One order's alert: breached by every update (one alert per key: a later update only
    changes its words), calm once ``calm`` (done and acknowledged)."""
    if order.adl:
        title = f"Binance auto-deleveraging (ADL) on {order.symbol}"
        action = (
            "Binance closed part of a profitable position against a liquidated trader: the "
            "hedge this leg belonged to is now uneven — check the account's positions"
        )
    else:
        title = f"Binance liquidation order on {order.symbol}"
        action = (
            "Binance is closing this account's positions: add stablecoin or reduce size now "
            "to stop further liquidation, and check what is left of the hedges"
        )
    return Check(
        key=key,
        tiers=(Tier(Severity.CRITICAL, title),),
        breach=1,
        hold=0 if calm else 1,
        message=order_words(account, order),
        action=action,
        value=order.filled_qty,
        cleared=f"acknowledged, the order {order.status}",
    )


def liquidation_key(client_order_id: str) -> str:
    return f"{LIQUIDATION_KEY}:{client_order_id}"[:KEY_MAX]


def adl_key(order: OrderUpdate) -> str:
    return f"{ADL_KEY}:{order.symbol}:{order.event_time_ms}"[:KEY_MAX]


@dataclass
class _Order:
    key: str
    last_ms: int  # the newest update's event time
    done: bool = False
    acked: bool = False


class Signals:
    """What the order alerts need remembered between updates: per account and order, its alert
    key, whether the order is done and whether its alert was acknowledged."""

    def __init__(self) -> None:
        self._orders: dict[tuple[str, str], _Order] = {}  # (account, order identity) → …

    def check(self, account: str, signal: BinanceSignal, status_on: bool) -> Check | None:
        """The check a signal makes (None: it makes none). ``status_on``: the account's
        ``account_status`` rule is on."""
        if isinstance(signal, RiskLevelChange):
            return status_check(account, signal.status, signal.uni_mmr) if status_on else None
        if not (signal.liquidation or signal.adl):
            return None  # a trader's own order: its fill arrives as figures, not an alarm
        identity = (
            signal.client_order_id
            if signal.liquidation
            else f"{ADL_KEY}:{signal.symbol}:{signal.position_side}"
        )
        order = self._orders.get((account, identity))
        # A later ADL update once the last ADL order is done is another order (a repeat of an
        # update already seen — not newer — is not).
        if order is None or (signal.adl and order.done and signal.event_time_ms > order.last_ms):
            key = liquidation_key(identity) if signal.liquidation else adl_key(signal)
            order = self._orders[(account, identity)] = _Order(key, signal.event_time_ms)
        order.last_ms = max(order.last_ms, signal.event_time_ms)
        order.done = order.done or signal.status in DONE
        return order_check(account, order.key, signal, order.done and order.acked)

    def acknowledged(self, account: str, check: Check) -> Check:
        """An order alert someone acknowledged: calm if its order is done (or unknown: adopted
        after a restart), else held until it is."""
        order = next(
            (o for (a, _i), o in self._orders.items() if a == account and o.key == check.key), None
        )
        if order is not None:
            order.acked = True
        calm = order is None or order.done
        return dataclasses.replace(check, breach=0, hold=0 if calm else 1)

    def forget(self, account: str, key: str) -> None:
        """A cleared order alert: a later update of that order would be a new alert."""
        for ident in [i for (a, i), o in self._orders.items() if a == account and o.key == key]:
            del self._orders[(account, ident)]
