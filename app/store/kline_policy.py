"""Which kline bars the cache keeps (``KlinePolicy``) and the arithmetic of windows of bar open
times ([from_ms, to_ms), merged) the cache asks and remembers. Pure but for the episodes' file,
read once by the default policy (``app/episodes.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.episodes import load_episodes
from risk.episodes import Episode
from risk.market_history import INTERVAL_MS

DAY_MS = 86_400_000
Span = tuple[int, int]  # [from_ms, to_ms) of bar open times


@dataclass(frozen=True)
class KlinePolicy:
    """Which bars the cache keeps."""

    hourly_days: float = 180.0
    minute_days: float = 3.0
    episodes: tuple[Episode, ...] = field(default_factory=load_episodes)

    def wanted(self, interval: str, now_ms: int) -> list[Span]:
        """The windows of bar open times wanted now, merged, oldest first: the recent days,
        and each episode's window (at both intervals: a replay takes minutes when it has them,
        hours otherwise)."""
        step = INTERVAL_MS[interval]
        top = now_ms // step * step + step  # the bar open now included
        days = self.hourly_days if interval == "1h" else self.minute_days
        spans = [(top - int(days * DAY_MS) // step * step, top)]
        spans += [
            (e.start_ms // step * step, min(-(-e.end_ms // step) * step, top))
            for e in self.episodes
        ]
        return merge([s for s in spans if s[0] < s[1]])


def merge(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def subtract(spans: Sequence[Span], minus: Sequence[Span]) -> list[Span]:
    """``spans`` without ``minus`` (both merged)."""
    out: list[Span] = []
    for a, b in spans:
        cur = a
        for c, d in minus:
            if d <= cur or c >= b:
                continue
            if c > cur:
                out.append((cur, c))
            cur = max(cur, d)
        if cur < b:
            out.append((cur, b))
    return out


def intersect(spans: Sequence[Span], within: Sequence[Span]) -> list[Span]:
    return merge(
        [(max(a, c), min(b, d)) for a, b in spans for c, d in within if max(a, c) < min(b, d)]
    )
