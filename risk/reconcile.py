"""Reconciliation: pmdesk's recomputed figures against the ones Binance reports for the same
account and poll, and which part explains a difference. Pure: no I/O.

Binance's side: ``accountEquity``, ``accountMaintMargin`` and ``uniMMR`` from
``GET /papi/v1/account``; each position's ``maintMargin`` from ``GET /papi/v1/um/account`` and
``GET /papi/v1/cm/account`` (in its margin asset, valued at the index price). The MM that
Binance's positions do not explain is its margin-loan MM.
"""

from __future__ import annotations

import math

from risk.book import Book
from risk.calibrate import binance_futures_mm_usd, rel_diff, reported_position_mm_usd
from risk.market import MarketState
from risk.report_parts import MaintMargin, PositionMargin, PositionReconciliation, Reconciliation
from risk.rules import Assumptions
from risk.snapshot import AccountSnapshot

TOP_POSITIONS = 3


def _uni_diff(ours: float, theirs: float | None) -> float | None:
    if theirs is None or math.isnan(ours):
        return None
    if math.isinf(ours) and math.isinf(theirs) and ours == theirs:
        return 0.0
    if math.isinf(ours) or math.isinf(theirs):
        return math.inf
    return rel_diff(ours, theirs)


def _positions(
    book: Book, snapshot: AccountSnapshot, market: MarketState, ours: tuple[PositionMargin, ...]
) -> tuple[PositionReconciliation, ...]:
    theirs: dict[tuple[str, str, str], float] = {}
    for r, usd in reported_position_mm_usd(book, snapshot, market):
        key = (r.venue, r.symbol, r.position_side)
        theirs[key] = theirs.get(key, 0.0) + usd
    out = []
    for p in ours:
        key = (p.venue, p.symbol, p.position_side)
        out.append(
            PositionReconciliation(
                p.venue, p.symbol, p.position_side, p.maint_margin_usd, theirs.pop(key, None)
            )
        )
    # Positions Binance charges MM for that pmdesk does not see.
    out += [
        PositionReconciliation(venue, symbol, side, 0.0, mm)
        for (venue, symbol, side), mm in sorted(theirs.items())
        if mm != 0.0
    ]
    return tuple(out)


def _explain(
    rec: dict[str, float | None],
    positions: tuple[PositionReconciliation, ...],
    assumptions: Assumptions | None,
) -> str:
    """The part of the account that explains most of the difference, in words."""
    eq, mm = rec["binance_equity"], rec["binance_mm"]
    parts: list[tuple[float, str]] = []
    if eq is not None and math.isfinite(rec["pmdesk_equity"] or math.nan):
        d = (rec["pmdesk_equity"] or 0.0) - eq
        table = f" (collateral: {assumptions.collateral_table} table)" if assumptions else ""
        parts.append((abs(d) / max(abs(eq), 1.0), f"adjusted equity: pmdesk {d:+,.2f} USD{table}"))
    scale = max(mm or 0.0, 1.0)
    fut_b, loan_b = rec["binance_futures"], rec["binance_loan"]
    if fut_b is not None:
        d = (rec["pmdesk_futures"] or 0.0) - fut_b
        worst = sorted(
            (p for p in positions if p.diff_usd is not None and p.diff_usd != 0.0),
            key=lambda p: -abs(p.diff_usd or 0.0),
        )[:TOP_POSITIONS]
        named = ", ".join(f"{p.symbol} {p.diff_usd:+,.2f}" for p in worst)
        parts.append(
            (abs(d) / scale, f"futures MM: pmdesk {d:+,.2f} USD" + (f" ({named})" if named else ""))
        )
    if loan_b is not None:
        d = (rec["pmdesk_loan"] or 0.0) - loan_b
        source = f", loan MMR {assumptions.loan_mmr_source}" if assumptions else ""
        parts.append(
            (
                abs(d) / scale,
                f"loan MM: pmdesk {rec['pmdesk_loan'] or 0.0:,.2f} USD, Binance "
                f"{loan_b:,.2f} USD{source}",
            )
        )
    elif mm is not None and fut_b is None:
        d = (rec["pmdesk_mm"] or 0.0) - mm
        parts.append((abs(d) / scale, f"maintenance margin: pmdesk {d:+,.2f} USD"))
    if not parts:
        return "Binance's figures unavailable"
    return max(parts, key=lambda x: x[0])[1]


def reconcile(
    book: Book,
    snapshot: AccountSnapshot,
    market: MarketState,
    uni_mmr: float,
    equity_usd: float,
    mm: MaintMargin,
    positions: tuple[PositionMargin, ...],
    assumptions: Assumptions | None,
    tolerance: float,
    liquidation_uni_mmr: float,
) -> Reconciliation | None:
    """None when ``/papi/v1/account`` was not read."""
    reported = snapshot.reported
    if reported is None:
        return None
    b_eq, b_mm = reported.account_equity_usd, reported.account_maint_margin_usd
    futures = None
    if snapshot.reported_position_margins is not None:
        total = binance_futures_mm_usd(book, snapshot, market)
        futures = total if math.isfinite(total) else None
    loan = b_mm - futures if b_mm is not None and futures is not None else None
    pm_futures = mm.um_usd + mm.cm_usd
    d_uni = _uni_diff(uni_mmr, reported.uni_mmr)
    d_eq = rel_diff(equity_usd, b_eq) if b_eq is not None and math.isfinite(equity_usd) else None
    d_mm = (
        rel_diff(mm.total_usd, b_mm) if b_mm is not None and math.isfinite(mm.total_usd) else None
    )
    diffs = [d for d in (d_uni, d_eq, d_mm) if d is not None]
    known = (reported.uni_mmr, b_eq, b_mm)
    if all(v is None for v in known):
        agrees: bool | None = None
    elif math.isnan(uni_mmr) or math.isnan(equity_usd) or math.isnan(mm.total_usd):
        agrees = None  # pmdesk's own figure is unknown: nothing to compare
    else:
        agrees = all(abs(d) <= tolerance for d in diffs)
    recon_positions = _positions(book, snapshot, market, positions)
    words = {
        "binance_equity": b_eq,
        "binance_mm": b_mm,
        "binance_futures": futures,
        "binance_loan": loan,
        "pmdesk_equity": equity_usd,
        "pmdesk_mm": mm.total_usd,
        "pmdesk_futures": pm_futures,
        "pmdesk_loan": mm.margin_usd,
    }
    if agrees:
        explained = f"agrees within {tolerance:.1%}"
    elif agrees is None:
        explained = (
            "pmdesk's figures are unknown"
            if any(v is not None for v in known)
            else "Binance's figures unavailable"
        )
    else:
        explained = _explain(words, recon_positions, assumptions)
    return Reconciliation(
        binance_uni_mmr=reported.uni_mmr,
        binance_equity_usd=b_eq,
        binance_mm_usd=b_mm,
        pmdesk_uni_mmr=uni_mmr,
        pmdesk_equity_usd=equity_usd,
        pmdesk_mm_usd=mm.total_usd,
        rel_diff_uni_mmr=d_uni,
        rel_diff_equity=d_eq,
        rel_diff_mm=d_mm,
        binance_futures_mm_usd=futures,
        binance_loan_mm_usd=loan,
        pmdesk_futures_mm_usd=pm_futures,
        pmdesk_loan_mm_usd=mm.margin_usd,
        positions=recon_positions,
        agrees=agrees,
        explained_by=explained,
        tolerance=tolerance,
        liquidation_uni_mmr=liquidation_uni_mmr,
    )
