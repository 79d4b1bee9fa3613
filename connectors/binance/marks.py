"""Mark prices from Binance's mark-price streams, and how they update the last REST payloads.

Pure: no I/O. The stream client (``stream.py``) hands each message to ``parse_mark_message``; the
collector applies the updates with ``apply_marks`` to the payloads of its last account poll and
evaluates them through the one stable path, ``parse.snapshot_from_payloads``.

Streams (developers.binance.com, "Mark Price Stream for All market" (USDⓈ-M) and "Mark Price of
All Symbols of a Pair" (COIN-M)): ``!markPrice@arr@1s`` on ``fstream`` and
``<pair>@markPrice@1s`` on ``dstream``; each event is
``{"e": "markPriceUpdate", "E": event ms, "s": symbol, "p": mark, "i": index, "P": estimated
settle, "r": funding rate, "T": next funding ms}``, decimals as strings. A combined stream
(``/stream?streams=a/b``) wraps each payload as ``{"stream": name, "data": payload}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from connectors.binance.parse import (
    ASSET_INDEX_PRICE,
    BALANCE,
    CM_POSITION_RISK,
    CM_PREMIUM_INDEX,
    ROOT_FIELD,
    UM_POSITION_RISK,
    UM_PREMIUM_INDEX,
    PayloadError,
    rows_of,
)
from risk.symbols import cm_symbol_coin, um_symbol_assets

STREAM_SOURCE = "markPrice stream"  # the "path" PayloadError names for a bad stream message
UM_ALL_MARKS_1S = "!markPrice@arr@1s"
MARK_EVENT = "markPriceUpdate"


def cm_pair_stream(pair: str) -> str:
    """``BTCUSD`` → ``btcusd@markPrice@1s`` (COIN-M: every symbol of the pair, each second)."""
    return f"{pair.lower()}@markPrice@1s"


@dataclass(frozen=True)
class MarkUpdate:
    symbol: str
    mark_price: float
    index_price: float
    event_time_ms: int


STREAM_FIELDS = ("s", "p", "i", "E")
PREMIUM_INDEX_FIELDS = ("symbol", "markPrice", "indexPrice", "time")


def _update(row: Mapping[str, Any], fields: tuple[str, str, str, str], where: str) -> MarkUpdate:
    """A MarkUpdate from the (symbol, mark, index, time) fields of a stream event or a REST row."""
    symbol, mark, index, time = fields
    try:
        return MarkUpdate(str(row[symbol]), float(row[mark]), float(row[index]), int(row[time]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError(where, ROOT_FIELD, f"bad mark-price row: {exc}") from None


def _event(raw: object) -> MarkUpdate:
    if not isinstance(raw, Mapping) or raw.get("e") != MARK_EVENT:
        raise PayloadError(STREAM_SOURCE, ROOT_FIELD, f"not a {MARK_EVENT} event")
    return _update(raw, STREAM_FIELDS, STREAM_SOURCE)


def parse_mark_message(message: object) -> tuple[MarkUpdate, ...]:
    """One stream message (raw or combined; one event or an array) → its updates."""
    if isinstance(message, Mapping) and "stream" in message and "data" in message:
        message = message["data"]
    events = message if isinstance(message, list) else [message]
    return tuple(_event(e) for e in events)


def index_driver(asset: str, index_symbols: Iterable[str]) -> str | None:
    """The perpetual whose index price moves an asset's index between polls: the COIN-M
    ``<asset>USD_PERP`` (a USD index, like the asset's) first, else ``<asset>USDT``."""
    symbols = set(index_symbols)
    for candidate in (f"{asset}USD_PERP", f"{asset}USDT", f"{asset}USDC"):
        if candidate in symbols:
            return candidate
    return None


def relevant_symbols(payloads: Mapping[str, object]) -> frozenset[str]:
    """The symbols whose marks can change this account's figures: its positions, and the
    index drivers of the assets it holds. Other symbols' updates are not applied (nor stored)."""

    def rows(path: str) -> list[Mapping[str, Any]]:
        try:
            return rows_of(payloads, path)
        except PayloadError:  # a malformed payload: the evaluation says UNKNOWN; nothing to mark
            return []

    held = {str(r.get("symbol")) for p in (UM_POSITION_RISK, CM_POSITION_RISK) for r in rows(p)}
    listed = {str(r.get("symbol")) for p in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX) for r in rows(p)}
    for row in rows(BALANCE):
        driver = index_driver(str(row.get("asset")), listed)
        if driver is not None:
            held.add(driver)
    return frozenset(held)


def _dec(value: float) -> str:
    return f"{value:.8f}"


def _num(row: Mapping[str, Any], field: str) -> float:
    return float(row.get(field) or 0.0)


def _add(into: dict[str, float], asset: str, amount: float) -> None:
    into[asset] = into.get(asset, 0.0) + amount


def _moved_positions(
    payloads: Mapping[str, object], latest: Mapping[str, MarkUpdate], out: dict[str, object]
) -> dict[str, dict[str, float]]:
    """Position rows re-marked (mark, unrealized PnL, notional) into ``out``; returns the PnL
    change by balance field and asset, for the balance rows."""
    moved: dict[str, dict[str, float]] = {"umUnrealizedPNL": {}, "cmUnrealizedPNL": {}}
    if UM_POSITION_RISK in payloads:
        rows: list[object] = []
        for row in rows_of(payloads, UM_POSITION_RISK):
            symbol = str(row.get("symbol"))
            u, assets = latest.get(symbol), um_symbol_assets(symbol)
            if u is None or assets is None:
                rows.append(row)
                continue
            amt = _num(row, "positionAmt")
            change = amt * (u.mark_price - _num(row, "markPrice"))  # in the margin asset
            _add(moved["umUnrealizedPNL"], assets[1], change)
            new = {**row, "markPrice": _dec(u.mark_price)}
            new["unRealizedProfit"] = _dec(_num(row, "unRealizedProfit") + change)
            if "notional" in row:
                new["notional"] = _dec(amt * u.mark_price)
            rows.append(new)
        out[UM_POSITION_RISK] = rows
    if CM_POSITION_RISK in payloads:
        rows = []
        for row in rows_of(payloads, CM_POSITION_RISK):
            u = latest.get(str(row.get("symbol")))
            contracts, old = _num(row, "positionAmt"), _num(row, "markPrice")
            notional = _num(row, "notionalValue")
            if u is None or not contracts or not old:
                rows.append(row)
                continue
            size_usd = abs(notional) * old / abs(contracts)  # as parse_cm_positions reads it
            # Inverse contract, in the coin: size · contracts · (1/old − 1/new).
            change = size_usd * contracts * (1.0 / old - 1.0 / u.mark_price)
            _add(moved["cmUnrealizedPNL"], cm_symbol_coin(str(row.get("symbol"))), change)
            sign = -1.0 if notional < 0 else 1.0
            rows.append(
                {
                    **row,
                    "markPrice": _dec(u.mark_price),
                    "unRealizedProfit": _dec(_num(row, "unRealizedProfit") + change),
                    "notionalValue": _dec(sign * abs(contracts) * size_usd / u.mark_price),
                }
            )
        out[CM_POSITION_RISK] = rows
    return moved


def apply_marks(payloads: Mapping[str, object], updates: Iterable[MarkUpdate]) -> dict[str, object]:
    """The payloads as they would read after ``updates``: premium-index rows take the stream's
    mark and index; positions are re-marked (mark, unrealized PnL, notional) and each asset's
    balance row carries the PnL change; each asset index price moves by the same fraction as
    its driver's index (``index_driver``) since the payloads were read. Binance's own account
    figures (``/papi/v1/account``, ``um``/``cm`` account) stay as polled: they are shown beside
    pmdesk's, with the poll's age. Pure."""
    latest = {u.symbol: u for u in updates}
    out = dict(payloads)
    moved = _moved_positions(payloads, latest, out)
    if BALANCE in payloads and any(moved.values()):
        out[BALANCE] = [
            {
                **row,
                **{
                    field: _dec(_num(row, field) + by_asset[str(row.get("asset"))])
                    for field, by_asset in moved.items()
                    if str(row.get("asset")) in by_asset
                },
            }
            for row in rows_of(payloads, BALANCE)
        ]
    ratio: dict[str, float] = {}
    newest_ms = 0
    for path in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX):
        if path not in payloads:
            continue
        rows: list[object] = []
        for row in rows_of(payloads, path):
            u = latest.get(str(row.get("symbol")))
            if u is None:
                rows.append(row)
                continue
            old_index = float(row.get("indexPrice") or 0.0)
            if old_index > 0.0:
                ratio[u.symbol] = u.index_price / old_index
            newest_ms = max(newest_ms, u.event_time_ms)
            rows.append(
                {
                    **row,
                    "markPrice": _dec(u.mark_price),
                    "indexPrice": _dec(u.index_price),
                    "time": u.event_time_ms,
                }
            )
        out[path] = rows
    if ASSET_INDEX_PRICE in payloads and ratio:
        rows = []
        for row in rows_of(payloads, ASSET_INDEX_PRICE):
            driver = index_driver(str(row.get("asset")), ratio)
            if driver is None:
                rows.append(row)
                continue
            price = float(row.get("assetIndexPrice") or 0.0) * ratio[driver]
            rows.append({**row, "assetIndexPrice": _dec(price), "time": newest_ms})
        out[ASSET_INDEX_PRICE] = rows
    return out


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
    except PayloadError:
        rows = []
    pairs = {str(r.get("pair") or str(r.get("symbol", "")).split("_")[0]) for r in rows}
    return tuple(sorted(p for p in pairs if p))
