"""The simulator's scripted scenarios and its perpetual basis, checked by hand arithmetic on a
market whose random walk is switched off (zero volatility), so only the script moves prices."""

from __future__ import annotations

import math

import pytest

from connectors.simulator.clock import ManualClock
from connectors.simulator.market import AssetSpec, MarketModel, funding_rate
from connectors.simulator.scenarios import SCENARIOS, scenario

QUIET = (
    AssetSpec("BTC", 100_000.0, 0.0, 1.0),
    AssetSpec("ETH", 4_000.0, 0.0, 1.2),
    AssetSpec("SOL", 200.0, 0.0, 1.4),
    AssetSpec("BNB", 600.0, 0.0, 0.9),
    AssetSpec("XRP", 2.0, 0.0, 1.1),
    AssetSpec("USDT", 1.0, 0.0, 0.0),
    AssetSpec("USDC", 1.0, 0.0, 0.0),
)


def quiet_market(clock: ManualClock, name: str = "calm") -> MarketModel:
    return MarketModel(clock, assets=QUIET, scenario_name=name, basis_sd=0.0)


def test_crash_is_minus_30_percent_in_ten_minutes_scaled_by_beta() -> None:
    crash = scenario("crash")
    assert crash.index_factor(0, 1.0) == 1.0
    # Log-linear: half-way, 0.7 ** 0.5 = 0.83666.
    assert crash.index_factor(300, 1.0) == pytest.approx(0.836660, abs=1e-6)
    assert crash.index_factor(600, 1.0) == pytest.approx(0.70)
    assert crash.index_factor(3_600, 1.0) == pytest.approx(0.70)  # then it holds
    # Beta 1.4: exp(1.4 · ln 0.7) = exp(−0.499345) = e^−0.5 · e^0.000655 = 0.606531 · 1.000655
    # = 0.606928.
    assert crash.index_factor(600, 1.4) == pytest.approx(0.606928, abs=1e-6)
    assert crash.index_factor(600, 0.0) == 1.0  # stablecoins do not move
    assert crash.basis(600) == 0.0


def test_recovery_gives_back_what_the_crash_took() -> None:
    crash, recovery = scenario("crash"), scenario("recovery")
    # 0.7 × (1 / 0.7) = 1 for every beta: ln(1 − drop) = ln(1 / 0.7) = −ln 0.7.
    for beta in (1.0, 1.4):
        assert crash.index_factor(600, beta) * recovery.index_factor(600, beta) == pytest.approx(1)
    assert recovery.index_factor(300, 1.0) == pytest.approx(1 / 0.836660, abs=1e-5)  # 1.195229


def test_basis_blowout_lifts_perp_marks_8_percent_over_index_in_5_minutes() -> None:
    blowout = scenario("basis_blowout")
    assert blowout.basis(150) == pytest.approx(0.04)
    assert blowout.basis(300) == pytest.approx(0.08)
    assert blowout.basis(900) == pytest.approx(0.08)
    assert blowout.index_factor(300, 1.0) == 1.0


def test_market_plays_the_crash_on_index_and_marks() -> None:
    clock = ManualClock(1_700_000_000_000)
    m = quiet_market(clock, "crash")
    clock.advance(600)
    q = m.quote()
    assert q.index_usd["BTC"] == pytest.approx(70_000.0)
    assert q.index_usd["USDT"] == 1.0
    assert q.mark("BTCUSDT") == pytest.approx(70_000.0)  # no basis: mark = index
    assert q.index("BTCUSD_PERP") == pytest.approx(70_000.0)  # COIN-M index is in USD


def test_switching_scenario_keeps_prices_where_they_are() -> None:
    clock = ManualClock(1_700_000_000_000)
    m = quiet_market(clock, "crash")
    clock.advance(300)
    mid = m.quote().index_usd["BTC"]
    assert mid == pytest.approx(100_000 * math.sqrt(0.7))
    m.set_scenario("calm")
    assert m.quote().index_usd["BTC"] == pytest.approx(mid)  # no jump back
    clock.advance(600)
    assert m.quote().index_usd["BTC"] == pytest.approx(mid)  # calm: no script, no vol
    m.set_scenario("basis_blowout")
    clock.advance(150)
    q = m.quote()
    assert q.basis["BTCUSDT"] == pytest.approx(0.04)  # half-way to +8 %
    assert q.mark("BTCUSDT") == pytest.approx(mid * 1.04)
    assert q.mark("ETHUSD_PERP") == pytest.approx(q.index_usd["ETH"] * 1.04)


def test_frozen_prices_pause_the_scenario_too() -> None:
    clock = ManualClock(1_700_000_000_000)
    frozen = [False]
    m = MarketModel(
        clock, assets=QUIET, scenario_name="crash", frozen=lambda: frozen[0], basis_sd=0.0
    )
    m.quote()
    frozen[0] = True
    clock.advance(300)
    assert m.quote().index_usd["BTC"] == pytest.approx(100_000.0)
    frozen[0] = False
    clock.advance(300)
    assert m.quote().index_usd["BTC"] == pytest.approx(100_000 * math.sqrt(0.7))


def test_funding_follows_binance_formula() -> None:
    # premium + clamp(0.01 % − premium, ±0.05 %): small premium → the interest rate itself.
    assert funding_rate(0.0002) == pytest.approx(0.0001)
    # premium 0.3 %: 0.003 + clamp(−0.0029, ±0.0005) = 0.003 − 0.0005 = 0.0025.
    assert funding_rate(0.003) == pytest.approx(0.0025)


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(ValueError, match="calm, crash, recovery, basis_blowout"):
        scenario("meltdown")
    assert set(SCENARIOS) == {"calm", "crash", "recovery", "basis_blowout"}
