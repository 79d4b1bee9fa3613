"""Liabilities & P&L, the grids' rows from the newest report (``RiskReport``): loans, negative
balances, funding per perpetual, positions with their funding. Pure. Fail closed: an unknown
figure (NaN) reads "unknown", one whose source was not read "unavailable"."""

from __future__ import annotations

import math
from typing import Any

from app.web.format import (
    mark_unknown,
)
from app.web.pages.liabilities_since import UNAVAILABLE_KEY, short_utc_date
from app.web.pages.positions import position_base
from risk.liabilities import sum_since
from risk.model import RiskReport


# ---- rows from the report detail ------------------------------------------------------------
def _marked(row: dict[str, Any], unknown: list[str], unavailable: list[str]) -> dict[str, Any]:
    """``format.mark_unknown`` (a NaN or None among ``unknown`` reads "unknown"), then the
    fields among ``unavailable`` still None: their source was not read."""
    mark_unknown(row, unknown)
    row[UNAVAILABLE_KEY] = [f for f in unavailable if row.get(f) is None]
    return row


def times_or_none(x: float | None, k: float) -> float | None:
    return None if x is None else x * k


def loan_rows(detail: RiskReport) -> list[dict[str, Any]]:
    """One row per asset with a loan or accrued interest."""
    rows = []
    for r in detail.liabilities:
        if not (r.borrowed_qty > 0 or r.interest_qty > 0):
            continue
        daily = r.loan_daily_rate
        price = r.index_price_usd
        row = {
            "key": r.asset,
            "asset": r.asset,
            "borrowed": r.borrowed_qty,
            "interest": r.interest_qty,
            "owed_usd": r.loan_usd,
            "daily_pct": None if daily is None else 100 * daily,
            "yearly_pct": None if daily is None else 100 * 365 * daily,
            "interest_24h": r.interest_24h_qty,
            "interest_24h_usd": times_or_none(r.interest_24h_qty, price),
            "mmr_pct": None if r.loan_mmr is None else 100 * r.loan_mmr,
            "mm_usd": r.loan_mm_usd,
            "rate_at": "" if r.rate_time_ms is None else short_utc_date(r.rate_time_ms),
        }
        unavailable = ["daily_pct", "yearly_pct", "interest_24h"]
        if r.interest_24h_qty is None:
            unavailable.append("interest_24h_usd")
        rows.append(_marked(row, ["owed_usd", "mm_usd", "interest_24h_usd"], unavailable))
    return rows


def negative_rows(detail: RiskReport) -> list[dict[str, Any]]:
    """One row per asset below zero: a negative futures wallet, or owed net."""
    rows = []
    for r in detail.liabilities:
        neg_wallets = min(r.um_wallet_qty, 0.0) + min(r.cm_wallet_qty, 0.0)
        if not (neg_wallets < 0 or r.equity_qty < 0):
            continue
        causes = []
        if r.borrowed_qty > 0 or r.interest_qty > 0:
            causes.append("loan")
        if r.um_wallet_qty < 0:
            causes.append("USD-M wallet below 0")
        if r.cm_wallet_qty < 0:
            causes.append("COIN-M wallet below 0")
        if r.unrealized_pnl_qty < 0 and r.equity_qty < 0:
            causes.append("unrealized loss")
        # The rate Binance charges that debt: a negative wallet's daily PORTFOLIO interest, a
        # loan's own rate; an unrealized loss is charged nothing until it is realized ("—").
        unavailable = ["daily_pct"]
        if neg_wallets < 0:
            daily = r.negative_balance_daily_rate
        elif r.borrowed_qty > 0 or r.interest_qty > 0:
            daily = r.loan_daily_rate
        else:
            daily, unavailable = None, []
        row = {
            "key": r.asset,
            "asset": r.asset,
            "um_wallet": r.um_wallet_qty,
            "cm_wallet": r.cm_wallet_qty,
            "upnl": r.unrealized_pnl_qty,
            "net_qty": r.equity_qty,
            "net_usd": r.equity_usd,
            "wallets_usd": r.negative_wallets_usd,
            "daily_pct": None if daily is None else 100 * daily,
            "why": ", ".join(causes) or "—",
        }
        rows.append(_marked(row, ["net_usd", "wallets_usd"], unavailable))
    return rows


def funding_rows(detail: RiskReport, start_ms: int | None) -> list[dict[str, Any]]:
    """Funding per perpetual: the last 24 h and since the chosen time, + received / − paid.
    Since a time before the window pmdesk read (``window_start_ms``) is unavailable."""
    funding = detail.funding
    if funding is None:
        return []
    covered = start_ms is not None and start_ms >= funding.window_start_ms
    rows = []
    for r in funding.rows:
        price = r.index_price_usd
        since_qty = None
        if r.available and covered and start_ms is not None:
            since_qty = sum_since(r.times_ms, r.income_qty, start_ms)
        row = {
            "key": f"{r.venue}:{r.symbol}",
            "venue": r.venue,
            "symbol": r.symbol,
            "asset": r.asset,
            "day_qty": r.last_24h_qty,
            "day_usd": r.last_24h_usd,
            "since_qty": since_qty,
            "since_usd": times_or_none(since_qty, price),
            "payments": len(r.times_ms) if r.available else None,
            "open": "open" if r.open_position else "closed",
        }
        unavailable: list[str] = []
        unknown: list[str] = []
        if not r.available:
            unavailable += ["day_qty", "day_usd", "payments", "since_qty", "since_usd"]
        else:
            unknown.append("day_usd")  # null at a known quantity: the price is unknown
            if since_qty is None:
                unavailable += ["since_qty", "since_usd"]
            else:
                unknown.append("since_usd")
        rows.append(_marked(row, unknown, unavailable))
    return rows


def funding_since_usd(detail: RiskReport, start_ms: int | None) -> float | None:
    """Every perpetual's funding since the chosen time, USD; None when unavailable (a venue not
    read, or a time before the window read); NaN when a price is unknown."""
    funding = detail.funding
    if funding is None or start_ms is None or start_ms < funding.window_start_ms:
        return None
    if not (funding.um_read and funding.cm_read):
        return None
    total = 0.0
    for r in funding.rows:
        if not r.available:
            return None
        qty = sum_since(r.times_ms, r.income_qty, start_ms)
        price = r.index_price_usd
        total += 0.0 if qty == 0.0 else qty * price  # NaN when the price is unknown
    return total


def position_rows(detail: RiskReport, start_ms: int | None) -> list[dict[str, Any]]:
    """Each position's unrealized P&L, with its funding (24 h and since the chosen time)."""
    funding = {(r["venue"], r["symbol"]): r for r in funding_rows(detail, start_ms)}
    rows = []
    for p in detail.positions:
        f = funding.get((p.venue, p.symbol))
        row = position_base(p) | {
            "funding_day_usd": None if f is None else f["day_usd"],
            "funding_since_usd": None if f is None else f["since_usd"],
        }
        funding_missing = f is None or "day_usd" in f[UNAVAILABLE_KEY]
        unavailable = ["funding_since_usd"] + (["funding_day_usd"] if funding_missing else [])
        known = ["entry", "mark", "notional_usd", "upnl_usd"]
        if not funding_missing:
            known.append("funding_day_usd")
        rows.append(_marked(row, known, unavailable))
    return rows


def total_of(values: list[float | None]) -> float | None:
    """None when any is None (unavailable); NaN when any is unknown."""
    if any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None)
