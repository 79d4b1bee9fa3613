"""``risk.outlook_figures.horizon_figures`` on a book of figures small enough to work by hand:
40 paths, one monitored step, two assets. Every expected number is worked in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from risk.outlook_figures import horizon_figures
from risk.outlook_result import HorizonOutlook, Outlook
from tests.support.outlooks import outlook

N = 40


def _figures() -> HorizonOutlook:
    uni = np.arange(1.0, N + 1.0).reshape(N, 1)  # path i ends the hour at uniMMR i + 1
    equity_change = np.full(N, 10.0)
    equity_change[0], equity_change[1] = -100.0, -50.0  # the two worst paths: 0 and 1
    moves = np.zeros((N, 2))
    moves[0] = (-0.10, -0.02)  # BTC, ETH price factor - 1 at the horizon
    moves[1] = (-0.04, -0.06)
    return horizon_figures(
        horizon_h=1.0,
        t_h=np.array([1.0]),
        uni=uni,
        equity_change=equity_change,
        uni_now=100.0,
        liquidation=1.05,
        warning=2.0,
        moves=moves,
        exposure_usd=np.array([1000.0, 500.0]),
        assets=("BTC", "ETH"),
    )


def test_probabilities_and_their_binomial_errors() -> None:
    h = _figures()
    # min(uniMMR) <= 1.05 on path 0 only: 1/40; <= 2.0 on paths 0 and 1: 2/40.
    assert h.p_liquidation == pytest.approx(1 / 40)
    assert h.stderr == pytest.approx(math.sqrt(1 / 40 * 39 / 40 / 40))
    assert h.p_warning == pytest.approx(2 / 40)


def test_the_fan_edges_carry_their_order_statistic_errors() -> None:
    fan = _figures().fan
    assert (fan[0].t_h, fan[0].q05, fan[0].q05_stderr) == (0.0, 100.0, 0.0)  # today: known
    step = fan[1]
    # 5 %: n q = 2, one binomial sd sqrt(40 * 0.05 * 0.95) = 1.378; the neighbours are the
    # sorted values at floor(2 - 1.378) = 0 and ceil(2 + 1.378) = 4, i.e. 1 and 5: s.e. 2.
    assert step.q05_stderr == pytest.approx(2.0)
    # 95 %: n q = 38; floor(36.62) = 36 -> 37 and ceil(39.38) = 40, capped at 39 -> 40: 1.5.
    assert step.q95_stderr == pytest.approx(1.5)
    # The quantiles themselves ("lower": index floor(39 q)): 5 % -> index 1 = 2; 95 % -> 37 = 38.
    assert (step.q05, step.q95) == (2.0, 38.0)


def test_drivers_share_the_tail_loss_with_an_error() -> None:
    drivers = _figures().drivers
    # Tail: ceil(0.05 * 40) = 2 paths (0, 1). Per-path USD loss = move x exposure:
    #   BTC: -0.10 x 1000 = -100, -0.04 x 1000 = -40 -> mean -70
    #   ETH: -0.02 x 500 = -10,   -0.06 x 500 = -30  -> mean -20; total loss 90.
    # A share is mean(x) / mean(t) over the two tail paths, t = BTC + ETH loss: 110 and 70
    # (mean 90). Delta method: sd (ddof 1) of x - share t, / sqrt(2), / 90. BTC, share 7/9:
    # 100 - 770/9 = 130/9 and 40 - 490/9 = -130/9: sd = sqrt(2) 130/9, so s.e. = 130/810 = 13/81.
    # ETH (2/9) has the mirror residuals: the same 13/81 (the two shares sum to 1).
    assert [d.asset for d in drivers] == ["BTC", "ETH"]
    btc, eth = drivers
    assert btc.share == pytest.approx(70 / 90) and btc.share_stderr == pytest.approx(13 / 81)
    assert eth.share == pytest.approx(20 / 90) and eth.share_stderr == pytest.approx(13 / 81)
    assert btc.mean_move_pct == pytest.approx(-7.0) and eth.mean_move_pct == pytest.approx(-4.0)


def test_a_lone_driver_is_the_whole_loss_with_no_error() -> None:
    moves = np.zeros((N, 1))
    moves[0], moves[1] = -0.10, -0.04
    h = horizon_figures(
        1.0,
        np.array([1.0]),
        np.full((N, 1), 3.0),
        np.where(np.arange(N) < 2, -100.0, 10.0),
        3.0,
        1.05,
        2.0,
        moves,
        np.array([1000.0]),
        ("BTC",),
    )
    (btc,) = h.drivers
    assert btc.share == 1.0 and btc.share_stderr == 0.0  # not "100 % ± 3 %"


def test_outlooks_stored_before_the_errors_read_back_as_unknown_errors() -> None:
    body = outlook(0).to_dict()
    for h in body["horizons"]:
        for p in h["fan"]:
            del p["q05_stderr"], p["q95_stderr"]
        for d in h["drivers"]:
            del d["share_stderr"]
    back = Outlook.from_dict(body)
    assert math.isnan(back.horizons[0].fan[1].q05_stderr)
    assert math.isnan(back.horizons[0].drivers[0].share_stderr)
