"""What-if: apply hypothetical trades, transfers and borrowings to a snapshot and compare.

A pre-trade check. Futures trades and spot trades happen at the current mark / index price, so
they move no equity at once (fees ignored); they change exposure and maintenance margin. In
hedge mode a futures trade changes the chosen side's position only (``FuturesTrade.side``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeVar

from risk.evaluate import evaluate
from risk.market import MarketState
from risk.report import RiskReport
from risk.rules import RiskRules
from risk.snapshot import AccountSnapshot, AssetBalance, CmPosition, UmPosition
from risk.symbols import cm_default_contract_size_usd, cm_symbol_coin, um_symbol_assets

SIDES = ("BOTH", "LONG", "SHORT")


@dataclass(frozen=True)
class FuturesTrade:
    """Buy (+) or sell (−) ``amount`` of a futures symbol at its mark: base quantity for
    USDⓈ-M, contracts for COIN-M.

    ``side`` is the position side the trade changes. ``BOTH`` (one-way mode): the amount nets
    the symbol's one position and may flip it. ``LONG`` / ``SHORT`` (hedge mode): only that
    side's row changes; Binance lists hedge-mode rows side by side, "positive = long, negative
    = short" (papi positionRisk), so a LONG row stays ≥ 0 and a SHORT row ≤ 0.
    """

    venue: str  # "UM" or "CM"
    symbol: str
    amount: float
    leverage: float = 10.0
    side: str = "BOTH"


@dataclass(frozen=True)
class Transfer:
    """Move ``qty`` of an asset into (+) or out of (−) the PM account."""

    asset: str
    qty: float


@dataclass(frozen=True)
class Borrow:
    """Borrow (+) or repay (−) ``qty`` on cross margin; the borrowed asset lands in the account."""

    asset: str
    qty: float


@dataclass(frozen=True)
class SpotTrade:
    """Buy (+) or sell (−) ``qty`` of an asset for ``quote`` at their index prices."""

    asset: str
    qty: float
    quote: str = "USDT"


Change = FuturesTrade | Transfer | Borrow | SpotTrade


class WhatIfError(ValueError):
    """A hypothetical change that cannot be applied (unknown symbol, no price)."""


def _row(asset: str, cross: float = 0.0, borrowed: float = 0.0) -> AssetBalance:
    return AssetBalance(asset, cross, borrowed, 0.0, 0.0, 0.0, 0.0, 0.0)


_P = TypeVar("_P", UmPosition, CmPosition)


def _amount(p: UmPosition | CmPosition) -> float:
    return p.position_amt_qty if isinstance(p, UmPosition) else p.position_amt_contracts


def _target_row(rows: tuple[_P, ...], t: FuturesTrade, unit: str) -> tuple[int | None, float]:
    """Which of the venue's rows the trade changes (None: a new row) and its new amount.
    Raises ``WhatIfError`` when the side does not fit how the account holds the symbol."""
    if t.side not in SIDES:
        raise WhatIfError(f"unknown position side {t.side!r}: BOTH, LONG or SHORT")
    mine = [i for i, p in enumerate(rows) if p.symbol == t.symbol]
    sides = {rows[i].position_side for i in mine} or {p.position_side for p in rows}
    hedge = bool(sides & {"LONG", "SHORT"})
    one_way = "BOTH" in sides
    venue = {"UM": "USDⓈ-M", "CM": "COIN-M"}.get(t.venue, t.venue)
    where = f"{t.symbol} is held" if mine else f"the account's {venue} positions are"
    if t.side == "BOTH" and hedge and not one_way:
        raise WhatIfError(
            f"{where} in hedge mode (LONG and SHORT rows): choose LONG or SHORT for {t.symbol}"
        )
    if t.side != "BOTH" and one_way and not hedge:
        raise WhatIfError(
            f"{where} in one-way mode (BOTH rows): there is no {t.side} side; "
            f"choose BOTH for {t.symbol}"
        )
    i = next((i for i in mine if rows[i].position_side == t.side), None)
    old = 0.0 if i is None else _amount(rows[i])
    new = old + t.amount
    if t.side == "LONG" and new < 0.0:
        raise WhatIfError(
            f"{t.symbol} LONG holds {old:,g}{unit}: selling {-t.amount:,g} would take it below "
            "zero; sell at most what it holds, or sell on the SHORT side"
        )
    if t.side == "SHORT" and new > 0.0:
        raise WhatIfError(
            f"{t.symbol} SHORT holds {old:,g}{unit}: buying {t.amount:,g} would take it above "
            "zero; buy at most what it holds, or buy on the LONG side"
        )
    return i, new


def _entry(old_amount: float, old_entry: float, new_amount: float, mark: float) -> float:
    """Average entry after a trade at ``mark``: adding on the same side averages in, reducing
    keeps the entry, a new or flipped position enters at the mark."""
    if old_amount == 0.0 or old_amount * new_amount < 0.0:
        return mark
    if abs(new_amount) > abs(old_amount):
        return (old_amount * old_entry + (new_amount - old_amount) * mark) / new_amount
    return old_entry


def _replace_row(rows: tuple[_P, ...], i: int | None, row: _P) -> tuple[_P, ...]:
    out = list(rows)
    if i is None:
        out.append(row)
    else:
        out[i] = row
    return tuple(out)


def _trade_um(snapshot: AccountSnapshot, market: MarketState, t: FuturesTrade) -> AccountSnapshot:
    assets = um_symbol_assets(t.symbol)
    if assets is None or t.symbol not in market.mark_price:
        raise WhatIfError(f"unknown USDⓈ-M symbol {t.symbol}")
    mark = market.mark_price[t.symbol]
    rows = snapshot.um_positions
    i, amount = _target_row(rows, t, "")
    old = None if i is None else rows[i]
    old_amount = 0.0 if old is None else old.position_amt_qty
    entry = _entry(old_amount, old.entry_price if old else mark, amount, mark)
    pos = UmPosition(
        t.symbol,
        t.side,
        amount,
        entry,
        mark,
        amount * (mark - entry),  # in the quote, as positionRisk's unRealizedProfit
        assets[0],
        assets[1],
        old.leverage if old else t.leverage,
    )
    return dataclasses.replace(snapshot, um_positions=_replace_row(rows, i, pos))


def _trade_cm(snapshot: AccountSnapshot, market: MarketState, t: FuturesTrade) -> AccountSnapshot:
    if t.symbol not in market.mark_price:
        raise WhatIfError(f"unknown COIN-M symbol {t.symbol}")
    mark = market.mark_price[t.symbol]
    rows = snapshot.cm_positions
    i, amount = _target_row(rows, t, " contracts")
    old = None if i is None else rows[i]
    old_amount = 0.0 if old is None else old.position_amt_contracts
    size = old.contract_size_usd if old else cm_default_contract_size_usd(t.symbol)
    entry = _entry(old_amount, old.entry_price if old else mark, amount, mark)
    pos = CmPosition(
        t.symbol,
        t.side,
        amount,
        entry,
        mark,
        amount * size * (1.0 / entry - 1.0 / mark),  # inverse PnL, in the coin
        size,
        cm_symbol_coin(t.symbol),
        old.leverage if old else t.leverage,
    )
    return dataclasses.replace(snapshot, cm_positions=_replace_row(rows, i, pos))


def apply_change(snapshot: AccountSnapshot, market: MarketState, change: Change) -> AccountSnapshot:
    if isinstance(change, FuturesTrade):
        if change.venue == "UM":
            return _trade_um(snapshot, market, change)
        if change.venue == "CM":
            return _trade_cm(snapshot, market, change)
        raise WhatIfError(f"unknown venue {change.venue!r}: UM or CM")
    rows: tuple[AssetBalance, ...]
    if isinstance(change, Transfer):
        rows = (_row(change.asset, cross=change.qty),)
    elif isinstance(change, Borrow):
        rows = (_row(change.asset, cross=change.qty, borrowed=change.qty),)
    else:
        prices = market.index_price_usd
        if change.asset not in prices or change.quote not in prices:
            raise WhatIfError(f"no index price for {change.asset} or {change.quote}")
        cost = change.qty * prices[change.asset] / prices[change.quote]
        rows = (_row(change.asset, cross=change.qty), _row(change.quote, cross=-cost))
    return dataclasses.replace(snapshot, balances=(*snapshot.balances, *rows))


@dataclass(frozen=True)
class WhatIf:
    before: RiskReport
    after: RiskReport

    @property
    def uni_mmr_change(self) -> float:
        return self.after.uni_mmr - self.before.uni_mmr

    @property
    def equity_change_usd(self) -> float:
        return self.after.adjusted_equity_usd - self.before.adjusted_equity_usd

    @property
    def maint_margin_change_usd(self) -> float:
        return self.after.maint_margin.total_usd - self.before.maint_margin.total_usd


def what_if(
    snapshot: AccountSnapshot, market: MarketState, rules: RiskRules, changes: list[Change]
) -> WhatIf:
    """Evaluate the book now and with ``changes`` applied.

    The changed book is valued with the assumptions the base report settled (collateral table,
    loan MMR per asset: risk/calibrate.py) and without Binance's reported figures, which
    describe the book *before* the change: calibrating the new book against them would fit it
    to the wrong account. The open-order loss is kept (the open orders have not changed)."""
    before = evaluate(snapshot, market, rules)
    after = snapshot
    for change in changes:
        after = apply_change(after, market, change)
    after = dataclasses.replace(after, reported=None, reported_position_margins=None)
    after_rules = dataclasses.replace(rules, assumptions=before.assumptions)
    return WhatIf(before, evaluate(after, market, after_rules))


def what_if_each(
    snapshot: AccountSnapshot, market: MarketState, rules: RiskRules, changes: list[Change]
) -> tuple[WhatIf, tuple[str | None, ...]]:
    """``what_if`` with the changes that apply, and for each change the reason it cannot be
    applied (None when it was): one bad line never hides what the good ones do. Changes apply
    in order, each on the book the ones before it left."""
    errors: list[str | None] = []
    book = snapshot
    for change in changes:
        try:
            book = apply_change(book, market, change)
        except WhatIfError as err:
            errors.append(str(err))
        else:
            errors.append(None)
    applied = [c for c, e in zip(changes, errors, strict=True) if e is None]
    return what_if(snapshot, market, rules, applied), tuple(errors)
