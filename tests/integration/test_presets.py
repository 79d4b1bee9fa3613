"""Every preset account, read through python-binance and evaluated by pmdesk; the expected
figures are worked by hand from the preset's holdings at the simulator's start prices (BTC
95,000, ETH 3,500, BNB 650, USDT 1; clock not moved, so marks = entry prices, PnL 0)."""

from __future__ import annotations

import pytest

from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.client import RetryPolicy, make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules


def collect(
    preset: str, store: Store, clock: ManualClock
) -> tuple[float, float, float, str | None]:
    server = SimulatorServer(Simulator(preset=preset, clock=clock)).start()
    try:
        sim = server.simulator
        client = make_client(sim.api_key, sim.api_secret, server.base_url)
        c = Collector(
            store,
            client,
            RiskRules(),
            preset,
            clock.now_ms,
            policy=RetryPolicy(sleep=lambda _: None),
        )
        result = c.run_once()
        assert result.failure is None, result.failure
        r = store.latest_report(preset)
        assert r is not None
        return r.adjusted_equity_usd, r.maint_margin_usd, r.uni_mmr, r.reported_status
    finally:
        server.stop()


def test_directional(store: Store, clock: ManualClock) -> None:
    eq, mm, uni, reported = collect("directional", store, clock)
    # equity: 15,000 USDT. MM: BTC 5 · 95,000 = 475,000 in [300 k, 800 k): 0.5 %, cum 300
    # → 2,375 − 300 = 2,075; ETH 60 · 3,500 = 210,000 in [0, 300 k): 0.4 % → 840. Σ 2,915.
    assert eq == pytest.approx(15_000.0)
    assert mm == pytest.approx(2_915.0)
    assert uni == pytest.approx(15_000 / 2_915)
    assert reported == "NORMAL"


def test_coinm_hedger(store: Store, clock: ManualClock) -> None:
    eq, mm, uni, _ = collect("coinm_hedger", store, clock)
    # BTC x = 20 + 1 = 21 → 1,995,000 USD at 95 % (first tier < 5 M) = 1,895,250.
    # ETH x = 200 → 700,000 at 95 % (< 2 M) = 665,000. USDT 10,000. Σ = 2,570,250.
    # MM: BTCUSD_PERP −19,000 contracts · 100 = 1.9 M USD / 95,000 = 20 BTC in [20, 50):
    # 2.5 %, cum = 5·(0.005−0.004) + 10·(0.01−0.005) + 20·(0.025−0.01) = 0.005 + 0.05 + 0.3
    # = 0.355 → 0.5 − 0.355 = 0.145 BTC · 95,000 = 13,775.
    # ETHUSD_PERP −70,000 contracts · 10 = 700,000 USD / 3,500 = 200 ETH in [200, 400):
    # 12.5 %, cum = 0.355 + 50·(0.05−0.025) + 100·(0.1−0.05) + 200·(0.125−0.1)
    # = 0.355 + 1.25 + 5 + 5 = 11.605 → 25 − 11.605 = 13.395 ETH · 3,500 = 46,882.5.
    assert eq == pytest.approx(2_570_250.0)
    assert mm == pytest.approx(13_775.0 + 46_882.5)
    assert uni == pytest.approx(2_570_250.0 / 60_657.5)


def test_borrower(store: Store, clock: ManualClock) -> None:
    eq, mm, uni, _ = collect("borrower", store, clock)
    # ETH 100 · 3,500 = 350,000 at 95 % = 332,500; BNB 50 · 650 = 32,500 at 95 % = 30,875;
    # USDT x = −200,000 counts in full. Σ = 163,375.
    # MM: loan 200,000 USDT · 5 % (10x margin leverage, pmdesk's default) = 10,000.
    assert eq == pytest.approx(163_375.0)
    assert mm == pytest.approx(10_000.0)
    assert uni == pytest.approx(16.3375)


def test_near_liquidation(store: Store, clock: ManualClock) -> None:
    eq, mm, uni, reported = collect("near_liquidation", store, clock)
    # 5,600 USDT; MM: 10 · 95,000 = 950,000 in [800 k, 3 M): 0.65 %, cum 1,500 → 4,675.
    assert eq == pytest.approx(5_600.0)
    assert mm == pytest.approx(4_675.0)
    assert uni == pytest.approx(5_600 / 4_675)  # 1.198: reduce-only band
    assert reported == "REDUCE_ONLY"
