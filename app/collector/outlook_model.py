"""The model as the collector's outlook job calls it (``app/collector/outlook_job.py``): the
kline series read from the cache turned into ``MarketHistory`` tables, ``risk.outlook``'s
``compute_outlook`` with the ``[outlook]`` settings, and the named episodes replayed each
through its own window of bars (one small table per episode: a single minute table from 2020 to
now would hold millions of empty slots, and an hourly one spanning the episodes would feed the
model years of forward-filled, zero returns). The collector's job and ``pmdesk risk
--outlook`` both call it. Pure but for what they read for it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from risk.episodes import Episode, replay
from risk.market_history import KlineSeries
from risk.model import AccountSnapshot, MarketState, RiskRules
from risk.outlook import OutlookSettings, calibrated_book, compute_outlook
from risk.outlook_data import history_from_series
from risk.outlook_result import Outlook
from risk.outlook_value import path_book


@dataclass(frozen=True)
class Histories:
    """What was read for one account: the recent hourly bars the model rests on, and each
    episode's own window of bars (minutes from the klines cache; hours from a capture)."""

    hourly: Sequence[KlineSeries] = ()
    episode_bars: Mapping[str, Sequence[KlineSeries]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class OutlookModel:
    """``compute_outlook`` with its rules, settings and episodes bound."""

    rules: RiskRules
    settings: OutlookSettings
    episodes: tuple[Episode, ...] = ()

    def __call__(
        self, snapshot: AccountSnapshot, market: MarketState, histories: Histories, now_ms: int
    ) -> Outlook:
        hourly = history_from_series(histories.hourly, "1h") if histories.hourly else None
        outlook = compute_outlook(snapshot, market, self.rules, hourly, self.settings, now_ms)
        if outlook.unknown or not self.episodes:
            return outlook
        pb = path_book(calibrated_book(snapshot, market, self.rules))
        replays = []
        for e in self.episodes:
            bars = histories.episode_bars.get(e.name, ())
            window = history_from_series(bars, bars[0].key.interval) if bars else None
            replays.append(replay(pb, e, window, hourly, self.rules.liquidation_uni_mmr))
        return dataclasses.replace(outlook, replays=tuple(replays))
