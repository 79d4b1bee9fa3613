"""Many accounts on one IP: API weight, figures' age, CPU and memory of one ``pmdesk collect``.

Set-up, all on 127.0.0.1 and in real time: the bundled simulator serving ``--accounts`` accounts
(the presets in turn) with its own weight limiter (per IP and family, one-minute windows, as
Binance counts), and one ``pmdesk collect`` process (a subprocess, its own settings file, a
SQLite store) collecting all of them with the default settings: polls every 2 s asked (the
planning raises it to stay under half of every family's limit), mark prices streamed, and each
account's user data stream followed (REST then only reconciles). A trader is busy meanwhile: a
small USD-M fill on one account after another, every ``--fill-every`` seconds.

Measured over ``--warmup`` seconds (default 60) and then ``--minutes`` of collection, from the
moment every account has its first report:

- the highest per-family weight of any one-minute window as a share of its limit, from the
  simulator's limiter, every minute counted (the first one too, which reads every account's
  hourly tables and carry history at once);
- every account's figures age, sampled each second after the warm-up (the start's burst is
  printed apart): now minus the older of the newest stored report's data time and its
  positions' time (positions a poll read, or the stream kept);
- pmdesk's CPU (share of one core, warm-up included) and its highest resident memory, each
  also divided by the accounts.

Baseline, same run: the same accounts in poll-only mode (``exchange.user_stream = false``),
where the poll floor must make them poll slower. Figures, not pass/fail.

    .venv/bin/python -m bench.bench_accounts --accounts 25 [--minutes 5] [--warmup 60]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.clock import now_ms
from app.limits import LIMITS_PER_MINUTE
from app.store.store import Store
from connectors.simulator.limiter import WeightLimiter
from connectors.simulator.presets import PRESETS
from connectors.simulator.server import Simulator, SimulatorServer
from connectors.simulator.weights import family

READY_S = 180.0  # every account's first report, on a busy machine
FILL_SYMBOL = "ETHUSDT"
FILL_QTY = "0.01"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def account_names(n: int) -> dict[str, str]:
    """``n`` accounts, the presets in turn (``sim-00-basis``, ``sim-01-directional``…)."""
    presets = sorted(PRESETS)
    return {f"sim-{i:02d}-{presets[i % len(presets)]}": presets[i % len(presets)] for i in range(n)}


class WeightLog(WeightLimiter):
    """The simulator's limiter, noting the highest used weight of each (minute, family)."""

    def __init__(self) -> None:
        super().__init__()
        self.peaks: dict[tuple[int, str], int] = {}
        self.seen = threading.Lock()

    def charge(self, ip: str, path: str, now_ms: int, weight: int | None = None) -> int:
        used = super().charge(ip, path, now_ms, weight)
        key = (now_ms // 60_000, family(path))
        with self.seen:
            self.peaks[key] = max(self.peaks.get(key, 0), used)
        return used

    def worst(self) -> tuple[float, str, int]:
        """(share of the limit, family, minute) of the heaviest minute."""
        with self.seen:
            items = list(self.peaks.items())
        return max(((v / LIMITS_PER_MINUTE[f], f, m) for (m, f), v in items), default=(0, "-", 0))

    def by_minute(self) -> list[str]:
        with self.seen:
            minutes = sorted({m for m, _ in self.peaks})
            return [
                " ".join(
                    f"{f} {100 * self.peaks[(m, f)] / LIMITS_PER_MINUTE[f]:.0f}%"
                    for f in sorted(LIMITS_PER_MINUTE)
                    if (m, f) in self.peaks
                )
                for m in minutes
            ]


@dataclass
class Process:
    pid: int

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def rss_mb(self) -> float:
        pages = int(Path(f"/proc/{self.pid}/statm").read_text().split()[1])
        return pages * PAGE_KB / 1024


@dataclass
class Result:
    mode: str
    weight_share: float
    weight_family: str
    minutes: list[str]
    ages_s: list[float]  # after the warm-up
    startup_ages_s: list[float]  # during it
    by_account: dict[str, list[float]]
    cpu_share: float
    rss_mb: float
    raised: list[str]


def settings_file(tmp: Path, server: SimulatorServer, streams: bool) -> tuple[Path, dict[str, str]]:
    """pmdesk's settings (TOML) and the environment holding the accounts' keys."""
    env = dict(os.environ)
    lines = [
        "[exchange]",
        f'base_url = "{server.base_url}"',
        f'um_stream_url = "{server.um_stream_url}"',
        f'cm_stream_url = "{server.cm_stream_url}"',
        f'pm_stream_url = "{server.pm_stream_url}"',
        f"user_stream = {'true' if streams else 'false'}",
        "[store]",
        f'url = "sqlite:///{tmp / "bench.db"}"',
    ]
    for i, a in enumerate(server.simulator.accounts):
        env[f"BENCH_KEY_{i}"], env[f"BENCH_SECRET_{i}"] = a.api_key, a.api_secret
        lines += [
            "[[accounts]]",
            f'name = "{a.name}"',
            f'api_key_env = "BENCH_KEY_{i}"',
            f'api_secret_env = "BENCH_SECRET_{i}"',
        ]
    path = tmp / "pmdesk.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, env


def figures_age_s(store: Store, names: list[str], now: int) -> list[float | None]:
    """Each account's figures age: the older of its newest report's data and positions."""
    out: list[float | None] = []
    for name in names:
        r = store.latest_report(name)
        out.append(None if r is None else (now - min(r.data_time_ms, r.positions_at_ms)) / 1000)
    return out


def busy_trader(sim: Simulator, every_s: float, stop: threading.Event) -> Callable[[], int]:
    """A small fill on one account after another; returns a counter of fills done."""
    done = [0]

    def run() -> None:
        i, side = 0, "BUY"
        while not stop.wait(every_s):
            account = sim.accounts[i % len(sim.accounts)]
            params = {"account": account.name, "symbol": FILL_SYMBOL, "side": side}
            sim.user_data.act("fill", {**params, "quantity": FILL_QTY})
            done[0] += 1
            i += 1
            if i % len(sim.accounts) == 0:
                side = "SELL" if side == "BUY" else "BUY"

    threading.Thread(target=run, daemon=True).start()
    return lambda: done[0]


def run_mode(
    n: int, minutes: float, warmup_s: float, streams: bool, fill_every_s: float, logs: Path | None
) -> Result:
    mode = "user streams" if streams else "poll-only"
    server = SimulatorServer(Simulator(accounts=account_names(n))).start()
    weights = WeightLog()
    server.simulator.limiter = weights
    stop_trader = threading.Event()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config, env = settings_file(tmp, server, streams)
        store = Store(f"sqlite:///{tmp / 'bench.db'}")
        store.create_schema()
        log_path = tmp / "pmdesk.log"
        with log_path.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "collect", "--config", str(config)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            names = [a.name for a in server.simulator.accounts]
            started = time.monotonic()
            print(f"{mode}: waiting for every account's first report…", flush=True)
            while any(a is None for a in figures_age_s(store, names, now_ms())):
                if proc.poll() is not None or time.monotonic() - started > READY_S:
                    raise SystemExit(f"pmdesk collect did not report:\n{log_path.read_text()}")
                time.sleep(1.0)
            fills = busy_trader(server.simulator, fill_every_s, stop_trader)
            p = Process(proc.pid)
            cpu0, t0 = p.cpu_s(), time.monotonic()
            ages: list[float] = []
            startup: list[float] = []
            by_account: dict[str, list[float]] = {n: [] for n in names}
            rss: list[float] = []
            end = t0 + warmup_s + 60.0 * minutes
            while time.monotonic() < end:
                sampled = figures_age_s(store, names, now_ms())
                warm = time.monotonic() - t0 >= warmup_s
                for name, age in zip(names, sampled, strict=True):
                    if age is not None and warm:
                        ages.append(age)
                        by_account[name].append(age)
                    elif age is not None:
                        startup.append(age)
                rss.append(p.rss_mb())
                left = end - time.monotonic()
                print(f"\r  {mode}: {left:4.0f} s left", end="", flush=True)
                time.sleep(max(0.0, min(1.0, left)))
            cpu = (p.cpu_s() - cpu0) / (time.monotonic() - t0)
            print(f"\r  {mode}: {fills()} fills by the trader meanwhile", flush=True)
        finally:
            stop_trader.set()
            proc.terminate()
            proc.wait(timeout=60)
            store.close()
            server.stop()
        raised = [line for line in log_path.read_text().splitlines() if "raised" in line]
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            (logs / f"pmdesk-{'streams' if streams else 'poll-only'}.log").write_text(
                log_path.read_text()
            )
    share, fam, _ = weights.worst()
    minutes_used = weights.by_minute()
    return Result(mode, share, fam, minutes_used, ages, startup, by_account, cpu, max(rss), raised)


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[94]


def show(r: Result, n: int) -> None:
    print(f"{r.mode}:")
    for line in r.raised:
        print(f"  pmdesk: {line.split(' ', 3)[-1] if line[:1].isdigit() else line}")
    for i, line in enumerate(r.minutes):
        print(f"  minute {i + 1}: {line}")
    print(
        f"  max family weight {100 * r.weight_share:.1f} % ({r.weight_family}); figures age "
        f"p50 {1000 * statistics.median(r.ages_s):.0f} ms, p95 {1000 * p95(r.ages_s):.0f} ms, "
        f"max {1000 * max(r.ages_s):.0f} ms ({len(r.ages_s)} samples after the warm-up; "
        f"during it p95 {1000 * p95(r.startup_ages_s):.0f} ms)"
    )
    slowest = sorted(r.by_account, key=lambda a: -p95(r.by_account[a]))[:3]
    print(
        "  slowest accounts (figures age p95): "
        + ", ".join(f"{a} {1000 * p95(r.by_account[a]):.0f} ms" for a in slowest)
    )
    print(
        f"  pmdesk CPU {100 * r.cpu_share:.1f} % of a core ({100 * r.cpu_share / n:.2f} % an "
        f"account), RSS {r.rss_mb:.0f} MB ({r.rss_mb / n:.1f} MB an account)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=25)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument(
        "--warmup", type=float, default=60.0, help="seconds before the figures' age is counted"
    )
    ap.add_argument("--fill-every", type=float, default=2.0, help="seconds between fills")
    ap.add_argument("--logs", type=Path, help="keep pmdesk's logs in this directory")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    run = (args.accounts, args.minutes, args.warmup)
    streamed = run_mode(*run, True, args.fill_every, args.logs)
    polled = run_mode(*run, False, args.fill_every, args.logs)
    show(streamed, args.accounts)
    show(polled, args.accounts)
    ratio = p95(polled.ages_s) / p95(streamed.ages_s)
    print(f"figures age p95: poll-only / user streams ×{ratio:.1f}")
    print(
        f"poll-only: max family weight {100 * polled.weight_share:.1f} %, "
        f"figures age p95 {1000 * p95(polled.ages_s):.0f} ms"
    )
    print(
        f"{args.accounts} accounts: max family weight {100 * streamed.weight_share:.1f} %, "
        f"figures age p95 {1000 * p95(streamed.ages_s):.0f} ms"
    )


if __name__ == "__main__":
    main()
