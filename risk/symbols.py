"""Binance futures symbol names → the assets behind them (pure)."""

from __future__ import annotations

import re

UM_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD")


def um_symbol_assets(symbol: str) -> tuple[str, str] | None:
    """(base, margin asset) of a USDⓈ-M symbol: BTCUSDT → (BTC, USDT); BTCUSDT_250328 too."""
    pair = symbol.split("_")[0]
    for quote in UM_QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    return None


def cm_symbol_coin(symbol: str) -> str:
    """Margin coin of a COIN-M symbol: BTCUSD_PERP → BTC."""
    return symbol.split("USD")[0]


CM_SYMBOL = re.compile(r"^[A-Z0-9]+USD_(PERP|\d{6})$")


def cm_contract_size_usd(symbol: str) -> float | None:
    """Binance COIN-M contract sizes: 100 USD for BTC, 10 USD for every other coin (COIN-M
    contract specifications FAQ; ``contractSize`` in ``/dapi/v1/exchangeInfo``); None for a
    name that is not a COIN-M symbol (``BTCUSD_PERP``, ``ETHUSD_250328``)."""
    if not CM_SYMBOL.match(symbol):
        return None
    return 100.0 if cm_symbol_coin(symbol) == "BTC" else 10.0


def cm_default_contract_size_usd(symbol: str) -> float:
    """The contract size of a COIN-M symbol (what-if: a symbol the account may not hold)."""
    size = cm_contract_size_usd(symbol)
    return 10.0 if size is None else size
