"""Calibration: settle what Binance does not publish per account from the figures it reports.

Two inputs of the uniMMR formula are not published for a given account (docs/binance-pm-notes.md):

- **Which collateral table** values its equity: the flat "Classic Portfolio Margin Collateral
  Rate" (``GET /sapi/v1/portfolio/collateralRate``) or the PM Pro tiered table (``GET
  /sapi/v2/portfolio/collateralRate``); Binance's announcements change the two separately. The
  table whose adjusted equity reproduces Binance's ``accountEquity`` (``/papi/v1/account``) is
  the one in use; when neither does, or Binance's figure is unavailable, the one giving the
  *lower* equity is used (fail closed) and the result is not calibrated.
- **The margin-loan MMR**: "the MMR varies based on the chosen leverage" (uniMMR FAQ
  4868b2f1aa6c4d08af973328462bb0bd), whose table no stored copy keeps. In order:
  ``GET /sapi/v1/portfolio/margin-asset-leverage`` (PM Pro) where the account answers it, mapped
  through ``MARGIN_LOAN_MMR_BY_LEVERAGE`` and kept only if Binance's own MM agrees; else the MMR
  *implied* by Binance's MM: ``accountMaintMargin`` minus its positions' own ``maintMargin``
  (``/papi/v1/um/account``, ``/papi/v1/cm/account``) is the loan MM, over Σ loan · index price;
  else the conservative default (10 %, 3x), never the lenient end.

The implied MMR is trusted only when it can be: Binance's positions' MM must agree with pmdesk's
own bracket MM (else the payloads, or the brackets, are off and the residual means nothing) and
the MMR must be plausible (``PLAUSIBLE_LOAN_MMR``). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import math

from risk.book import Book, collateral_table, with_collateral_table
from risk.market import FLAT, TIERED, MarketState
from risk.rules import (
    LOAN_MMR_ASSUMED,
    LOAN_MMR_FROM_BINANCE,
    LOAN_MMR_IMPLIED,
    MARGIN_LOAN_MMR_BY_LEVERAGE,
    Assumptions,
    RiskRules,
)
from risk.snapshot import AccountSnapshot, ReportedPositionMargin
from risk.valuation import adjusted_equity_rows, base_margins, qty_usd

PLAUSIBLE_LOAN_MMR = (0.005, 0.5)
NO_LOANS = "no loans"


def rel_diff(ours: float, theirs: float) -> float:
    """(ours − theirs) / |theirs|, with 1 USD as the floor of the scale (a zero figure)."""
    return (ours - theirs) / max(abs(theirs), 1.0)


def table_equity(book: Book, market: MarketState, table: str) -> float:
    """Σ adjusted equity − open loss with ``table``'s collateral rates."""
    collateral, _listed = collateral_table(market, table, book.assets)
    priced = dataclasses.replace(book, collateral=collateral)
    value = qty_usd(book.equity_qty, book.price_usd)
    return float(adjusted_equity_rows(priced, value[None, :])[0].sum()) - book.open_loss_usd


def _tables(market: MarketState) -> list[str]:
    out = []
    if market.collateral_tiers:
        out.append(TIERED)
    if market.collateral_flat:
        out.append(FLAT)
    return out or [TIERED]


def choose_table(
    book: Book, snapshot: AccountSnapshot, market: MarketState, tolerance: float
) -> tuple[str, str, dict[str, float], bool]:
    """(table, how it was chosen, relative equity difference per table, reproduces Binance)."""
    tables = _tables(market)
    equity = {t: table_equity(book, market, t) for t in tables}
    reported = snapshot.reported.account_equity_usd if snapshot.reported is not None else None
    lowest = min(tables, key=lambda t: (equity[t], t != TIERED))
    if reported is None or not all(math.isfinite(e) for e in equity.values()):
        how = "the only table read" if len(tables) == 1 else "the lower of the two"
        return lowest, f"{how}; Binance's accountEquity unavailable", {}, False
    diffs = {t: rel_diff(equity[t], reported) for t in tables}
    best = min(tables, key=lambda t: (abs(diffs[t]), t != TIERED))
    if abs(diffs[best]) <= tolerance:
        return best, "reproduces Binance's accountEquity", diffs, True
    return lowest, "neither table reproduces Binance's accountEquity: the lower", diffs, False


def reported_position_mm_usd(
    book: Book, snapshot: AccountSnapshot, market: MarketState
) -> list[tuple[ReportedPositionMargin, float]]:
    """Binance's per-position ``maintMargin`` in USD (× its margin asset's index price; NaN
    where unreadable or unpriced)."""
    out = []
    for r in snapshot.reported_position_margins or ():
        if r.margin_asset in book.assets:
            price = float(book.price_usd[book.index(r.margin_asset)])
        else:
            price = market.index_price_usd.get(r.margin_asset, math.nan)
        out.append((r, r.maint_margin_qty * price))
    return out


def binance_futures_mm_usd(book: Book, snapshot: AccountSnapshot, market: MarketState) -> float:
    """Σ Binance's per-position MM in USD (NaN when any is unreadable or unpriced)."""
    return sum(usd for _r, usd in reported_position_mm_usd(book, snapshot, market))


def implied_loan_mmr(
    book: Book, snapshot: AccountSnapshot, market: MarketState, tolerance: float
) -> tuple[float | None, str]:
    """The loan MMR Binance's MM implies, or None with the reason it cannot be told."""
    reported = snapshot.reported
    loans_usd = float(qty_usd(book.borrowed_qty, book.price_usd).sum())
    if reported is None or reported.account_maint_margin_usd is None:
        return None, "Binance's accountMaintMargin unavailable"
    if snapshot.reported_position_margins is None:
        return None, "Binance's per-position MM (um/cm account) not read"
    binance_futures = binance_futures_mm_usd(book, snapshot, market)
    base = base_margins(book)
    ours = float(base.um_usd.sum() + base.cm_usd.sum())
    if not (math.isfinite(binance_futures) and math.isfinite(ours) and math.isfinite(loans_usd)):
        return None, "a position's MM or a price is unavailable"
    if abs(rel_diff(ours, binance_futures)) > tolerance:
        return None, (
            f"Binance's positions' MM ({binance_futures:,.2f} USD) differs from pmdesk's "
            f"({ours:,.2f} USD): the loan MM cannot be told apart"
        )
    mmr = (reported.account_maint_margin_usd - binance_futures) / loans_usd
    low, high = PLAUSIBLE_LOAN_MMR
    if not low <= mmr <= high:
        return None, f"Binance's MM implies a loan MMR of {mmr:.2%}, not plausible"
    return mmr, ""


def choose_loan_mmr(
    book: Book, snapshot: AccountSnapshot, market: MarketState, rules: RiskRules
) -> tuple[dict[str, float], str, dict[str, float], tuple[str, ...]]:
    """(MMR per borrowed asset, source, leverage per borrowed asset, notes)."""
    borrowed = [a for a, q in zip(book.assets, book.borrowed_qty.tolist(), strict=True) if q > 0]
    answered = market.margin_asset_leverage or {}
    leverage = {a: answered.get(a, rules.margin_leverage) for a in borrowed}
    if not borrowed:
        return {}, NO_LOANS, leverage, ()
    implied, why_not = implied_loan_mmr(book, snapshot, market, rules.reconcile_tolerance)
    mapped = {
        a: MARGIN_LOAN_MMR_BY_LEVERAGE[int(answered[a])]
        for a in borrowed
        if a in answered
        and float(answered[a]).is_integer()
        and int(answered[a]) in MARGIN_LOAN_MMR_BY_LEVERAGE
    }
    if len(mapped) == len(borrowed):
        text = ", ".join(f"{a} {answered[a]:g}x → {mapped[a]:.0%}" for a in borrowed)
        if implied is None:
            return (
                mapped,
                LOAN_MMR_FROM_BINANCE,
                leverage,
                (
                    f"loan leverage from Binance ({text}; MMR per leverage from the uniMMR FAQ's "
                    f"table, unverified; {why_not})",
                ),
            )
        loans = qty_usd(book.borrowed_qty, book.price_usd)
        mapped_mm = sum(mapped[a] * float(loans[book.index(a)]) for a in borrowed)
        implied_mm = implied * float(loans.sum())
        if abs(rel_diff(mapped_mm, implied_mm)) <= rules.reconcile_tolerance:
            return (
                mapped,
                LOAN_MMR_FROM_BINANCE,
                leverage,
                (f"loan leverage from Binance ({text}), confirmed by Binance's MM",),
            )
        note = f"Binance's leverage ({text}) disagrees with its MM, which implies {implied:.2%}"
        return {a: implied for a in borrowed}, LOAN_MMR_IMPLIED, leverage, (note,)
    if implied is not None:
        return {a: implied for a in borrowed}, LOAN_MMR_IMPLIED, leverage, ()
    default = rules.default_loan_mmr
    return (
        {a: default for a in borrowed},
        LOAN_MMR_ASSUMED,
        leverage,
        (f"loan MMR assumed {default:.0%} ({why_not})",),
    )


def calibrate(
    book: Book, snapshot: AccountSnapshot, market: MarketState, rules: RiskRules
) -> Assumptions:
    """The collateral table and loan MMR for this account, and how each was settled.
    ``calibrated`` is set by the evaluation, once pmdesk's figures are compared with Binance's."""
    table, how, diffs, _reproduces = choose_table(book, snapshot, market, rules.reconcile_tolerance)
    chosen = with_collateral_table(book, market, table)
    loan_mmr, source, leverage, notes = choose_loan_mmr(chosen, snapshot, market, rules)
    return Assumptions(
        product=rules.product,
        collateral_table=table,
        collateral_source=how,
        equity_rel_diff=diffs,
        loan_mmr=loan_mmr,
        loan_mmr_source=source,
        loan_leverage=leverage,
        calibrated=False,
        notes=notes,
    )
