"""Memory over hours, as a desk leaves pmdesk: does its resident set keep growing?

Set-up, all on 127.0.0.1 and in real time: ``pmdesk demo`` in a child process (the bundled
simulator, collection of ``--accounts`` simulated accounts with their user data streams, and
the dashboard under waitress, exactly as the command runs them; the store a SQLite file in a
temporary directory), and headless Chromium viewers left open, one browser context each (so
none is a throttled background tab): ``overview`` (``/``), ``kiosk`` (``/?kiosk=1``, cycling
the accounts worst first) and ``history`` (``/?view=history``). ``--tabs N`` opens N of each,
to age the server faster than one desk would.

More accounts than the five presets (``--accounts 25``): the simulator runs in this process with
that many accounts (the presets in turn, as ``bench_accounts`` makes them) and the child is
``pmdesk run`` (collection and dashboard, as a desk runs them against Binance) with a settings
file naming them; its RSS is then pmdesk's alone, without the simulator.

The child's RSS (``/proc/PID/status`` VmRSS) is sampled every ``--sample-s`` (30 s); after
``--warmup-min`` (15 min) the samples are fitted by least squares and the slope printed in MB
an hour. ``--trace`` starts ``tracemalloc`` in the child (bench only: nothing in pmdesk knows of
it) and has it dump a snapshot at the end of the warm-up and at the end of the run; the top
allocation sites by growth between the two are printed (the way the cause of a leak is found).

    .venv/bin/python -m bench.bench_soak --hours 2 [--accounts 5]
        [--viewers overview,kiosk,history] [--warmup-min 15] [--tabs 1] [--trace]
    .venv/bin/python -m bench.bench_soak --hours 2 --accounts 25

Last line: ``soak: N h, RSS growth N MB/h after warm-up (viewers: ...)``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from bench.bench_accounts import account_names, settings_file
from connectors.simulator.server import Simulator, SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
VIEWER_PATHS = {"overview": "/", "kiosk": "/?kiosk=1", "history": "/?view=history"}
PRESET_ORDER = ("basis", "directional", "coinm_hedger", "borrower", "borrower_pro")
START_TIMEOUT_S = 600.0  # a busy machine: the demo's first polls and evaluations
SNAPSHOT_FRAMES = 6


# --- the child: pmdesk demo, optionally traced -------------------------------------------


def _child(args: argparse.Namespace) -> None:
    """``pmdesk demo`` in this process; with ``--trace DIR`` a snapshot is dumped to
    ``DIR/NAME.snap`` whenever the parent creates ``DIR/NAME.want``."""
    if args.trace_dir:
        tracemalloc.start(SNAPSHOT_FRAMES)
        threading.Thread(
            target=_snapshots_on_request, args=(Path(args.trace_dir),), daemon=True
        ).start()
    from app.cli import main as pmdesk

    presets = [p for name in PRESET_ORDER[: args.accounts] for p in ("--preset", name)]
    pmdesk(["demo", *presets, "--port", str(args.port)])


def _snapshots_on_request(folder: Path) -> None:
    while True:
        for want in sorted(folder.glob("*.want")):
            snap = tracemalloc.take_snapshot()
            snap = snap.filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),))
            tmp = want.with_suffix(".tmp")
            snap.dump(str(tmp))
            tmp.rename(want.with_suffix(".snap"))
            want.unlink()
        time.sleep(1.0)


# --- the parent ---------------------------------------------------------------------------


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A ``/proc/PID/status`` memory line in MB: VmRSS, or its parts RssAnon (heap, arenas,
    numpy buffers) and RssFile (mapped code and files)."""
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert m is not None
    return int(m.group(1)) / 1024


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB an hour; NaN for fewer than two samples."""
    n = len(samples)
    if n < 2:
        return float("nan")
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    sxx = sum((t - mt) ** 2 for t, _ in samples)
    sxy = sum((t - mt) * (v - mv) for t, v in samples)
    return float("nan") if sxx == 0 else 3600 * sxy / sxx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_child(
    args: argparse.Namespace, tmp: Path, port: int, server: SimulatorServer | None
) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PMDESK_STORE__URL"] = f"sqlite:///{tmp / 'soak.db'}"
    if server is not None:
        config, env = settings_file(tmp, server, streams=True)
        cmd = [sys.executable, "-m", "app.cli", "run", "--config", str(config)]
        cmd += ["--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "bench.bench_soak", "--child", "--port", str(port)]
        cmd += ["--accounts", str(args.accounts)]
    if args.trace:
        cmd += ["--trace-dir", str(tmp)]
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_dashboard(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            raise SystemExit(f"pmdesk demo exited ({child.poll()})")
        m = re.search(r"dashboard at (\S+)", line)
        if m:
            # Keep reading its output so its pipe never fills.
            threading.Thread(target=lambda: [None for _ in child.stdout or ()], daemon=True).start()
            return m.group(1).rstrip("/")
    raise SystemExit("pmdesk demo did not start in time")


def snapshot(tmp: Path, name: str, timeout_s: float = 600.0) -> tracemalloc.Snapshot:
    (tmp / f"{name}.want").touch()
    path = tmp / f"{name}.snap"
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"no snapshot {name} from the child")
        time.sleep(0.5)
    return tracemalloc.Snapshot.load(str(path))


def print_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, top: int) -> None:
    print(f"tracemalloc: top {top} allocation sites by growth after the warm-up")
    for stat in _grown(after.compare_to(before, "lineno"))[:top]:
        frame = stat.traceback[0]
        where = f"{_short(frame.filename)}:{frame.lineno}"
        print(f"  {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+8d} blocks  {where}")
    print(f"tracemalloc: top {min(top, 5)} tracebacks by growth")
    for stat in _grown(after.compare_to(before, "traceback"))[: min(top, 5)]:
        print(f"  {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+8d} blocks")
        for frame in stat.traceback:
            print(f"      {_short(frame.filename)}:{frame.lineno}")


def _grown(stats: list[tracemalloc.StatisticDiff]) -> list[tracemalloc.StatisticDiff]:
    return sorted((s for s in stats if s.size_diff > 0), key=lambda s: -s.size_diff)


def _short(filename: str) -> str:
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def open_viewers(browser: Browser, url: str, viewers: list[str], tabs: int) -> list[Page]:
    pages = []
    for name in viewers:
        for _ in range(tabs):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.goto(url + VIEWER_PATHS[name], timeout=60_000)
            pages.append(page)
    return pages


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--accounts", type=int, default=5, help="1-5: pmdesk demo; more: pmdesk run")
    ap.add_argument("--viewers", default="overview,kiosk,history", help="comma list, or ''")
    ap.add_argument("--warmup-min", type=float, default=15.0)
    ap.add_argument("--sample-s", type=float, default=30.0)
    ap.add_argument("--tabs", type=int, default=1, help="viewers of each kind")
    ap.add_argument("--trace", action="store_true", help="tracemalloc in the child")
    ap.add_argument("--top", type=int, default=15, help="tracemalloc sites printed")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--trace-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    viewers = [v for v in args.viewers.split(",") if v]
    unknown = set(viewers) - set(VIEWER_PATHS)
    if unknown:
        ap.error(f"unknown viewers {sorted(unknown)}; known: {', '.join(VIEWER_PATHS)}")
    if args.accounts < 1 or (args.trace and args.accounts > len(PRESET_ORDER)):
        ap.error("--accounts is at least 1; --trace works with the demo's 1 to 5 only")
    total_s = 3600 * args.hours
    warmup_s = 60 * args.warmup_min
    if warmup_s >= total_s:
        ap.error("the warm-up must be shorter than the run")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = None
        if args.accounts > len(PRESET_ORDER):
            server = SimulatorServer(Simulator(accounts=account_names(args.accounts))).start()
        child = start_child(args, tmp, free_port(), server)
        try:
            url = wait_for_dashboard(child)
            what = "pmdesk run" if server is not None else "pmdesk demo"
            print(f"{what} (pid {child.pid}) at {url}; {args.accounts} accounts", flush=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox"]
                )
                open_viewers(browser, url, viewers, args.tabs)
                fit_from = [warmup_s]
                samples = _sample(child, total_s, warmup_s, args, tmp, fit_from)
                browser.close()
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=30)
            if server is not None:
                server.stop()
    after = [(t, v) for t, v in samples if t >= fit_from[0]]
    growth = slope_per_hour(after)
    first, last = samples[0][1], samples[-1][1]
    print(
        f"RSS {first:.0f} MB at start, {after[0][1]:.0f} MB after the warm-up, "
        f"{last:.0f} MB at the end"
    )
    shown = ",".join(viewers) or "none"
    if args.tabs > 1:
        shown += f" x{args.tabs}"
    print(f"soak: {args.hours:g} h, RSS growth {growth:.1f} MB/h after warm-up (viewers: {shown})")


def _sample(
    child: subprocess.Popen[str],
    total_s: float,
    warmup_s: float,
    args: argparse.Namespace,
    tmp: Path,
    fit_from: list[float],
) -> list[tuple[float, float]]:
    """RSS samples (seconds, MB) until ``total_s``; ``fit_from[0]`` is set to where the fit
    starts (the warm-up's end, or the end of the snapshot taken then)."""
    samples: list[tuple[float, float]] = []
    t0 = time.monotonic()
    fit_from[0] = warmup_s
    base: tracemalloc.Snapshot | None = None
    next_at = 0.0
    while True:
        now = time.monotonic() - t0
        if child.poll() is not None:
            raise SystemExit(f"pmdesk demo exited ({child.returncode}) after {now:.0f} s")
        if now >= next_at:
            samples.append((now, rss_mb(child.pid)))
            anon, mapped = rss_mb(child.pid, "RssAnon"), rss_mb(child.pid, "RssFile")
            print(
                f"  {now / 60:6.1f} min  RSS {samples[-1][1]:7.1f} MB"
                f"  (anon {anon:.1f}, file {mapped:.1f})",
                flush=True,
            )
            next_at = max(next_at + args.sample_s, now)
        if args.trace and base is None and now >= warmup_s:
            base = snapshot(tmp, "warm")
            # Taking it costs the child memory of its own: the fit starts after it.
            fit_from[0] = time.monotonic() - t0
        if now >= total_s:
            break
        time.sleep(min(1.0, max(0.0, next_at - now)))
    if args.trace and base is not None:
        print_growth(base, snapshot(tmp, "end"), args.top)
    return samples


if __name__ == "__main__":
    main()
