"""Liquidation distance: the smallest move along a price direction that takes uniMMR to the
liquidation threshold, root-found by batched multisection, across many directions at once.

f(t) = adjusted equity(t) − threshold · MM(t); f > 0 is safe. For each problem (a direction and a
sign) the moves are scanned outward from 0 over a ladder of magnitudes; the first sign change
brackets the root, which is then narrowed 9-fold per round until it is below TOLERANCE.
The uniform direction's ladder is the 1 % stress grid
(then coarser steps beyond ±60 %), so the root lies within the grid step where the grid first
shows the threshold crossed.
"""

from __future__ import annotations

import numpy as np

from risk.book import Book, IntArray
from risk.tiers import FloatArray
from risk.valuation import BaseMargins, value_rows

_GRID = np.arange(1, 61) / 100  # the stress grid's 1 % steps
_COARSE = np.array([0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6])
_DOWN_TAIL = np.array([0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 0.999, 0.9999])
_UP_TAIL = np.array([0.7, 0.8, 0.9, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0])
MAX_UP_MOVE = float(_UP_TAIL[-1])  # the largest rally searched: +1000 %
LADDERS = {
    # (sign, fine): magnitudes scanned outward from 0. Fine ladders follow the 1 % stress grid.
    (-1.0, True): np.concatenate([_GRID, _DOWN_TAIL]),
    (1.0, True): np.concatenate([_GRID, _UP_TAIL]),
    (-1.0, False): np.concatenate([_COARSE, _DOWN_TAIL]),
    (1.0, False): np.concatenate([_COARSE, _UP_TAIL]),
}
TOLERANCE = 1e-7  # in fractional move: 0.01 USD on a 100,000 USD price
F_TOLERANCE = 1e-7  # |f| relative to f(0) at which the secant point counts as the root


def _f(
    book: Book, base: BaseMargins, directions: FloatArray, d: IntArray, t: FloatArray, level: float
) -> FloatArray:
    v = value_rows(book, base, directions, d, t)
    return np.asarray(v.equity_usd - level * v.mm_usd, dtype=np.float64)


SUBSCAN = 8  # inner points per bracket and round: each round narrows a bracket 9-fold
MAX_ROUNDS = 16  # 9^16 ≈ 2e15: from the widest ladder step (5.0) to far below TOLERANCE


def _narrow(
    book: Book,
    base: BaseMargins,
    directions: FloatArray,
    d: IntArray,
    level: float,
    bracket: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    f_tol: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One batched round over every open bracket (a, b): value SUBSCAN evenly spaced inner
    points plus the secant point, keep the first crossing. Where f is linear between a and b
    the secant point is the root; when |f| at either end of the kept bracket is within
    ``f_tol`` the bracket closes on that end."""
    a, b, fa, fb = bracket
    secant = a + (b - a) * fa / (fa - fb)
    even = a[:, None] + (b - a)[:, None] * (np.arange(1, SUBSCAN + 1) / (SUBSCAN + 1))[None, :]
    t = np.sort(np.concatenate([even, secant[:, None]], axis=1), axis=1)  # a → b order
    if np.any(b < a):  # downward problems run from 0 towards negative moves
        t = np.where((b < a)[:, None], t[:, ::-1], t)
    n = t.shape[1]
    f = _f(book, base, directions, np.repeat(d, n), t.reshape(-1), level).reshape(t.shape)
    crossed = f <= 0.0
    j = np.where(crossed.any(axis=1), np.argmax(crossed, axis=1), n)
    rows = np.arange(len(a))
    t_ext = np.concatenate([a[:, None], t, b[:, None]], axis=1)
    f_ext = np.concatenate([fa[:, None], f, fb[:, None]], axis=1)
    lo, hi, f_lo, f_hi = t_ext[rows, j], t_ext[rows, j + 1], f_ext[rows, j], f_ext[rows, j + 1]
    # A point within f_tol of the level is the root: the bracket closes on it (on the nearer
    # end to 0 when both qualify — the smaller move is the answer).
    lo_root = np.abs(f_lo) <= f_tol
    hi_root = ~lo_root & (np.abs(f_hi) <= f_tol)
    root = np.where(lo_root, lo, hi)
    f_root = np.where(lo_root, f_lo, f_hi)
    closed = lo_root | hi_root
    return (
        np.where(closed, root, lo),
        np.where(closed, root, hi),
        np.where(closed, f_root, f_lo),
        np.where(closed, f_root, f_hi),
    )


def liquidation_shocks(
    book: Book,
    base: BaseMargins,
    directions: FloatArray,
    problem_dir: IntArray,
    problem_sign: FloatArray,
    problem_fine: np.ndarray,
    level: float,
    known_grid_f: dict[int, FloatArray] | None = None,
) -> FloatArray:
    """Signed fractional move per problem (direction index, sign ±1) at which uniMMR reaches
    ``level``; 0 when already at or below it; NaN when no move in the searched range does.
    ``problem_fine`` problems scan the 1 % grid, the others a coarser ladder (a crossing that
    reverts within one coarse step can be missed there: use fine where that matters).
    ``known_grid_f`` maps a fine problem's index to f already computed at its first 60 ladder
    steps (the stress grid's ±1 … ±60 %), which are then not recomputed."""
    n = len(problem_dir)
    # One batch: the snapshot row, then every problem's ladder, outward from 0.
    ladders = [
        LADDERS[(float(sg), bool(fi))] for sg, fi in zip(problem_sign, problem_fine, strict=True)
    ]
    sizes = np.array([len(x) for x in ladders])
    t_scan = np.concatenate(
        [np.zeros(1), *(sg * x for sg, x in zip(problem_sign, ladders, strict=True))]
    )
    d_scan = np.concatenate([problem_dir[:1], np.repeat(problem_dir, sizes)])
    starts = 1 + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    f_scan = np.full(len(t_scan), np.nan)
    for q, f_known in (known_grid_f or {}).items():
        f_scan[starts[q] : starts[q] + len(f_known)] = f_known
    need = np.isnan(f_scan)
    f_scan[need] = _f(book, base, directions, d_scan[need], t_scan[need], level)
    f0 = f_scan[0]
    if f0 <= 0.0:
        return np.zeros(n)
    out = np.full(n, np.nan)
    # Per problem: the first ladder step at or past the level brackets the root with the step
    # before it (or 0).
    crossed = f_scan <= 0.0
    first = np.full(n, -1)
    for q in range(n):
        hit = np.flatnonzero(crossed[starts[q] : starts[q] + sizes[q]])
        if len(hit):
            first[q] = hit[0]
    active = np.flatnonzero(first >= 0)
    j = first[active]
    b = t_scan[starts[active] + j]
    fb = f_scan[starts[active] + j]
    a = np.where(j > 0, t_scan[starts[active] + j - 1], 0.0)
    fa = np.where(j > 0, f_scan[starts[active] + j - 1], f0)
    d = problem_dir[active]
    # Multisection with a secant point: each round values SUBSCAN inner points and the secant
    # point of every open bracket in one batch and keeps the first crossing — at least a 9-fold
    # shrink, and an exact hit where f is linear. Deterministic and batched.
    f_tol = F_TOLERANCE * abs(f0)
    todo = np.arange(len(active))
    for _ in range(MAX_ROUNDS):
        todo = todo[np.abs(b[todo] - a[todo]) > TOLERANCE]
        if len(todo) == 0:
            break
        bracket = (a[todo], b[todo], fa[todo], fb[todo])
        a[todo], b[todo], fa[todo], fb[todo] = _narrow(
            book, base, directions, d[todo], level, bracket, f_tol
        )
    # Within the last bracket f is linear to within rounding: interpolate.
    width = fa - fb
    b = np.where(width > 0.0, a + (b - a) * fa / np.where(width > 0.0, width, 1.0), b)
    out[active] = b
    return out
