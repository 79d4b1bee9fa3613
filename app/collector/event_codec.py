"""User-data-stream events (``risk.account_events``) to and from JSON: how a between-polls
snapshot stores the events it applied, so ``app/replay.py`` rebuilds the same report (pure).

Each event is its dataclass's fields plus ``"type"`` (the class name); nested rows (balances,
positions) are objects, ``OpenOrderLoss``'s ``(asset, amount)`` pairs are two-item arrays. A row
that does not read back raises ``ValueError`` naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

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

EVENTS_KEY = "events"
"""The between-polls snapshot's payload key: ``{"since_ms": int, "list": [event, ...]}``."""

_FLAT: dict[str, type[AccountEvent]] = {
    cls.__name__: cls
    for cls in (
        MarginDelta,
        LiabilityUpdate,
        OrderUpdate,
        MarginOrderUpdate,
        RiskLevelChange,
        LeverageUpdate,
        ListenKeyExpired,
        UnknownEvent,
    )
}


def event_to_json(event: AccountEvent) -> dict[str, Any]:
    body = dataclasses.asdict(event)
    if isinstance(event, OpenOrderLoss):
        body["loss_qty"] = [[asset, amount] for asset, amount in event.loss_qty]
    return {"type": type(event).__name__, **body}


def events_to_json(events: Sequence[AccountEvent]) -> list[dict[str, Any]]:
    return [event_to_json(e) for e in events]


def event_from_json(row: Mapping[str, Any]) -> AccountEvent:
    try:
        fields = {k: v for k, v in row.items() if k != "type"}
        kind = row["type"]
        if kind == "FuturesUpdate":
            return FuturesUpdate(
                **{
                    **fields,
                    "balances": tuple(FuturesBalance(**b) for b in fields["balances"]),
                    "positions": tuple(FuturesPosition(**p) for p in fields["positions"]),
                }
            )
        if kind == "MarginPosition":
            balances = tuple(MarginBalance(**b) for b in fields["balances"])
            return MarginPosition(fields["event_time_ms"], balances)
        if kind == "OpenOrderLoss":
            pairs = tuple((str(a), float(q)) for a, q in fields["loss_qty"])
            return OpenOrderLoss(fields["event_time_ms"], pairs)
        return _FLAT[kind](**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"stored event {dict(row)!r} does not read back: {exc}") from None


def events_from_json(rows: object) -> list[AccountEvent]:
    if not isinstance(rows, list):
        raise ValueError(f"stored events: expected a list, got {type(rows).__name__}")
    return [event_from_json(r) for r in rows]


def encode_events(since_ms: int, events: Sequence[AccountEvent]) -> dict[str, Any]:
    """The ``"events"`` payload: the poll's ``since_ms`` and the events in arrival order."""
    return {"since_ms": since_ms, "list": events_to_json(events)}


def decode_events(body: object) -> tuple[int, list[AccountEvent]]:
    if not isinstance(body, dict) or not isinstance(body.get("since_ms"), int):
        raise ValueError("stored events: expected {'since_ms': int, 'list': [...]}")
    return body["since_ms"], events_from_json(body.get("list"))
