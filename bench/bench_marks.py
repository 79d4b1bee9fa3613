"""Time one mark update between polls: the parsed book re-marked in ``risk/`` (``risk.remark``)
against the JSON re-render it replaced (issue 18 item 6; ``bench/legacy_marks.py``: every
payload re-rendered with the new marks, then all of them parsed again).

Prints both, with and without the evaluation that follows each update, and their ratios (same
run, same machine); no pass/fail. The payloads are a real poll of a simulator preset account over
HTTP (``--preset``, default ``coinm_hedger``: USDⓈ-M and COIN-M positions), the update moves every
listed contract's mark and index by −1 %.

    .venv/bin/python -m bench.bench_marks
    .venv/bin/python -m bench.bench_marks --outlook   # the same with Outlooks computed beside it

``--outlook`` (issue 20): the collector's outlook job computes beside the one-second figures.
A thread computes the same account's Outlook (``app/collector/outlook_model.py``: 10,000 paths
by default, ``--paths``; GBM at 60 % a year for every held asset, whose revaluation costs what
the historical simulation's does) back to back, at the niced priority the collector gives it —
the worst case: the collector computes one an account a minute. Each row then also gives the
95th percentile, and a thread waking every 20 ms says how late it woke (what a stall of the
interpreter would add to the mark-to-screen time). Run with and without to compare.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from app.cli.outlook_collection import lower_priority
from app.collector.collector import Collector
from app.collector.outlook_model import Histories, OutlookModel
from app.store.store import Store
from bench.legacy_marks import legacy_apply_marks
from connectors.binance.client import make_client
from connectors.binance.marks import mark_basis, relevant_symbols, updates_from_premium_index
from connectors.binance.parse import snapshot_from_payloads
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules, evaluate
from risk.model import AccountSnapshot, MarketState
from risk.outlook import OutlookSettings
from risk.outlook_result import GBM
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
    times = timed_ms(fn, repeats)
    return statistics.median(times), min(times)


def timed_ms(fn: Callable[[], object], repeats: int = REPEATS) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


class Beside:
    """Outlooks computed back to back on a niced thread (``--outlook``), and a thread waking
    every ``WAKE_S`` noting how late it woke."""

    WAKE_S = 0.02

    def __init__(self, snapshot: AccountSnapshot, market: MarketState, paths: int) -> None:
        assets = {b.asset for b in snapshot.balances} | {
            p.base_asset for p in snapshot.um_positions
        }
        assets |= {p.margin_asset for p in snapshot.cm_positions}
        settings = OutlookSettings(
            n_paths=paths, model=GBM, vol_annualised={a: 0.6 for a in assets if a != "USDT"}
        )
        self.model = OutlookModel(RiskRules(), settings)
        self.inputs = snapshot, market
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.late_ms: list[float] = []
        self.threads: list[threading.Thread] = []

    def start(self, outlook: bool) -> Beside:
        if outlook:
            self.threads.append(threading.Thread(target=self._outlooks, daemon=True))
        self.threads.append(threading.Thread(target=self._wake, daemon=True))
        for t in self.threads:
            t.start()
        return self

    def _outlooks(self) -> None:
        lower_priority()
        while not self.stop.is_set():
            t0 = time.perf_counter()
            o = self.model(*self.inputs, Histories(), 0)
            assert not o.unknown, o.unknown
            self.seconds.append(time.perf_counter() - t0)

    def _wake(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            time.sleep(self.WAKE_S)
            self.late_ms.append(1000 * (time.perf_counter() - t0 - self.WAKE_S))

    def end(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="coinm_hedger")
    ap.add_argument("--outlook", action="store_true", help="Outlooks computed beside it")
    ap.add_argument("--paths", type=int, default=10_000, help="the Outlook's paths")
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
    beside = Beside(snapshot, market, args.paths).start(args.outlook)
    try:
        if args.outlook:  # the first outlook under way before the timing starts
            while not beside.seconds:
                time.sleep(0.05)
        for name, before, after in rows:
            b, a = timed_ms(before), timed_ms(after)
            b_med, a_med = statistics.median(b), statistics.median(a)
            print(
                f"{name:36s} JSON re-render {b_med:8.3f} ms (min {min(b):.3f}, p95 "
                f"{p95(b):.3f})   risk.remark {a_med:8.3f} ms (min {min(a):.3f}, p95 "
                f"{p95(a):.3f})   ratio ×{b_med / a_med:.1f}"
            )
    finally:
        beside.end()
    late = beside.late_ms
    print(
        f"outlook beside: {'on' if args.outlook else 'off'}"
        + (
            f" ({len(beside.seconds)} outlooks of {args.paths:,} paths, median "
            f"{statistics.median(beside.seconds):.2f} s each)"
            if beside.seconds
            else ""
        )
        + f"; a 20 ms timer woke late by median {statistics.median(late):.2f} ms, p95 "
        f"{p95(late):.2f} ms, max {max(late):.2f} ms over {len(late)} wakes"
    )


if __name__ == "__main__":
    main()
