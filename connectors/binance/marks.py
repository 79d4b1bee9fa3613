"""Mark prices from Binance's mark-price streams (and the premium-index REST fallback), read
into ``risk.remark.MarkUpdate``s.

Pure: no I/O. The stream client (``stream.py``) hands each message to ``parse_mark_message``; the
collector applies the updates to its last poll's parsed snapshot and market with
``risk.remark.remark`` (no JSON is re-rendered or re-parsed), measuring index moves from the
poll's premium index (``mark_basis``).

Streams (developers.binance.com, "Mark Price Stream for All market" (USDⓈ-M) and "Mark Price of
All Symbols of a Pair" (COIN-M)): ``!markPrice@arr@1s`` on ``fstream`` and
``<pair>@markPrice@1s`` on ``dstream``; each event is
``{"e": "markPriceUpdate", "E": event ms, "s": symbol, "p": mark, "i": index, "P": estimated
settle, "r": funding rate, "T": next funding ms}``, decimals as strings. A combined stream
(``/stream?streams=a/b``) wraps each payload as ``{"stream": name, "data": payload}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from connectors.binance.parse import (
    BALANCE,
    CM_POSITION_RISK,
    CM_PREMIUM_INDEX,
    ROOT_FIELD,
    UM_POSITION_RISK,
    UM_PREMIUM_INDEX,
    BadPayload,
    rows_of,
)
from risk.remark import MarkBasis, MarkUpdate, index_driver

__all__ = [
    "MARK_EVENT",
    "STREAM_SOURCE",
    "UM_ALL_MARKS_1S",
    "MarkBasis",
    "MarkUpdate",
    "cm_pair_stream",
    "cm_pairs",
    "index_driver",
    "mark_basis",
    "parse_mark_message",
    "relevant_symbols",
    "updates_from_json",
    "updates_from_premium_index",
    "updates_to_json",
]

STREAM_SOURCE = "markPrice stream"  # the "path" BadPayload names for a bad stream message
UM_ALL_MARKS_1S = "!markPrice@arr@1s"
MARK_EVENT = "markPriceUpdate"


def cm_pair_stream(pair: str) -> str:
    """``BTCUSD`` → ``btcusd@markPrice@1s`` (COIN-M: every symbol of the pair, each second)."""
    return f"{pair.lower()}@markPrice@1s"


STREAM_FIELDS = ("s", "p", "i", "E")
PREMIUM_INDEX_FIELDS = ("symbol", "markPrice", "indexPrice", "time")


def _update(row: Mapping[str, Any], fields: tuple[str, str, str, str], where: str) -> MarkUpdate:
    """A MarkUpdate from the (symbol, mark, index, time) fields of a stream event or a REST row."""
    symbol, mark, index, time = fields
    try:
        return MarkUpdate(str(row[symbol]), float(row[mark]), float(row[index]), int(row[time]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadPayload(where, ROOT_FIELD, f"bad mark-price row: {exc}") from None


def _event(raw: object) -> MarkUpdate:
    if not isinstance(raw, Mapping) or raw.get("e") != MARK_EVENT:
        raise BadPayload(STREAM_SOURCE, ROOT_FIELD, f"not a {MARK_EVENT} event")
    return _update(raw, STREAM_FIELDS, STREAM_SOURCE)


def parse_mark_message(message: object) -> tuple[MarkUpdate, ...]:
    """One stream message (raw or combined; one event or an array) → its updates."""
    if isinstance(message, Mapping) and "stream" in message and "data" in message:
        message = message["data"]
    events = message if isinstance(message, list) else [message]
    return tuple(_event(e) for e in events)


def relevant_symbols(payloads: Mapping[str, object]) -> frozenset[str]:
    """The symbols whose marks can change this account's figures: its positions, and the
    index drivers of the assets it holds. Other symbols' updates are not applied (nor stored)."""

    def rows(path: str) -> list[Mapping[str, Any]]:
        try:
            return rows_of(payloads, path)
        except BadPayload:  # a malformed payload: the evaluation says UNKNOWN; nothing to mark
            return []

    held = {str(r.get("symbol")) for p in (UM_POSITION_RISK, CM_POSITION_RISK) for r in rows(p)}
    listed = {str(r.get("symbol")) for p in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX) for r in rows(p)}
    for row in rows(BALANCE):
        driver = index_driver(str(row.get("asset")), listed)
        if driver is not None:
            held.add(driver)
    return frozenset(held)


def mark_basis(payloads: Mapping[str, object]) -> MarkBasis:
    """What ``risk.remark`` measures an index driver's move from: the poll's premium-index rows'
    ``indexPrice`` by symbol (NaN where a row's is unreadable: that driver moves nothing)."""
    index: dict[str, float] = {}
    for path in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX):
        try:
            rows = rows_of(payloads, path)
        except BadPayload:  # a malformed payload: the evaluation says UNKNOWN already
            continue
        for row in rows:
            symbol = row.get("symbol")
            if isinstance(symbol, str) and symbol:
                index[symbol] = _number(row.get("indexPrice"))
    return MarkBasis(index)


def _number(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return math.nan
    try:
        return float(raw)
    except ValueError:
        return math.nan


def updates_to_json(updates: Iterable[MarkUpdate]) -> list[dict[str, object]]:
    return [asdict(u) for u in updates]


def updates_from_json(rows: Iterable[Mapping[str, Any]]) -> tuple[MarkUpdate, ...]:
    return tuple(MarkUpdate(**dict(r)) for r in rows)


def updates_from_premium_index(payloads: Mapping[str, object]) -> tuple[MarkUpdate, ...]:
    """The REST fallback: ``/fapi/v1/premiumIndex`` and ``/dapi/v1/premiumIndex`` rows read as
    mark updates, so stream and REST marks take the same path into the figures."""
    return tuple(
        _update(row, PREMIUM_INDEX_FIELDS, path)
        for path in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX)
        for row in rows_of(payloads, path)
    )


def cm_pairs(payloads: Mapping[str, object]) -> tuple[str, ...]:
    """The COIN-M pairs listed in ``/dapi/v1/premiumIndex`` (what the COIN-M stream covers)."""
    try:
        rows = rows_of(payloads, CM_PREMIUM_INDEX)
    except BadPayload:
        rows = []
    pairs = {str(r.get("pair") or str(r.get("symbol", "")).split("_")[0]) for r in rows}
    return tuple(sorted(p for p in pairs if p))
