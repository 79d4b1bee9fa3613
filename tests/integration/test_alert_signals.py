"""Binance's own signals end to end: ``AlertWatch.on_binance_signal`` with the real store and
apprise sending to a ``json://`` sink on 127.0.0.1 — a liquidation order's alert stored and
delivered at once (nothing batched), its later fills updating the same row (no second
message), Binance's pushed REDUCE_ONLY as its status alert, and the liquidation alert cleared
once acknowledged on a screen and calm for the cooldown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.alerts.notify import Notifier
from app.alerts.rules import AlertRules
from app.alerts.watch import AlertWatch
from app.store.store import Store
from risk.account_events import OrderUpdate, RiskLevelChange
from tests.support.webhook_sink import Sink

T0 = 1_700_000_000_000
LIQUIDATION_ID = "autoclose-1596107620040000020"  # Binance's liquidation orders: "autoclose-…"


class Clock:
    def __init__(self) -> None:
        self.ms = T0

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.stop()


def liquidation(status: str, filled: float, last: float, price: float, at_ms: int) -> OrderUpdate:
    return OrderUpdate(
        at_ms, "UM", "BTCUSDT", LIQUIDATION_ID, "SELL", "LIQUIDATION",
        "NEW" if status == "NEW" else "TRADE", status, last, filled, price, "BOTH",
    )  # fmt: skip


def test_a_liquidation_reaches_the_store_and_the_team_at_once(sink: Sink, db_url: str) -> None:
    clock = Clock()
    store = Store(db_url)
    store.create_schema()
    notifier = Notifier([sink.url], store.alerts, clock, backoff_s=0.01).start()
    watch = AlertWatch(store.alerts, {"SIM-X": AlertRules(cooldown_s=60.0)}, clock, notifier)
    try:
        # At once: nothing batches it (how fast is a benchmark's question, not this test's).
        watch.on_binance_signal("SIM-X", liquidation("NEW", 0.0, 0.0, 0.0, T0), T0)
        notifier.drain()  # returns once the sink has answered
        assert [(b["title"], b["type"]) for b in sink.bodies] == [
            ("[CRITICAL] SIM-X: Binance liquidation order on BTCUSDT", "failure")
        ]
        assert sink.bodies[0]["message"].startswith(
            "Binance is liquidating SIM-X: BTCUSDT SELL, nothing filled yet (NEW)."
        )

        # 0.3 then 0.2 more fill: z = 0.3, then 0.5. Same row, updated at once; no message.
        for at_ms, status, filled, last, price in (
            (T0 + 200, "PARTIALLY_FILLED", 0.3, 0.3, 41_000.0),
            (T0 + 400, "FILLED", 0.5, 0.2, 40_950.0),
        ):
            clock.ms = at_ms
            watch.on_binance_signal("SIM-X", liquidation(status, filled, last, price, at_ms), at_ms)
        (row,) = store.alerts.active("SIM-X")
        key = f"binance_liquidation:{LIQUIDATION_ID}"
        assert (row.key, row.severity, row.value) == (key, "critical", 0.5)
        assert row.message == (
            "Binance is liquidating SIM-X: BTCUSDT SELL 0.5 (FILLED, last 0.2 at 40,950.00)"
        )

        # Binance's own status, pushed: its words and uniMMR, critical, sent at once.
        watch.on_binance_signal(
            "SIM-X", RiskLevelChange(clock.ms, 1.18, "REDUCE_ONLY", 30.2, 30.2, 25.6), clock.ms
        )
        # A signal for an account this collector does not hold: nothing, and no exception.
        watch.on_binance_signal("OTHER", liquidation("NEW", 0.0, 0.0, 0.0, clock.ms), clock.ms)
        notifier.drain()
        titles = [b["title"] for b in sink.bodies]
        assert titles[1:] == ["[CRITICAL] SIM-X: Binance status REDUCE_ONLY"]
        assert sink.bodies[1]["message"].startswith(
            "Binance says SIM-X is REDUCE_ONLY: uniMMR 1.18."
        )
        assert {a.account for a in store.alerts.active()} == {"SIM-X"}

        # Acknowledged on a screen at t = 10 s: the timer sees it; cleared 60 s later, once.
        assert store.alerts.acknowledge(row.id, "ops", T0 + 10_000)
        for at_s in (10, 11, 69):
            clock.ms = T0 + at_s * 1000
            watch.tick()
        got = store.alerts.get(row.id)
        assert got is not None and got.cleared_at_ms is None and got.recovering
        clock.ms = T0 + 70_000
        watch.tick()
        got = store.alerts.get(row.id)
        assert got is not None and got.cleared_at_ms == T0 + 70_000
        notifier.drain()
        cleared = [b for b in sink.bodies if b["title"].startswith("[CLEARED]")]
        assert [b["title"] for b in cleared] == [
            "[CLEARED] SIM-X: Binance liquidation order on BTCUSDT"
        ]
        assert "acknowledged, the order FILLED" in cleared[0]["message"]
    finally:
        notifier.stop()
        store.close()
