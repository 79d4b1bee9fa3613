"""Kline series aligned into a ``MarketHistory`` (one clock, forward-filled closes), and the
joint returns the Outlook bootstraps from it. Pure: no I/O.

- Prices: each ``ASSETUSDT`` spot close is the asset's USD price (USDT is the numeraire, 1).
  A stablecoin's or liquid-staking token's own series is its peg: its returns are the peg
  returns.
- Basis: per perpetual, mark close / index close - 1 (``/fapi|dapi/v1/markPriceKlines`` over
  ``indexPriceKlines`` of its pair).
- Alignment: every bar from the first open time of any series to the last; a series' close is
  carried forward over its gaps, and is NaN before its first bar (not listed yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from risk.market_history import (
    CM_INDEX,
    CM_MARK,
    INTERVAL_MS,
    NUMERAIRE,
    SPOT,
    UM_INDEX,
    UM_MARK,
    KlineSeries,
    MarketHistory,
    pair_of,
)
from risk.tiers import FloatArray


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _aligned(s: KlineSeries, t0: int, n: int, bar_ms: int) -> FloatArray:
    """The series' closes on the clock t0 + i * bar_ms, forward-filled, NaN before its first
    bar. Bars off the clock's grid are placed in the bar they fall in."""
    out = np.full(n, np.nan)
    if len(s.open_time_ms) == 0:
        return out
    at = (s.open_time_ms - t0) // bar_ms
    out[at] = s.close
    have = np.where(np.isfinite(out), np.arange(n), -1)
    last = np.maximum.accumulate(have)
    filled: FloatArray = np.where(last >= 0, out[np.maximum(last, 0)], np.nan)
    return filled


def history_from_series(series: Sequence[KlineSeries], interval: str) -> MarketHistory:
    """One aligned table from every series of one interval (others are ignored)."""
    bar_ms = INTERVAL_MS[interval]
    mine = [s for s in series if s.key.interval == interval and len(s.open_time_ms)]
    if not mine:
        return MarketHistory(interval, np.zeros(0, dtype=np.int64), {}, {}, ())
    t0 = min(int(s.open_time_ms[0]) for s in mine)
    t1 = max(int(s.open_time_ms[-1]) for s in mine)
    t0 -= t0 % bar_ms
    n = (t1 - t0) // bar_ms + 1
    closes = {s.key: _aligned(s, t0, n, bar_ms) for s in mine}
    prices: dict[str, FloatArray] = {}
    for key, close in closes.items():
        if key.venue == SPOT and key.symbol.endswith(NUMERAIRE):
            prices[key.symbol[: -len(NUMERAIRE)]] = close
    prices[NUMERAIRE] = np.ones(n)
    basis: dict[str, FloatArray] = {}
    index_by_pair = {
        (k.venue, k.symbol): c for k, c in closes.items() if k.venue in (UM_INDEX, CM_INDEX)
    }
    for key, close in closes.items():
        index_venue = {UM_MARK: UM_INDEX, CM_MARK: CM_INDEX}.get(key.venue)
        index = index_by_pair.get((index_venue or "", pair_of(key.symbol)))
        if index is not None:
            basis[key.symbol] = close / index - 1.0
    sources = tuple(
        f"{s.key.symbol} {s.key.venue} {interval}, {_day(int(s.open_time_ms[0]))} to "
        f"{_day(int(s.open_time_ms[-1]))} UTC, {len(s.open_time_ms)} bars"
        for s in sorted(mine, key=lambda s: s.key)
    )
    clock = t0 + bar_ms * np.arange(n, dtype=np.int64)
    return MarketHistory(interval, clock, prices, basis, sources)


@dataclass(frozen=True)
class JointReturns:
    """Log returns of the named assets and basis changes of the named perpetuals over the bars
    where every asset has a price at both ends (the joint sample), oldest first."""

    assets: tuple[str, ...]
    returns: FloatArray  # (T, A) log returns
    perps: tuple[str, ...]
    basis_change: FloatArray  # (T, B) basis(t) - basis(t - 1); 0 where either is missing
    end_ms: np.ndarray  # (T,) open time of each return's closing bar
    first_ms: int
    last_ms: int

    @property
    def bars(self) -> int:
        return len(self.end_ms)


def joint_returns(
    history: MarketHistory, assets: Sequence[str], perps: Sequence[str]
) -> JointReturns:
    """The joint sample for these assets (each must be in ``history.price_usd``)."""
    names = tuple(assets)
    if names:
        prices = np.stack([history.price_usd[a] for a in names], axis=1)
    else:
        prices = np.ones((len(history.open_time_ms), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(prices[1:] / prices[:-1])
    ok = np.isfinite(r).all(axis=1)
    basis = [history.basis.get(p) for p in perps]
    t = max(len(history.open_time_ms) - 1, 0)
    change = np.zeros((t, len(perps)))
    for j, b in enumerate(basis):
        if b is not None:
            d = b[1:] - b[:-1]
            change[:, j] = np.where(np.isfinite(d), d, 0.0)
    end = history.open_time_ms[1:][ok]
    return JointReturns(
        names,
        r[ok],
        tuple(perps),
        change[ok],
        end,
        int(end[0]) if len(end) else 0,
        int(end[-1]) if len(end) else 0,
    )
