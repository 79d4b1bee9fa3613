"""The report's rows from a compiled book: one per position (notional, MM, bracket, share) and
one hedge row per non-stable asset (delta by venue, long/short, IM, own collateral). Pure."""

from __future__ import annotations

import numpy as np

from risk.book import Book
from risk.report_parts import HedgeRow, PositionMargin
from risk.snapshot import AccountSnapshot
from risk.tiers import FloatArray
from risk.valuation import BaseMargins, tier_of


def position_rows(
    snapshot: AccountSnapshot, book: Book, base: BaseMargins, mm_total: float
) -> tuple[PositionMargin, ...]:
    um_notional = np.abs(book.um_amt_qty) * book.um_mark
    cm_notional = np.abs(book.cm_contracts) * book.cm_size_usd / book.cm_mark
    um_k = tier_of(um_notional, np.arange(len(um_notional)), book.um_brackets)
    cm_k = tier_of(cm_notional, np.arange(len(cm_notional)), book.cm_brackets)
    um_rows = np.arange(len(um_k))
    cm_rows = np.arange(len(cm_k))
    scale = 1.0 / mm_total if mm_total > 0 else 0.0
    um = [p for p in snapshot.um_positions if p.position_amt_qty != 0.0]
    cm = [p for p in snapshot.cm_positions if p.position_amt_contracts != 0.0]
    columns = [
        ["UM"] * len(um_k) + ["CM"] * len(cm_k),
        [*book.um_symbol, *book.cm_symbol],
        [*book.um_side, *book.cm_side],
        np.concatenate([book.um_amt_qty, book.cm_contracts]).tolist(),
        np.concatenate([book.um_mark, book.cm_mark]).tolist(),
        np.concatenate([base.um_notional_usd, base.cm_notional_usd]).tolist(),
        np.concatenate([base.um_usd, base.cm_usd]).tolist(),
        np.concatenate(
            [book.um_brackets.rate[um_rows, um_k], book.cm_brackets.rate[cm_rows, cm_k]]
        ).tolist(),
        np.concatenate(
            [book.um_brackets.floor[um_rows, um_k], book.cm_brackets.floor[cm_rows, cm_k]]
        ).tolist(),
        (np.concatenate([base.um_usd, base.cm_usd]) * scale).tolist(),
        [book.assets[i] for i in np.concatenate([book.um_base, book.cm_coin])],
        (np.concatenate([um_k, cm_k]) + 1).tolist(),
        [p.entry_price for p in um] + [p.entry_price for p in cm],
        [p.unrealized_pnl_qty * book.price_usd[book.um_quote[i]] for i, p in enumerate(um)]
        + [p.unrealized_pnl_qty * book.price_usd[book.cm_coin[i]] for i, p in enumerate(cm)],
    ]
    return tuple(PositionMargin(*row) for row in zip(*columns, strict=True))


def hedge_rows(
    snapshot: AccountSnapshot,
    book: Book,
    initial: tuple[FloatArray, FloatArray],
    adjusted_by_asset: FloatArray,
) -> tuple[HedgeRow, ...]:
    um_im, cm_im = initial
    n = book.n_assets
    debt = np.zeros(n)  # cross-margin loan + interest per asset
    for b in snapshot.balances:
        if b.asset in book.assets:
            debt[book.index(b.asset)] += b.cross_margin_borrowed_qty + b.cross_margin_interest_qty
    margin = -debt
    spot = book.equity_qty - margin
    um = np.bincount(book.um_base, weights=book.um_amt_qty, minlength=n)
    cm_coin_qty = book.cm_contracts * book.cm_size_usd / book.cm_mark
    cm = np.bincount(book.cm_coin, weights=cm_coin_qty, minlength=n)
    im = np.bincount(book.um_base, weights=um_im, minlength=n) + np.bincount(
        book.cm_coin, weights=cm_im, minlength=n
    )
    legs = np.stack([spot, margin, um, cm])  # (4, A)
    long = np.where(legs > 0.0, legs, 0.0).sum(axis=0)
    short = -np.where(legs < 0.0, legs, 0.0).sum(axis=0)
    columns = (book.price_usd, spot, margin, um, cm, long, short, im, adjusted_by_asset)
    risky = np.nonzero(~book.stable)[0]
    values = [c[risky].tolist() for c in columns]
    return tuple(
        HedgeRow(book.assets[a], *row)
        for a, row in zip(risky.tolist(), zip(*values, strict=True), strict=True)
    )


def position_initial_usd(
    base: BaseMargins, snapshot: AccountSnapshot
) -> tuple[FloatArray, FloatArray]:
    """Per position (UM, CM): futures IM = size · mark / leverage (PM trading-rules FAQ)."""
    um_lev = np.array(
        [p.leverage for p in snapshot.um_positions if p.position_amt_qty != 0.0], dtype=np.float64
    )
    cm_lev = np.array(
        [p.leverage for p in snapshot.cm_positions if p.position_amt_contracts != 0.0],
        dtype=np.float64,
    )
    um: FloatArray = base.um_notional_usd / np.maximum(um_lev, 1.0)
    cm: FloatArray = base.cm_notional_usd / np.maximum(cm_lev, 1.0)
    return um, cm
