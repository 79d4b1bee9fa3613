"""How long the store keeps what: every report for ``raw_h`` hours; after that the history
buckets stand for them, except the reports that must stay in full — each bucket's worst sample,
every status change, and any poll a kept between-polls report was computed from. Buckets are
kept by period (1 min for 90 days, 10 min for a year, 1 h for two years by default); events and
API weight for as long as noted."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.store.rollup import HOUR_S, MINUTE_S, TEN_MINUTES_S

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Retention:
    raw_h: float = 48.0
    minute_days: float = 90.0
    ten_minute_days: float = 365.0
    hour_days: float = 730.0
    events_days: float = 730.0
    weight_h: float = 48.0
    batch: int = 2_000  # rows per transaction: the collector never waits long for the lock

    def bucket_days(self) -> dict[int, float]:
        return {
            MINUTE_S: self.minute_days,
            TEN_MINUTES_S: self.ten_minute_days,
            HOUR_S: self.hour_days,
        }


@dataclass(frozen=True)
class Pruned:
    reports: int = 0
    snapshots: int = 0
    buckets: int = 0
    events: int = 0
    weights: int = 0
    alerts: int = 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )
