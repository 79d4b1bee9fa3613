"""Price paths for the Outlook: EWMA volatility and correlation, the filtered historical
simulation (FHS), its correlation-break variant, and the GBM reference. Pure numpy, no I/O.

- EWMA (half-life h bars, lambda = 0.5 ** (1 / h)): the variance forecast for bar t is
  s2[t] = lambda * s2[t-1] + (1 - lambda) * r[t-1] ** 2, started at the sample mean of r ** 2;
  today's is the forecast for the bar after the last. Correlation: the same weights over the
  standardised returns.
- FHS: every historical bar's joint returns are standardised by their own EWMA volatility at
  the time (z = r / s), and a path step of dt hours draws one historical bar (uniformly, with
  replacement: the same bar for every asset and every basis, which keeps their joint
  behaviour) and moves each asset's log price by z * today's hourly volatility * sqrt(dt).
  Basis changes of that bar move each perpetual's mark against its index (unscaled, times
  sqrt(dt)). An asset given a volatility (``--vol``) uses it as today's; one with a volatility
  but no history draws z from a standard normal, independent of the rest.
- Correlation break: the risky assets' standardised returns are recoloured so that every
  pairwise correlation moves ``BREAK_WEIGHT`` of the way to 1 (rho' = rho + w (1 - rho)):
  z' = z L^-T L'^T, L and L' the Cholesky factors of today's EWMA correlation and of the
  target. Stablecoins and liquid-staking tokens (pegged assets) and every basis instead move by
  draws from their worst historical tail (the ``TAIL`` share of one-bar changes in the
  direction that hurts this book), all at the same tail rank on a step (comonotone).
- GBM: independent driftless geometric Brownian motions, log step -s^2 dt / 2 + s sqrt(dt) N,
  with the given annualised volatilities; no basis moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from risk.tiers import FloatArray

HOURS_PER_YEAR = 24.0 * 365.0  # crypto trades every hour of the year
BREAK_WEIGHT = 0.9
TAIL = 0.05
PEGGED_TO = {"WBETH": "ETH", "BETH": "ETH", "BNSOL": "SOL"}
"""Liquid-staking tokens and the asset they track (their depeg is a peg return)."""


def step_times(horizon_h: float, first_hour_step_min: float, step_h: float) -> FloatArray:
    """Times of the monitored steps, in hours: every ``first_hour_step_min`` minutes within the
    first hour, then every ``step_h`` hours, up to the horizon (included)."""
    first = np.arange(1, round(60 / first_hour_step_min) + 1) * first_hour_step_min / 60
    first = first[first <= min(1.0, horizon_h) + 1e-9]
    later = 1.0 + step_h * np.arange(1, math.ceil((horizon_h - 1.0) / step_h - 1e-9) + 1)
    later = later[later <= horizon_h + 1e-9]
    out: FloatArray = np.concatenate([first, later]) if horizon_h > 1.0 else first
    if out[-1] < horizon_h - 1e-9:
        out = np.append(out, horizon_h)
    return out


def cumsum_steps(x: FloatArray) -> FloatArray:
    """Cumulative sum along axis 1 (steps) of (P, S, ...), in place: one add per step, which
    numpy does faster than ``np.cumsum`` along a middle axis."""
    for s in range(1, x.shape[1]):
        np.add(x[:, s], x[:, s - 1], out=x[:, s])
    return x


def ewma_variance(r: FloatArray, half_life: float) -> tuple[FloatArray, FloatArray]:
    """(s2 (T, N): each bar's forecast from the bars before it; s2_next (N,): today's)."""
    lam = 0.5 ** (1.0 / half_life)
    s2 = np.empty_like(r)
    prev = np.mean(r**2, axis=0) if len(r) else np.zeros(r.shape[1])
    for t in range(len(r)):
        s2[t] = prev
        prev = lam * prev + (1.0 - lam) * r[t] ** 2
    return s2, prev


def standardise(r: FloatArray, half_life: float) -> tuple[FloatArray, FloatArray]:
    """(z, today's volatility per bar): z = r / s, 0 where s is 0 (a flat series)."""
    s2, s2_next = ewma_variance(r, half_life)
    s = np.sqrt(s2)
    z: FloatArray = np.where(s > 0.0, r / np.where(s > 0.0, s, 1.0), 0.0)
    return z, np.sqrt(s2_next)


def ewma_correlation(z: FloatArray, half_life: float) -> FloatArray:
    """Today's EWMA correlation of standardised returns (newest weighted most)."""
    n = len(z)
    w = 0.5 ** (np.arange(n)[::-1] / half_life)
    cov = (z * w[:, None]).T @ z / w.sum()
    d = np.sqrt(np.maximum(np.diag(cov), 1e-12))
    corr: FloatArray = cov / np.outer(d, d)
    np.fill_diagonal(corr, 1.0)
    return corr


def break_matrix(corr: FloatArray, weight: float = BREAK_WEIGHT) -> FloatArray:
    """M with cov(z M) = the target correlation when cov(z) = corr (rows of z are draws)."""
    n = len(corr)
    if n < 2:
        return np.eye(n)
    ridge = 1e-9 * np.eye(n)
    target = (1.0 - weight) * corr + weight * np.ones((n, n))
    np.fill_diagonal(target, 1.0)
    low = np.linalg.cholesky(corr + ridge)
    low_t = np.linalg.cholesky(target + ridge)
    m: FloatArray = np.linalg.solve(low.T, low_t.T)
    return m


@dataclass(frozen=True)
class Fhs:
    """What an FHS path needs: standardised joint returns and today's hourly volatility."""

    z: FloatArray  # (T, A) standardised returns, NaN-free; columns without history are 0
    vol_h: FloatArray  # (A,) today's hourly volatility
    normal: np.ndarray  # (A,) bool: no history, z drawn from N(0, 1)
    raw: FloatArray  # (T, A) the raw log returns (tails of pegged assets)
    basis: FloatArray  # (T, M) premium increments per futures position (U + C columns)
    pegged: np.ndarray  # (A,) bool
    peg_base: np.ndarray  # (A,) index of the tracked asset of a pegged one, else -1
    adverse: FloatArray  # (A,) -1 where the book loses when the asset falls, +1 rises, 0 n/a
    basis_adverse: FloatArray  # (M,) the same for each position's premium
    corr: FloatArray  # today's EWMA correlation of the columns in ``correlated``
    correlated: np.ndarray  # (A,) bool: risky, with history and a volatility


def _tail(values: FloatArray, sign: float, share: float) -> FloatArray:
    """The worst ``share`` of values in the direction ``sign`` (-1: falls), worst first."""
    if len(values) == 0 or sign == 0.0:
        return np.zeros(1)
    k = max(1, math.ceil(share * len(values)))
    ordered = np.sort(values)
    worst: FloatArray = ordered[:k] if sign < 0 else ordered[::-1][:k]
    return worst


def tail_rows(fhs: Fhs) -> int:
    """How many one-bar changes make up a series' worst tail."""
    return max(1, math.ceil(TAIL * len(fhs.z)))


def premium_draws(fhs: Fhs, broken: bool) -> FloatArray:
    """The premium increments a step draws from (N, M): each historical bar's basis changes,
    or (correlation break) each position's worst tail, worst first, one row per tail rank."""
    if not broken:
        return fhs.basis
    n_cols = fhs.basis.shape[1]
    if n_cols == 0:
        return np.zeros((tail_rows(fhs), 0))
    columns = [_tail(fhs.basis[:, j], fhs.basis_adverse[j], TAIL) for j in range(n_cols)]
    size = tail_rows(fhs)
    return np.stack([np.resize(c, size) for c in columns], axis=1)


def draw_fhs(
    fhs: Fhs, dt_h: FloatArray, n_paths: int, rng: np.random.Generator, broken: bool
) -> tuple[FloatArray, np.ndarray]:
    """(log price factors (P, S, A), premium rows (P, S)) for one chunk of paths: step s of
    path p draws row rows[p, s] of ``premium_draws(fhs, broken)`` (times sqrt(dt))."""
    n_steps = len(dt_h)
    rows = rng.integers(0, len(fhs.z), size=(n_paths, n_steps))
    z = fhs.z[rows]
    if fhs.normal.any():
        z[..., fhs.normal] = rng.standard_normal((n_paths, n_steps, int(fhs.normal.sum())))
    risky = fhs.correlated
    if broken and risky.sum() > 1:
        z[..., risky] = z[..., risky] @ break_matrix(fhs.corr)
    root = np.sqrt(dt_h)[None, :, None]
    step = z
    step *= fhs.vol_h * root
    if broken:
        rows = rng.integers(0, tail_rows(fhs), size=(n_paths, n_steps))
        for a in np.nonzero(fhs.pegged & ~fhs.normal)[0]:  # with a history to draw from
            tail = _tail(_peg_returns(fhs, int(a)), fhs.adverse[a], TAIL)
            move = np.resize(tail, tail_rows(fhs))[rows] * root[..., 0]
            base = fhs.peg_base[a]
            step[..., a] = move + (step[..., base] if base >= 0 else 0.0)
    return cumsum_steps(step), rows


def _peg_returns(fhs: Fhs, a: int) -> FloatArray:
    base = fhs.peg_base[a]
    spread: FloatArray = fhs.raw[:, a] - (fhs.raw[:, base] if base >= 0 else 0.0)
    return spread


def draw_gbm(
    vol_annualised: FloatArray, dt_h: FloatArray, n_paths: int, rng: np.random.Generator
) -> FloatArray:
    """Log price factors (P, S, A) of independent driftless GBMs."""
    var = (vol_annualised**2)[None, None, :] * (dt_h / HOURS_PER_YEAR)[None, :, None]
    normal = rng.standard_normal((n_paths, len(dt_h), len(vol_annualised)))
    return cumsum_steps(-0.5 * var + np.sqrt(var) * normal)


def pegged_mask(assets: Sequence[str], stablecoins: frozenset[str], numeraire: str) -> np.ndarray:
    return np.array(
        [(a in stablecoins and a != numeraire) or a in PEGGED_TO for a in assets], dtype=bool
    )
