"""The baseline ``bench.bench_marks`` compares against: the JSON re-render that mark updates went
through before issue 18 item 6 (``connectors/binance/marks.py`` ``apply_marks`` at commit
62fb383), kept verbatim. pmdesk does not use it: a mark update now re-marks the parsed snapshot
and market (``risk.remark.remark``). Only the benchmark imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.binance.marks import MarkUpdate, index_driver
from connectors.binance.parse import (
    ASSET_INDEX_PRICE,
    BALANCE,
    CM_POSITION_RISK,
    CM_PREMIUM_INDEX,
    UM_POSITION_RISK,
    UM_PREMIUM_INDEX,
    rows_of,
)
from risk.symbols import cm_symbol_coin, um_symbol_assets


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


def legacy_apply_marks(
    payloads: Mapping[str, object], updates: Iterable[MarkUpdate]
) -> dict[str, object]:
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
