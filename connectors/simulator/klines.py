"""Kline endpoints, keyless and charged by weight like Binance's: ``GET /api/v3/klines``,
``/fapi/v1/klines``, ``/dapi/v1/klines``, ``/fapi|dapi/v1/markPriceKlines`` (``symbol``) and
``/fapi|dapi/v1/indexPriceKlines`` (``pair``), from the simulator's history
(``kline_history.py``): generated before its start, the live market's path after.

Binance's parameters and shapes (each page's "Request Parameters" and response):
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
(klines: limit default 500, max 1000),
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Kline-Candlestick-Data
and .../Mark-Price-Kline-Candlestick-Data, .../Index-Price-Kline-Candlestick-Data (limit default
500, max 1500), https://developers.binance.com/docs/derivatives/coin-margined-futures/market-data/rest-api/Mark-Price-Kline-Candlestick-Data
(COIN-M: at most 200 days between startTime and endTime; the ``limit`` bars of the window closest
to endTime; startTime alone: endTime = startTime + 200 days, endTime alone: startTime = endTime -
200 days). USDⓈ-M and spot: the first ``limit`` bars from startTime, else the newest up to
endTime. A bar's open time identifies it; the bar still open is included, closed by the last
price. The futures "last price" klines are served from the mark (the simulator has no trades).

Listing and gaps, as Binance has them: no bar before a symbol's listing time; no bar in a
dropped window (``drop_bars``, ``/_sim/klines?gap=``). An hour bar aggregates the minutes that
exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from connectors.simulator.auth import BinanceError
from connectors.simulator.kline_history import (
    HISTORY_FROM_MS,
    HISTORY_ONLY,
    MINUTE_MS,
    Episode,
    GeneratedPath,
    LivePath,
    live_values,
    load_episodes,
)
from connectors.simulator.market import PERPETUALS, AssetSpec, MarketModel
from connectors.simulator.params import CM_SYMBOLS, UM_SYMBOLS
from connectors.simulator.wire import dec

INTERVAL_MS = {"1m": MINUTE_MS, "1h": 60 * MINUTE_MS}
COIN_WINDOW_MS = 200 * 86_400_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class KlinePath:
    param: str  # "symbol" or "pair"
    symbols: Callable[[], Mapping[str, tuple[str, str | None]]]  # name -> (asset, perpetual)
    max_limit: int
    coin: bool = False  # COIN-M window rules


def _perps(names: Sequence[str], mark: bool) -> dict[str, tuple[str, str | None]]:
    return {s: (PERPETUALS[s][0], s if mark else None) for s in names}


def _cm_pairs() -> dict[str, tuple[str, str | None]]:
    return {s.split("_")[0]: (PERPETUALS[s][0], None) for s in CM_SYMBOLS}


class KlineHistory:
    """Minute bars of every series the kline endpoints serve, with listings and gaps."""

    def __init__(
        self,
        market: MarketModel,
        *,
        seed: int,
        basis_sd: float,
        listings: Mapping[str, int] | None = None,
        episodes: Sequence[Episode] | None = None,
    ) -> None:
        self.market = market
        self.start_ms = market.started_ms
        live = tuple(market.specs)
        self._live_assets = tuple(a.asset for a in live)
        self._perps = tuple(PERPETUALS)
        eps = load_episodes() if episodes is None else tuple(episodes)
        self.generated = GeneratedPath((*live, *HISTORY_ONLY), seed, self.start_ms, basis_sd, eps)
        specs: dict[str, AssetSpec] = {a.asset: a for a in live}
        self.live = LivePath(
            self.start_ms,
            (*self._live_assets, *self._perps),
            [specs[a].start_price_usd for a in self._live_assets]
            + [specs[PERPETUALS[s][0]].start_price_usd for s in self._perps],
        )
        market.observers.append(
            lambda now, q: self.live.observe(now, live_values(q, self._live_assets, self._perps))
        )
        yesterday = (self.start_ms - DAY_MS) // (60 * MINUTE_MS) * (60 * MINUTE_MS)
        self._listing: dict[str, int] = {f"{a.asset}USDT": yesterday for a in HISTORY_ONLY}
        self._listing.update(listings or {})
        self._gaps: dict[str, list[tuple[int, int]]] = {}
        self._lock = threading.Lock()
        spot = {f"{a}USDT": (a, None) for a in (*self._live_assets, "NEW") if a != "USDT"}
        self.paths: dict[str, KlinePath] = {
            "/api/v3/klines": KlinePath("symbol", lambda: spot, 1000),
            "/fapi/v1/klines": KlinePath("symbol", lambda: _perps(list(UM_SYMBOLS), True), 1500),
            "/fapi/v1/markPriceKlines": KlinePath(
                "symbol", lambda: _perps(list(UM_SYMBOLS), True), 1500
            ),
            "/fapi/v1/indexPriceKlines": KlinePath(
                "pair", lambda: _perps(list(UM_SYMBOLS), False), 1500
            ),
            "/dapi/v1/klines": KlinePath(
                "symbol", lambda: _perps(list(CM_SYMBOLS), True), 1500, coin=True
            ),
            "/dapi/v1/markPriceKlines": KlinePath(
                "symbol", lambda: _perps(list(CM_SYMBOLS), True), 1500, coin=True
            ),
            "/dapi/v1/indexPriceKlines": KlinePath("pair", _cm_pairs, 1500, coin=True),
        }

    # ---- listings and gaps (faults) ----------------------------------------------------------
    def list_symbol(self, name: str, at_ms: int) -> None:
        """``name`` (a symbol or pair) has bars from ``at_ms`` on only."""
        with self._lock:
            self._listing[name] = at_ms

    def drop_bars(self, name: str, start_ms: int, end_ms: int) -> None:
        """No bar of ``name`` opens in [start_ms, end_ms): a gap Binance has."""
        with self._lock:
            self._gaps.setdefault(name, []).append((start_ms, end_ms))

    def as_dict(self) -> dict[str, object]:
        with self._lock:
            return {
                "listings": dict(self._listing),
                "gaps": {k: [list(g) for g in v] for k, v in self._gaps.items()},
            }

    def _present(self, name: str, opens: np.ndarray, step: int) -> np.ndarray:
        """Whether each bar (open times) has a minute after the listing and outside the gaps."""
        with self._lock:
            listing = self._listing.get(name, HISTORY_FROM_MS)
            gaps = list(self._gaps.get(name, ()))
        lo = np.maximum(opens, (listing + MINUTE_MS - 1) // MINUTE_MS * MINUTE_MS)
        room = np.maximum(opens + step - lo, 0)
        for g0, g1 in gaps:
            room -= np.maximum(np.minimum(opens + step, g1) - np.maximum(lo, g0), 0)
        present: np.ndarray = room > 0
        return present

    # ---- minute bars --------------------------------------------------------------------------
    def minutes(self, asset: str, perp: str | None, m_from: int, m_to: int) -> np.ndarray:
        """(4, n) open, high, low, close of minutes m_from..m_to-1 of an asset's index (or, with
        ``perp``, that perpetual's mark)."""
        out = np.empty((4, m_to - m_from))
        m0 = self.start_ms // MINUTE_MS
        split = m_to if asset not in self._live_assets else min(max(m_from, m0), m_to)
        if split > m_from:
            x, wick = self.generated.log_index(asset, m_from, split)
            o, c = np.exp(x[:-1]), np.exp(x[1:])
            h, lo = np.maximum(o, c) * np.exp(wick[0]), np.minimum(o, c) * np.exp(-wick[1])
            if perp is not None:
                b = 1.0 + self.generated.basis(self._perps.index(perp), asset, m_from, split)
                o, c = o * b[:-1], c * b[1:]
                h = np.maximum(np.maximum(o, c), h * np.maximum(b[:-1], b[1:]))
                lo = np.minimum(np.minimum(o, c), lo * np.minimum(b[:-1], b[1:]))
            out[:, : split - m_from] = (o, h, lo, c)
        if m_to > split:
            out[:, split - m_from :] = self.live.bars(perp or asset, split, m_to)
        return out

    def bars(
        self, asset: str, perp: str | None, name: str, opens: np.ndarray, step: int, now_ms: int
    ) -> list[list[object]]:
        """Binance's rows for these open times (sorted, all present), each run in one pass;
        the bar still open aggregates the minutes up to now."""
        rows: list[list[object]] = []
        runs = np.split(opens, np.nonzero(np.diff(opens) != step)[0] + 1)
        per = step // MINUTE_MS
        for run in runs:
            if not len(run):
                continue
            m_from = int(run[0]) // MINUTE_MS
            m_to = int(run[-1]) // MINUTE_MS + per
            mins = self.minutes(asset, perp, m_from, m_to)
            times = np.arange(m_from, m_to, dtype=np.int64) * MINUTE_MS
            keep = self._present(name, times, MINUTE_MS) & (times <= now_ms)
            if keep.all():  # every minute there: aggregate in one pass
                q = mins.reshape(4, len(run), per)
                o, h, lo, c = q[0, :, 0], q[1].max(axis=1), q[2].min(axis=1), q[3, :, -1]
                rows += [_row(int(t), step, *v) for t, *v in zip(run, o, h, lo, c, strict=True)]
                continue
            for k, t in enumerate(run):
                here = np.nonzero(keep[k * per : (k + 1) * per])[0] + k * per
                o1, h1 = mins[0, here[0]], float(np.max(mins[1, here]))
                lo1, c1 = float(np.min(mins[2, here])), mins[3, here[-1]]
                rows.append(_row(int(t), step, o1, h1, lo1, c1))
        return rows

    # ---- one request ------------------------------------------------------------------------
    def answer(self, path: str, args: Mapping[str, str], now_ms: int) -> list[list[object]]:
        kp = self.paths[path]
        name = args.get(kp.param)
        if not name:
            raise BinanceError(
                400,
                -1102,
                f"Mandatory parameter '{kp.param}' was not sent, was empty/null, or malformed.",
            )
        series = kp.symbols().get(name)
        if series is None:
            raise BinanceError(400, -1121, "Invalid symbol.")
        step = INTERVAL_MS.get(args.get("interval", ""))
        if step is None:
            raise BinanceError(400, -1120, "Invalid interval.")
        limit = _int(args, "limit", 500)
        if limit is None or not 1 <= limit <= kp.max_limit:
            raise BinanceError(400, -1130, "Data sent for parameter 'limit' is not valid.")
        start, end = _int(args, "startTime", None), _int(args, "endTime", None)
        self.market.quote()  # the live path up to now
        newest = now_ms // step * step
        if kp.coin:
            if start is None:
                start = (end if end is not None else now_ms) - COIN_WINDOW_MS
            if end is None:
                end = min(start + COIN_WINDOW_MS, now_ms)
        first = -(-max(start if start is not None else HISTORY_FROM_MS, HISTORY_FROM_MS) // step)
        with self._lock:  # nothing to look at before the listing's bar
            first = max(first, self._listing.get(name, HISTORY_FROM_MS) // step)
        last = min(end if end is not None else now_ms, now_ms) // step
        from_end = kp.coin or start is None
        opens = self._select(name, first * step, min(last * step, newest), step, limit, from_end)
        return self.bars(series[0], series[1], name, opens, step, now_ms)

    def _select(
        self, name: str, first: int, last: int, step: int, limit: int, from_end: bool
    ) -> np.ndarray:
        """Up to ``limit`` present open times in [first, last], from the start or the end."""
        picked: list[np.ndarray] = []
        count, chunk = 0, max(limit, 1000)
        lo, hi = first, last
        while count < limit and lo <= hi:
            if from_end:
                block = np.arange(max(lo, hi - (chunk - 1) * step), hi + 1, step, dtype=np.int64)
                hi = int(block[0]) - step
            else:
                block = np.arange(lo, min(hi, lo + (chunk - 1) * step) + 1, step, dtype=np.int64)
                lo = int(block[-1]) + step
            block = block[self._present(name, block, step)]
            block = block[-(limit - count) :] if from_end else block[: limit - count]
            picked.append(block)
            count += len(block)
        if not picked:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(picked))


def _int(args: Mapping[str, str], key: str, default: int | None) -> int | None:
    raw = args.get(key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{key}'.") from None


def _row(t: int, step: int, o: float, h: float, lo: float, c: float) -> list[object]:
    """Binance's kline array: open time, OHLC, volume, close time, quote volume, trades,
    taker buy base / quote volume, ignore (the simulator trades nothing: volumes "0")."""
    return [t, dec(o), dec(h), dec(lo), dec(c), "0", t + step - 1, "0", 0, "0", "0", "0"]


def control(history: KlineHistory, args: Mapping[str, str]) -> dict[str, object]:
    """``POST /_sim/klines?listing=NEWUSDT&at=MS`` (bars from ``at`` on) or
    ``?gap=BTCUSDT&start=MS&end=MS`` (no bar opens in [start, end)); ValueError names a bad one."""
    try:
        if "listing" in args:
            history.list_symbol(args["listing"], int(args["at"]))
        if "gap" in args:
            history.drop_bars(args["gap"], int(args["start"]), int(args["end"]))
    except KeyError as exc:
        raise ValueError(f"missing {exc.args[0]}") from None
    return history.as_dict()
