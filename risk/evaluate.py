"""``evaluate()``: one snapshot and market state in, the recomputed PM figures out. Pure, no I/O.

uniMMR = Σ adjusted equity / Σ maintenance margin, both in USD (uniMMR FAQ
4868b2f1aa6c4d08af973328462bb0bd):
    Σ adjusted equity = Σ min(x · p · collateralRate, x · p) − open loss of open margin orders
    Σ MM = Σ USDⓈ-M MM · p + Σ COIN-M MM · p + Σ margin loan · MMR · p
"""

from __future__ import annotations

import math

import numpy as np

from risk.brackets import bracket_floor, maint_margin
from risk.collateral import adjusted_equity_usd
from risk.model import (
    AccountSnapshot,
    AssetEquity,
    MaintMargin,
    MarketState,
    PositionMargin,
    RiskReport,
    RiskRules,
)


class MissingMarketDataError(ValueError):
    """The market state lacks a price or bracket table the snapshot needs."""


def _index_price(market: MarketState, asset: str) -> float:
    try:
        return market.index_price_usd[asset]
    except KeyError:
        raise MissingMarketDataError(f"no index price for asset {asset}") from None


def _mark_price(market: MarketState, symbol: str) -> float:
    try:
        return market.mark_price[symbol]
    except KeyError:
        raise MissingMarketDataError(f"no mark price for symbol {symbol}") from None


def _asset_equity(
    snapshot: AccountSnapshot, market: MarketState, warnings: list[str]
) -> tuple[AssetEquity, ...]:
    held = [b for b in snapshot.balances if b.equity_qty != 0.0]
    rows: list[AssetEquity] = []
    for balance in held:
        price = _index_price(market, balance.asset)
        actual = balance.equity_qty * price
        tiers = market.collateral_tiers.get(balance.asset, ())
        if actual > 0.0 and not tiers:
            warnings.append(f"{balance.asset}: no collateral rate published, counted at 0")
        adjusted = float(adjusted_equity_usd(np.array([actual]), tiers)[0])
        rows.append(AssetEquity(balance.asset, balance.equity_qty, price, actual, adjusted))
    return tuple(rows)


def _um_margins(snapshot: AccountSnapshot, market: MarketState) -> list[PositionMargin]:
    rows: list[PositionMargin] = []
    for pos in snapshot.um_positions:
        if pos.position_amt_qty == 0.0:
            continue
        brackets = market.um_brackets.get(pos.symbol)
        if not brackets:
            raise MissingMarketDataError(f"no leverage brackets for USDⓈ-M symbol {pos.symbol}")
        notional_qty = abs(pos.position_amt_qty * _mark_price(market, pos.symbol))
        mm_qty = float(maint_margin(np.array([notional_qty]), brackets)[0])
        price = _index_price(market, pos.margin_asset)
        rows.append(
            PositionMargin(
                venue="UM",
                symbol=pos.symbol,
                position_side=pos.position_side,
                notional_usd=notional_qty * price,
                maint_margin_usd=mm_qty * price,
                bracket_floor=bracket_floor(notional_qty, brackets),
            )
        )
    return rows


def _cm_margins(snapshot: AccountSnapshot, market: MarketState) -> list[PositionMargin]:
    rows: list[PositionMargin] = []
    for pos in snapshot.cm_positions:
        if pos.position_amt_contracts == 0.0:
            continue
        brackets = market.cm_brackets.get(pos.symbol)
        if not brackets:
            raise MissingMarketDataError(f"no leverage brackets for COIN-M symbol {pos.symbol}")
        mark = _mark_price(market, pos.symbol)
        notional_coin = abs(pos.position_amt_contracts) * pos.contract_size_usd / mark
        mm_coin = float(maint_margin(np.array([notional_coin]), brackets)[0])
        price = _index_price(market, pos.margin_asset)
        rows.append(
            PositionMargin(
                venue="CM",
                symbol=pos.symbol,
                position_side=pos.position_side,
                notional_usd=notional_coin * price,
                maint_margin_usd=mm_coin * price,
                bracket_floor=bracket_floor(notional_coin, brackets),
            )
        )
    return rows


def _margin_loan_mm_usd(snapshot: AccountSnapshot, market: MarketState, rules: RiskRules) -> float:
    """Cross-margin loans: loan · MMR, valued at the index price (uniMMR FAQ)."""
    return sum(
        b.cross_margin_borrowed_qty * rules.margin_loan_mmr * _index_price(market, b.asset)
        for b in snapshot.balances
        if b.cross_margin_borrowed_qty > 0.0
    )


def evaluate(snapshot: AccountSnapshot, market: MarketState, rules: RiskRules) -> RiskReport:
    """Recompute uniMMR, adjusted equity and maintenance margin for one account."""
    warnings: list[str] = []
    assets = _asset_equity(snapshot, market, warnings)
    um_rows = _um_margins(snapshot, market)
    cm_rows = _cm_margins(snapshot, market)
    mm = MaintMargin(
        um_usd=sum(r.maint_margin_usd for r in um_rows),
        cm_usd=sum(r.maint_margin_usd for r in cm_rows),
        margin_usd=_margin_loan_mm_usd(snapshot, market, rules),
    )
    adjusted = sum(a.adjusted_equity_usd for a in assets) - snapshot.open_margin_order_loss_usd
    actual = sum(a.actual_equity_usd for a in assets)
    uni_mmr = adjusted / mm.total_usd if mm.total_usd > 0.0 else math.inf
    return RiskReport(
        uni_mmr=uni_mmr,
        adjusted_equity_usd=adjusted,
        actual_equity_usd=actual,
        maint_margin=mm,
        status=rules.band(uni_mmr),
        assets=assets,
        positions=tuple(um_rows + cm_rows),
        warnings=tuple(warnings),
    )
