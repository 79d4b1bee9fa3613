"""The filtered historical simulation: klines aligned by hand, the EWMA recursion by hand, the
correlation-break recolouring, fail-closed answers in words, and the correlation break
raising the probability for a book long two uncorrelated assets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from risk.market_history import SPOT, UM_INDEX, UM_MARK, KlineKey, KlineSeries, MarketHistory
from risk.model import AccountSnapshot, Product, RiskRules
from risk.outlook import OutlookSettings, compute_outlook
from risk.outlook_data import history_from_series, joint_returns
from risk.outlook_paths import break_matrix, ewma_variance, step_times
from risk.outlook_result import Outlook
from tests.support.books import FLAT_100, bal, market, perp

HOUR = 3_600_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % HOUR


def spot(symbol: str, closes: np.ndarray, start: int = 0) -> KlineSeries:
    times = T0 + HOUR * (start + np.arange(len(closes), dtype=np.int64))
    return KlineSeries(KlineKey(SPOT, symbol, "1h"), times, closes, closes, closes, closes)


def random_history(hours: int, seed: int = 1) -> MarketHistory:
    """BTC and ETH independent, 1 % an hour, ending at today's prices (50,000 and 3,000)."""
    rng = np.random.default_rng(seed)
    out = []
    for symbol, price in (("BTCUSDT", 50_000.0), ("ETHUSDT", 3_000.0)):
        r = rng.normal(0.0, 0.01, hours)
        out.append(spot(symbol, price * np.exp(np.cumsum(r) - r.sum())))
    return history_from_series(out, "1h")


def test_alignment_forward_fills_gaps_and_leaves_unlisted_bars_unknown() -> None:
    btc = spot("BTCUSDT", np.array([100.0, 101.0, 103.0, 104.0]))
    # Bars at hours 0, 1, 3, 4: hour 2 is a gap (carried forward from hour 1).
    btc = KlineSeries(btc.key, T0 + HOUR * np.array([0, 1, 3, 4]), *(btc.close,) * 4)
    eth = spot("ETHUSDT", np.array([10.0, 11.0]), start=3)  # listed at hour 3
    mark = KlineSeries(
        KlineKey(UM_MARK, "ETHUSDT", "1h"), eth.open_time_ms, *(eth.close * 1.01,) * 4
    )
    index = KlineSeries(KlineKey(UM_INDEX, "ETHUSDT", "1h"), eth.open_time_ms, *(eth.close,) * 4)
    h = history_from_series([btc, eth, mark, index], "1h")
    assert h.open_time_ms.tolist() == [T0 + HOUR * i for i in range(5)]
    assert h.price_usd["BTC"].tolist() == [100.0, 101.0, 101.0, 103.0, 104.0]
    assert np.isnan(h.price_usd["ETH"][:3]).all() and h.price_usd["ETH"][3:].tolist() == [10, 11]
    assert h.basis["ETHUSDT"][3:] == pytest.approx([0.01, 0.01])
    joint = joint_returns(h, ["BTC", "ETH"], ["ETHUSDT"])
    assert joint.bars == 1  # only hour 3 -> 4 has both prices at both ends
    assert joint.returns[0] == pytest.approx([math.log(104 / 103), math.log(11 / 10)])


def test_ewma_variance_by_hand() -> None:
    r = np.array([[0.01], [-0.02], [0.0]])
    s2, now = ewma_variance(r, half_life=1.0)  # lambda = 0.5
    start = (1e-4 + 4e-4 + 0.0) / 3
    second = 0.5 * start + 0.5 * 1e-4
    third = 0.5 * second + 0.5 * 4e-4
    assert s2[:, 0] == pytest.approx([start, second, third])
    assert now[0] == pytest.approx(0.5 * third)


def test_break_matrix_moves_correlations_towards_one() -> None:
    corr = np.array([[1.0, -0.2, 0.1], [-0.2, 1.0, 0.3], [0.1, 0.3, 1.0]])
    m = break_matrix(corr, weight=0.9)
    target = m.T @ corr @ m
    assert target[0, 1] == pytest.approx(-0.2 + 0.9 * 1.2)
    assert target[1, 2] == pytest.approx(0.3 + 0.9 * 0.7)
    assert np.diag(target) == pytest.approx([1.0, 1.0, 1.0])


def test_step_times() -> None:
    assert step_times(3.0, 20.0, 1.0).tolist() == pytest.approx([1 / 3, 2 / 3, 1.0, 2.0, 3.0])


def two_longs() -> AccountSnapshot:
    """Long 1 BTC and 20 ETH perpetuals (50,000 + 60,000) on 9,000 USDT: uniMMR
    9,000 / (200 + 300) = 18."""
    return AccountSnapshot(
        (bal("USDT", um_wallet_qty=9_000.0),),
        (perp("BTCUSDT", 1.0, 50_000.0), perp("ETHUSDT", 20.0, 3_000.0)),
    )


def test_fhs_figures_and_the_correlation_break() -> None:
    history = random_history(24 * 30)
    s = OutlookSettings(n_paths=2_000, half_life_h=48.0)
    outlook = compute_outlook(two_longs(), market(), RiskRules(), history, s, T0)
    assert outlook.unknown == "" and outlook.model == "fhs"
    assert "719 joint 1 h returns" in outlook.data_words
    assert "no basis history for BTCUSDT, ETHUSDT" in outlook.data_words
    assert outlook.vol_annualised["BTC"] == pytest.approx(0.01 * math.sqrt(8760), rel=0.25)
    normal, broken = outlook.horizon(24.0), outlook.correlation_break[-1]
    assert normal is not None and broken.horizon_h == 24.0
    # Independent moves partly offset; moved to one they add up: more paths reach 1.05.
    assert broken.p_liquidation > normal.p_liquidation + 3 * (normal.stderr + broken.stderr)
    assert normal.es_equity_usd < 0 and len(normal.fan) == 1 + 12 + 23
    assert {d.asset for d in normal.drivers} == {"BTC", "ETH"}
    assert Outlook.from_dict(outlook.to_dict()) == outlook


def test_fail_closed_in_words() -> None:
    s = OutlookSettings(n_paths=100)
    nothing = compute_outlook(two_longs(), market(), RiskRules(), None, s, T0)
    assert nothing.unknown == "no 1 h price history and no volatility given for BTC, ETH"
    assert nothing.horizons == () and nothing.correlation_break == ()
    short = compute_outlook(two_longs(), market(), RiskRules(), random_history(50), s, T0)
    assert "only 49 hours of joint price history" in short.unknown and short.horizons == ()
    gbm = OutlookSettings(n_paths=100, model="gbm", vol_annualised={"BTC": 0.5})
    assert (
        "none for ETH" in compute_outlook(two_longs(), market(), RiskRules(), None, gbm, 0).unknown
    )
    unpriced = market()
    unpriced.index_price_usd.pop("USDT")
    unknown = compute_outlook(two_longs(), unpriced, RiskRules(), random_history(200), s, T0)
    assert unknown.unknown.startswith("the account's own figures are unknown")
    assert unknown.horizons == ()


def test_a_given_volatility_stands_in_for_missing_history() -> None:
    eth_only = history_from_series(
        [spot("ETHUSDT", 3_000.0 * np.exp(np.random.default_rng(2).normal(0, 0.01, 300)))], "1h"
    )
    s = OutlookSettings(n_paths=500, vol_annualised={"BTC": 0.6})
    outlook = compute_outlook(two_longs(), market(), RiskRules(), eth_only, s, T0)
    assert outlook.unknown == "" and outlook.vol_annualised["BTC"] == pytest.approx(0.6)
    assert "volatility given for BTC 60 %" in outlook.data_words


def test_stale_history_is_said_and_pm_warns_at_1_2_times_liquidation() -> None:
    history = random_history(300)
    end = int(history.open_time_ms[-1])
    pm = RiskRules.for_product(Product.PM)  # no margin-call level published
    s = OutlookSettings(n_paths=200, correlation_break=False)
    outlook = compute_outlook(two_longs(), market(), pm, history, s, end + 50 * HOUR)
    assert outlook.data_words.endswith("the history ends 50 h before now")
    assert outlook.warning_uni_mmr == pytest.approx(1.2 * 1.05)
    assert outlook.correlation_break == ()
    fresh = compute_outlook(two_longs(), market(), RiskRules(), history, s, end + HOUR)
    assert "before now" not in fresh.data_words and fresh.warning_uni_mmr == 1.5


def test_the_same_figures_whatever_the_threads() -> None:
    history = random_history(300)
    one = OutlookSettings(n_paths=2_500, chunk_paths=1_000, threads=1)
    two = OutlookSettings(n_paths=2_500, chunk_paths=1_000, threads=2)
    a = compute_outlook(two_longs(), market(), RiskRules(), history, one, T0)
    b = compute_outlook(two_longs(), market(), RiskRules(), history, two, T0)
    assert a.unknown == "" and a.to_dict() == b.to_dict()


def test_the_break_draws_pegs_from_their_worst_tail() -> None:
    """USDC held as collateral, flat but for a few -2 % hours in its history: the break draws
    a step from USDC's worst 5 % of hours each time (all of them falls), the normal model
    almost never; the 24 h expected shortfall is far worse."""
    rng = np.random.default_rng(4)
    hours = 400
    usdc_r = rng.normal(0.0, 1e-4, hours)
    usdc_r[::40] = -0.02
    usdc = spot("USDCUSDT", np.exp(np.cumsum(usdc_r) - usdc_r.sum()))
    btc_r = rng.normal(0.0, 0.005, hours)
    btc = spot("BTCUSDT", 50_000.0 * np.exp(np.cumsum(btc_r) - btc_r.sum()))
    history = history_from_series([usdc, btc], "1h")
    book = AccountSnapshot(
        (bal("USDC", cross_margin_asset_qty=100_000.0), bal("USDT", um_wallet_qty=1_000.0)),
        (perp("BTCUSDT", 1.0, 50_000.0),),
    )
    prices = market({"USDC": 1.0}, {"USDC": FLAT_100})
    s = OutlookSettings(n_paths=1_000, half_life_h=48.0)
    outlook = compute_outlook(book, prices, RiskRules(), history, s, T0)
    normal, broken = outlook.horizons[-1], outlook.correlation_break[-1]
    assert outlook.unknown == ""
    # Each step draws from USDC's worst 20 of 399 hours (9 of them -2 %): -0.9 % an hour on
    # average, times sqrt(dt) summed over the steps (12 * sqrt(1/12) + 23 = 26.5): about -24 %.
    assert broken.es_equity_usd < normal.es_equity_usd - 5_000
    assert any(d.asset == "USDC" for d in broken.drivers)
