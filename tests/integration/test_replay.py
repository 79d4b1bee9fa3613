"""A stored report's inputs rebuild from the store alone: the what-if view starts from them."""

from __future__ import annotations

from app.collector.collector import Collector
from app.replay import report_inputs
from app.store.store import Store
from risk.evaluate import evaluate
from risk.model import RiskRules


def test_stored_poll_report_replays_exactly(collector: Collector, store: Store) -> None:
    assert collector.run_once().report_id is not None
    report = store.latest_report("sim-basis")
    assert report is not None
    again = evaluate(*report_inputs(store, report.id), RiskRules())
    assert (again.uni_mmr, again.adjusted_equity_usd) == (
        report.uni_mmr,
        report.adjusted_equity_usd,
    )
