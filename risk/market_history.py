"""Market history for the Outlook: kline series as Binance returns them, named by a ``KlineKey``,
and the aligned table of bars the model reads (``MarketHistory``). Pure: no I/O.

Which series an account needs (``needed_series``): for every non-stable asset it holds or owes,
and every perpetual's base, the spot close against USDT (``/api/v3/klines``, ``BTCUSDT``); for a
stablecoin other than USDT its USDT pair too (its peg); for every perpetual its mark-price and
index-price klines (``/fapi/v1/markPriceKlines`` + ``/fapi/v1/indexPriceKlines``,
``/dapi/v1/markPriceKlines`` + ``/dapi/v1/indexPriceKlines``), whose ratio is the basis.
USDT is the numeraire: 1 USD by assumption (Binance values collateral with its asset index
price; USDT's own deviation from USD is not in any USDT-quoted kline).

Raw klines, as every Binance kline endpoint returns them, are arrays
``[openTime, open, high, low, close, volume, closeTime, …]`` with prices as strings
(mark- and index-price klines: the same shape, volume "0").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from risk.tiers import FloatArray

IntArray = np.ndarray
NUMERAIRE = "USDT"
INTERVAL_MS: dict[str, int] = {"1m": 60_000, "1h": 3_600_000}

SPOT = "spot"  # /api/v3/klines, symbol ASSETUSDT
UM_MARK = "um_mark"  # /fapi/v1/markPriceKlines, symbol
UM_INDEX = "um_index"  # /fapi/v1/indexPriceKlines, pair
CM_MARK = "cm_mark"  # /dapi/v1/markPriceKlines, symbol
CM_INDEX = "cm_index"  # /dapi/v1/indexPriceKlines, pair
VENUE_PATH: dict[str, str] = {
    SPOT: "/api/v3/klines",
    UM_MARK: "/fapi/v1/markPriceKlines",
    UM_INDEX: "/fapi/v1/indexPriceKlines",
    CM_MARK: "/dapi/v1/markPriceKlines",
    CM_INDEX: "/dapi/v1/indexPriceKlines",
}


@dataclass(frozen=True, order=True)
class KlineKey:
    """One kline series: where it comes from, the symbol (or pair, for index klines), the bar."""

    venue: str
    symbol: str
    interval: str

    def file_name(self) -> str:
        """Its file in a captured directory's ``klines/`` folder."""
        return f"{self.venue}_{self.symbol}_{self.interval}.json"


@dataclass(frozen=True)
class KlineSeries:
    """One series' bars, oldest first, open times strictly increasing (gaps allowed)."""

    key: KlineKey
    open_time_ms: IntArray  # (T,) int64
    open: FloatArray  # (T,)
    high: FloatArray
    low: FloatArray
    close: FloatArray

    def between(self, start_ms: int, end_ms: int) -> KlineSeries:
        """The bars opened in [start_ms, end_ms]."""
        keep = (self.open_time_ms >= start_ms) & (self.open_time_ms <= end_ms)
        return KlineSeries(
            self.key,
            self.open_time_ms[keep],
            self.open[keep],
            self.high[keep],
            self.low[keep],
            self.close[keep],
        )


def series_from_payload(key: KlineKey, raw: object) -> KlineSeries:
    """A series from Binance's raw kline arrays; ValueError naming the bar for a bad one."""
    if not isinstance(raw, list):
        raise ValueError(f"{key.file_name()}: klines are a list of bars, got {type(raw).__name__}")
    times: list[int] = []
    cols: list[list[float]] = [[], [], [], []]
    for n, bar in enumerate(raw):
        if not isinstance(bar, list) or len(bar) < 5:
            raise ValueError(f"{key.file_name()}: bar {n} is not [openTime, o, h, l, c, ...]")
        try:
            t = int(bar[0])
            values = [float(bar[i]) for i in range(1, 5)]
        except (TypeError, ValueError):
            raise ValueError(f"{key.file_name()}: bar {n} has a non-numeric field") from None
        if times and t <= times[-1]:
            raise ValueError(f"{key.file_name()}: bar {n} is not after the one before it")
        if not all(v > 0.0 and np.isfinite(v) for v in values):
            raise ValueError(f"{key.file_name()}: bar {n} has a price that is not positive")
        times.append(t)
        for col, v in zip(cols, values, strict=True):
            col.append(v)
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in cols)
    return KlineSeries(key, np.array(times, dtype=np.int64), o, h, lo, c)


def pair_of(symbol: str) -> str:
    """A perpetual's or delivery contract's index pair: ``BTCUSDT_251226`` → ``BTCUSDT``,
    ``BTCUSD_PERP`` → ``BTCUSD``."""
    return symbol.split("_", 1)[0]


def needed_series(
    assets: Iterable[str],
    um_symbols: Iterable[str],
    cm_symbols: Iterable[str],
    interval: str,
) -> tuple[KlineKey, ...]:
    """Every series the model needs for these assets (held, owed or a perpetual's base; a
    stablecoin's spot series is its peg) and perpetuals, sorted; USDT needs none (the
    numeraire)."""
    keys: set[KlineKey] = set()
    for asset in assets:
        if asset != NUMERAIRE:
            keys.add(KlineKey(SPOT, f"{asset}{NUMERAIRE}", interval))
    for symbol in um_symbols:
        keys.add(KlineKey(UM_MARK, symbol, interval))
        keys.add(KlineKey(UM_INDEX, pair_of(symbol), interval))
    for symbol in cm_symbols:
        keys.add(KlineKey(CM_MARK, symbol, interval))
        keys.add(KlineKey(CM_INDEX, pair_of(symbol), interval))
    return tuple(sorted(keys))


@dataclass(frozen=True)
class MarketHistory:
    """Bars aligned on one clock: every column has a value per bar or NaN where its series has
    none (not listed yet, a gap). Built by ``risk.outlook_data`` from ``KlineSeries``."""

    interval: str
    open_time_ms: IntArray  # (T,) every bar from the first to the last, no gaps
    price_usd: dict[str, FloatArray]  # asset → close in USD (USDT = 1); (T,) each
    basis: dict[str, FloatArray]  # perpetual symbol → mark close / index close − 1; (T,)
    sources: tuple[str, ...] = field(default=())  # words: "BTCUSDT spot 1h, 2026-06-01 …"

    @property
    def bar_ms(self) -> int:
        return INTERVAL_MS[self.interval]


def keys_in(series: Sequence[KlineSeries]) -> tuple[KlineKey, ...]:
    return tuple(s.key for s in series)
