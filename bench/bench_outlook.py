"""Time the Outlook (``risk.outlook.compute_outlook``) on ``bench_risk``'s 300-position book:
10,000 FHS paths over 1 h, 8 h and 24 h (5-minute steps in the first hour, hourly after: 35
monitored steps, every one revalued exactly), against one ``evaluate`` of the same book. Wall
and CPU time are both printed. The last line gives the wall time with the chunks valued on two
threads (this machine's two cores: the "< 1 s on this machine" of issue 20) and the CPU time of
the one-thread run the collector makes, as a ratio to one ``evaluate``'s CPU time.

History: 180 days of synthetic 1 h klines for the 60 assets (a common factor plus noise,
fat-tailed, with volatility clusters) and mark and index klines for each of the 300
perpetuals (a mean-reverting basis), aligned by ``risk.outlook_data``. Prints figures, no
pass/fail.

    .venv/bin/python -m bench.bench_outlook
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace

import numpy as np

from app.allocator import keep_freed_memory
from bench.bench_risk import book
from risk import RiskRules, evaluate
from risk.market_history import SPOT, UM_INDEX, UM_MARK, KlineKey, KlineSeries, pair_of
from risk.outlook import OutlookSettings, compute_outlook
from risk.outlook_data import history_from_series

HOURS = 180 * 24
HOUR_MS = 3_600_000
START_MS = 1_750_000_000_000 - 1_750_000_000_000 % HOUR_MS


def _series(key: KlineKey, close: np.ndarray) -> KlineSeries:
    times = START_MS + HOUR_MS * np.arange(len(close), dtype=np.int64)
    return KlineSeries(key, times, close, close, close, close)


def synthetic_history(prices: dict[str, float], symbols: list[str]) -> list[KlineSeries]:
    rng = np.random.default_rng(3)
    assets = [a for a in prices if a != "USDT"]
    vol = 0.004 * np.exp(np.cumsum(rng.normal(0, 0.05, HOURS)))  # clustered volatility
    vol = np.clip(vol, 0.002, 0.03)
    common = rng.standard_t(4, HOURS) * vol
    out = []
    for a in assets:
        beta = rng.uniform(0.5, 1.5)
        r = beta * common + rng.standard_t(4, HOURS) * vol * 0.7
        close = prices[a] * np.exp(np.cumsum(r) - r.sum())
        out.append(_series(KlineKey(SPOT, f"{a}USDT", "1h"), close))
    by_asset = {s.key.symbol[:-4]: s.close for s in out}
    for symbol in symbols:
        base = symbol.split("USDT")[0]
        index = by_asset[base]
        basis = np.zeros(HOURS)
        for t in range(1, HOURS):
            basis[t] = 0.97 * basis[t - 1] + rng.normal(0, 2e-4)
        out.append(_series(KlineKey(UM_INDEX, pair_of(symbol), "1h"), index))
        out.append(_series(KlineKey(UM_MARK, symbol, "1h"), index * (1 + basis)))
    return out


def main() -> None:
    keep_freed_memory()
    snapshot, market = book()
    rules = RiskRules()
    report = evaluate(snapshot, market, rules)
    fixed = replace(rules, assumptions=report.assumptions)
    symbols = [p.symbol for p in snapshot.um_positions]
    history = history_from_series(synthetic_history(market.index_price_usd, symbols), "1h")
    samples = []
    cpu_samples = []
    for _ in range(20):
        t0, c0 = time.perf_counter(), time.process_time()
        evaluate(snapshot, market, fixed)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu_samples.append((time.process_time() - c0) * 1000)
    one_evaluate = statistics.median(samples)
    one_evaluate_cpu = statistics.median(cpu_samples)
    now_ms = int(history.open_time_ms[-1])
    timings: dict[str, tuple[float, float]] = {}
    configs = (
        ("FHS, 1 thread (as the collector runs it)", OutlookSettings(correlation_break=False), 3),
        ("FHS, 2 threads", OutlookSettings(correlation_break=False, threads=2), 3),
        ("FHS + correlation break, 1 thread", OutlookSettings(), 1),
    )
    for label, settings, repeats in configs:
        runs = []
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            outlook = compute_outlook(snapshot, market, fixed, history, settings, now_ms)
            runs.append(((time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000))
        timings[label] = min(runs)
        assert outlook.unknown == "", outlook.unknown
        wall, cpu = timings[label]
        print(f"{label}: {wall:,.0f} ms wall, {cpu:,.0f} ms CPU")
        for h in outlook.correlation_break or outlook.horizons:
            print(
                f"    {h.horizon_h:g} h  P(liq) {h.p_liquidation:.4f} (se {h.stderr:.4f})  "
                f"q05 {h.uni_mmr_q05:.3f}  ES {h.es_equity_usd:,.0f} USD"
            )
    print(f"book: {len(symbols)} UM positions over 60 assets; {HOURS} hourly bars of history;")
    print("      35 monitored steps (5 min in the first hour, hourly after), each revalued exactly")
    print(
        f"one evaluate (fixed assumptions): {one_evaluate:.1f} ms wall, "
        f"{one_evaluate_cpu:.1f} ms CPU; load average {_load()}"
    )
    wall, cpu = timings[configs[0][0]]
    wall2, _ = timings[configs[1][0]]
    print(f"1 thread: {wall:.0f} ms wall ({wall / one_evaluate:.0f} x one evaluate)")
    print(
        "last line: wall time on this machine's 2 cores (threads=2), and the CPU time of the "
        "1-thread run the collector makes (its ratio to one evaluate's CPU time)"
    )
    print(
        f"outlook: 10000 paths x 3 horizons in {wall2:.0f} ms on 2 threads "
        f"(1 thread: {cpu:.0f} ms CPU, {cpu / one_evaluate_cpu:.0f} x one evaluate)"
    )


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # no load average on this platform
        return "unknown"


if __name__ == "__main__":
    main()
