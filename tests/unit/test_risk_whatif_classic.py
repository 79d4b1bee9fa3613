"""What-if (pre-trade check) and PM-versus-classic, worked by hand."""

from __future__ import annotations

import pytest

from risk import RiskRules, evaluate
from risk.whatif import Borrow, FuturesTrade, SpotTrade, Transfer, WhatIfError, what_if
from tests.unit.risk_books import basis, directional_long, market


def test_adding_usdt_and_halving_the_long() -> None:
    w = what_if(
        directional_long(),
        market(),
        RiskRules(),
        [Transfer("USDT", 1_000.0), FuturesTrade("UM", "BTCUSDT", -0.5)],
    )
    # Before: 5,000 / 200 = 25. After: equity 6,000; 0.5 BTC · 50,000 · 0.4 % = 100 → 60.
    assert w.before.uni_mmr == pytest.approx(25.0)
    assert w.after.uni_mmr == pytest.approx(60.0)
    assert w.uni_mmr_change == pytest.approx(35.0)
    assert w.maint_margin_change_usd == pytest.approx(-100.0)
    # Down: 6,000 + 25,000 t = 1.05 · 100 (1 + t) → t = −5,895 / 24,895
    assert w.after.liquidation_shock.down_pct == pytest.approx(-100 * 5_895 / 24_895, abs=1e-5)


def test_borrowing_adds_margin_loan_mm() -> None:
    w = what_if(directional_long(), market(), RiskRules(), [Borrow("USDT", 10_000.0)])
    # Equity unchanged (asset + 10,000, loan − 10,000); MM + 10,000 · 10 % (the assumed loan
    # MMR: no Binance figures here) = 1,000 → 5,000 / 1,200.
    assert w.equity_change_usd == pytest.approx(0.0)
    assert w.after.uni_mmr == pytest.approx(5_000 / 1_200)


def test_spot_buy_costs_the_haircut() -> None:
    w = what_if(directional_long(), market(), RiskRules(), [SpotTrade("BTC", 0.02)])
    # 0.02 BTC for 1,000 USDT: BTC counts 1,000 · 0.95 = 950, so equity −50.
    assert w.equity_change_usd == pytest.approx(-50.0)


def test_new_symbol_and_unknown_symbol() -> None:
    w = what_if(directional_long(), market(), RiskRules(), [FuturesTrade("UM", "ETHUSDT", -10)])
    # ETH short 10 · 3,000 = 30,000 at 0.5 % = 150 → MM 350 → 5,000 / 350.
    assert w.after.uni_mmr == pytest.approx(5_000 / 350)
    with pytest.raises(WhatIfError, match="DOGEUSDT"):
        what_if(directional_long(), market(), RiskRules(), [FuturesTrade("UM", "DOGEUSDT", 1)])


def test_pm_versus_classic_for_a_basis_book() -> None:
    c = evaluate(basis(), market(), RiskRules()).classic
    # Classic USDⓈ-M wallet must hold 100,000 / 10 = 10,000 USDT on its own; under PM the
    # 2 BTC spot counts 95,000 towards the same 10,000 of IM: no stablecoin needed.
    assert c.um_initial_usd == pytest.approx(10_000.0)
    assert c.classic_posted_usd == pytest.approx(10_000.0)
    assert c.non_stable_collateral_usd == pytest.approx(95_000.0)
    assert c.pm_stable_needed_usd == 0.0
    assert c.saving_usd == pytest.approx(10_000.0)


def test_pm_saves_nothing_on_an_unhedged_long() -> None:
    c = evaluate(directional_long(), market(), RiskRules()).classic
    assert c.pm_stable_needed_usd == pytest.approx(5_000.0)
    assert c.saving_usd == pytest.approx(0.0)
