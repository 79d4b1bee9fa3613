"""The collector's last successful account poll — what pushed updates (account events, mark
prices) are applied to until the next — and the stamp on its comparison with Binance's figures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from risk.model import AccountSnapshot, Assumptions, MarketState, Reconciliation, RiskReport
from risk.remark import MarkBasis


@dataclass(frozen=True)
class LastPoll:
    """The last successful account poll: what pushed updates are applied to (parsed once)."""

    snapshot: AccountSnapshot
    market: MarketState
    basis: MarkBasis  # the poll's contract index prices: what index moves are measured from
    snapshot_id: int
    fetched_at_ms: int
    simulated: bool
    relevant: frozenset[str]
    # Settled at the poll against Binance's figures of that moment; between polls the figures
    # move with the marks but Binance's do not, so the poll's assumptions and comparison hold.
    assumptions: Assumptions | None = None
    reconciliation: Reconciliation | None = None
    events_since_ms: int = 0  # the newest event time received before the poll read REST
    stream_connects: int | None = None  # the user stream's connection then (None: not healthy)


def binance_read_at(report: RiskReport, at_ms: int) -> RiskReport:
    """The report with its comparison stamped with when Binance's figures were read or pushed."""
    rec = report.reconciliation
    if rec is None:
        return report
    return dataclasses.replace(report, reconciliation=dataclasses.replace(rec, binance_at_ms=at_ms))
