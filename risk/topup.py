"""Top-up and reduce: what lifts uniMMR to a target.

Top-up: adding stablecoin X raises that asset's equity by its tiered collateral value; MM is
unchanged. Reduce: closing a fraction of one position at its mark leaves equity unchanged (the
unrealized PnL is realised into the wallet, fees ignored) and lowers that position's bracket MM.
Both are inverted exactly on the piecewise-linear tier tables; ``reduce_advice`` and
``top_up_basis`` pick the position and the stablecoin from a compiled book.

Top-up for distance: the stablecoin that keeps every uniform move of up to ±N % clear of the
liquidation level — at each stress-grid move s within the band, uniMMR(s) = (equity(s) + added
collateral) / MM(s) must stay above the level; a stablecoin does not move with the others, so
the need at s is ``stable_top_up_usd(equity(s), MM(s), level, …)`` and the answer the largest.
"""

from __future__ import annotations

import math

import numpy as np

from risk.book import Book, TierTable
from risk.market import FLAT, CollateralTier, MarketState
from risk.report_parts import ReduceAdvice, TopUpBasis
from risk.tiers import FloatArray, invert_tiered, tiered_linear
from risk.valuation import BaseMargins


def collateral_value(value_usd: float, tiers: tuple[CollateralTier, ...]) -> float:
    if value_usd <= 0.0:
        return value_usd
    if not tiers:
        return 0.0
    f = np.array([t.floor_usd for t in tiers])
    r = np.array([t.collateral_rate for t in tiers])
    c = np.array([t.cum_usd for t in tiers])
    return float(tiered_linear(np.array([value_usd]), f, r, c, 1.0)[0])


def stable_top_up_usd(
    equity_usd: float,
    mm_usd: float,
    target: float,
    stable_value_usd: float,
    tiers: tuple[CollateralTier, ...],
) -> float:
    """USD of the stablecoin to add so that uniMMR reaches ``target`` (0 if already there;
    ∞ if its collateral rate can never get there)."""
    need = target * mm_usd - equity_usd
    if need <= 0.0:
        return 0.0
    current = collateral_value(stable_value_usd, tiers)
    goal = current + need
    if goal <= 0.0:  # still a debt after the top-up: debt counts in full
        return goal - stable_value_usd
    if not tiers:
        return math.inf
    f = np.array([t.floor_usd for t in tiers])
    r = np.array([t.collateral_rate for t in tiers])
    c = np.array([t.cum_usd for t in tiers])
    new_value = invert_tiered(goal, f, r, c, 1.0)
    return max(new_value - stable_value_usd, 0.0)


def move_top_up_usd(
    shock_pct: tuple[int, ...] | tuple[float, ...],
    equity_usd: tuple[float, ...],
    mm_usd: tuple[float, ...],
    within_pct: float,
    level: float,
    stable_value_usd: float,
    tiers: tuple[CollateralTier, ...],
) -> float:
    """USD of the stablecoin to add so that no uniform move of up to ±``within_pct`` % on the
    stress grid (its 1 % steps, 0 included) takes uniMMR to the liquidation ``level`` (0 if none
    does; ∞ if the stablecoin's collateral rate can never get there). Between two grid steps
    a book whose uniMMR is not monotone in the move could dip below by less than one step. The
    added stablecoin is valued on its tiers from the holding as it stands (``stable_value_usd``);
    exact at a 100 % rate (USDT's), approximate where the PnL of the move crosses a lower tier.
    NaN when any move within the band cannot be valued: never a calm 0."""
    need = 0.0
    for s, e, m in zip(shock_pct, equity_usd, mm_usd, strict=True):
        if abs(s) <= within_pct:
            at = stable_top_up_usd(e, m, level, stable_value_usd, tiers)
            if math.isnan(at):  # fail closed: max() would quietly drop a NaN and say 0
                return math.nan
            need = max(need, at)
    return need


def reduce_fraction(
    equity_usd: float,
    mm_usd: float,
    target: float,
    position_mm_usd: float,
    position_notional: float,
    quote_price_usd: float,
    brackets: tuple[FloatArray, FloatArray, FloatArray],
) -> float | None:
    """Fraction of one position to close so that uniMMR reaches ``target``; 0 if already
    there; None if closing all of it is not enough (or equity is not positive)."""
    if equity_usd <= 0.0:
        return None
    allowed = equity_usd / target - (mm_usd - position_mm_usd)  # MM this position may keep
    if allowed >= position_mm_usd:
        return 0.0
    if allowed < 0.0:
        return None
    floors, rates, cums = brackets
    keep = invert_tiered(allowed / quote_price_usd, floors, rates, cums, -1.0)
    return float(min(max(1.0 - keep / position_notional, 0.0), 1.0))


def _table_row(table: TierTable, i: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    keep = np.isfinite(table.floor[i])
    return table.floor[i][keep], table.rate[i][keep], table.cum[i][keep]


def reduce_advice(
    book: Book, base: BaseMargins, equity: float, mm: float, target: float
) -> ReduceAdvice | None:
    """Close part of the position with the largest maintenance margin."""
    candidates = [(float(base.um_usd[i]), "UM", i) for i in range(len(book.um_symbol))] + [
        (float(base.cm_usd[i]), "CM", i) for i in range(len(book.cm_symbol))
    ]
    if mm <= 0.0 or not candidates:
        return None
    pos_mm, venue, i = max(candidates)
    if venue == "UM":
        notional = float(abs(book.um_amt_qty[i]) * book.um_mark[i])
        quote_price = float(book.price_usd[book.um_quote[i]])
        table, symbol = _table_row(book.um_brackets, i), book.um_symbol[i]
    else:
        notional = float(abs(book.cm_contracts[i]) * book.cm_size_usd[i] / book.cm_mark[i])
        quote_price = float(book.price_usd[book.cm_coin[i]])
        table, symbol = _table_row(book.cm_brackets, i), book.cm_symbol[i]
    frac = reduce_fraction(equity, mm, target, pos_mm, notional, quote_price, table)
    return ReduceAdvice(venue, symbol, frac)


def _rates(market: MarketState, table: str) -> dict[str, tuple[CollateralTier, ...]]:
    return (market.collateral_flat or {}) if table == FLAT else market.collateral_tiers


def top_up_basis(book: Book, market: MarketState) -> TopUpBasis:
    """Top up in USDT if the account uses it, else the first stablecoin it holds."""
    stables = [book.assets[a] for a in np.nonzero(book.stable)[0]]
    asset = "USDT" if "USDT" in stables or not stables else stables[0]
    value = 0.0
    if asset in book.assets:
        a = book.index(asset)
        value = float(book.equity_qty[a] * book.price_usd[a])
    return TopUpBasis(asset, value, _rates(market, book.collateral_table).get(asset, ()))
