"""Value a compiled Book under many price rows at once: equity and maintenance margin per row.

A row moves asset prices by ``1 + t · direction`` (a direction is a vector over assets: one asset,
every non-stable asset, betas to BTC, …) and may add a futures premium (basis break). Collateral
tiers and leverage brackets are re-applied at the moved prices.

Only the positions a row's direction touches are revalued (row, position pairs); the others keep
their snapshot margin. That is exact — an untouched position's mark and notional do not move —
and it makes one batch of per-asset scenarios cost about as much as one uniform scenario.

Linear USDⓈ-M PnL accrues in the margin asset: Δx = amount · (mark' − mark).
Inverse COIN-M PnL accrues in the coin: Δx = contracts · size · (1/mark − 1/mark').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk.book import Book, IntArray, TierTable
from risk.tiers import FloatArray


def qty_usd(qty: FloatArray, price: FloatArray) -> FloatArray:
    """qty · price, exactly 0 where the quantity is 0 (an asset nobody holds or owes is worth
    nothing whatever its price, even an unknown one)."""
    return np.where(qty != 0.0, qty * price, 0.0)


def tier_of(values: FloatArray, item: IntArray, table: TierTable) -> IntArray:
    """Index of the tier each value falls in ([floor, cap); past the last cap, the last).

    Counts the floors above the first that each value reaches, one tier column at a time
    (faster than a (values × tiers) comparison matrix for the usual ≤ 12 tiers).
    """
    k: IntArray = np.zeros(np.shape(values), dtype=np.intp)
    if k.size == 0:
        return k
    top = values.max()
    for column in table.floor.T[1:]:
        if column.min() > top:
            break  # floors ascend along each row: no value reaches this tier or any later one
        k += values >= column[item]
    return k


def tiered_rows(values: FloatArray, item: IntArray, table: TierTable, sign: float) -> FloatArray:
    """v · rate + sign · cum for values (any shape) whose tier table row is ``item``."""
    flat = item * table.floor.shape[1] + tier_of(values, item, table)
    rate = np.take(table.rate, flat)
    cum = np.take(table.cum, flat)
    return np.asarray(values * rate + sign * cum, dtype=np.float64)


def um_maint_margin_qty(book: Book, notional: FloatArray, pos: IntArray) -> FloatArray:
    return np.maximum(tiered_rows(notional, pos, book.um_brackets, -1.0), 0.0)


def cm_maint_margin_coin(book: Book, notional_coin: FloatArray, pos: IntArray) -> FloatArray:
    return np.maximum(tiered_rows(notional_coin, pos, book.cm_brackets, -1.0), 0.0)


def adjusted_equity_rows(
    book: Book, value_usd: FloatArray, asset: IntArray | None = None
) -> FloatArray:
    """min(x·p·rate, x·p) with tiered rates: value_usd is (R, A), or flat with its ``asset``."""
    if asset is None:
        asset = np.broadcast_to(np.arange(book.n_assets), value_usd.shape)
    haircut = tiered_rows(np.maximum(value_usd, 0.0), asset, book.collateral, 1.0)
    return np.where(value_usd > 0.0, haircut, value_usd)


@dataclass(frozen=True)
class BaseMargins:
    """Per-position maintenance margin and per-asset equity at the snapshot's prices, in USD."""

    um_usd: FloatArray  # (U,)
    cm_usd: FloatArray  # (C,)
    um_notional_usd: FloatArray  # (U,)
    cm_notional_usd: FloatArray  # (C,)
    value_usd: FloatArray  # (A,) x · p
    adjusted_usd: FloatArray  # (A,) with collateral tiers; debt in full
    margin_mm_usd: FloatArray  # (A,) loan · MMR · p


def base_margins(book: Book) -> BaseMargins:
    u = np.arange(len(book.um_symbol))
    c = np.arange(len(book.cm_symbol))
    um_notional = np.abs(book.um_amt_qty) * book.um_mark
    cm_notional = np.abs(book.cm_contracts) * book.cm_size_usd / book.cm_mark
    quote_p = book.price_usd[book.um_quote]
    coin_p = book.price_usd[book.cm_coin]
    value = qty_usd(book.equity_qty, book.price_usd)
    return BaseMargins(
        um_usd=um_maint_margin_qty(book, um_notional, u) * quote_p,
        cm_usd=cm_maint_margin_coin(book, cm_notional, c) * coin_p,
        um_notional_usd=um_notional * quote_p,
        cm_notional_usd=cm_notional * coin_p,
        value_usd=value,
        adjusted_usd=adjusted_equity_rows(book, value[None, :])[0],
        margin_mm_usd=qty_usd(book.borrowed_qty * book.loan_mmr, book.price_usd),
    )


def touched_pairs(
    touched_dir: np.ndarray, row_dir: IntArray, everything: np.ndarray
) -> tuple[IntArray, IntArray]:
    """(row, position) pairs: the positions each row's direction touches (all of them where
    ``everything`` is set), built from per-direction lists in O(pairs), not O(rows · positions)."""
    n_dir, n_pos = touched_dir.shape
    # One extra direction touching every position stands for the ``everything`` rows.
    d_rows, d_pos = np.nonzero(np.vstack([touched_dir, np.ones((1, n_pos), dtype=bool)]))
    indptr = np.searchsorted(d_rows, np.arange(n_dir + 2))
    row_dir = np.where(everything, n_dir, row_dir)
    start = indptr[row_dir]
    counts = indptr[row_dir + 1] - start
    ends = np.cumsum(counts)
    n_pairs = int(ends[-1]) if len(ends) else 0
    r = np.repeat(np.arange(len(row_dir)), counts)
    # Pair j of row i is d_pos[start_i + (j − first pair of row i)].
    pos = d_pos[np.arange(n_pairs) + np.repeat(start - (ends - counts), counts)]
    return r, pos.astype(np.intp)


@dataclass(frozen=True)
class RowValues:
    equity_usd: FloatArray  # (R,) Σ adjusted equity − open loss
    actual_equity_usd: FloatArray  # (R,)
    um_mm_usd: FloatArray  # (R,)
    cm_mm_usd: FloatArray  # (R,)
    margin_mm_usd: FloatArray  # (R,)

    @property
    def mm_usd(self) -> FloatArray:
        return self.um_mm_usd + self.cm_mm_usd + self.margin_mm_usd

    def uni_mmr(self) -> FloatArray:
        mm = self.mm_usd
        safe = np.where(mm > 0.0, mm, 1.0)
        return np.where(mm > 0.0, self.equity_usd / safe, np.inf)


def value_rows(
    book: Book,
    base: BaseMargins,
    directions: FloatArray,
    row_dir: IntArray,
    row_t: FloatArray,
    row_premium: FloatArray | None = None,
) -> RowValues:
    """Value R rows: row r moves prices by 1 + row_t[r] · directions[row_dir[r]] and futures
    marks additionally by 1 + row_premium[r] (a basis break); directions is (D, A).

    Only (row, asset) and (row, position) pairs that a row changes are recomputed; every other
    term keeps its snapshot value, which is exact.
    """
    n_rows = len(row_t)
    n_assets = book.n_assets
    premium = np.zeros(n_rows) if row_premium is None else row_premium
    used, row_dir = np.unique(row_dir, return_inverse=True)  # only the directions in use
    directions = directions[used]
    flat_dir = directions.ravel()
    moved_dir = directions != 0.0  # (D, A)
    with_premium = premium != 0.0
    any_premium = bool(with_premium.any())

    def factor(r: IntArray, asset: IntArray) -> FloatArray:
        """1 + t · direction for (row, asset) pairs."""
        return 1.0 + row_t[r] * np.take(flat_dir, row_dir[r] * n_assets + asset)

    # Quantity changes (PnL) accrue in the few margin assets only: accumulated per (row, margin
    # asset) in an (R, M + 1) table; column M stays 0 for every other asset.
    margin_assets = np.unique(np.concatenate([book.um_quote, book.cm_coin]))
    column_of = np.full(n_assets, len(margin_assets), dtype=np.intp)
    column_of[margin_assets] = np.arange(len(margin_assets))
    width = len(margin_assets) + 1
    keys: list[IntArray] = []
    deltas: list[FloatArray] = []

    um_mm = np.full(n_rows, float(base.um_usd.sum()))
    if len(book.um_symbol):
        quote_moves = bool(moved_dir[:, book.um_quote].any())
        touched = moved_dir[:, book.um_base]
        if quote_moves:
            touched = touched | moved_dir[:, book.um_quote]
        r, u = touched_pairs(touched, row_dir, with_premium)
        quote = book.um_quote[u]
        amt = book.um_amt_qty[u]
        mark0 = book.um_mark[u]
        mark = mark0 * factor(r, book.um_base[u])
        quote_price = book.price_usd[quote]
        if quote_moves:
            f_quote = factor(r, quote)
            mark /= f_quote
            quote_price = quote_price * f_quote
        if any_premium:
            mark *= 1.0 + premium[r]
        mm_usd = um_maint_margin_qty(book, np.abs(amt) * mark, u) * quote_price
        um_mm += np.bincount(r, weights=mm_usd - base.um_usd[u], minlength=n_rows)
        keys.append(r * width + column_of[quote])
        deltas.append(amt * (mark - mark0))

    cm_mm = np.full(n_rows, float(base.cm_usd.sum()))
    if len(book.cm_symbol):
        r, c = touched_pairs(moved_dir[:, book.cm_coin], row_dir, with_premium)
        coin = book.cm_coin[c]
        mark0 = book.cm_mark[c]
        f_coin = factor(r, coin)
        mark = mark0 * f_coin
        if any_premium:
            mark *= 1.0 + premium[r]
        size = book.cm_contracts[c] * book.cm_size_usd[c]
        mm = cm_maint_margin_coin(book, np.abs(size) / mark, c)
        mm_usd = mm * book.price_usd[coin] * f_coin
        cm_mm += np.bincount(r, weights=mm_usd - base.cm_usd[c], minlength=n_rows)
        keys.append(r * width + column_of[coin])
        deltas.append(size * (1.0 / mark0 - 1.0 / mark))

    # Equity, over the (row, asset) pairs whose price or quantity changes only (an unchanged
    # pair's value is its snapshot value exactly).
    dx: FloatArray = np.zeros((n_rows, width))
    if keys:
        flat_dx = np.bincount(
            np.concatenate(keys), weights=np.concatenate(deltas), minlength=n_rows * width
        )
        dx = flat_dx.astype(np.float64).reshape(n_rows, width)
    changed = moved_dir[row_dir]
    changed[:, margin_assets] |= dx[:, :-1] != 0.0
    rc, ac = np.nonzero(changed)
    x = book.equity_qty[ac] + dx[rc, column_of[ac]]
    price = book.price_usd[ac] * factor(rc, ac)
    value = qty_usd(x, price)
    adjusted = adjusted_equity_rows(book, value, ac)
    equity = (
        float(base.adjusted_usd.sum())
        - book.open_loss_usd
        + np.bincount(rc, weights=adjusted - base.adjusted_usd[ac], minlength=n_rows)
    )
    actual = float(base.value_usd.sum()) + np.bincount(
        rc, weights=value - base.value_usd[ac], minlength=n_rows
    )
    margin_mm = float(base.margin_mm_usd.sum()) + np.bincount(
        rc,
        weights=qty_usd(book.borrowed_qty[ac] * book.loan_mmr[ac], price) - base.margin_mm_usd[ac],
        minlength=n_rows,
    )
    return RowValues(
        equity.astype(np.float64),
        actual.astype(np.float64),
        um_mm,
        cm_mm,
        margin_mm.astype(np.float64),
    )
