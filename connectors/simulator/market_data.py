"""Unsigned market data and the published tables, as Binance's JSON.

Prices (``/api/v3/ticker/price``, ``/fapi/v1/premiumIndex``, ``/dapi/v1/premiumIndex``,
``/sapi/v1/portfolio/asset-index-price``) come from the market's quote; leverage brackets and
collateral tables from ``params.py`` and ``truth.FLAT_COLLATERAL``.
"""

from __future__ import annotations

from flask import request

from connectors.simulator.auth import BinanceError
from connectors.simulator.market import FUNDING_HOURS_MS, INTEREST_RATE, Quote, funding_rate
from connectors.simulator.params import (
    CM_BRACKETS,
    CM_SYMBOLS,
    COLLATERAL_TIERS,
    UM_BRACKETS,
    UM_SYMBOLS,
    TierRow,
)
from connectors.simulator.truth import FLAT_COLLATERAL
from connectors.simulator.wire import Json, dec


def ticker_price(q: Quote) -> Json:
    """``GET /api/v3/ticker/price``."""
    rows: list[dict[str, object]] = [{"symbol": s, "price": dec(q.index(s))} for s in UM_SYMBOLS]
    return one_symbol_or_all(rows)


def premium_index(q: Quote, now_ms: int) -> Json:
    """``GET /fapi/v1/premiumIndex``: one moment for every row."""
    return one_symbol_or_all([premium_index_row(s, q, now_ms) for s in UM_SYMBOLS])


def coin_premium_index(q: Quote, now_ms: int) -> Json:
    """``GET /dapi/v1/premiumIndex``: the USDⓈ-M row plus the ``pair``."""
    return [
        {"pair": symbol.split("_")[0], **premium_index_row(symbol, q, now_ms)}
        for symbol in CM_SYMBOLS
    ]


def asset_index_price(q: Quote, now_ms: int) -> Json:
    """``GET /sapi/v1/portfolio/asset-index-price``."""
    return [
        {"asset": asset, "assetIndexPrice": dec(price), "time": now_ms}
        for asset, price in q.index_usd.items()
    ]


def premium_index_row(symbol: str, q: Quote, now_ms: int) -> dict[str, object]:
    """One row of ``/fapi/v1/premiumIndex`` (and, with ``pair``, ``/dapi/v1/premiumIndex``)."""
    return {
        "symbol": symbol,
        "markPrice": dec(q.mark(symbol)),
        "indexPrice": dec(q.index(symbol)),
        "estimatedSettlePrice": dec(q.index(symbol)),
        "lastFundingRate": dec(funding_rate(q.basis[symbol])),
        "interestRate": dec(INTEREST_RATE),
        "nextFundingTime": (now_ms // FUNDING_HOURS_MS + 1) * FUNDING_HOURS_MS,
        "time": now_ms,
    }


def one_symbol_or_all(rows: list[dict[str, object]]) -> Json:
    """Binance's market-data shape: the row for ``?symbol=`` (-1121 if unknown), else all."""
    wanted = request.args.get("symbol")
    if wanted is None:
        return rows
    match = [r for r in rows if r["symbol"] == wanted]
    if not match:
        raise BinanceError(400, -1121, "Invalid symbol.")
    return match[0]


def _brackets(
    tables: dict[str, tuple[TierRow, ...]], floor: str, cap: str, extra: dict[str, object]
) -> Json:
    return [
        {
            "symbol": symbol,
            **extra,
            "brackets": [
                {
                    "bracket": i + 1,
                    "initialLeverage": int(row.leverage),
                    cap: int(row.cap),
                    floor: int(row.floor),
                    "maintMarginRatio": row.rate,
                    "cum": row.cum,
                }
                for i, row in enumerate(rows)
            ],
        }
        for symbol, rows in tables.items()
    ]


def um_brackets() -> Json:
    """``GET /papi/v1/um/leverageBracket``."""
    return _brackets(UM_BRACKETS, "notionalFloor", "notionalCap", {"notionalCoef": "1.50"})


def cm_brackets() -> Json:
    """``GET /papi/v1/cm/leverageBracket``."""
    return _brackets(CM_BRACKETS, "qtyFloor", "qtyCap", {})


def collateral_rates() -> Json:
    """``GET /sapi/v2/portfolio/collateralRate`` (tiered, "Portfolio Margin Pro")."""
    return [
        {
            "asset": asset,
            "collateralInfo": [
                {
                    "tierFloor": f"{row.floor:.4f}",
                    "tierCap": f"{row.cap:.4f}",
                    "collateralRate": f"{row.rate:.4f}",
                    "cum": f"{row.cum:.4f}",
                }
                for row in rows
            ],
        }
        for asset, rows in COLLATERAL_TIERS.items()
    ]


def flat_collateral_rates() -> Json:
    """``/sapi/v1/portfolio/collateralRate`` ("Classic Portfolio Margin Collateral Rate")."""
    return [
        {"asset": asset, "collateralRate": f"{rate:.4f}"} for asset, rate in FLAT_COLLATERAL.items()
    ]
