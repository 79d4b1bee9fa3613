"""Liabilities & P&L, the time side: the "since" choices and their parsing, times in words,
and the change of adjusted equity from the stored history (today, since a chosen time)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from app.store.rollup import MINUTE_S
from app.store.store import Store
from app.web.format import (
    UNKNOWN_TEXT,
    fmt_signed_usd,
    fmt_usd,
)

VIEW = "liabilities"
UNAVAILABLE_TEXT = "unavailable"
UNAVAILABLE_KEY = "unavailable"  # a grid row's list of fields whose source was not read
MINUTE_MS = MINUTE_S * 1000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TODAY, CUSTOM = "today", "custom"
SINCE_CHOICES: dict[str, str] = {
    TODAY: "Today (since 00:00 UTC)",
    "1h": "The last hour",
    "8h": "The last 8 h (one funding period)",
    "24h": "The last 24 h",
    "7d": "The last 7 days",
    CUSTOM: "Since a time (UTC)…",
}
SINCE_SPAN_MS = {"1h": HOUR_MS, "8h": 8 * HOUR_MS, "24h": DAY_MS, "7d": 7 * DAY_MS}


# ---- words and numbers ---------------------------------------------------------------------
def utc_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def short_utc_date(ms: int) -> str:
    """Month-day and time, UTC (a grid cell's width)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%m-%d %H:%M UTC")


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def signed_usd_words(value: float | None, missing: str = UNKNOWN_TEXT) -> str:
    """A change in USD, always signed; ``missing`` for None (``unavailable`` or ``unknown``)
    and "unknown" for NaN."""
    if value is None:
        return missing
    return fmt_signed_usd(value)


def usd_words(value: float | None, missing: str = UNKNOWN_TEXT) -> str:
    return missing if value is None else fmt_usd(value)


def rate_words(daily: float | None) -> str:
    """Binance's daily rate as % a day and, simply × 365, % a year."""
    if daily is None:
        return UNAVAILABLE_TEXT
    return f"{100 * daily:,.4f} % a day ({100 * 365 * daily:,.2f} % a year)"


def parse_since(text: str | None, now_ms: int) -> int | None:
    """A UTC time typed by the desk: ``YYYY-MM-DD HH:MM`` (or with ``T``), ``YYYY-MM-DD``
    (midnight), or ``HH:MM`` (today; yesterday when that is still ahead). None: unreadable."""
    raw = (text or "").strip()
    if not raw:
        return None
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    try:
        if m:
            at = now.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0)
            ms = int(at.timestamp() * 1000)
            return ms - DAY_MS if ms > now_ms else ms
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
            try:
                at = datetime.strptime(raw, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
            return int(at.timestamp() * 1000)
    except ValueError:
        return None
    return None


def since_ms(choice: str | None, custom: str | None, now_ms: int) -> tuple[int | None, str]:
    """(the chosen start, its words); None when a custom time cannot be read (the words say
    how to write it)."""
    midnight = now_ms - now_ms % DAY_MS
    if choice in SINCE_SPAN_MS:
        back = now_ms - SINCE_SPAN_MS[choice]
        back -= back % MINUTE_MS
        return back, f"since {utc_text(back)}"
    if choice == CUSTOM:
        start = parse_since(custom, now_ms)
        if start is None:
            shown = (custom or "").strip()
            said = f"“{shown}” is not a time: " if shown else ""
            return None, f"{said}write it as 2026-01-01 08:00 (UTC), or 08:00 for today"
        if start > now_ms:
            return None, f"{utc_text(start)} is still ahead"
        return start, f"since {utc_text(start)}"
    return midnight, f"since {utc_text(midnight)} (today)"


# ---- equity change from the stored history --------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    """Adjusted equity at (or just before) a chosen time, from the 1-minute history buckets.
    ``after``: the history starts after the chosen time; this is its first minute instead."""

    at_ms: int
    equity_usd: float
    after: bool


EXACT_START_WITHIN_MS = 2 * HOUR_MS
"""When the history starts after the chosen time and that start is this recent, its very first
report is read (at most a couple of hours of rows); older, the close of its first minute."""


def equity_baseline(
    store: Store, account: str, start_ms: int, now_ms: int
) -> tuple[Baseline | None, int]:
    """Adjusted equity at the chosen time: the close of the minute before it (the last stored
    value before it). When the history starts after it: the first stored report (the close of
    its first minute when that is more than ``EXACT_START_WITHIN_MS`` ago). None without
    history since. Also returns when the answer stops changing (the end of its minute)."""
    minute = start_ms - start_ms % MINUTE_MS
    buckets = store.history_buckets(account, MINUTE_S, minute - MINUTE_MS)
    if not buckets:
        return None, 0
    first = buckets[0]
    settled = first.start_ms + MINUTE_MS
    if first.start_ms < minute:
        return Baseline(first.last_at_ms, first.equity_last_usd, after=False), settled
    if now_ms - first.start_ms <= EXACT_START_WITHIN_MS:
        for sample in store.history_samples(account, first.start_ms):
            if math.isfinite(sample.equity_usd):
                return Baseline(sample.at_ms, sample.equity_usd, after=True), settled
    return Baseline(first.last_at_ms, first.equity_last_usd, after=True), settled


@dataclass(frozen=True)
class EquityChange:
    change_usd: float | None  # None: no history since then; NaN: equity unknown now
    baseline: Baseline | None


def equity_change(now_equity_usd: float, baseline: Baseline | None) -> EquityChange:
    if baseline is None:
        return EquityChange(None, None)
    if not (math.isfinite(now_equity_usd) and math.isfinite(baseline.equity_usd)):
        return EquityChange(math.nan, baseline)
    return EquityChange(now_equity_usd - baseline.equity_usd, baseline)
