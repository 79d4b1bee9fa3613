"""History buckets: a report folded into its 1-minute, 10-minute and 1-hour buckets. Pure.

One stored period per chart range (24 h, 7 d, 30 d: ~1,440, ~1,000, ~720 points), so drawing
any range reads a few hundred kilobytes at most, however long the history.

Each bucket keeps min, max and last of uniMMR, adjusted equity, maintenance margin and the
downward liquidation distance, and the *worst* sample (lowest uniMMR) with its time and status,
so a chart drawn from buckets never hides how close the book came.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

MINUTE_S = 60
TEN_MINUTES_S = 600
HOUR_S = 3600
PERIODS_S = (MINUTE_S, TEN_MINUTES_S, HOUR_S)


@dataclass(frozen=True)
class Sample:
    """The figures of one report that history keeps."""

    at_ms: int
    report_id: int
    uni_mmr: float
    equity_usd: float
    maint_margin_usd: float
    liquidation_down_pct: float | None  # negative %, None = no such move
    status: str

    @property
    def known(self) -> bool:
        """Every figure computed (an UNKNOWN report's NaN figures are kept out of buckets)."""
        return not any(
            math.isnan(x) for x in (self.uni_mmr, self.equity_usd, self.maint_margin_usd)
        )


@dataclass(frozen=True)
class Bucket:
    period_s: int
    start_ms: int
    n: int
    uni_mmr_min: float
    uni_mmr_max: float
    uni_mmr_last: float
    equity_min_usd: float
    equity_max_usd: float
    equity_last_usd: float
    mm_min_usd: float
    mm_max_usd: float
    mm_last_usd: float
    # Closest the uniform down-move came to liquidation (largest, i.e. nearest zero, negative %).
    liq_down_worst_pct: float | None
    liq_down_last_pct: float | None
    last_at_ms: int
    worst_at_ms: int
    worst_report_id: int
    worst_status: str


def bucket_start_ms(at_ms: int, period_s: int) -> int:
    period_ms = period_s * 1000
    return at_ms - at_ms % period_ms


def _nearer(a: float | None, b: float | None) -> float | None:
    """The liquidation distance nearer to zero; None (no liquidation) is the farthest."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _lower(a: float, b: float) -> bool:
    """b is strictly worse (lower uniMMR) than a; NaN never is."""
    return not math.isnan(b) and b < a


def open_bucket(s: Sample, period_s: int) -> Bucket:
    return Bucket(
        period_s=period_s,
        start_ms=bucket_start_ms(s.at_ms, period_s),
        n=1,
        uni_mmr_min=s.uni_mmr,
        uni_mmr_max=s.uni_mmr,
        uni_mmr_last=s.uni_mmr,
        equity_min_usd=s.equity_usd,
        equity_max_usd=s.equity_usd,
        equity_last_usd=s.equity_usd,
        mm_min_usd=s.maint_margin_usd,
        mm_max_usd=s.maint_margin_usd,
        mm_last_usd=s.maint_margin_usd,
        liq_down_worst_pct=s.liquidation_down_pct,
        liq_down_last_pct=s.liquidation_down_pct,
        last_at_ms=s.at_ms,
        worst_at_ms=s.at_ms,
        worst_report_id=s.report_id,
        worst_status=s.status,
    )


def fold(b: Bucket, s: Sample) -> Bucket:
    """The bucket with one more sample of its period (samples may arrive out of order)."""
    if bucket_start_ms(s.at_ms, b.period_s) != b.start_ms:
        raise ValueError(f"sample at {s.at_ms} is outside bucket {b.start_ms}+{b.period_s}s")
    newest = s.at_ms >= b.last_at_ms
    worse = _lower(b.uni_mmr_min, s.uni_mmr)
    return dataclasses.replace(
        b,
        n=b.n + 1,
        uni_mmr_min=min(b.uni_mmr_min, s.uni_mmr),
        uni_mmr_max=max(b.uni_mmr_max, s.uni_mmr),
        uni_mmr_last=s.uni_mmr if newest else b.uni_mmr_last,
        equity_min_usd=min(b.equity_min_usd, s.equity_usd),
        equity_max_usd=max(b.equity_max_usd, s.equity_usd),
        equity_last_usd=s.equity_usd if newest else b.equity_last_usd,
        mm_min_usd=min(b.mm_min_usd, s.maint_margin_usd),
        mm_max_usd=max(b.mm_max_usd, s.maint_margin_usd),
        mm_last_usd=s.maint_margin_usd if newest else b.mm_last_usd,
        liq_down_worst_pct=_nearer(b.liq_down_worst_pct, s.liquidation_down_pct),
        liq_down_last_pct=s.liquidation_down_pct if newest else b.liq_down_last_pct,
        last_at_ms=s.at_ms if newest else b.last_at_ms,
        worst_at_ms=s.at_ms if worse else b.worst_at_ms,
        worst_report_id=s.report_id if worse else b.worst_report_id,
        worst_status=s.status if worse else b.worst_status,
    )


def merge(buckets: list[Bucket], period_s: int) -> list[Bucket]:
    """Coarser buckets (``period_s``, a multiple of theirs) from time-ordered finer ones."""
    out: list[Bucket] = []
    for b in buckets:
        start = bucket_start_ms(b.start_ms, period_s)
        if out and out[-1].start_ms == start:
            a = out[-1]
            worse = _lower(a.uni_mmr_min, b.uni_mmr_min)
            out[-1] = dataclasses.replace(
                a,
                n=a.n + b.n,
                uni_mmr_min=min(a.uni_mmr_min, b.uni_mmr_min),
                uni_mmr_max=max(a.uni_mmr_max, b.uni_mmr_max),
                uni_mmr_last=b.uni_mmr_last,
                equity_min_usd=min(a.equity_min_usd, b.equity_min_usd),
                equity_max_usd=max(a.equity_max_usd, b.equity_max_usd),
                equity_last_usd=b.equity_last_usd,
                mm_min_usd=min(a.mm_min_usd, b.mm_min_usd),
                mm_max_usd=max(a.mm_max_usd, b.mm_max_usd),
                mm_last_usd=b.mm_last_usd,
                liq_down_worst_pct=_nearer(a.liq_down_worst_pct, b.liq_down_worst_pct),
                liq_down_last_pct=b.liq_down_last_pct,
                last_at_ms=b.last_at_ms,
                worst_at_ms=b.worst_at_ms if worse else a.worst_at_ms,
                worst_report_id=b.worst_report_id if worse else a.worst_report_id,
                worst_status=b.worst_status if worse else a.worst_status,
            )
        else:
            out.append(dataclasses.replace(b, period_s=period_s, start_ms=start))
    return out
