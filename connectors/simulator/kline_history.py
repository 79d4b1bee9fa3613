"""The simulator's market history: minute bars of every asset's index price and every
perpetual's mark, generated for any past range and recorded from the live market after start.

Before the simulator's start the history is GENERATED, deterministic for its seed, and ends at
the start prices at the start time. It is counter-based, so any range is cheap and the same
whichever range is asked: each asset's daily log return is one draw of a per-asset stream (the
one-factor model of ``market.py``: ``MARKET_SHARE`` of the variance common), and within a day the
minute path is a Brownian bridge from 0 to that day's return whose normals are keyed by (seed,
asset, day). Hour bars are never generated apart: they are the aggregate of their minutes.
Each perpetual's basis is smoothed noise (exponential kernel, ``BASIS_HALF_LIFE_S``) of the same
kind. The named episodes of ``data/episodes.csv`` are played on top: each described asset falls
by the size its description gives (peak to trough at 40 % of the window, half of the fall
recovered by its end), an asset it does not name by BTC's fall raised to its beta, perpetual
marks go to a discount to their index, and in the October 2025 episode USDC loses its peg for
an hour (the simulator lists no USDe; its USDC stands in, at a smaller size).

After the start, the live market's own path: ``LivePath`` records each minute's open (the last
minute's close), high, low and close of what the market quoted (``MarketModel.observers``).
An asset the live market does not list (``HISTORY_ONLY``) stays generated past the start.
"""

from __future__ import annotations

import csv
import math
import re
import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from connectors.simulator.market import BASIS_HALF_LIFE_S, MARKET_SHARE, AssetSpec, Quote

MINUTE_MS = 60_000
DAY_MINUTES = 1440
HISTORY_FROM_MS = 1_483_228_800_000  # 2017-01-01T00:00:00Z: the first generated day
DAYS = 12_000  # generated days from HISTORY_FROM_MS (to 2049)
EPISODES_CSV = Path(__file__).resolve().parents[2] / "data" / "episodes.csv"
HISTORY_ONLY: tuple[AssetSpec, ...] = (AssetSpec("NEW", 1.5, 0.08, 1.6),)
"""Listed in the history only (spot ``NEWUSDT``; by default listed the day before the start)."""
TROUGH_AT = 0.4  # an episode's low comes at this fraction of its window
KEPT_AFTER = 0.5  # the share of the fall still there at the window's end
BASIS_PER_LOG_FALL = 0.05  # perpetual discount at the trough per unit of the base's log fall
DEPEG = {"USDC": 0.03}  # October 2025: a short depeg (fraction) ...
DEPEG_EPISODE = "October 2025"  # ... in the episode whose name starts so
DEPEG_HALF_WIDTH_MIN = 30  # ... for an hour around the trough
KERNEL_MIN = 60  # basis smoothing window, minutes
WICK = 0.5  # a minute's wick: |N(0,1)| x WICK x the minute's volatility


def described_drops(description: str, betas: dict[str, float]) -> dict[str, float]:
    """Each listed asset's fall in an episode, from its description: "BTC -31 %", "ETH down as
    much as 46 %", "BTC 58,350 to 49,513", "BTC roughly halved"; an asset not given a figure
    falls as BTC's fall raised to its beta (a high-beta coin further). Stablecoins (beta 0) none."""
    named: dict[str, float] = {}
    for asset in betas:
        a = re.escape(asset)
        move = re.search(rf"\b{a} ([\d,.]+) to ([\d,.]+)", description)
        pct = re.search(rf"\b{a}\b[^\d;]*?(\d+(?:\.\d+)?) ?%", description)
        if move:
            before, after = (float(x.replace(",", "")) for x in move.groups())
            named[asset] = 1.0 - after / before
        elif pct:
            named[asset] = float(pct.group(1)) / 100.0
        elif re.search(rf"\b{a}\b[^;\d]*halved", description):
            named[asset] = 0.5
    btc = named.get("BTC", 0.2)
    out: dict[str, float] = {}
    for asset, beta in betas.items():
        if beta > 0.0:
            out[asset] = named.get(asset, 1.0 - (1.0 - btc) ** beta)
    return out


@dataclass(frozen=True)
class Episode:
    """A row of ``data/episodes.csv``, as the simulator plays it (its own reading: the simulator
    takes nothing of pmdesk's ``risk`` package but Binance's published figures)."""

    name: str
    start_ms: int
    end_ms: int
    description: str


def load_episodes(path: Path = EPISODES_CSV) -> tuple[Episode, ...]:
    """The CSV's rows (none when the file is absent)."""
    if not path.is_file():
        return ()
    with path.open(encoding="utf-8", newline="") as f:
        return tuple(
            Episode(row["name"], _ms(row["start_utc"]), _ms(row["end_utc"]), row["description"])
            for row in csv.DictReader(f)
        )


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp() * 1000)


def _ramp(t: np.ndarray, start: float, peak: float, end: float, kept: float) -> np.ndarray:
    """0 before ``start``, up to 1 at ``peak``, down to ``kept`` at ``end``, then ``kept``."""
    up = np.clip((t - start) / max(peak - start, 1.0), 0.0, 1.0)
    down = np.clip((t - peak) / max(end - peak, 1.0), 0.0, 1.0)
    return np.where(t < peak, up, 1.0 - (1.0 - kept) * down)


class GeneratedPath:
    """Log index prices at minute boundaries, minute wicks and perpetual basis, before start."""

    def __init__(
        self,
        specs: Sequence[AssetSpec],
        seed: int,
        start_ms: int,
        basis_sd: float,
        episodes: Sequence[Episode],
    ) -> None:
        self._specs = {s.asset: (i, s) for i, s in enumerate(specs)}
        self._seed = seed
        self._m0 = start_ms // MINUTE_MS
        self._basis_sd = basis_sd
        betas = {s.asset: s.beta for s in specs}
        self._episodes = [(e, described_drops(e.description, betas)) for e in episodes]
        self._day_cum: dict[str, np.ndarray] = {}
        self._anchor: dict[str, float] = {}
        self._lock = threading.Lock()
        decay = 0.5 ** (np.arange(KERNEL_MIN)[::-1] * 60.0 / BASIS_HALF_LIFE_S)
        self._kernel = decay / math.sqrt(float(np.sum(decay * decay)))

    def _rng(self, stream: int, counter: int) -> np.random.Generator:
        return np.random.Generator(np.random.Philox(key=[self._seed, (stream << 32) | counter]))

    def _daily(self, asset: str) -> np.ndarray:
        """Cumulated daily log returns: element d is the sum of the returns before day d."""
        with self._lock:
            cum = self._day_cum.get(asset)
            if cum is None:
                i, spec = self._specs[asset]
                common = self._rng(0xFFFF, 0).standard_normal(DAYS)
                own = self._rng(0xFFFF, 1 + i).standard_normal(DAYS)
                daily = spec.daily_vol * (
                    math.sqrt(MARKET_SHARE) * common + math.sqrt(1.0 - MARKET_SHARE) * own
                )
                cum = np.concatenate(([0.0], np.cumsum(daily)))
                self._day_cum[asset] = cum
            return cum

    def _day(self, asset: str, day: int) -> tuple[np.ndarray, np.ndarray]:
        """One day's bridge (1441 boundaries from 0 to the day's return) and wicks (2, 1440)."""
        i, spec = self._specs[asset]
        if spec.daily_vol == 0.0:
            return np.zeros(DAY_MINUTES + 1), np.zeros((2, DAY_MINUTES))
        sigma = spec.daily_vol / math.sqrt(DAY_MINUTES)
        zc = self._rng(0, day).standard_normal(DAY_MINUTES)
        own = self._rng(1 + i, day).standard_normal((3, DAY_MINUTES))
        inc = sigma * (math.sqrt(MARKET_SHARE) * zc + math.sqrt(1.0 - MARKET_SHARE) * own[0])
        cum = self._daily(asset)
        inc += (cum[day + 1] - cum[day] - inc.sum()) / DAY_MINUTES
        return np.concatenate(([0.0], np.cumsum(inc))), WICK * sigma * np.abs(own[1:])

    def _overlay(self, asset: str, minutes: np.ndarray) -> np.ndarray:
        t = minutes.astype(np.float64) * MINUTE_MS
        out = np.zeros(len(minutes))
        for e, drops in self._episodes:
            peak = e.start_ms + TROUGH_AT * (e.end_ms - e.start_ms)
            if asset in drops:
                fall = math.log(1.0 - drops[asset])
                out += fall * _ramp(t, e.start_ms, peak, e.end_ms, KEPT_AFTER)
            if asset in DEPEG and e.name.startswith(DEPEG_EPISODE):
                half = DEPEG_HALF_WIDTH_MIN * MINUTE_MS
                out += math.log(1.0 - DEPEG[asset]) * _ramp(t, peak - half, peak, peak + half, 0.0)
        return out

    def _base(self, asset: str, m_from: int, m_to: int) -> tuple[np.ndarray, np.ndarray]:
        """Unanchored log path at boundaries m_from..m_to and the wicks of m_from..m_to-1."""
        cum = self._daily(asset)
        path = np.empty(m_to - m_from + 1)
        wicks = np.zeros((2, m_to - m_from))
        for day in range(_day_of(m_from), _day_of(m_to) + 1):
            if not 0 <= day < DAYS:
                raise ValueError("outside the generated history")
            first = DAY0 + day * DAY_MINUTES
            lo, hi = max(m_from, first), min(m_to, first + DAY_MINUTES - 1)
            bridge, w = self._day(asset, day)
            path[lo - m_from : hi - m_from + 1] = cum[day] + bridge[lo - first : hi - first + 1]
            top = min(hi, m_to - 1)
            if top >= lo:
                wicks[:, lo - m_from : top - m_from + 1] = w[:, lo - first : top - first + 1]
        return path + self._overlay(asset, np.arange(m_from, m_to + 1)), wicks

    def log_index(self, asset: str, m_from: int, m_to: int) -> tuple[np.ndarray, np.ndarray]:
        """Log index price at minute boundaries m_from..m_to (the start price at the start
        minute) and the minutes' wicks (up, down), (2, m_to - m_from)."""
        _, spec = self._specs[asset]
        anchor = self._anchor.get(asset)
        if anchor is None:
            at = self._base(asset, self._m0, self._m0)[0][0]
            anchor = self._anchor.setdefault(asset, math.log(spec.start_price_usd) - at)
        path, wicks = self._base(asset, m_from, m_to)
        return path + anchor, wicks

    def basis(self, perp: int, base: str, m_from: int, m_to: int) -> np.ndarray:
        """A perpetual's basis (mark / index - 1) at minute boundaries m_from..m_to: the
        kernel-smoothed noise of the minutes up to each boundary, and the episodes' discount."""
        n = m_to - m_from + 1
        lead = m_from - KERNEL_MIN + 1
        days = range(_day_of(lead), _day_of(m_to) + 1)
        z = np.concatenate([self._rng(0x100 + perp, d).standard_normal(DAY_MINUTES) for d in days])
        z = z[lead - (DAY0 + days[0] * DAY_MINUTES) :][: n + KERNEL_MIN - 1]
        out = self._basis_sd * np.convolve(z, self._kernel[::-1], mode="valid")
        t = np.arange(m_from, m_to + 1).astype(np.float64) * MINUTE_MS
        for e, drops in self._episodes:
            if base in drops:
                peak = e.start_ms + TROUGH_AT * (e.end_ms - e.start_ms)
                fall = math.log(1.0 - drops[base])
                out += BASIS_PER_LOG_FALL * fall * _ramp(t, e.start_ms, peak, e.end_ms, 0.0)
        return out


DAY0 = HISTORY_FROM_MS // MINUTE_MS


def _day_of(m: int) -> int:
    return (m - DAY0) // DAY_MINUTES


class LivePath:
    """Per-minute open / high / low / close of named live series (each asset's index, each
    perpetual's mark) from the market's quotes, from the start minute on. A minute without a
    quote repeats the last close; the open of a minute is the close of the one before. A minute
    done is kept as one small array (a demo left running keeps well under 1 MB a day)."""

    def __init__(self, start_ms: int, names: Sequence[str], start_values: Sequence[float]) -> None:
        self._m0 = start_ms // MINUTE_MS
        self._index = {n: i for i, n in enumerate(names)}
        self._start = list(start_values)
        self._minutes: list[int] = []
        self._done: list[np.ndarray] = []  # (4, n) per minute before the current one
        self._now: list[list[float]] = []  # the current minute's [o, h, l, c], growing
        self._lock = threading.Lock()

    def observe(self, now_ms: int, values: Sequence[float]) -> None:
        m = now_ms // MINUTE_MS
        with self._lock:
            if m < self._m0 or (self._minutes and m < self._minutes[-1]):
                return
            if not self._minutes or m > self._minutes[-1]:
                prev = self._now[3] if self._now else self._start
                if self._now:
                    self._done.append(np.array(self._now))
                self._minutes.append(m)
                self._now = [list(prev), list(prev), list(prev), list(prev)]
            _o, h, lo, c = self._now
            for i, v in enumerate(values):
                h[i] = max(h[i], v)
                lo[i] = min(lo[i], v)
                c[i] = v

    def _bar(self, k: int, i: int) -> tuple[float, float, float, float]:
        if k < len(self._done):
            col = self._done[k][:, i]
            return float(col[0]), float(col[1]), float(col[2]), float(col[3])
        o, h, lo, c = (x[i] for x in self._now)
        return o, h, lo, c

    def bars(self, name: str, m_from: int, m_to: int) -> np.ndarray:
        """(4, m_to - m_from) open, high, low, close of minutes m_from..m_to-1 (>= start)."""
        i = self._index[name]
        out = np.empty((4, m_to - m_from))
        with self._lock:
            k = bisect_right(self._minutes, m_from - 1) - 1
            last = self._bar(k, i)[3] if k >= 0 else self._start[i]
            k += 1
            for col, m in enumerate(range(m_from, m_to)):
                if k < len(self._minutes) and self._minutes[k] == m:
                    out[:, col] = bar = self._bar(k, i)
                    last = bar[3]
                    k += 1
                else:
                    out[:, col] = last
        return out


def live_values(quote: Quote, assets: Sequence[str], perps: Sequence[str]) -> list[float]:
    return [quote.index_usd[a] for a in assets] + [quote.mark(s) for s in perps]
