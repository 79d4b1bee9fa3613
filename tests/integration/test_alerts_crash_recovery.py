"""A crash, then the recovery, on three books: exactly the alerts a trader wants, and no others.

Real parts: the simulator over HTTP, the collector polling it every 5 s of a ManualClock, the
alert watch with the default rules (``AlertRules()``: uniMMR warn 2.0 / clear 2.2, critical 1.6
/ 1.75; a uniform move to liquidation under 15 % / 18 %; one asset alone under 10 % / 12 % when it
is nearer than the uniform move; usage ≥ 50 % rising > 10 points a minute / ≤ 5; Binance's status;
60 s cool-down), apprise posting to a ``json://`` sink on 127.0.0.1. No sleeps: the clock is
driven, and the notifier drained before reading the sink.

The market is the scenario alone — the random walk and the basis noise switched off (the basis
kept at 1e-7 so prices still tick) — so each figure below is worked by hand from the book:
``crash``: every coin's index × 0.7^(β·t/600) (BTC β 1, ETH 1.2, BNB 0.9), then ``recovery``:
× (1/0.7)^(β·s/600), which at s seconds into the recovery gives the prices of crash time
600 − s: the recovery retraces the crash exactly, so uniMMR at 600 + s equals uniMMR at 600 − s.
Binance's status is the simulator's (NORMAL > 1.5 ≥ MARGIN_CALL > 1.2 ≥ REDUCE_ONLY > 1.05 ≥
ACTIVE_LIQUIDATION > 1.0 ≥ BANKRUPTED); Binance liquidates at uniMMR 1.05.

**directional** — 15,000 USDT behind 5 BTC and 60 ETH of USDⓈ-M perpetuals at 95,000 / 3,500.
  E = 15,000 + 5 (BTC − 95,000) + 60 (ETH − 3,500); MM = 0.5 % · 5 BTC − 300 + 0.5 % · 60 ETH − 50
  (BTCUSDT [300k, 800k) and ETHUSDT [50k, 600k) brackets), so MM(0) = 2,075 + 1,000 = 3,075:
    t  0: uniMMR 15,000 / 3,075 = 4.878; the uniform fall m that brings it to 1.05:
          15,000 + 685,000 m = 1.05 (3,075 + 3,425 m) → m = −1.73 %: critical at once.
          BTC alone: 15,000 + 475,000 m = 1.05 (3,075 + 2,375 m) → −2.49 %; ETH alone −5.64 %:
          both farther than the uniform 1.73 %, so no asset alerts.
    t 20: BTC 93,877, ETH 3,450.4 → E 6,411, MM 3,032 → 2.114 (≥ 2.0, nothing yet)
    t 25: BTC 93,599, ETH 3,438.1 → E 4,281, MM 3,021 → 1.417: past both uniMMR levels at once —
          ONE alert, critical. Margin usage 1 / 1.417 = 70.6 %, up from 20.5 % in 25 s: +120
          points a minute at ≥ 50 % → usage warning (at 20 s it was 47.3 %: not yet meaningful).
          Binance: 1.2 < 1.417 ≤ 1.5 → MARGIN_CALL (a warning).
    t 30: E 2,158, MM 3,011 → 0.717 → BANKRUPTED: the status alert escalates (same alert).
    Usage is capped at 100 % from 30 s (insolvent): flat, so the minute's rate is 0 from 90 s
    (the window's oldest sample is then 30 s): calm, cleared at 150 s.
    Recovery: uniMMR at 1175 = that at 25 (1.417, MARGIN_CALL: better than BANKRUPTED — no
    alarm), 1180 = 2.114 (NORMAL), 1185 = 2.809 (≥ 2.2: calm). The status alert clears 60 s
    after NORMAL (1240; it eased silently to MARGIN_CALL at 1235), uniMMR 60 s after 1185 (1245).
    Back at the start prices the book is again 1.73 % from liquidation: that alert stays open.
    No "usage rising" (usage falls), no status alarm (every status better than the last).

**borrower** — 100 ETH and 50 BNB bought with 200,000 USDT borrowed. Its exchange uses the
  flat table (ETH 90 %, BNB 40 %) and 8 % loans, which pmdesk calibrates to:
  E = 315,000 x_ETH + 13,000 x_BNB − 200,000 − 1 (an hour's interest, 200,000 · 0.012 % / 24,
  charged when the loan opens); MM = 200,000 · 8 % = 16,000; uniMMR(0) = 8.0.
     t 355 / 360: the uniform fall to 1.05 is 15.07 % / 14.77 % → liquidation-move critical at 360.
     t 445: ETH alone 9.93 % from liquidation — but every coin falling 9.50 % gets there first:
            no ETH alert (nor BNB's at 585: 2.45 % alone vs 0.11 % uniform).
     t 490 / 495: uniMMR 2.005 / 1.954 → warning at 495; usage 49.9 % / 51.2 %, 60 s after
            38.8 % (t 435): +12.4 points a minute at ≥ 50 % → usage warning at 495 too.
     t 530 / 535: 1.601 / 1.552 → the uniMMR alert escalates to critical at 535 (one row).
     t 540 / 545: 1.502 / 1.453 → MARGIN_CALL at 545; 570 / 575: 1.209 / 1.161 → REDUCE_ONLY
            (escalates); 585 / 590: 1.065 / 1.017 → ACTIVE_LIQUIDATION; 595: 0.969 → BANKRUPTED.
     Recovery (600 + s ≡ 600 − s): usage's minute rate at 625 is u(575) − u(565) = 86.2 − 79.5
     = +6.6 (> 5, held), at 630 u(570) − u(570) = 0: calm → cleared 690. NORMAL from 660
     (≡ 540: 1.502) → status cleared 720. uniMMR ≥ 2.2 from 730 (≡ 470: 2.211; 725 ≡ 475:
     2.159) → cleared 790. Uniform move ≥ 18 % from 895 (≡ 305: 18.02 %; 890 ≡ 310: 17.73 %)
     → cleared 955.

**basis** — 10 BTC held (flat 90 %), 10 BTC short in BTCUSDT, 20,000 USDT: uniMMR 875,000 /
  4,675 = 187 (MM: 950,000 · 0.65 % − 1,500). In the crash the short gains 10 ΔBTC while the
  coins count 9 ΔBTC: the book gets *safer* (uniMMR → 300) and liquidates only on a > 800 %
  rise. No alert at any point.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.alerts.notify import Notifier
from app.alerts.rules import AlertRules
from app.alerts.watch import AlertWatch
from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.client import make_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import RiskRules
from tests.support.start_time import START_MS  # 00:00 UTC: no funding, no interest in 22 min
from tests.support.webhook_sink import Sink

POLL_S = 5
USAGE = "margin usage above 50 % and rising faster than 10 points a minute"

EXPECTED = {
    "directional": [
        # crash
        ("failure", "[CRITICAL] directional: liquidation within a 15 % move"),  # t 0: 1.73 %
        ("failure", "[CRITICAL] directional: uniMMR below 1.6"),  # t 25: 2.114 → 1.417, once
        ("warning", f"[WARN] directional: {USAGE}"),  # t 25: +120 points a minute at 70.6 %
        ("warning", "[WARN] directional: Binance status MARGIN_CALL"),  # t 25
        ("failure", "[CRITICAL] directional: Binance status BANKRUPTED"),  # t 30: escalation
        ("success", f"[CLEARED] directional: {USAGE}"),  # t 150: flat at 100 % since 30
        # recovery: clears only (named as they were at their worst)
        ("success", "[CLEARED] directional: Binance status BANKRUPTED"),  # t 1240
        ("success", "[CLEARED] directional: uniMMR below 1.6"),  # t 1245
    ],
    "borrower": [
        # crash
        ("failure", "[CRITICAL] borrower: liquidation within a 15 % move"),  # t 360: 14.77 %
        ("warning", "[WARN] borrower: uniMMR below 2"),  # t 495: 1.954
        ("warning", f"[WARN] borrower: {USAGE}"),  # t 495: +12.4 at 51.2 %
        ("failure", "[CRITICAL] borrower: uniMMR below 1.6"),  # t 535: the same alert escalates
        ("warning", "[WARN] borrower: Binance status MARGIN_CALL"),  # t 545: 1.453
        ("failure", "[CRITICAL] borrower: Binance status REDUCE_ONLY"),  # t 575: 1.161
        ("failure", "[CRITICAL] borrower: Binance status ACTIVE_LIQUIDATION"),  # t 590: 1.017
        ("failure", "[CRITICAL] borrower: Binance status BANKRUPTED"),  # t 595: 0.969
        # recovery: clears only
        ("success", f"[CLEARED] borrower: {USAGE}"),  # t 690
        ("success", "[CLEARED] borrower: Binance status BANKRUPTED"),  # t 720
        ("success", "[CLEARED] borrower: uniMMR below 1.6"),  # t 790
        ("success", "[CLEARED] borrower: liquidation within a 15 % move"),  # t 955
    ],
    "basis": [],
}
# What the store holds at the end: one row per rule (its severity when it cleared, the worst it
# reached, whether it is still open).
ROWS = {
    ("directional", "liquidation_move"): ("critical", "critical", True),
    ("directional", "uni_mmr"): ("warn", "critical", False),  # eased at 1240, cleared at 1245
    ("directional", "usage_rise"): ("warn", "warn", False),
    ("directional", "account_status"): ("warn", "critical", False),
    ("borrower", "liquidation_move"): ("critical", "critical", False),
    ("borrower", "uni_mmr"): ("warn", "critical", False),
    ("borrower", "usage_rise"): ("warn", "warn", False),
    ("borrower", "account_status"): ("warn", "critical", False),
}


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.stop()


# 660 polls of every account in sequence (about 26 s on 2 quiet cores): more than the suite's
# 120 s on a machine busy with other work.
@pytest.mark.timeout(480)
def test_crash_then_recovery_raises_exactly_what_a_trader_wants(sink: Sink, tmp_path: Path) -> None:
    clock = ManualClock(START_MS)
    # A still market: the crash and the recovery with no random walk, no jumps.
    sim = Simulator(accounts={p: p for p in EXPECTED}, clock=clock, scenario="crash", still=True)
    server = SimulatorServer(sim).start()
    store = Store(f"sqlite:///{tmp_path / 'alerts.db'}")
    store.create_schema()
    notifier = Notifier([sink.url], store.alerts, clock.now_ms, backoff_s=0.01).start()
    watch = AlertWatch(store.alerts, {p: AlertRules() for p in EXPECTED}, clock.now_ms, notifier)
    collectors = [
        Collector(
            store,
            make_client(a.api_key, a.api_secret, server.base_url),
            RiskRules(),
            a.name,
            now_ms=clock.now_ms,
            watch=watch,
        )
        for a in sim.accounts
    ]

    def poll_for(seconds: int) -> None:
        for _ in range(seconds // POLL_S):
            for c in collectors:
                assert c.run_once().report_id is not None
            watch.tick()
            clock.advance(POLL_S)

    try:
        poll_for(600)  # the crash, to its end
        notifier.drain()
        in_crash = len(sink.bodies)
        sim.market.set_scenario("recovery")
        poll_for(720)  # back to the start prices at 1200 s, then two minutes for the cool-downs
        notifier.drain()
    finally:
        notifier.stop()
        server.stop()

    got: dict[str, list[tuple[str, str]]] = {name: [] for name in EXPECTED}
    for body in sink.bodies:
        account = body["title"].split("] ", 1)[1].split(":", 1)[0]
        got[account].append((body["type"], body["title"]))
    assert got == EXPECTED
    # An account getting better is never an alarm: the recovery sent clears and nothing else.
    assert all(b["title"].startswith("[CLEARED]") for b in sink.bodies[in_crash:])
    # One row per rule: the warn and critical of uniMMR, and every Binance status, are one alert.
    stored = store.alerts.since(0)
    assert len(stored) == len({(a.account, a.key) for a in stored})
    assert {
        (a.account, a.key): (a.severity, a.peak, a.cleared_at_ms is None) for a in stored
    } == ROWS
    store.close()
