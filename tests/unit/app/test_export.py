"""History export: the stored reports or buckets of a range, to CSV or Parquet, read back equal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from app.export import ExportError, parse_time
from app.store.store import Store
from tests.support.store_cycles import T0, cycle_at


@pytest.fixture
def filled(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    url = db_url
    monkeypatch.setenv("PMDESK_STORE__URL", url)
    monkeypatch.setenv("PMDESK_EXCHANGE__ACCOUNT", "a")
    store = Store(url)
    store.create_schema()
    for i, uni in enumerate((3.0, 1.4, 2.0, 2.5)):  # one every 30 s: minutes 0, 0, 1, 1
        store.write_cycle(cycle_at(T0 + 30_000 * i, uni), computed_at_ms=T0 + 30_000 * i)
    store.close()
    return url


def test_reports_to_csv_and_parquet(filled: str, tmp_path: Path) -> None:
    since = pd.Timestamp(T0, unit="ms", tz="UTC").isoformat()
    until = pd.Timestamp(T0 + 90_000, unit="ms", tz="UTC").isoformat()  # the 4th is excluded
    for name in ("h.csv", "h.parquet"):
        out = tmp_path / name
        assert main(["export", str(out), "--since", since, "--until", until]) == 0
        frame = pd.read_csv(out) if name.endswith("csv") else pd.read_parquet(out)
        assert list(frame["uni_mmr"]) == [3.0, 1.4, 2.0]
        assert list(frame["status"]) == ["NORMAL", "MARGIN_CALL", "NORMAL"]
        assert set(frame["account"]) == {"a"}


def test_minute_buckets_keep_the_worst(filled: str, tmp_path: Path) -> None:
    since = pd.Timestamp(T0, unit="ms", tz="UTC").isoformat()
    out = tmp_path / "m.csv"
    assert main(["export", str(out), "--since", since, "--resolution", "1m"]) == 0
    frame = pd.read_csv(out)
    assert list(frame["uni_mmr_min"]) == [1.4, 2.0] and list(frame["uni_mmr_last"]) == [1.4, 2.5]
    assert list(frame["n"]) == [2, 2]


def test_bad_requests_are_one_clear_line(
    filled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(tmp_path / "x.xlsx"), "--since", "2026-01-01"]) == 2
    assert "name the file .csv or .parquet" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "x.csv"), "--since", "yesterday"]) == 2
    assert "not a date or time: 'yesterday'" in capsys.readouterr().err
    args = ["export", str(tmp_path / "x.csv"), "--since", "2026-02-01", "--until", "2026-01-01"]
    assert main(args) == 2
    assert "the range is empty" in capsys.readouterr().err
    with pytest.raises(ExportError):
        parse_time("2026-13-01")
    assert parse_time("2026-01-01") == 1_767_225_600_000


def test_positions_a_line_each_per_report(filled: str, tmp_path: Path) -> None:
    since = pd.Timestamp(T0, unit="ms", tz="UTC").isoformat()
    out = tmp_path / "p.csv"
    assert main(["export", str(out), "--since", since, "--resolution", "positions"]) == 0
    frame = pd.read_csv(out)
    # four reports of the basis book, one position each: short 2 BTCUSDT at 50,000
    assert list(frame["symbol"]) == ["BTCUSDT"] * 4 and set(frame["amount"]) == {-2.0}
    assert list(frame["data_time_ms"]) == [T0 + 30_000 * i for i in range(4)]
    assert main(["export", str(out), "--since", since, "--resolution", "assets"]) == 0
    assert sorted(set(pd.read_csv(out)["asset"])) == ["BTC", "USDT"]


def test_unknown_account_names_the_stored_ones(
    filled: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["export", str(tmp_path / "x.csv"), "--since", "2026-01-01", "--account", "desk-z"]
    assert main(args) == 2
    assert "no stored data for account 'desk-z' (stored: a)" in capsys.readouterr().err
