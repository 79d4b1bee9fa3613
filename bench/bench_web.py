"""Dash callbacks under load: 30 days of history in the store, 10 viewers refreshing every second.

Set-up: a fresh SQLite store with ``--days`` of generated history (2 s resolution) for one
account; the newest reports are real — a collector polls the bundled simulator every second over
HTTP on 127.0.0.1, so every viewer's views redraw every second. The dashboard is served by
waitress (8 threads) on 127.0.0.1, as ``pmdesk run`` does, in a process of its own (the viewers,
like browsers, run elsewhere: here in the parent process).

A viewer does what the page does in a browser: every 500 ms the report-key check; when the key
changes, its view's callback; every second the overview/header refresh. Viewers are spread over
the views (history at every range). Phase 1 (baseline): one viewer at a time, each view in turn.
Phase 2: ``--viewers`` at once. Printed: p50 / p95 / max per callback, the ratio of the p95s,
and the cost of a 30-day chart read from raw reports versus the stored hourly buckets.

    .venv/bin/python -m bench.bench_web [--days 30] [--viewers 10] [--seconds 30]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import requests

from app.clock import now_ms
from app.collector.collector import Collector
from app.server import bound_url, make_http_server, stop_serving
from app.store.rollup import HOUR_S, merge
from app.store.store import Store
from app.web.app import create_app
from app.web.pages.history_figure import RANGES, load_series, series_of_buckets, series_of_samples
from bench.history import generate
from connectors.binance.client import make_client
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import RiskRules

ACCOUNT = "sim-basis"
VIEWER_VIEWS = [
    ("overview", None),
    ("overview", None),
    ("hedges", None),
    ("positions", None),
    ("stress", None),
    ("history", "1h"),
    ("history", "24h"),
    ("history", "7d"),
    ("history", "30d"),
    ("classic", None),
]
VIEW_OUTPUT = {
    "hedges": "hedge-chart",
    "positions": "positions-grid",
    "stress": "stress-chart",
    "history": "history-chart",
    "classic": "classic-chart",
}


class Dash:
    """Builds ``/_dash-update-component`` requests from the app's own dependency list."""

    def __init__(self, url: str) -> None:
        self.url = url
        deps = requests.get(url + "_dash-dependencies", timeout=10).json()
        self.by_output = {d["output"]: d for d in deps}

    def find(self, contains: str) -> dict[str, Any]:
        return next(d for out, d in self.by_output.items() if contains in out)

    @staticmethod
    def _outputs(spec: str) -> Any:
        def one(item: str) -> dict[str, str]:
            ident, prop = item.rsplit(".", 1)
            return {"id": ident, "property": prop.split("@")[0]}

        if spec.startswith(".."):
            return [one(x) for x in spec.strip(".").split("...")]
        return one(spec)

    def body(self, dep: dict[str, Any], values: dict[str, Any], changed: str) -> dict[str, Any]:
        def items(kind: str) -> list[dict[str, Any]]:
            return [
                {**x, "value": values.get(f"{x['id']}.{x['property']}")} for x in dep.get(kind, [])
            ]

        return {
            "output": dep["output"],
            "outputs": self._outputs(dep["output"]),
            "inputs": items("inputs"),
            "state": items("state"),
            "changedPropIds": [changed],
        }


def viewer(
    dash: Dash,
    view: str,
    rng: str | None,
    until: float,
    timings: dict[str, list[float]],
    lock: threading.Lock,
) -> None:
    s = requests.Session()
    key_dep = dash.find("report-key.data")
    overview_dep = dash.find("uni-mmr.children")
    view_dep = None if view == "overview" else dash.find(f"{VIEW_OUTPUT[view]}.")
    values: dict[str, Any] = {
        "account.value": ACCOUNT,
        "view.value": view,
        "history-range.value": rng,
        "report-key.data": None,
        "tick.n_intervals": 0,
        "age-tick.n_intervals": 0,
    }

    def call(name: str, dep: dict[str, Any], changed: str) -> Any:
        t = time.perf_counter()
        r = s.post(dash.url + "_dash-update-component", json=dash.body(dep, values, changed))
        took = time.perf_counter() - t
        if r.status_code not in (200, 204):
            raise RuntimeError(f"{name}: HTTP {r.status_code} {r.text[:200]}")
        with lock:
            timings[name].append(took)
        return r.json() if r.status_code == 200 else None

    next_tick = time.perf_counter()
    n = 0
    while time.perf_counter() < until:
        n += 1
        values["tick.n_intervals"] = n
        answer = call("report-key (every 0.5 s)", key_dep, "tick.n_intervals")
        if answer is not None:
            values["report-key.data"] = answer["response"]["report-key"]["data"]
            if view_dep is not None:
                call(f"{view}{' ' + rng if rng else ''}", view_dep, "report-key.data")
        if n % 2 == 0:
            values["age-tick.n_intervals"] = n // 2
            call("header + overview (every 1 s)", overview_dep, "age-tick.n_intervals")
        next_tick += 0.5
        time.sleep(max(0.0, next_tick - time.perf_counter()))


def run_phase(
    dash: Dash, plan: list[tuple[str, str | None]], seconds: float
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=viewer, args=(dash, v, r, until, timings, lock), daemon=True)
        for v, r in plan
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[94] if len(xs) > 1 else xs[0]


def report(title: str, timings: dict[str, list[float]]) -> float:
    print(f"\n{title}")
    print(f"  {'callback':34} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    everything: list[float] = []
    for name in sorted(timings):
        xs = timings[name]
        everything += xs
        print(
            f"  {name:34} {len(xs):6d} {1000 * statistics.median(xs):8.1f} "
            f"{1000 * p95(xs):8.1f} {1000 * max(xs):8.1f}"
        )
    whole = p95(everything)
    print(f"  {'all callbacks':34} {len(everything):6d} {'':8} {1000 * whole:8.1f}")
    return whole


def serve(db_url: str, urls: Any, stop: Any) -> None:
    """The pmdesk side, in its own process as in production: a collector polling the simulator
    every second (a new report each second) and the dashboard under waitress."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # queueing shows in the figures
    store = Store(db_url)
    sim = SimulatorServer(Simulator(preset="basis")).start()
    client = make_client(sim.simulator.api_key, sim.simulator.api_secret, sim.base_url)
    collector = Collector(store, client, RiskRules(), ACCOUNT)
    assert collector.run_once().report_id is not None

    def collect() -> None:
        while not stop.wait(1.0):
            collector.run_once()

    threading.Thread(target=collect, name="collector", daemon=True).start()
    app = create_app(store, [ACCOUNT], 10.0)
    http = make_http_server(app.server, "127.0.0.1", 0, threads=8)
    threading.Thread(target=http.run, name="waitress", daemon=True).start()
    urls.put(bound_url(http))
    stop.wait()
    stop_serving(http)
    sim.stop()
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--viewers", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.create_schema()
        print(f"generating {args.days:g} days of history at 2 s for {ACCOUNT} …", flush=True)
        t = time.perf_counter()
        n = generate(store, [ACCOUNT], args.days, 2.0, now_ms() - 5_000)
        size_mb = (Path(tmp) / "bench.db").stat().st_size / 1e6
        print(f"  {n:,} reports, {size_mb:,.0f} MB, in {time.perf_counter() - t:.0f} s")

        spawn = multiprocessing.get_context("spawn")
        urls = spawn.Queue()
        stop = spawn.Event()
        server = spawn.Process(target=serve, args=(store.engine.url.render_as_string(), urls, stop))
        server.start()
        url = urls.get(timeout=60)
        t = time.perf_counter()
        requests.get(url, timeout=10).raise_for_status()
        dash = Dash(url)
        requests.get(url + "_dash-layout", timeout=10).raise_for_status()
        print(f"  page + layout + dependencies: {1000 * (time.perf_counter() - t):.0f} ms")

        # The 30-day chart: every raw report versus the stored hourly buckets (same answer).
        since = now_ms() - 30 * 86_400_000
        t = time.perf_counter()
        raw = store.history_samples(ACCOUNT, since)
        series_of_samples(raw)
        raw_s = time.perf_counter() - t
        t = time.perf_counter()
        load_series(store, ACCOUNT, RANGES["30d"], now_ms())
        bucket_s = time.perf_counter() - t
        minute_buckets = store.history_buckets(ACCOUNT, 60, since)
        t = time.perf_counter()
        series_of_buckets(merge(minute_buckets, HOUR_S), HOUR_S)
        merged_s = time.perf_counter() - t + bucket_s
        print(
            f"\n30-day chart data: {len(raw):,} raw reports {1000 * raw_s:,.0f} ms; hourly buckets "
            f"{1000 * bucket_s:.1f} ms (×{raw_s / bucket_s:,.0f} faster); "
            f"1-minute buckets merged {1000 * merged_s:.0f} ms"
        )

        per_view = max(3.0, args.seconds / len(VIEWER_VIEWS))
        alone: dict[str, list[float]] = defaultdict(list)
        for one in VIEWER_VIEWS:
            for name, xs in run_phase(dash, [one], per_view).items():
                alone[name] += xs
        base = report(f"baseline: one viewer at a time, each view {per_view:g} s", alone)
        plan = [VIEWER_VIEWS[i % len(VIEWER_VIEWS)] for i in range(args.viewers)]
        load = report(
            f"{args.viewers} viewers at once for {args.seconds:g} s",
            run_phase(dash, plan, args.seconds),
        )
        print(
            f"\np95 of all callbacks: {1000 * load:.1f} ms with {args.viewers} viewers vs "
            f"{1000 * base:.1f} ms alone (×{load / base:.2f}); target < 100 ms"
        )
        stop.set()
        server.join(timeout=30)
        store.close()


if __name__ == "__main__":
    main()
