"""Between two account polls: the last poll's parsed snapshot and market moved by what has been
pushed since — the user data stream's events first (``risk.account_apply.apply_events``), then
the mark prices (``risk.remark.remark``). Pure; the collector and ``app/replay.py`` both call it,
so a stored between-polls report replays to the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence

from risk.account_apply import Applied, apply_events
from risk.account_events import AccountEvent
from risk.model import AccountSnapshot, MarketState
from risk.remark import MarkBasis, MarkUpdate, remark


def moved_since_poll(
    snapshot: AccountSnapshot,
    market: MarketState,
    basis: MarkBasis,
    events: Sequence[AccountEvent],
    since_ms: int,
    marks: Sequence[MarkUpdate],
) -> tuple[AccountSnapshot, MarketState, Applied | None]:
    """The poll's inputs after ``events`` (those newer than ``since_ms``, valued with the poll's
    index prices) and ``marks``; the ``Applied`` (resync, signals) when there were events."""
    applied = None
    if events:
        applied = apply_events(
            snapshot, events, since_ms=since_ms, index_price_usd=market.index_price_usd
        )
        snapshot = applied.snapshot
    if marks:
        snapshot, market = remark(snapshot, market, basis, marks)
    return snapshot, market, applied
