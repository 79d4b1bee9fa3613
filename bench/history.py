"""Generate weeks of history in a store, fast: reports at a fixed step with a uniMMR that wanders
(log random walk with dips under the margin-call line), their snapshots, status changes, some
collector errors, then the 1-minute and 1-hour buckets rebuilt from the reports.

Rows are bulk-inserted (SQLAlchemy Core) with a small placeholder detail: only the newest report
of an account is read whole by the views, and the benchmarks write that one for real. Each report
gets the position and asset rows of the simulator's basis book (short BTCUSDT; BTC and USDT), as
the collector writes them.
"""

from __future__ import annotations

import math
import sys
import time
import zlib
from collections.abc import Iterator

import numpy as np
from sqlalchemy import func, insert, select

from app.store.schema import (
    EventRow,
    ReportAssetRow,
    ReportPositionRow,
    ReportRow,
    SnapshotRow,
    StatusChangeRow,
)
from app.store.store import Store
from risk.model import RiskRules

CHUNK = 50_000
PLACEHOLDER = zlib.compress(b"{}")


def _walk(n: int, seed: int) -> np.ndarray:
    """uniMMR: mean-reverting log walk around 3, with a few sharp dips."""
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = math.log(3.0)
    steps = rng.normal(0.0, 0.004, n)
    dips = rng.random(n) < 2e-5
    for i in range(1, n):
        x[i] = x[i - 1] + 0.0005 * (math.log(3.0) - x[i - 1]) + steps[i] - (0.8 if dips[i] else 0)
    return np.exp(x)


def _rows(
    account: str, start_ms: int, step_ms: int, uni: np.ndarray, first_id: int, rules: RiskRules
) -> Iterator[
    tuple[
        dict[str, object],
        dict[str, object],
        dict[str, object] | None,
        dict[str, object],
        list[dict[str, object]],
    ]
]:
    previous: str | None = None
    for i, u in enumerate(uni):
        at = start_ms + i * step_ms
        rid = first_id + i
        equity = 1_000_000.0 * (1 + 0.05 * math.sin(i / 50_000))
        mm = equity / float(u)
        status = rules.band(float(u)).value
        down = -100.0 * (1 - rules.liquidation_uni_mmr / float(u)) if u > 1.05 else -0.1
        snap = {
            "id": rid,
            "account": account,
            "fetched_at_ms": at,
            "exchange_time_ms": at,
            "simulated": True,
            "payloads_zjson": PLACEHOLDER,
            "base_snapshot_id": None,
        }
        report = {
            "id": rid,
            "snapshot_id": rid,
            "account": account,
            "data_time_ms": at,
            "computed_at_ms": at + 5,
            "positions_at_ms": at,
            "marks_source": "poll",
            "simulated": True,
            "uni_mmr": float(u),
            "adjusted_equity_usd": equity,
            "actual_equity_usd": equity * 1.03,
            "maint_margin_usd": mm,
            "um_maint_margin_usd": mm,
            "cm_maint_margin_usd": 0.0,
            "margin_maint_margin_usd": 0.0,
            "status": status,
            "reported_uni_mmr": float(u),
            "reported_status": "NORMAL",
            "liquidation_down_pct": down,
            "liquidation_up_pct": None,
            "btc_liquidation_down_usd": 95_000 * (1 + down / 100),
            "btc_liquidation_up_usd": None,
            "top_up_target_uni_mmr": rules.top_up_target_uni_mmr,
            "top_up_usd": max(0.0, rules.top_up_target_uni_mmr * mm - equity),
            "detail_zjson": PLACEHOLDER,
        }
        btc = 95_000.0 * (1 + 0.05 * math.sin(i / 7_000))
        usdt = 20_000.0 + 10 * (95_000.0 - btc)  # the wallet with the short's unrealized PnL
        position = {
            "report_id": rid,
            "venue": "UM",
            "symbol": "BTCUSDT",
            "position_side": "BOTH",
            "asset": "BTC",
            "amount": -10.0,
            "entry_price": 95_000.0,
            "mark_price": btc,
            "notional_usd": 10 * btc,
            "unrealized_pnl_usd": 10 * (95_000.0 - btc),
            "maint_margin_usd": 0.005 * 10 * btc,
            "maint_margin_ratio": 0.005,
            "bracket": 3,
        }
        assets = [
            {
                "report_id": rid,
                "asset": "BTC",
                "equity_qty": 10.0,
                "index_price_usd": btc,
                "actual_equity_usd": 10 * btc,
                "adjusted_equity_usd": 9.5 * btc,
                "stable": False,
            },
            {
                "report_id": rid,
                "asset": "USDT",
                "equity_qty": usdt,
                "index_price_usd": 1.0,
                "actual_equity_usd": usdt,
                "adjusted_equity_usd": usdt,
                "stable": True,
            },
        ]
        change = None
        if status != previous:
            change = {
                "account": account,
                "at_ms": at,
                "report_id": rid,
                "from_status": previous,
                "to_status": status,
                "uni_mmr": float(u),
            }
            previous = status
        yield snap, report, change, position, assets


def generate(
    store: Store,
    accounts: list[str],
    days: float,
    step_s: float,
    end_ms: int,
    rules: RiskRules | None = None,
    seed: int = 7,
) -> int:
    """Fill ``store`` (schema created) with ``days`` of history per account ending at
    ``end_ms``; returns the number of reports written. Prints progress to stderr."""
    rules = rules or RiskRules()
    step_ms = int(step_s * 1000)
    n = int(days * 86_400_000 // step_ms)
    start_ms = end_ms - n * step_ms
    written = 0
    with store.engine.connect() as conn:
        next_id = int(conn.scalar(select(func.coalesce(func.max(SnapshotRow.id), 0))) or 0) + 1
    for k, account in enumerate(accounts):
        t0 = time.perf_counter()
        uni = _walk(n, seed + k)
        rows = _rows(account, start_ms, step_ms, uni, next_id, rules)
        while True:
            batch = [r for _, r in zip(range(CHUNK), rows, strict=False)]
            if not batch:
                break
            with store.engine.begin() as conn:
                conn.execute(insert(SnapshotRow), [b[0] for b in batch])
                conn.execute(insert(ReportRow), [b[1] for b in batch])
                changes = [b[2] for b in batch if b[2] is not None]
                if changes:
                    conn.execute(insert(StatusChangeRow), changes)
                conn.execute(insert(ReportPositionRow), [b[3] for b in batch])
                conn.execute(insert(ReportAssetRow), [a for b in batch for a in b[4]])
            written += len(batch)
            print(f"\r  {account}: {written:,} reports", end="", file=sys.stderr, flush=True)
        next_id += n
        with store.engine.begin() as conn:  # an exchange hiccup every ~6 hours
            conn.execute(
                insert(EventRow),
                [
                    {
                        "account": account,
                        "at_ms": t,
                        "kind": "DOWN",
                        "endpoint": "/papi/v1/account",
                        "code": None,
                        "message": "exchange unreachable",
                    }
                    for t in range(start_ms, end_ms, 6 * 3_600_000)
                ],
            )
        buckets = store.rebuild_rollups(account, since_ms=start_ms)
        print(
            f"\r  {account}: {n:,} reports, {buckets:,} buckets in "
            f"{time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    return written
