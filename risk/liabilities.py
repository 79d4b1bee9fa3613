"""Liabilities and carry: what the account owes, what it costs, and the funding it paid or got.

Pure, no I/O. Inputs are the snapshot's balances (``/papi/v1/balance``: ``crossMarginBorrowed``,
``crossMarginInterest``, ``umWalletBalance``, ``cmWalletBalance``, the unrealized PnL), Binance's
interest charges (``GET /papi/v1/margin/marginInterestHistory``, PM "Get Margin Borrow/Loan
Interest History": ``interestRate`` is a *daily* rate — binance/binance-connector-js,
clients/derivatives-trading-portfolio-margin/src/rest-api/types/
get-margin-borrow-loan-interest-history-response-rows-inner.ts) and funding income
(``GET /papi/v1/um/income`` / ``/papi/v1/cm/income`` with ``incomeType=FUNDING_FEE``).

Fail closed: a history that was not read (or was refused) leaves its figures None
("unavailable"), never 0; a price that is unknown leaves the USD figure NaN ("unknown").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from risk.report_parts import FundingReport, FundingRow, LiabilityRow
from risk.snapshot import AccountSnapshot, FundingPayment, InterestHistory

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
FUNDING_LOOKBACK_MS = 7 * DAY_MS
"""How far back funding is read: Binance's own default window for ``/papi/v1/um/income``
("If neither startTime nor endTime is sent, the recent 7-day data will be returned")."""
INTEREST_LOOKBACK_MS = DAY_MS
"""How far back interest charges are read: one day of hourly charges gives each loan's newest
rate and the interest charged in the last 24 h."""
LOAN_KINDS = frozenset({"PERIODIC", "ON_BORROW", "PERIODIC_CONVERTED", "ON_BORROW_CONVERTED"})
NEGATIVE_BALANCE_KIND = "PORTFOLIO"
"""``PORTFOLIO``: "Portfolio Margin negative balance daily interest" (same source)."""


def usd(qty: float, price: float) -> float:
    """qty · price, exactly 0 when the quantity is 0 (even at an unknown price)."""
    return 0.0 if qty == 0.0 else qty * price


def _newest_rate(
    history: InterestHistory | None, asset: str, kinds: frozenset[str]
) -> tuple[float | None, int | None]:
    if history is None:
        return None, None
    charges = [
        c
        for c in history.charges
        if c.loan_asset == asset and c.kind in kinds and c.daily_rate is not None
    ]
    if not charges:
        return None, None
    newest = max(charges, key=lambda c: c.time_ms)
    return newest.daily_rate, newest.time_ms


def interest_charged_qty(
    history: InterestHistory | None, asset: str, since_ms: int, until_ms: int
) -> float | None:
    """Interest Binance charged in ``asset`` in [since, until]; None when the history was not
    read, is incomplete, or the window is unknown (``until_ms`` 0)."""
    if history is None or not history.complete or until_ms <= 0:
        return None
    return math.fsum(
        c.interest_qty
        for c in history.charges
        if c.asset == asset and since_ms <= c.time_ms <= until_ms
    )


def liabilities(
    snapshot: AccountSnapshot,
    price_usd: Mapping[str, float],
    loan_mmr_of: Callable[[str], float],
    stablecoins: frozenset[str],
    now_ms: int,
) -> tuple[LiabilityRow, ...]:
    """One row per asset with a loan, accrued interest, a negative futures wallet or a negative
    net balance, in the order of the balances."""
    history = snapshot.interest_history
    rows: list[LiabilityRow] = []
    for b in snapshot.balances:
        x = b.equity_qty
        owes = (
            b.cross_margin_borrowed_qty > 0.0
            or b.cross_margin_interest_qty > 0.0
            or b.um_wallet_qty < 0.0
            or b.cm_wallet_qty < 0.0
            or x < 0.0
        )
        if not owes:
            continue
        p = price_usd.get(b.asset, math.nan)
        if not (math.isfinite(p) and p > 0.0):
            p = math.nan
        borrowed = b.cross_margin_borrowed_qty
        mmr = loan_mmr_of(b.asset) if borrowed > 0.0 else None
        loan_rate, loan_at = _newest_rate(history, b.asset, LOAN_KINDS)
        neg_rate, neg_at = _newest_rate(history, b.asset, frozenset({NEGATIVE_BALANCE_KIND}))
        negative_wallets = min(b.um_wallet_qty, 0.0) + min(b.cm_wallet_qty, 0.0)
        rows.append(
            LiabilityRow(
                asset=b.asset,
                stable=b.asset in stablecoins,
                borrowed_qty=borrowed,
                interest_qty=b.cross_margin_interest_qty,
                um_wallet_qty=b.um_wallet_qty,
                cm_wallet_qty=b.cm_wallet_qty,
                unrealized_pnl_qty=b.um_unrealized_pnl_qty + b.cm_unrealized_pnl_qty,
                equity_qty=x,
                index_price_usd=p,
                loan_usd=usd(borrowed + b.cross_margin_interest_qty, p),
                negative_wallets_usd=usd(negative_wallets, p),
                equity_usd=usd(x, p),
                loan_mmr=mmr,
                loan_mm_usd=0.0 if mmr is None else usd(borrowed * mmr, p),
                loan_daily_rate=loan_rate,
                negative_balance_daily_rate=neg_rate,
                rate_time_ms=loan_at if loan_rate is not None else neg_at,
                interest_24h_qty=interest_charged_qty(history, b.asset, now_ms - DAY_MS, now_ms),
            )
        )
    return tuple(rows)


def sum_since(times_ms: Sequence[int], income_qty: Sequence[float], since_ms: int) -> float:
    """Funding (or any income) paid at or after ``since_ms``."""
    return math.fsum(q for t, q in zip(times_ms, income_qty, strict=True) if t >= since_ms)


def _venue_rows(
    venue: str,
    payments: tuple[FundingPayment, ...] | None,
    open_positions: dict[str, str],
    price_usd: Mapping[str, float],
    window_start_ms: int,
    now_ms: int,
) -> list[FundingRow]:
    """``open_positions``: symbol → the asset its funding is paid in."""
    by_symbol: dict[tuple[str, str], list[FundingPayment]] = {}
    for pay in payments or ():
        if pay.time_ms >= window_start_ms and (now_ms <= 0 or pay.time_ms <= now_ms):
            by_symbol.setdefault((pay.symbol, pay.asset), []).append(pay)
    keys = list(by_symbol)
    listed = {symbol for symbol, _ in keys}
    keys += [(s, a) for s, a in open_positions.items() if s not in listed]
    rows: list[FundingRow] = []
    for symbol, asset in sorted(keys):
        p = price_usd.get(asset, math.nan)
        if payments is None:
            rows.append(FundingRow(venue, symbol, asset, p, False, (), (), None, None, True))
            continue
        paid = sorted(by_symbol.get((symbol, asset), []), key=lambda x: x.time_ms)
        times = tuple(x.time_ms for x in paid)
        income = tuple(x.income_qty for x in paid)
        day = sum_since(times, income, now_ms - DAY_MS) if now_ms > 0 else None
        rows.append(
            FundingRow(
                venue=venue,
                symbol=symbol,
                asset=asset,
                index_price_usd=p,
                available=True,
                times_ms=times,
                income_qty=income,
                last_24h_qty=day,
                last_24h_usd=None if day is None else usd(day, p),
                open_position=symbol in open_positions,
            )
        )
    return rows


def funding_report(
    snapshot: AccountSnapshot,
    price_usd: Mapping[str, float],
    now_ms: int,
    lookback_ms: int = FUNDING_LOOKBACK_MS,
) -> FundingReport:
    """Funding per perpetual over the last ``lookback_ms`` before ``now_ms``; a position open on
    a venue whose income was not read is a row that says so (its figures None)."""
    um_open = {p.symbol: p.margin_asset for p in snapshot.um_positions if p.position_amt_qty != 0.0}
    cm_open = {
        p.symbol: p.margin_asset for p in snapshot.cm_positions if p.position_amt_contracts != 0.0
    }
    start = now_ms - lookback_ms if now_ms > 0 else 0
    rows = _venue_rows("UM", snapshot.um_funding, um_open, price_usd, start, now_ms)
    rows += _venue_rows("CM", snapshot.cm_funding, cm_open, price_usd, start, now_ms)
    # Funding of a position closed in the last day shows only in its venue's income: without
    # both venues read, the total is unavailable.
    total: float | None = None
    both = snapshot.um_funding is not None and snapshot.cm_funding is not None
    if both and all(r.last_24h_usd is not None for r in rows):
        total = math.fsum(r.last_24h_usd for r in rows if r.last_24h_usd is not None)
    return FundingReport(
        rows=tuple(rows),
        um_read=snapshot.um_funding is not None,
        cm_read=snapshot.cm_funding is not None,
        window_start_ms=start,
        as_of_ms=now_ms,
        last_24h_usd=total,
    )
