"""Binance futures symbol names → the assets behind them (pure)."""

from __future__ import annotations

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


def cm_default_contract_size_usd(symbol: str) -> float:
    """Binance COIN-M contract sizes: 100 USD for BTC, 10 USD for every other coin."""
    return 100.0 if cm_symbol_coin(symbol) == "BTC" else 10.0
