"""The Outlook's valuation: equity and maintenance margin of a compiled ``Book`` at every step of
many price paths, exactly as ``risk.valuation.value_rows`` values one price row, but fast enough
for 10,000 paths x dozens of steps x hundreds of positions. Pure numpy, no I/O.

A path step moves every asset's price by a factor f_a (USDT, the numeraire, stays 1) and every
futures mark additionally by its own premium (1 + prem_u): a USD-M mark becomes
mark0 * f_base / f_quote * (1 + prem_u), a COIN-M mark mark0 * f_coin * (1 + prem_u).

What is exact, and how it stays fast:

- Equity: collateral tiers re-applied per asset at every step; linear USD-M PnL accrues in the
  quote asset, inverse COIN-M PnL in the coin; loans' MM at the moved prices. Exact.
- USD-M maintenance margin: a position's MM is linear in its mark while its notional stays in
  today's bracket, so positions of one (base, quote) pair are summed into one linear term per
  pair (premiums enter through premium-weighted sums, still exact). Wherever a pair's
  positions might leave today's bracket on a path (a bound on every premium of the pair is
  used), that pair's positions are revalued on that whole path with the full bracket table
  (``risk.valuation.um_maint_margin_qty``). Exact: the linear term is used only where it equals
  the bracket formula.
- COIN-M maintenance margin: every position, every step, full brackets. Exact.

``tests/unit/risk/test_outlook_value.py`` holds it equal to ``value_rows`` on books with
brackets crossed, USDC-quoted perpetuals, COIN-M positions, loans and collateral tiers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk.book import Book, IntArray
from risk.outlook_paths import cumsum_steps
from risk.tiers import FloatArray
from risk.valuation import (
    adjusted_equity_rows,
    cm_maint_margin_coin,
    tier_of,
)


@dataclass(frozen=True)
class PremiumSource:
    """Premium increments per draw (rows) and futures position (columns: the USD-M positions,
    then the COIN-M ones), prepared for one ``PathBook`` (``premium_source``)."""

    raw: FloatArray  # (N, U + C) fractions of the mark
    weighted: FloatArray  # (N, 2K) per key: sum of amt * mark0 * raw, of |amt| mark0 rate raw
    bound: FloatArray  # (N, K) per key: the largest |raw| among its positions
    any_um: bool


@dataclass(frozen=True)
class Premiums:
    """Per-position premiums along paths: prem[p, s, j] = sum over s' <= s of
    source.raw[idx[p, s'], j] * scale[s']."""

    source: PremiumSource
    idx: IntArray  # (P, S) which source row each step draws
    scale: FloatArray  # (S,)

    def cumulative(self, per_draw: FloatArray) -> FloatArray:
        """(P, S, K): sum over s' <= s of per_draw[idx[p, s']] * scale[s']."""
        return cumsum_steps(self._scaled(per_draw[self.idx], self.scale))

    def total(self, per_draw: FloatArray) -> FloatArray:
        """(P, K): the sum over all steps (the largest cumulative sum of a non-negative one)."""
        step = self._scaled(per_draw[self.idx], np.abs(self.scale))
        out: FloatArray = step.sum(axis=1)
        return out

    @staticmethod
    def _scaled(step: FloatArray, scale: FloatArray) -> FloatArray:
        """step * scale along axis 1, in place, skipping the steps whose scale is 1."""
        for s in np.nonzero(scale != 1.0)[0]:
            step[:, s] *= scale[s]
        return step


@dataclass(frozen=True)
class PathBook:
    """A book arranged for path valuation (``path_book``)."""

    book: Book
    key_base: IntArray  # (K,) one key per (base, quote) pair of USD-M positions
    key_quote: IntArray  # (K,)
    pos_key: IntArray  # (U,)
    pnl_w: FloatArray  # (U,) amt * mark0, quote units
    mm_w: FloatArray  # (U,) |amt| * mark0 * today's bracket rate
    mm_cum: FloatArray  # (U,) today's bracket cum
    pos_tier: IntArray  # (U,) today's bracket
    pos_lo: FloatArray  # (U,) price ratio below which the position leaves today's bracket
    pos_hi: FloatArray  # (U,) ... at or above which
    key_pnl: FloatArray  # (K,) sums over the key's positions
    key_mm: FloatArray  # (K,)
    key_cum: FloatArray  # (K,)
    key_lo: FloatArray  # (K,) the largest pos_lo of the key's positions
    key_hi: FloatArray  # (K,) the smallest pos_hi
    eq_assets: IntArray  # margin assets (their quantity moves with PnL): valued in full
    held: IntArray  # other assets held or owed: linear within today's collateral tier
    held_coef: FloatArray  # (H,) x * p * today's rate (owed: x * p)
    held_cum: FloatArray  # (H,) today's tier's cum (owed: 0)
    held_lo: FloatArray  # (H,) price factor below which the asset leaves today's tier
    held_hi: FloatArray  # (H,) ... at or above which
    loan_usd: FloatArray  # (A,) borrowed * loan MMR * price

    @property
    def n_um(self) -> int:
        return len(self.pos_key)


def path_book(book: Book) -> PathBook:
    """Keys, today's brackets and the bracket edges, from a compiled (calibrated) book."""
    n_um = len(book.um_symbol)
    pairs = list(zip(book.um_base.tolist(), book.um_quote.tolist(), strict=True))
    keys = sorted(set(pairs))
    key_of = {k: i for i, k in enumerate(keys)}
    pos_key = np.array([key_of[p] for p in pairs], dtype=np.intp)
    n_keys = len(keys)
    notional = np.abs(book.um_amt_qty) * book.um_mark
    u = np.arange(n_um)
    k0 = tier_of(notional, u, book.um_brackets) if n_um else np.zeros(0, dtype=np.intp)
    width = book.um_brackets.floor.shape[1]
    rate = book.um_brackets.rate[u, k0] if n_um else np.zeros(0)
    cum = book.um_brackets.cum[u, k0] if n_um else np.zeros(0)
    floor = book.um_brackets.floor[u, k0] if n_um else np.zeros(0)
    nxt = np.full(n_um, np.inf)
    inner = k0 + 1 < width
    nxt[inner] = book.um_brackets.floor[u[inner], k0[inner] + 1]
    lo = floor / notional
    hi = nxt / notional
    # Where today's bracket line is negative (a table whose cum is not Binance's continuous
    # one), MM = max(line, 0) is not linear: always revalue that position with full brackets.
    clipped = notional * rate - cum < 0.0
    lo = np.where(clipped, np.inf, lo)
    key_lo = np.full(n_keys, 0.0)
    key_hi = np.full(n_keys, np.inf)
    np.maximum.at(key_lo, pos_key, lo)
    np.minimum.at(key_hi, pos_key, hi)
    margin_assets = np.unique(np.concatenate([book.um_quote, book.cm_coin]))
    is_margin = np.isin(np.arange(book.n_assets), margin_assets)
    held = np.nonzero(~is_margin & (book.equity_qty != 0.0))[0].astype(np.intp)
    value = book.equity_qty[held] * book.price_usd[held]
    positive = value > 0.0
    tier = tier_of(np.maximum(value, 0.0), held, book.collateral)
    c_floor = book.collateral.floor[held, tier]
    c_next = np.full(len(held), np.inf)
    inner_c = tier + 1 < book.collateral.floor.shape[1]
    c_next[inner_c] = book.collateral.floor[held[inner_c], tier[inner_c] + 1]
    safe = np.where(positive, value, 1.0)
    loan = np.where(
        book.borrowed_qty != 0.0, book.borrowed_qty * book.loan_mmr * book.price_usd, 0.0
    )
    return PathBook(
        book=book,
        key_base=np.array([k[0] for k in keys], dtype=np.intp),
        key_quote=np.array([k[1] for k in keys], dtype=np.intp),
        pos_key=pos_key,
        pnl_w=book.um_amt_qty * book.um_mark,
        mm_w=notional * rate,
        mm_cum=cum,
        pos_tier=k0.astype(np.intp),
        pos_lo=lo,
        pos_hi=hi,
        key_pnl=_sums(pos_key, book.um_amt_qty * book.um_mark, n_keys),
        key_mm=_sums(pos_key, notional * rate, n_keys),
        key_cum=_sums(pos_key, cum, n_keys),
        key_lo=key_lo,
        key_hi=key_hi,
        eq_assets=margin_assets.astype(np.intp),
        held=held,
        held_coef=np.where(positive, value * book.collateral.rate[held, tier], value),
        held_cum=np.where(positive, book.collateral.cum[held, tier], 0.0),
        held_lo=np.where(positive, c_floor / safe, 0.0),
        held_hi=np.where(positive, c_next / safe, np.inf),
        loan_usd=loan.astype(np.float64),
    )


def _sums(group: IntArray, values: FloatArray, n: int) -> FloatArray:
    out: FloatArray = np.bincount(group, weights=values, minlength=n).astype(np.float64)
    return out


def premium_source(pb: PathBook, raw: FloatArray) -> PremiumSource:
    """``raw`` (N, U + C) prepared for ``pb``: its per-key weighted sums and bounds."""
    n_um, n_keys = pb.n_um, len(pb.key_base)
    weights = np.zeros((raw.shape[1], 2 * n_keys))
    weights[np.arange(n_um), pb.pos_key] = pb.pnl_w
    weights[np.arange(n_um), n_keys + pb.pos_key] = pb.mm_w
    bound = np.zeros((len(raw), n_keys))
    absolute = np.abs(raw[:, :n_um])
    order = np.argsort(pb.pos_key, kind="stable")
    starts = np.searchsorted(pb.pos_key[order], np.arange(n_keys))
    if n_um:
        bound = np.maximum.reduceat(absolute[:, order], starts, axis=1)
    raw = np.ascontiguousarray(raw)
    return PremiumSource(raw, raw @ weights, bound, bool(raw[:, :n_um].any()))


@dataclass(frozen=True)
class PathValues:
    equity_usd: FloatArray  # (P, S) adjusted equity
    mm_usd: FloatArray  # (P, S)

    def uni_mmr(self) -> FloatArray:
        """equity / MM; with no MM +inf, or -inf when equity <= 0 (as ``evaluate``)."""
        mm, equity = self.mm_usd, self.equity_usd
        safe = np.where(mm > 0.0, mm, 1.0)
        none = np.where(equity > 0.0, np.inf, -np.inf)
        out: FloatArray = np.where(mm > 0.0, equity / safe, none)
        return out


def value_paths(pb: PathBook, logf: FloatArray, prem: Premiums | None = None) -> PathValues:
    """Equity and MM at every (path, step): ``logf`` (P, S, A) is log of each asset's price
    factor, ``prem`` the futures premiums (None: marks move with their index only)."""
    book = pb.book
    n_paths, n_steps, _ = logf.shape
    f = np.exp(logf)
    n_um, n_cm = pb.n_um, len(book.cm_symbol)
    e = pb.eq_assets
    column = np.full(book.n_assets, -1, dtype=np.intp)
    column[e] = np.arange(len(e))
    dx = np.zeros((n_paths, n_steps, len(e)))  # quantity changes of the margin assets
    mm = np.zeros((n_paths, n_steps))
    if n_um:
        um_dx, um_mm = _um_terms(pb, f, logf, prem, column[pb.key_quote], len(e))
        dx += um_dx
        mm += um_mm
    if n_cm:
        c = np.arange(n_cm)
        fc = f[..., book.cm_coin]
        mark = book.cm_mark * fc
        if prem is not None:
            step = prem.source.raw[:, n_um:][prem.idx] * prem.scale[None, :, None]
            mark = mark * (1.0 + np.cumsum(step, axis=1))
        size = book.cm_contracts * book.cm_size_usd
        item = np.broadcast_to(c, mark.shape)
        coin_mm = cm_maint_margin_coin(book, np.abs(size) / mark, item)
        mm += (coin_mm * book.price_usd[book.cm_coin] * fc).sum(axis=-1)
        delta = size * (1.0 / book.cm_mark - 1.0 / mark)
        for coin in np.unique(book.cm_coin):
            dx[..., column[coin]] += delta[..., book.cm_coin == coin].sum(axis=-1)
    x = book.equity_qty[e] + dx
    value = np.where(x != 0.0, x * (book.price_usd[e] * f[..., e]), 0.0)
    adjusted = adjusted_equity_rows(book, value, np.broadcast_to(e, value.shape))
    equity = adjusted.sum(axis=-1) - book.open_loss_usd
    if len(pb.held):
        fh = f[..., pb.held]
        equity += fh @ pb.held_coef + float(pb.held_cum.sum())
        leaves_tier = (fh.min(axis=1) < pb.held_lo) | (fh.max(axis=1) >= pb.held_hi)
        if leaves_tier.any():
            equity += _tier_corrections(pb, fh, leaves_tier)
    loans = np.nonzero(pb.loan_usd)[0]
    if len(loans):
        mm += f[..., loans] @ pb.loan_usd[loans]
    return PathValues(np.asarray(equity, dtype=np.float64), mm)


def _um_terms(
    pb: PathBook,
    f: FloatArray,
    logf: FloatArray,
    prem: Premiums | None,
    quote_column: IntArray,
    n_margin: int,
) -> tuple[FloatArray, FloatArray]:
    """USD-M positions: (quantity change of each margin asset (P, S, M), MM in USD (P, S))."""
    book = pb.book
    n_paths, n_steps = f.shape[:2]
    dx = np.zeros((n_paths, n_steps, n_margin))
    mm = np.zeros((n_paths, n_steps))
    um_prem = prem if prem is not None and prem.source.any_um else None
    n_keys = len(pb.key_base)
    g = f[..., pb.key_base]
    fixed_quote = not logf[..., np.unique(pb.key_quote)].any()
    fq = np.ones(1) if fixed_quote else f[..., pb.key_quote]
    if not fixed_quote:
        g = g / fq
    to_margin = np.zeros((n_keys, n_margin))
    to_margin[np.arange(n_keys), quote_column] = 1.0
    price_q = book.price_usd[pb.key_quote]
    dx += g @ (to_margin * pb.key_pnl[:, None]) - pb.key_pnl @ to_margin
    bound: FloatArray | None = None
    extra_mm: FloatArray | None = None
    if um_prem is not None:
        weighted = um_prem.cumulative(um_prem.source.weighted)
        pnl_p, mm_p = weighted[..., :n_keys], weighted[..., n_keys:]
        quotes = np.unique(quote_column)
        for q in quotes:
            keys = quote_column == q
            if len(quotes) == 1:
                dx[..., q] += np.einsum("psk,psk->ps", g, pnl_p)
            else:
                dx[..., q] += np.einsum("psk,psk->ps", g[..., keys], pnl_p[..., keys])
        mm_p *= g
        extra_mm = mm_p
        bound = um_prem.total(um_prem.source.bound)  # (P, K), for every step of the path
    if fixed_quote:
        mm += g @ (pb.key_mm * price_q) - float((pb.key_cum * price_q).sum())
        if extra_mm is not None:
            mm += np.einsum("psk,k->ps", extra_mm, price_q)
    else:
        line = g * pb.key_mm - pb.key_cum
        if extra_mm is not None:
            line += extra_mm
        mm += (line * (price_q * fq)).sum(axis=-1)
    g_lo, g_hi = g.min(axis=1), g.max(axis=1)  # (P, K)
    if bound is not None:
        g_lo, g_hi = g_lo * (1.0 - bound), g_hi * (1.0 + bound)
    leaves = (g_lo < pb.key_lo) | (g_hi >= pb.key_hi)  # (P, K)
    if leaves.any():
        mm += _bracket_corrections(pb, g, fq, g_lo, g_hi, leaves, um_prem)
    return dx, mm


def _tier_corrections(pb: PathBook, fh: FloatArray, leaves: np.ndarray) -> FloatArray:
    """(P, S): tiered adjusted equity minus the linear term, on every path where a held asset
    leaves today's collateral tier (at every step of that path)."""
    book = pb.book
    p, h = np.nonzero(leaves)
    a = pb.held[h]
    factor = fh[p, :, h]  # (pairs, S)
    value = (book.equity_qty[a] * book.price_usd[a])[:, None] * factor
    exact = adjusted_equity_rows(book, value, np.broadcast_to(a[:, None], value.shape))
    linear = factor * pb.held_coef[h][:, None] + pb.held_cum[h][:, None]
    out = np.zeros(fh.shape[:2])
    np.add.at(out, p, exact - linear)
    return out


def _bracket_mm(pb: PathBook, notional: FloatArray, u: IntArray) -> FloatArray:
    """``um_maint_margin_qty`` for positions that left today's bracket: the bracket found by
    walking from today's over the edges crossed (one or two, for the moves of a day), not by
    testing every edge of the table. Same figure."""
    table = pb.book.um_brackets
    width = table.floor.shape[1]
    padded = np.concatenate([table.floor, np.full((len(table.floor), 1), np.inf)], axis=1)
    k = pb.pos_tier[u].copy()
    while True:  # up: the next floor reached
        up = notional >= padded[u, np.minimum(k + 1, width)]
        if not up.any():
            break
        k += up
    while True:  # down: below today's floor
        down = (k > 0) & (notional < table.floor[u, k])
        if not down.any():
            break
        k -= down
    flat = u * width + k
    mm = notional * np.take(table.rate, flat) - np.take(table.cum, flat)
    out: FloatArray = np.maximum(mm, 0.0)
    return out


def _bracket_corrections(
    pb: PathBook,
    g: FloatArray,
    fq: FloatArray,
    g_lo: FloatArray,
    g_hi: FloatArray,
    leaves: np.ndarray,
    prem: Premiums | None,
) -> FloatArray:
    """(P, S): full-bracket MM minus the linear term, at every (path, step) where a position
    has left today's bracket. Candidates: positions whose own edges lie inside the path's
    price-ratio range widened by the bound on the premium (``g_lo``, ``g_hi``: (P, K));
    then each candidate's exact mark at every step."""
    book = pb.book
    n_paths, n_steps = g.shape[:2]
    # Which positions may leave their own bracket on a path (the path's whole range).
    cand = (g_lo[:, pb.pos_key] < pb.pos_lo) | (g_hi[:, pb.pos_key] >= pb.pos_hi)  # (P, U)
    p, u = np.nonzero(cand)
    k = pb.pos_key[u]
    n_keys = g.shape[2]
    at = (p * n_steps * n_keys + k)[:, None] + (np.arange(n_steps) * n_keys)[None, :]
    factor = np.take(g.ravel(), at)  # (pairs, S): g[p, :, k]
    if prem is not None:
        raw = prem.source.raw
        step = np.take(raw.ravel(), prem.idx[p] * raw.shape[1] + u[:, None])
        step *= prem.scale[None, :]
        factor = factor * (1.0 + np.cumsum(step, axis=1, out=step))
    may = (factor < pb.pos_lo[u, None]) | (factor >= pb.pos_hi[u, None])
    pair, s = np.nonzero(may)
    up = u[pair]
    size = np.abs(book.um_amt_qty[up]) * book.um_mark[up]
    notional = size * factor[pair, s]
    exact = _bracket_mm(pb, notional, up)
    linear = notional * (pb.mm_w[up] / size) - pb.mm_cum[up]
    quote = book.price_usd[pb.key_quote[k[pair]]]
    if fq.ndim == 3:
        quote = quote * fq[p[pair], s, k[pair]]
    flat = _sums(p[pair] * n_steps + s, (exact - linear) * quote, n_paths * n_steps)
    out: FloatArray = flat.reshape(n_paths, n_steps)
    return out
