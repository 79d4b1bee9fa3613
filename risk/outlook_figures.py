"""The Outlook's figures per horizon, from every path's uniMMR and adjusted equity at every
monitored step (one set of paths serves every horizon: a horizon reads the steps up to it).

- Probabilities: the share of paths whose minimum uniMMR (today's value included) is at or
  below the level; standard error sqrt(p (1 - p) / n).
- Quantiles of the path minimum (5 %, 1 %): sample values (no interpolation across
  infinities); standard error from the order statistics one binomial sd either side.
- Expected shortfall: the mean of the worst 5 % of adjusted-equity changes at the horizon (a
  loss is negative); standard error sd / sqrt(tail size).
- Fan: uniMMR quantiles across paths at each step; the 5 % and 95 % edges with their standard
  errors (as the quantiles above).
- Drivers: a linear attribution of the tail paths' loss to assets (their USD delta times
  their move), the assets with the largest share first; a share is a ratio of two means over
  the tail paths (the asset's loss over all the named assets' loss), its standard error by the
  delta method (a lone driver's 100 % has none). Pure numpy, no I/O.
"""

from __future__ import annotations

import math

import numpy as np

from risk.book import Book
from risk.outlook_result import Driver, FanPoint, HorizonOutlook
from risk.tiers import FloatArray

QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
ES_SHARE = 0.05
TOP_DRIVERS = 5


def _quantile_and_stderr(sorted_values: FloatArray, q: float) -> tuple[float, float]:
    """The q quantile of sorted values (a sample value: no interpolation across infinities)
    and its standard error from the order statistics one binomial sd either side."""
    n = len(sorted_values)
    j = min(max(math.floor(q * n), 0), n - 1)
    spread = math.sqrt(n * q * (1.0 - q))
    lo = sorted_values[max(math.floor(q * n - spread), 0)]
    hi = sorted_values[min(math.ceil(q * n + spread), n - 1)]
    value = float(sorted_values[j])
    if math.isinf(lo) and math.isinf(hi) and lo == hi:
        return value, 0.0
    return value, float((hi - lo) / 2.0)


def _edge_stderr(ordered: FloatArray, q: float) -> FloatArray:
    """Per column of ``ordered`` (sorted along axis 0): the q quantile's standard error, as
    ``_quantile_and_stderr`` (0 where both neighbours are the same value, infinities too)."""
    n = len(ordered)
    spread = math.sqrt(n * q * (1.0 - q))
    lo = ordered[max(math.floor(q * n - spread), 0)]
    hi = ordered[min(math.ceil(q * n + spread), n - 1)]
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(lo == hi, 0.0, (hi - lo) / 2.0)
    return out


def _ratio_stderr(x: FloatArray, t: FloatArray, ratio: float, mean_t: float) -> float:
    """Standard error of mean(x) / mean(t) over the same paths (the delta method: the sd of
    x - ratio t / sqrt(n), over mean(t)); 0 for an asset that is the whole total."""
    n = len(x)
    if n < 2:
        return math.nan
    return float((x - ratio * t).std(ddof=1) / math.sqrt(n) / mean_t)


def horizon_figures(
    horizon_h: float,
    t_h: FloatArray,
    uni: FloatArray,
    equity_change: FloatArray,
    uni_now: float,
    liquidation: float,
    warning: float,
    moves: FloatArray,
    exposure_usd: FloatArray,
    assets: tuple[str, ...],
) -> HorizonOutlook:
    """One horizon's figures. ``uni`` (P, S) uniMMR at the steps ``t_h`` (S,) (today's value
    ``uni_now`` is step 0 of every path); ``equity_change`` (P,) at the horizon; ``moves``
    (P, A) price factor - 1 per asset at the horizon; ``exposure_usd`` (A,) each asset's USD
    delta (for the drivers)."""
    upto = t_h <= horizon_h + 1e-9
    window = uni[:, upto]
    n = len(uni)
    path_min = np.minimum(window.min(axis=1), uni_now)
    if np.isnan(window).any() or math.isnan(uni_now):
        nan = math.nan
        return HorizonOutlook(horizon_h, nan, nan, nan, nan, nan, nan, nan)
    p_liq = float(np.mean(path_min <= liquidation))
    p_warn = float(np.mean(path_min <= warning))
    ordered = np.sort(path_min)
    q05, q05_se = _quantile_and_stderr(ordered, 0.05)
    q01, q01_se = _quantile_and_stderr(ordered, 0.01)
    k = max(1, math.ceil(ES_SHARE * n))
    worst = np.argsort(equity_change, kind="stable")[:k]
    tail = equity_change[worst]
    es = float(tail.mean())
    es_se = float(tail.std(ddof=1) / math.sqrt(k)) if k > 1 else math.nan
    fan = [FanPoint(0.0, uni_now, uni_now, uni_now, uni_now, uni_now, 0.0, 0.0)]
    levels = np.quantile(window, QUANTILES, axis=0, method="lower")
    by_step = np.sort(window, axis=0)
    se05, se95 = _edge_stderr(by_step, 0.05), _edge_stderr(by_step, 0.95)
    for t, q, e05, e95 in zip(t_h[upto].tolist(), levels.T.tolist(), se05, se95, strict=True):
        f05, f25, f50, f75, f95 = q  # the five QUANTILES at this step
        fan.append(FanPoint(float(t), f05, f25, f50, f75, f95, float(e05), float(e95)))
    lost = -(moves[worst] * exposure_usd)  # (tail, A): each path's loss per asset, USD
    loss = np.maximum(lost.mean(axis=0), 0.0)
    drivers: list[Driver] = []
    if loss.sum() > 0:
        total = float(loss.sum())
        counted = loss > 0
        per_path_total = lost[:, counted].sum(axis=1)  # (tail,): its mean is ``total``
        for a in np.argsort(-loss, kind="stable")[:TOP_DRIVERS]:
            if loss[a] > 0:
                share = float(loss[a] / total)
                move = float(100.0 * moves[worst, a].mean())
                drivers.append(
                    Driver(
                        assets[a],
                        share,
                        move,
                        _ratio_stderr(lost[:, a], per_path_total, share, total),
                    )
                )
    return HorizonOutlook(
        horizon_h=horizon_h,
        p_liquidation=p_liq,
        p_warning=p_warn,
        uni_mmr_q05=q05,
        uni_mmr_q01=q01,
        es_equity_usd=es,
        stderr=math.sqrt(p_liq * (1.0 - p_liq) / n),
        p_warning_stderr=math.sqrt(p_warn * (1.0 - p_warn) / n),
        fan=tuple(fan),
        drivers=tuple(drivers),
        uni_mmr_q05_stderr=q05_se,
        uni_mmr_q01_stderr=q01_se,
        es_equity_stderr_usd=es_se,
    )


def exposure_usd(book: Book) -> FloatArray:
    """Each asset's USD delta: holdings, USD-M notionals on its base (minus on its quote), and
    COIN-M contracts' USD size on its coin. The drivers' linear attribution."""
    out = np.where(book.equity_qty != 0.0, book.equity_qty * book.price_usd, 0.0)
    notional = book.um_amt_qty * book.um_mark * book.price_usd[book.um_quote]
    np.add.at(out, book.um_base, notional)
    np.add.at(out, book.um_quote, -notional)
    np.add.at(out, book.cm_coin, book.cm_contracts * book.cm_size_usd)
    result: FloatArray = np.asarray(out, dtype=np.float64)
    return result
