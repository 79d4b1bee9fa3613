"""Portfolio Margin user-data-stream messages → ``risk.account_events`` types (pure).

Field names checked against Binance's pages (developers.binance.com/docs/derivatives/
portfolio-margin/user-data-streams/…) and Binance's generated connector
(binance/binance-connector-js, clients/derivatives-trading-portfolio-margin/src/
websocket-streams/types/*.ts, commit a9de9a99):

- ``ACCOUNT_UPDATE`` (Event-Futures-Balance-and-Position-Update): ``fs`` UM | CM, ``E``, ``T``,
  ``a.m`` reason, ``a.B[{a, wb, cw, bc}]``, ``a.P[{s, pa, ep, cr, up, ps, bep}]`` (changed
  positions only; a FUNDING_FEE update carries no ``P``).
- ``outboundAccountPosition`` (Event-Margin-Account-Update): ``E``, ``u``, ``U``, ``B[{a, f, l}]``.
- ``balanceUpdate`` (connector-js ``balance-update.ts``): ``E``, ``a``, ``d`` (delta), ``U``, ``T``.
- ``liabilityChange`` (Event-Liability-Update): ``E``, ``a``, ``t`` type, ``T`` transaction id,
  ``p`` principal, ``i`` interest, ``l`` total liability.
- ``openOrderLoss`` (Event-OpenOrderLoss-Update): ``E``, ``O[{a, o}]`` (``o`` negative).
- ``ORDER_TRADE_UPDATE`` (Event-Futures-Order-update): ``fs``, ``E``, ``o{s, c, S, o, x, X, l, z,
  L, ps, i, q, …}`` (``i`` order id and ``q`` original quantity optional: alert words only);
  ``c`` "autoclose-…" is a liquidation order, "adl_autoclose" an ADL close.
- ``executionReport`` (Event-Margin-Order-Update, connector-js ``execution-report.ts``): spot's
  fields (``s, c, S, x, X, l, L``).
- ``riskLevelChange`` (Event-riskLevelChange): ``E``, ``u`` uniMMR, ``s`` MARGIN_CALL |
  REDUCE_ONLY | FORCE_LIQUIDATION, ``eq``, ``ae``, ``m`` (total MM, USD).
- ``ACCOUNT_CONFIG_UPDATE``: ``fs``, ``E``, ``ac{s, l}`` (a symbol's leverage).
- ``listenKeyExpired`` (connector-js ``listen-key-expired.ts``): ``E``.
- ``ALGO_UPDATE``, ``CONDITIONAL_ORDER_TRADE_UPDATE``: documented, no figure changes (known).

Decimals arrive as strings. A documented event with a field missing or malformed raises
``BadPayload`` naming the event and the field (``a.P[0].pa``); an event type not listed here is an
``UnknownEvent`` (the caller resyncs over REST). A message wrapped as ``{"stream", "data"}`` is
unwrapped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.binance.errors import BadPayload
from connectors.binance.parse.fields import ROOT_FIELD, FieldError, number
from risk.account_events import (
    AccountEvent,
    FuturesBalance,
    FuturesPosition,
    FuturesUpdate,
    LeverageUpdate,
    LiabilityUpdate,
    ListenKeyExpired,
    MarginBalance,
    MarginDelta,
    MarginOrderUpdate,
    MarginPosition,
    OpenOrderLoss,
    OrderUpdate,
    RiskLevelChange,
    UnknownEvent,
)

SOURCE = "PM user data stream"
"""The ``path`` a ``BadPayload`` from this module names, followed by the event type."""
KNOWN_WITHOUT_EFFECT = frozenset({"ALGO_UPDATE", "CONDITIONAL_ORDER_TRADE_UPDATE"})
VENUES = frozenset({"UM", "CM"})


class _Reader:
    """Fields of one event, each failure a ``BadPayload`` naming the event and the field."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type

    def bad(self, field: str, problem: str) -> BadPayload:
        return BadPayload(f"{SOURCE} {self.event_type}", field, problem)

    def obj(self, row: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = row.get(key)
        if not isinstance(value, Mapping):
            raise self.bad(where, f"expected an object, got {value!r}")
        return value

    def rows(
        self, row: Mapping[str, Any], key: str, where: str, *, optional: bool = False
    ) -> list[Mapping[str, Any]]:
        value = row.get(key)
        if value is None and optional:
            return []
        if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
            raise self.bad(where, f"expected an array of objects, got {value!r}")
        return value

    def num(self, row: Mapping[str, Any], key: str, where: str) -> float:
        try:
            return number(row, key)
        except FieldError as exc:
            raise self.bad(where, exc.problem) from None

    def text(self, row: Mapping[str, Any], key: str, where: str) -> str:
        value = row.get(key)
        if not isinstance(value, str) or not value:
            raise self.bad(where, f"expected a non-empty string, got {value!r}")
        return value

    def ms(self, row: Mapping[str, Any], key: str = "E", where: str = "E") -> int:
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.bad(where, f"expected a time in ms, got {value!r}")
        return value

    def venue(self, row: Mapping[str, Any]) -> str:
        value = row.get("fs")
        if value not in VENUES:
            raise self.bad("fs", f"expected UM or CM, got {value!r}")
        return str(value)


def _account_update(r: _Reader, raw: Mapping[str, Any]) -> FuturesUpdate:
    a = r.obj(raw, "a", "a")
    balances = tuple(
        FuturesBalance(
            asset=r.text(b, "a", f"a.B[{k}].a"),
            wallet_qty=r.num(b, "wb", f"a.B[{k}].wb"),
            cross_wallet_qty=r.num(b, "cw", f"a.B[{k}].cw"),
            change_qty=r.num(b, "bc", f"a.B[{k}].bc"),
        )
        for k, b in enumerate(r.rows(a, "B", "a.B", optional=True))
    )
    positions = tuple(
        FuturesPosition(
            symbol=r.text(p, "s", f"a.P[{k}].s"),
            position_side=r.text(p, "ps", f"a.P[{k}].ps"),
            amount=r.num(p, "pa", f"a.P[{k}].pa"),
            entry_price=r.num(p, "ep", f"a.P[{k}].ep"),
            unrealized_pnl_qty=r.num(p, "up", f"a.P[{k}].up"),
            realized_qty=r.num(p, "cr", f"a.P[{k}].cr"),
            breakeven_price=r.num(p, "bep", f"a.P[{k}].bep"),
        )
        for k, p in enumerate(r.rows(a, "P", "a.P", optional=True))
    )
    return FuturesUpdate(r.ms(raw), r.venue(raw), r.text(a, "m", "a.m"), balances, positions)


def _outbound(r: _Reader, raw: Mapping[str, Any]) -> MarginPosition:
    rows = r.rows(raw, "B", "B")
    return MarginPosition(
        r.ms(raw),
        tuple(
            MarginBalance(
                r.text(b, "a", f"B[{k}].a"),
                r.num(b, "f", f"B[{k}].f"),
                r.num(b, "l", f"B[{k}].l"),
            )
            for k, b in enumerate(rows)
        ),
    )


def _balance_update(r: _Reader, raw: Mapping[str, Any]) -> MarginDelta:
    return MarginDelta(r.ms(raw), r.text(raw, "a", "a"), r.num(raw, "d", "d"))


def _liability(r: _Reader, raw: Mapping[str, Any]) -> LiabilityUpdate:
    total = r.num(raw, "l", "l")
    if total < 0:
        raise r.bad("l", f"negative total liability: {raw['l']!r}")
    return LiabilityUpdate(
        r.ms(raw),
        r.text(raw, "a", "a"),
        r.text(raw, "t", "t"),
        r.num(raw, "p", "p"),
        r.num(raw, "i", "i"),
        total,
    )


def _open_order_loss(r: _Reader, raw: Mapping[str, Any]) -> OpenOrderLoss:
    rows = r.rows(raw, "O", "O")
    return OpenOrderLoss(
        r.ms(raw),
        tuple(
            (r.text(o, "a", f"O[{k}].a"), r.num(o, "o", f"O[{k}].o")) for k, o in enumerate(rows)
        ),
    )


def _order(r: _Reader, raw: Mapping[str, Any]) -> OrderUpdate:
    o = r.obj(raw, "o", "o")
    return OrderUpdate(
        event_time_ms=r.ms(raw),
        venue=r.venue(raw),
        symbol=r.text(o, "s", "o.s"),
        client_order_id=str(o.get("c") or ""),
        side=r.text(o, "S", "o.S"),
        order_type=r.text(o, "o", "o.o"),
        execution_type=r.text(o, "x", "o.x"),
        status=r.text(o, "X", "o.X"),
        last_filled_qty=r.num(o, "l", "o.l"),
        filled_qty=r.num(o, "z", "o.z"),
        last_price=r.num(o, "L", "o.L"),
        position_side=str(o.get("ps") or "BOTH"),
        # "i" Order Id, "q" Original Quantity (the Futures Order update page above): words for
        # the alert only, so an order without them is still read.
        order_id=o["i"] if isinstance(o.get("i"), int) and not isinstance(o["i"], bool) else None,
        orig_qty=r.num(o, "q", "o.q") if "q" in o else None,
    )


def _execution(r: _Reader, raw: Mapping[str, Any]) -> MarginOrderUpdate:
    return MarginOrderUpdate(
        event_time_ms=r.ms(raw),
        symbol=r.text(raw, "s", "s"),
        client_order_id=str(raw.get("c") or ""),
        side=r.text(raw, "S", "S"),
        execution_type=r.text(raw, "x", "x"),
        status=r.text(raw, "X", "X"),
        last_filled_qty=r.num(raw, "l", "l"),
        last_price=r.num(raw, "L", "L"),
    )


def _risk_level(r: _Reader, raw: Mapping[str, Any]) -> RiskLevelChange:
    return RiskLevelChange(
        event_time_ms=r.ms(raw),
        uni_mmr=r.num(raw, "u", "u"),
        status=r.text(raw, "s", "s"),
        equity_usd=r.num(raw, "eq", "eq"),
        actual_equity_usd=r.num(raw, "ae", "ae"),
        maint_margin_usd=r.num(raw, "m", "m"),
    )


def _config(r: _Reader, raw: Mapping[str, Any]) -> LeverageUpdate | UnknownEvent:
    ac = raw.get("ac")
    if ac is None:  # another configuration (multi-assets mode, …): nothing pmdesk applies
        return UnknownEvent(r.ms(raw), r.event_type, known=True)
    ac = r.obj(raw, "ac", "ac")
    return LeverageUpdate(r.ms(raw), r.venue(raw), r.text(ac, "s", "ac.s"), r.num(ac, "l", "ac.l"))


def _expired(r: _Reader, raw: Mapping[str, Any]) -> ListenKeyExpired:
    return ListenKeyExpired(r.ms(raw))


_PARSERS: dict[str, Callable[[_Reader, Mapping[str, Any]], AccountEvent]] = {
    "ACCOUNT_UPDATE": _account_update,
    "outboundAccountPosition": _outbound,
    "balanceUpdate": _balance_update,
    "liabilityChange": _liability,
    "openOrderLoss": _open_order_loss,
    "ORDER_TRADE_UPDATE": _order,
    "executionReport": _execution,
    "riskLevelChange": _risk_level,
    "ACCOUNT_CONFIG_UPDATE": _config,
    "listenKeyExpired": _expired,
}
EVENT_TYPES = frozenset(_PARSERS) | KNOWN_WITHOUT_EFFECT


def parse_event(raw: object) -> AccountEvent:
    """One user-data-stream message (the JSON decoded) → its typed event."""
    if isinstance(raw, Mapping) and isinstance(raw.get("data"), Mapping) and "stream" in raw:
        raw = raw["data"]
    if not isinstance(raw, Mapping):
        raise BadPayload(SOURCE, ROOT_FIELD, f"expected a JSON object, got {type(raw).__name__}")
    event_type = raw.get("e")
    if not isinstance(event_type, str) or not event_type:
        raise BadPayload(SOURCE, "e", f"no event type: {event_type!r}")
    parser = _PARSERS.get(event_type)
    if parser is None:
        when = raw.get("E")
        time = when if isinstance(when, int) and not isinstance(when, bool) else None
        return UnknownEvent(time, event_type, known=event_type in KNOWN_WITHOUT_EFFECT)
    return parser(_Reader(event_type), raw)
