"""From a fill on the exchange to the new position size on a screen: how long, p50 / p95 / max,
with the account's user data stream and in poll-only mode, in the same run.

Set-up, all on 127.0.0.1 and in real time, once per mode: the bundled simulator (basis preset:
short 10 BTCUSDT), pmdesk's collection as ``pmdesk demo`` starts it (one account, the default
poll interval; mark prices streamed; with the stream: the account's Portfolio Margin user data
stream followed and REST only reconciling; poll-only: ``exchange.user_stream`` off, so the fill
is seen at the next account poll), the dashboard under waitress, headless Chromium showing the
Positions view of the account.

Each round: a fill on the simulated account (``POST /_sim/user/fill``, BUY then SELL 1 BTCUSDT
in turn, so the size steps -10 -> -9 -> -10 ...), timed in this process from just before the
request until the page's BTCUSDT size cell reads the new size (``page.wait_for_function``,
checked every animation frame). The rounds are spaced by a random pause (0 to one poll
interval) so the fills do not fall in step with the polls.

    .venv/bin/python -m bench.bench_fill_latency [--rounds 20]

Last line: ``fill->screen p95 N ms (poll-only p95 M ms)``.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from playwright.sync_api import Page, sync_playwright

from app.cli.collection import start_collection
from app.config import Settings, load_settings
from app.server import bound_url, make_http_server, stop_serving
from app.store.store import CycleRecord, Store, Written
from app.web.app import create_app
from connectors.binance.client import make_client
from connectors.simulator.server import Simulator, SimulatorServer

ACCOUNT = "sim-basis"
SYMBOL = "BTCUSDT"
START_QTY = -10.0  # the basis preset's short
TIMEOUT_MS = 30_000
SIZE_CELL = (
    f'#positions-grid .ag-center-cols-container [row-id="UM:{SYMBOL}:BOTH"] [col-id="amount"]'
)
# The cell's text as a number: d3's "+,.4~f" writes thousands commas and may use U+2212 for minus.
SIZE_IS = """
([selector, want]) => {
    const cell = document.querySelector(selector);
    if (!cell) return false;
    const text = cell.textContent.replace(/,/g, "").replace(/\\u2212/g, "-").trim();
    return text !== "" && Math.abs(Number(text) - want) < 1e-9;
}
"""


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[94]


def stats(xs: list[float]) -> str:
    return (
        f"p50 {1000 * statistics.median(xs):6.0f} ms  p95 {1000 * p95(xs):6.0f} ms  "
        f"max {1000 * max(xs):6.0f} ms"
    )


def fill(base_url: str, side: str) -> None:
    r = requests.post(
        f"{base_url}/_sim/user/fill",
        params={"account": ACCOUNT, "symbol": SYMBOL, "side": side, "quantity": "1"},
        timeout=30,
    )
    r.raise_for_status()


class Writes:
    """When each report was stored (this process's clock) and the BTCUSDT size it holds: the
    fill's time split into fill -> store and store -> screen."""

    def __init__(self, store: Store) -> None:
        self._lock = threading.Lock()
        self.seen: list[tuple[float, float, int]] = []
        write = store.write_cycle

        def timed(cycle: CycleRecord, computed_at_ms: int) -> Written:
            out = write(cycle, computed_at_ms)
            qty = sum(p.amount for p in cycle.report.positions if p.symbol == SYMBOL)
            with self._lock:
                self.seen.append((time.time(), qty, out.report_id))
            return out

        store.write_cycle = timed  # type: ignore[method-assign]

    def first(self, after: float, qty: float) -> tuple[float, int]:
        """(when, report id) of the first report stored after ``after`` holding ``qty``."""
        with self._lock:
            return next((t, i) for t, q, i in self.seen if t >= after and abs(q - qty) < 1e-9)


KEYS_JS = """
window.__pmdeskKeys = [];
const fetch0 = window.fetch;
window.fetch = async function (...args) {
    const response = await fetch0.apply(this, args);
    const at = Date.now();
    if (String(args[0]).includes("_dash-update-component") && response.status === 200) {
        response.clone().json().then((body) => {
            const key = body && body.response && body.response["report-key"];
            if (key && Array.isArray(key.data)) window.__pmdeskKeys.push([at, key.data[1]]);
        }, () => {});
    }
    return response;
};
"""


class Keys:
    """When the page learnt of each newer report: the ``report-key`` callback's answers (the
    viewer's check for a newer report every ``KEY_CHECK_MS``), stamped in the page with the
    wall clock (this machine's, as the store writes are)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.add_init_script(KEYS_JS)

    def first(self, report_id: int) -> float:
        """When the page first had the key of ``report_id`` or a newer one (its answer is
        parsed a moment after the screen may have used it: asked again until it is there)."""
        seen: list[tuple[float, int]] = []
        for _ in range(50):
            seen = self.page.evaluate("window.__pmdeskKeys")
            found = [t / 1000 for t, i in seen if i is not None and i >= report_id]
            if found:
                return found[0]
            self.page.wait_for_timeout(100)
        raise AssertionError(f"report {report_id} never keyed: {seen[-5:]}")


def wait_size(page: Page, want: float) -> None:
    page.wait_for_function(SIZE_IS, arg=[SIZE_CELL, want], polling="raf", timeout=TIMEOUT_MS)


@dataclass
class Rounds:
    total: list[float] = field(default_factory=list)  # fill -> screen
    stored: list[float] = field(default_factory=list)  # fill -> report stored
    keyed: list[float] = field(default_factory=list)  # report stored -> page knows its key
    drawn: list[float] = field(default_factory=list)  # key -> size on screen


def run_mode(settings: Settings, rounds: int, label: str) -> Rounds:
    """``rounds`` fills timed to the screen with these settings; a fresh simulator and store."""
    sim = SimulatorServer(Simulator(accounts={ACCOUNT: "basis"})).start()
    sim_ = sim.simulator
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'fill.db'}")
        store.create_schema()
        writes = Writes(store)
        clients = [(ACCOUNT, make_client(sim_.api_key, sim_.api_secret, sim.base_url))]
        stop = start_collection(
            settings, store, clients, sim.um_stream_url, sim.cm_stream_url, sim.pm_stream_url
        )
        app = create_app(store, [ACCOUNT], settings.web.stale_after_s)
        http = make_http_server(app.server, "127.0.0.1", 0, threads=settings.web.threads)
        threading.Thread(target=http.run, daemon=True).start()
        took = Rounds()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox"]
                )
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                keys = Keys(page)
                page.goto(f"{bound_url(http)}/?account={ACCOUNT}&view=positions")
                wait_size(page, START_QTY)
                qty = START_QTY
                rng = random.Random(19)
                for i in range(rounds):
                    time.sleep(rng.uniform(0.0, settings.exchange.poll_interval_s))
                    side = "BUY" if qty == START_QTY else "SELL"
                    qty += 1.0 if side == "BUY" else -1.0
                    t0, w0 = time.perf_counter(), time.time()
                    fill(sim.base_url, side)
                    wait_size(page, qty)
                    t_screen, w_screen = time.perf_counter(), time.time()
                    w_stored, report_id = writes.first(w0, qty)
                    w_key = keys.first(report_id)
                    took.total.append(t_screen - t0)
                    took.stored.append(w_stored - w0)
                    took.keyed.append(w_key - w_stored)
                    took.drawn.append(w_screen - w_key)
                    print(
                        f"\r  {label}: round {i + 1}/{rounds}: {1000 * took.total[-1]:.0f} ms",
                        end="",
                        flush=True,
                    )
                print()
                browser.close()
        finally:
            stop_serving(http)
            stop()
            store.close()
            sim.stop()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    streamed = load_settings(read_keys=False)
    polled = load_settings(read_keys=False, exchange={"user_stream": False})
    assert polled.exchange.poll_interval_s == streamed.exchange.poll_interval_s
    print(
        f"poll interval {streamed.exchange.poll_interval_s:g} s (both modes); with the stream "
        f"REST reconciles every {streamed.exchange.reconcile_interval_s:g} s"
    )
    with_stream = run_mode(streamed, args.rounds, "user stream")
    poll_only = run_mode(polled, args.rounds, "poll-only")
    load = os.getloadavg()[1]
    print(f"machine load (5 min average) {load:.1f} on {os.cpu_count()} CPUs at the end")
    for name, r in (("user stream", with_stream), ("poll-only", poll_only)):
        print(f"{name}:")
        print(f"  fill -> report stored   {stats(r.stored)}")
        print(f"  stored -> page has key {stats(r.keyed)}")
        print(f"  key -> size on screen   {stats(r.drawn)}")
        print(f"  fill -> screen          {stats(r.total)}")
    ratio = p95(poll_only.total) / p95(with_stream.total)
    print(f"p95 ratio poll-only / user stream: x{ratio:.2f}")
    print(f"p95 under 1 s with the stream: {'yes' if p95(with_stream.total) <= 1.0 else 'NO'}")
    print(
        f"fill->screen p95 {1000 * p95(with_stream.total):.0f} ms "
        f"(poll-only p95 {1000 * p95(poll_only.total):.0f} ms)"
    )


if __name__ == "__main__":
    main()
