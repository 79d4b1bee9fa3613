"""Time one mark update between polls: the parsed book re-marked in ``risk/`` (``risk.remark``)
against the JSON re-render it replaced (issue 18 item 6; ``bench/legacy_marks.py``: every
payload re-rendered with the new marks, then all of them parsed again).

Prints both, with and without the evaluation that follows each update, and their ratios (same
run, same machine); no pass/fail. The payloads are a real poll of a simulator preset account over
HTTP (``--preset``, default ``coinm_hedger``: USDⓈ-M and COIN-M positions), the update moves every
listed contract's mark and index by −1 %.

    .venv/bin/python -m bench.bench_marks
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from app.collector.collector import Collector
from app.store.store import Store
from bench.legacy_marks import legacy_apply_marks
from connectors.binance.client import make_client
from connectors.binance.marks import mark_basis, relevant_symbols, updates_from_premium_index
from connectors.binance.parse import snapshot_from_payloads
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules, evaluate
from risk.model import AccountSnapshot, MarketState
from risk.remark import remark

REPEATS = 300


def polled_payloads(preset: str) -> dict[str, object]:
    """One account poll through the connector, as the collector stores it."""
    server = SimulatorServer(Simulator(preset=preset)).start()
    try:
        sim = server.simulator
        client = make_client(sim.api_key, sim.api_secret, server.base_url)
        store = Store("sqlite:///:memory:")
        store.create_schema()
        assert Collector(store, client, RiskRules(), preset).run_once().failure is None
        report = store.latest_report(preset)
        assert report is not None
        payloads = store.snapshot_payloads(store.report_snapshot_id(report.id))
        store.close()
        return payloads
    finally:
        server.stop()


def best_ms(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, float]:
    """(median, minimum) milliseconds of ``fn`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="coinm_hedger")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    payloads = polled_payloads(args.preset)
    relevant = relevant_symbols(payloads)
    updates = tuple(
        replace(u, mark_price=0.99 * u.mark_price, index_price=0.99 * u.index_price)
        for u in updates_from_premium_index(payloads)
        if u.symbol in relevant
    )
    snapshot, market = snapshot_from_payloads(payloads)  # parsed once, at the poll
    basis = mark_basis(payloads)
    rules = RiskRules()

    def old() -> tuple[AccountSnapshot, MarketState]:
        return snapshot_from_payloads(legacy_apply_marks(payloads, updates))

    def new() -> tuple[AccountSnapshot, MarketState]:
        return remark(snapshot, market, basis, updates)

    same = evaluate(*old(), rules), evaluate(*new(), rules)
    agree = abs(same[0].uni_mmr / same[1].uni_mmr - 1.0) < 1e-9

    def with_eval(step: Callable[[], tuple[AccountSnapshot, MarketState]]) -> Callable[[], object]:
        return lambda: evaluate(*step(), rules)

    print(
        f"preset {args.preset}: {len(payloads)} payloads, {len(snapshot.um_positions)} USDⓈ-M and "
        f"{len(snapshot.cm_positions)} COIN-M positions, {len(updates)} mark updates; "
        f"both paths give uniMMR {same[1].uni_mmr:.6f} ({'agree' if agree else 'DISAGREE'})"
    )
    rows: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("mark update → snapshot + market", old, new),
        ("mark update → report (+ evaluate)", with_eval(old), with_eval(new)),
    ]
    for name, before, after in rows:
        (b_med, b_min), (a_med, a_min) = best_ms(before), best_ms(after)
        print(
            f"{name:36s} JSON re-render {b_med:8.3f} ms (min {b_min:.3f})   "
            f"risk.remark {a_med:8.3f} ms (min {a_min:.3f})   ratio ×{b_med / a_med:.1f}"
        )


if __name__ == "__main__":
    main()
