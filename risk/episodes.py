"""Historical replays: today's book through the real prices of a named episode. Pure, no I/O:
the caller reads ``data/episodes.csv`` and passes its text to ``parse_episodes``.

Each bar of the episode (minute bars when the cached 1 m klines cover it, hourly otherwise)
moves every asset's price by its close over its close on the last bar before the episode (the
episode's first bar when there is none), and every perpetual's mark by its basis change
((1 + basis) / (1 + basis then) - 1; held at today's where no basis is cached), and the book is
revalued exactly (``risk.outlook_value``). Closes only: a bar's intrabar low is not seen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass

import numpy as np

from risk.market_history import NUMERAIRE, MarketHistory
from risk.outlook_result import ReplayResult
from risk.outlook_value import PathBook, Premiums, premium_source, value_paths

COLUMNS = ("name", "start_utc", "end_utc", "description")


@dataclass(frozen=True)
class Episode:
    name: str
    start_utc: str
    end_utc: str
    description: str

    @property
    def start_ms(self) -> int:
        return _ms(self.start_utc)

    @property
    def end_ms(self) -> int:
        return _ms(self.end_utc)


def _ms(text: str) -> int:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def parse_episodes(text: str) -> tuple[Episode, ...]:
    """Episodes from CSV text with the columns name, start_utc, end_utc, description;
    ValueError naming the row for a bad one."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"episodes: the columns must be {', '.join(COLUMNS)}")
    out = []
    for n, row in enumerate(reader, start=2):
        episode = Episode(*(str(row[c] or "").strip() for c in COLUMNS))
        try:
            start, end = episode.start_ms, episode.end_ms
        except ValueError:
            raise ValueError(f"episodes line {n}: a date is not ISO 8601") from None
        if not episode.name or end <= start:
            raise ValueError(f"episodes line {n}: needs a name and an end after its start")
        out.append(episode)
    return tuple(out)


def _covers(history: MarketHistory | None, assets: list[str], start: int, end: int) -> bool:
    if history is None or any(a not in history.price_usd for a in assets):
        return False
    inside = (history.open_time_ms >= start) & (history.open_time_ms <= end)
    return bool(inside.any()) and all(
        np.isfinite(history.price_usd[a][inside]).any() for a in assets
    )


def replay(
    pb: PathBook,
    episode: Episode,
    history_1m: MarketHistory | None,
    history_1h: MarketHistory | None,
    liquidation_uni_mmr: float,
) -> ReplayResult:
    book = pb.book
    assets = [a for a in book.assets if a != NUMERAIRE]
    start, end = episode.start_ms, episode.end_ms

    def missing(words: str, interval: str = "") -> ReplayResult:
        return ReplayResult(
            episode.name,
            episode.start_utc,
            episode.description,
            0,
            interval,
            math.nan,
            None,
            None,
            words,
        )

    history = next((h for h in (history_1m, history_1h) if _covers(h, assets, start, end)), None)
    if history is None:
        held = history_1h if history_1h is not None else history_1m
        absent = [a for a in assets if held is None or a not in held.price_usd]
        if absent:
            return missing(f"no cached prices for {', '.join(absent)}")
        return missing("no cached bars inside the episode")
    times = history.open_time_ms
    prices = np.stack([history.price_usd.get(a, np.ones(len(times))) for a in book.assets], 1)
    inside = np.nonzero((times >= start) & (times <= end) & np.isfinite(prices).all(axis=1))[0]
    if len(inside) == 0:
        return missing("no bar inside the episode has every price", history.interval)
    before = inside[0] - 1
    ref = before if before >= 0 and np.isfinite(prices[before]).all() else inside[0]
    logf = np.log(prices[inside] / prices[ref])[None, :, :]
    symbols = list(book.um_symbol) + list(book.cm_symbol)
    premium = np.zeros((len(inside), len(symbols)))
    for j, s in enumerate(symbols):
        b = history.basis.get(s)
        if b is not None and math.isfinite(b[ref]):
            p = (1.0 + b[inside]) / (1.0 + b[ref]) - 1.0
            premium[:, j] = np.where(np.isfinite(p), p, 0.0)
    increments = np.diff(premium, axis=0, prepend=0.0)
    prem = Premiums(
        premium_source(pb, increments), np.arange(len(inside))[None, :], np.ones(len(inside))
    )
    uni = value_paths(pb, logf, prem if premium.any() else None).uni_mmr()[0]
    low = int(np.argmin(uni))
    below = np.nonzero(uni <= liquidation_uni_mmr)[0]
    return ReplayResult(
        name=episode.name,
        start_utc=episode.start_utc,
        description=episode.description,
        bars=len(inside),
        interval=history.interval,
        min_uni_mmr=float(uni[low]),
        min_at_ms=int(times[inside[low]]),
        liquidation_at_ms=int(times[inside[below[0]]]) if len(below) else None,
    )
