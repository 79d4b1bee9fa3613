"""Alert-rule reports: the basis book (tests/support/books.py) with uniMMR, equity and the
liquidation figures set by hand; USDT counts at a collateral rate of 1 (its flat tier), so the
top-up to a target is exactly ``target × MM − adjusted equity``."""

from __future__ import annotations

import dataclasses

from risk.evaluate import evaluate
from risk.model import AssetLiquidation, LiquidationShock, RiskReport, RiskRules
from tests.support.books import basis, market

BASE = evaluate(basis(), market(), RiskRules())
MM = BASE.maint_margin.total_usd


def report(
    uni: float,
    down_pct: float | None = -50.0,
    up_pct: float | None = None,
    assets: tuple[AssetLiquidation, ...] = (),
) -> RiskReport:
    r = dataclasses.replace(
        BASE,
        uni_mmr=uni,
        adjusted_equity_usd=uni * MM,
        liquidation_shock=LiquidationShock(down_pct, up_pct, None, None),
        asset_liquidations=assets,
    )
    # The overview's top-up: to the configured target (RiskRules' 2.0), USDT at rate 1.
    return dataclasses.replace(r, top_up_usd=max(0.0, r.top_up_target_uni_mmr * MM - uni * MM))
