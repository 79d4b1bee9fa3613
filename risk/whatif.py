"""What-if: apply hypothetical trades, transfers and borrowings to a snapshot and compare.

A pre-trade check. Futures trades and spot trades happen at the current mark / index price, so
they move no equity at once (fees ignored); they change exposure and maintenance margin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from risk.evaluate import evaluate
from risk.model import (
    AccountSnapshot,
    AssetBalance,
    CmPosition,
    MarketState,
    RiskReport,
    RiskRules,
    UmPosition,
)
from risk.symbols import cm_default_contract_size_usd, cm_symbol_coin, um_symbol_assets


@dataclass(frozen=True)
class FuturesTrade:
    """Buy (+) or sell (−) ``amount`` of a futures symbol at its mark: base quantity for
    USDⓈ-M, contracts for COIN-M. One-way mode: the amount nets the open position."""

    venue: str  # "UM" or "CM"
    symbol: str
    amount: float
    leverage: float = 10.0


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


def _trade_um(snapshot: AccountSnapshot, market: MarketState, t: FuturesTrade) -> AccountSnapshot:
    assets = um_symbol_assets(t.symbol)
    if assets is None or t.symbol not in market.mark_price:
        raise WhatIfError(f"unknown USDⓈ-M symbol {t.symbol}")
    mark = market.mark_price[t.symbol]
    kept = [p for p in snapshot.um_positions if p.symbol != t.symbol]
    old = next((p for p in snapshot.um_positions if p.symbol == t.symbol), None)
    amount = (old.position_amt_qty if old else 0.0) + t.amount
    pos = UmPosition(
        t.symbol,
        "BOTH",
        amount,
        mark,
        mark,
        0.0,
        assets[0],
        assets[1],
        old.leverage if old else t.leverage,
    )
    return dataclasses.replace(snapshot, um_positions=(*kept, pos))


def _trade_cm(snapshot: AccountSnapshot, market: MarketState, t: FuturesTrade) -> AccountSnapshot:
    if t.symbol not in market.mark_price:
        raise WhatIfError(f"unknown COIN-M symbol {t.symbol}")
    mark = market.mark_price[t.symbol]
    kept = [p for p in snapshot.cm_positions if p.symbol != t.symbol]
    old = next((p for p in snapshot.cm_positions if p.symbol == t.symbol), None)
    size = old.contract_size_usd if old else cm_default_contract_size_usd(t.symbol)
    amount = (old.position_amt_contracts if old else 0.0) + t.amount
    pos = CmPosition(
        t.symbol,
        "BOTH",
        amount,
        mark,
        mark,
        0.0,
        size,
        cm_symbol_coin(t.symbol),
        old.leverage if old else t.leverage,
    )
    return dataclasses.replace(snapshot, cm_positions=(*kept, pos))


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
    after = snapshot
    for change in changes:
        after = apply_change(after, market, change)
    return WhatIf(evaluate(snapshot, market, rules), evaluate(after, market, rules))
