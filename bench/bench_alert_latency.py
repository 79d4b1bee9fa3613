"""From a price move in the simulator to the alert banner on a screen: how long, p50 / p95 / max.

Set-up, all on 127.0.0.1 and in real time: the bundled simulator (directional preset: ≈ 30x
long BTC and ETH perpetuals, so a 1.5 % drop takes uniMMR down by about half) streaming mark
prices every second as Binance's ``@markPrice@1s`` does; pmdesk's collection as ``pmdesk run``
starts it (account polls every 2 s, re-evaluation on every streamed mark, the alert watch in
the collector); the dashboard under waitress; headless Chromium showing the overview.

Each round: the market drops 1.5 % at once (BTC and ETH), and the clock runs until the banner is
in the page; then the market rises back and the banner must go (cooldown 0) before the next
round. The warn level sits at 60 % of the starting uniMMR, its clear level at 80 %.

Baseline, same run: an alert written straight into the store, to the banner on screen — the
screen's own share (its 500 ms check and the redraw). The ratio says what the collector adds.

    .venv/bin/python -m bench.bench_alert_latency [--rounds 20] [--outlook]

``--outlook`` (issue 20: "mark-to-screen latency unchanged within noise"): the same rounds again
in a second set-up with the collector's outlook job at the worst the settings allow (an Outlook
of the account every 5 s, ``core_share`` 1: one is nearly always being computed, and each drop
worsens the band, which brings one forward at once); last line, the ratio of the two modes'
p50 and p95. The first mode runs with the job off.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from app.cli import _start_collection
from app.clock import now_ms
from app.collector.collector import Collector
from app.config import load_settings
from app.server import bound_url, make_http_server, stop_serving
from app.store.outlooks import OutlookStore
from app.store.store import Store
from app.web.app import create_app
from connectors.binance.client import make_client
from connectors.simulator.server import Simulator, SimulatorServer
from risk.model import RiskRules

ACCOUNT = "sim-directional"
DROP = 0.015
TIMEOUT_MS = 15_000


def starting_uni_mmr(sim: SimulatorServer) -> float:
    store = Store("sqlite:///:memory:")
    store.create_schema()
    sim_ = sim.simulator
    client = make_client(sim_.api_key, sim_.api_secret, sim.base_url)
    Collector(store, client, RiskRules(), ACCOUNT).run_once()
    report = store.latest_report(ACCOUNT)
    assert report is not None
    store.close()
    return report.uni_mmr


def move(sim: SimulatorServer, fraction: float) -> None:
    for asset in ("BTC", "ETH"):
        sim.simulator.market.shock(asset, fraction)


def stats(xs: list[float]) -> str:
    p95 = statistics.quantiles(xs, n=100, method="inclusive")[94]
    return (
        f"p50 {1000 * statistics.median(xs):6.0f} ms  p95 {1000 * p95:6.0f} ms  "
        f"max {1000 * max(xs):6.0f} ms"
    )


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[94]


def banner_after(page: Page, action: object) -> float:
    """Seconds from ``action()`` to a banner row in the page."""
    t = time.perf_counter()
    action()  # type: ignore[operator]
    page.wait_for_selector(".alert-line", timeout=TIMEOUT_MS)
    return time.perf_counter() - t


def run(rounds: int, outlook: bool) -> tuple[list[float], list[float], int]:
    """One mode's rounds: (price move → banner, store → banner, outlooks stored)."""
    sim = SimulatorServer(Simulator(accounts={ACCOUNT: "directional"})).start()
    u0 = starting_uni_mmr(sim)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            db_url=f"sqlite:///{Path(tmp) / 'alerts.db'}",
            alerts={
                "uni_mmr_warn": 0.6 * u0,
                "uni_mmr_warn_clear": 0.8 * u0,
                "uni_mmr_critical": 1.01,  # this bench watches the warn alone
                "uni_mmr_critical_clear": 1.02,
                "liquidation_move_pct": 0,
                "asset_liquidation_pct": 0,
                "usage_rise_pct_per_min": 1e9,
                "stale_s": 1e9,
                "account_status": False,
                "cooldown_s": 0,
            },
            # on: the worst case the settings allow, an Outlook every 5 s on a whole core
            # (its own alert, P(liquidation within 24 h) above 1 %, is on for this book: out of
            # the way, as the critical level is)
            outlook={
                "enabled": outlook,
                "every_s": 5,
                "core_share": 1.0,
                "alert_p": 0.999,
                "alert_p_clear": 0.998,
            },
        )
        store = Store(settings.store.url)
        store.create_schema()
        sim_ = sim.simulator
        clients = [(ACCOUNT, make_client(sim_.api_key, sim_.api_secret, sim.base_url))]
        stop = _start_collection(settings, store, clients, sim.um_stream_url, sim.cm_stream_url)
        app = create_app(store, [ACCOUNT], settings.web.stale_after_s)
        http = make_http_server(app.server, "127.0.0.1", 0, threads=8)
        threading.Thread(target=http.run, daemon=True).start()
        mode = "on (every 5 s, core_share 1)" if outlook else "off"
        print(f"outlook {mode}: starting uniMMR {u0:.2f}", end="; ")
        print(f"warn below {0.6 * u0:.2f}, clears at {0.8 * u0:.2f}")
        end_to_end: list[float] = []
        screen_only: list[float] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(bound_url(http))
            page.wait_for_selector("#hero", timeout=TIMEOUT_MS)
            for i in range(rounds):
                end_to_end.append(banner_after(page, lambda: move(sim, -DROP)))
                move(sim, 1 / (1 - DROP) - 1)
                page.wait_for_selector(".alert-line", state="detached", timeout=TIMEOUT_MS)

                def insert() -> None:
                    store.alerts.open(ACCOUNT, "bench", "warn", "bench", "-", "-", None, now_ms())

                screen_only.append(banner_after(page, insert))
                for a in store.alerts.active():
                    if a.key == "bench":
                        store.alerts.close(a.id, now_ms())
                page.wait_for_selector(".alert-line", state="detached", timeout=TIMEOUT_MS)
                print(
                    f"\r  round {i + 1}/{rounds}: {1000 * end_to_end[-1]:.0f} ms",
                    end="",
                    flush=True,
                )
            browser.close()
        print()
        latest = OutlookStore(store.engine).latest_id(ACCOUNT)
        stop_serving(http)
        stop()
        store.close()
    sim.stop()
    return end_to_end, screen_only, 0 if latest is None else latest[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument(
        "--outlook", action="store_true", help="run again with the outlook job computing beside"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    end_to_end, screen_only, _ = run(args.rounds, outlook=False)
    print(f"price move → banner      {stats(end_to_end)}")
    print(f"store → banner (baseline) {stats(screen_only)}")
    print(f"p95 ratio                 ×{p95(end_to_end) / p95(screen_only):.2f}")
    print(f"p95 under 2 s: {'yes' if p95(end_to_end) < 2.0 else 'NO'}")
    if args.outlook:
        with_outlook, _, n = run(args.rounds, outlook=True)
        print(f"price move → banner, outlooks beside ({n} computed) {stats(with_outlook)}")
        p50_ratio = statistics.median(with_outlook) / statistics.median(end_to_end)
        print(
            f"outlook on/off: p50 ×{p50_ratio:.2f}  p95 ×{p95(with_outlook) / p95(end_to_end):.2f}"
        )


if __name__ == "__main__":
    main()
