"""History out of the store for a range and an account, as a table: every stored report, the
history buckets of one period (with each bucket's worst point), or every report's positions or
asset balances. CSV or Parquet (pandas)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from app.store.rollup import HOUR_S, MINUTE_S, TEN_MINUTES_S, Bucket, Sample
from app.store.store import Store

RESOLUTIONS = {"reports": 0, "1m": MINUTE_S, "10m": TEN_MINUTES_S, "1h": HOUR_S}
ROWS = ("positions", "assets")  # one line per position (asset) per stored report
FORMATS = ("csv", "parquet")


class ExportError(ValueError):
    """A range, resolution or file that cannot be exported; the message says why."""


def parse_time(text: str) -> int:
    """An ISO date or date-time (UTC unless it says otherwise) → epoch ms."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ExportError(
            f"not a date or time: {text!r} (e.g. 2026-11-01 or 2026-11-01T08:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _utc(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms, unit="ms", utc=True)


def history_frame(
    store: Store, account: str, since_ms: int, until_ms: int, resolution: str = "reports"
) -> pd.DataFrame:
    if resolution not in (*RESOLUTIONS, *ROWS):
        raise ExportError(f"resolution must be one of {', '.join((*RESOLUTIONS, *ROWS))}")
    if until_ms <= since_ms:
        raise ExportError("the range is empty: --until must be after --since")
    stored = store.accounts()
    if account not in stored:
        raise ExportError(
            f"no stored data for account {account!r}"
            + (f" (stored: {', '.join(stored)})" if stored else " (the store is empty)")
        )
    if resolution in ROWS:
        read = store.position_rows if resolution == "positions" else store.asset_rows
        frame = pd.DataFrame(read(account, since_ms, until_ms))
        if frame.empty:
            frame = pd.DataFrame(columns=["report_id", "data_time_ms"])
        frame.insert(0, "time_utc", _utc(frame["data_time_ms"]))
        frame.insert(0, "account", account)
        return frame
    period = RESOLUTIONS[resolution]
    if period == 0:
        rows: list[Sample] | list[Bucket] = [
            s for s in store.history_samples(account, since_ms) if s.at_ms < until_ms
        ]
        columns = [f.name for f in dataclasses.fields(Sample)]
        frame = pd.DataFrame([dataclasses.astuple(r) for r in rows], columns=columns)
        frame.insert(0, "time_utc", _utc(frame["at_ms"]))
    else:
        rows = [
            b for b in store.history_buckets(account, period, since_ms) if b.start_ms < until_ms
        ]
        columns = [f.name for f in dataclasses.fields(Bucket)]
        frame = pd.DataFrame([dataclasses.astuple(r) for r in rows], columns=columns)
        frame.insert(0, "start_utc", _utc(frame["start_ms"]))
        frame.insert(1, "worst_utc", _utc(frame["worst_at_ms"]))
    frame.insert(0, "account", account)
    return frame


def write_frame(frame: pd.DataFrame, out: Path) -> str:
    """Write by the file's suffix (.csv or .parquet); returns the format used."""
    kind = out.suffix.lstrip(".").lower()
    if kind not in FORMATS:
        raise ExportError(f"{out}: name the file .csv or .parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    return kind
