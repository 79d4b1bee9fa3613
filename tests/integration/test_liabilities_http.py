"""Liabilities and carry over real HTTP: python-binance reads the simulator's interest history
and funding income as it would Binance's, the collector reads them every 5 minutes (and just
after each funding time), and the report carries the loan, its interest and rate, and funding.
``pmdesk capture`` writes them and ``pmdesk risk`` reads them back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.cli import main
from app.collector.collector import Collector
from app.store.store import Store
from connectors.binance.capture import file_name
from connectors.binance.client import RetryPolicy, make_client
from connectors.binance.limits import CARRY_PATHS
from connectors.binance.parse import CM_INCOME, MARGIN_INTEREST_HISTORY, UM_INCOME
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules

H = 3_600_000


@pytest.fixture
def desk(clock: ManualClock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(
        Simulator(accounts={"borrower": "borrower", "basis": "basis"}, clock=clock)
    ).start()
    yield server
    server.stop()


def collector(desk: SimulatorServer, store: Store, clock: ManualClock, name: str) -> Collector:
    a = desk.simulator.account(name)
    client = make_client(a.api_key, a.api_secret, desk.base_url)
    return Collector(
        store, client, RiskRules(), name, clock.now_ms, policy=RetryPolicy(sleep=lambda _: None)
    )


def poll(c: Collector, store: Store) -> dict[str, Any]:
    result = c.run_once()
    assert result.failure is None and result.report_id is not None, result.failure
    return store.report_detail(result.report_id)


def test_borrower_loan_interest_and_rate_on_the_report(
    desk: SimulatorServer, store: Store, clock: ManualClock
) -> None:
    c = collector(desk, store, clock, "borrower")
    detail = poll(c, store)
    (usdt,) = detail["liabilities"]
    # The loan was taken when the exchange opened (00:00): one hour charged on borrowing,
    # 200,000 · 0.012 % a day / 24 = 1 USDT, at Binance's daily rate 0.012 %.
    assert usdt["asset"] == "USDT" and usdt["borrowed_qty"] == 200_000.0
    assert usdt["interest_qty"] == pytest.approx(1.0)
    assert usdt["loan_daily_rate"] == pytest.approx(0.00012)
    assert usdt["interest_24h_qty"] == pytest.approx(1.0)
    # Its MMR as calibrated from Binance's accountMaintMargin (16,000 / 200,000 = 8 %).
    assert usdt["loan_mmr"] == pytest.approx(0.08) and usdt["loan_mm_usd"] == pytest.approx(16_000)
    assert usdt["loan_usd"] == pytest.approx(200_001.0)
    # Three hours on (past 01:00, 02:00 and 03:00): 3 more hourly charges of 1 USDT.
    clock.advance(3 * 3600 + 60)
    (usdt,) = poll(c, store)["liabilities"]
    assert usdt["interest_qty"] == pytest.approx(4.0)
    assert usdt["interest_24h_qty"] == pytest.approx(4.0)
    assert usdt["rate_time_ms"] == desk.simulator.now_ms() - 60_000  # the 03:00 charge


def _premium(desk: SimulatorServer, symbol: str) -> dict[str, str]:
    r = requests.get(f"{desk.base_url}/fapi/v1/premiumIndex", params={"symbol": symbol}, timeout=10)
    body: dict[str, str] = r.json()
    return body


def test_a_funding_row_after_8_hours(
    desk: SimulatorServer, store: Store, clock: ManualClock
) -> None:
    c = collector(desk, store, clock, "basis")
    first = poll(c, store)
    funding = first["funding"]
    assert funding["um_read"] and funding["cm_read"]
    assert funding["rows"][0]["times_ms"] == []  # nothing paid yet
    start = desk.simulator.now_ms()
    clock.advance(8 * 3600 + 90)  # past 08:00 UTC, a funding time
    p = _premium(desk, "BTCUSDT")  # the funding rate and mark the exchange settles at
    detail = poll(c, store)
    (row,) = detail["funding"]["rows"]
    assert (row["symbol"], row["asset"], row["times_ms"]) == ("BTCUSDT", "USDT", [start + 8 * H])
    # Short 10 BTCUSDT: receives 10 · mark · rate when the rate is positive (pays when not).
    expected = 10 * float(p["markPrice"]) * float(p["lastFundingRate"])
    assert row["income_qty"] == [pytest.approx(expected, abs=1e-6)]
    assert row["last_24h_qty"] == pytest.approx(expected, abs=1e-6)
    # The payment went into the USDⓈ-M wallet, as Binance's balance then shows.
    report_id = store.latest_report_id("basis")
    assert report_id is not None
    payloads: dict[str, Any] = store.snapshot_payloads(store.report_snapshot_id(report_id))
    (usdt,) = [r for r in payloads["/papi/v1/balance"] if r["asset"] == "USDT"]
    assert float(usdt["umWalletBalance"]) == pytest.approx(15_000 + expected, abs=1e-6)


def test_carry_is_read_every_5_minutes_and_after_each_funding_time(
    desk: SimulatorServer, store: Store, clock: ManualClock
) -> None:
    seen: list[str] = []
    desk.simulator.on_request = seen.append
    c = collector(desk, store, clock, "basis")

    def carry_reads_after(seconds: float) -> int:
        clock.advance(seconds)
        seen.clear()
        poll(c, store)
        return sum(path in CARRY_PATHS for path in seen)

    assert carry_reads_after(0) == 3  # 00:00:00: first poll reads all three
    assert carry_reads_after(2) == 0  # 2 s later: kept
    assert carry_reads_after(298) == 3  # 00:05:00: 5 minutes on
    # 07:54:00, then 07:59:00 (5 minutes on), then the funding time: at 08:00:30 not yet, at
    # 08:01:05 at once (a minute after 08:00), then not again until 5 minutes after that.
    assert carry_reads_after(7 * 3600 + 49 * 60) == 3  # 07:54:00
    assert carry_reads_after(300) == 3  # 07:59:00
    assert carry_reads_after(90) == 0  # 08:00:30
    assert carry_reads_after(35) == 3  # 08:01:05
    assert carry_reads_after(60) == 0  # 08:02:05


def test_capture_and_risk_read_the_carry(
    desk: SimulatorServer,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = desk.simulator.account("borrower")
    monkeypatch.setenv("PMDESK_EXCHANGE__BASE_URL", desk.base_url)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY", a.api_key)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET", a.api_secret)
    target = tmp_path / "cap"
    assert main(["capture", str(target)]) == 0
    written = {p.name for p in target.iterdir()}
    assert {file_name(p) for p in (MARGIN_INTEREST_HISTORY, UM_INCOME, CM_INCOME)} <= written
    history = json.loads((target / file_name(MARGIN_INTEREST_HISTORY)).read_text())
    assert history["total"] == 1 and history["rows"][0]["type"] == "ON_BORROW"
    capsys.readouterr()
    assert main(["risk", str(target), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    (usdt,) = body["liabilities"]
    assert usdt["interest_qty"] == pytest.approx(1.0)
    assert usdt["loan_daily_rate"] == pytest.approx(0.00012)
    assert body["funding"]["um_read"] is True and body["funding"]["rows"] == []
    # Without the carry files the figures are unavailable (null), never 0.
    for path in (MARGIN_INTEREST_HISTORY, UM_INCOME, CM_INCOME):
        (target / file_name(path)).unlink()
    assert main(["risk", str(target), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    (usdt,) = body["liabilities"]
    assert usdt["loan_daily_rate"] is None and usdt["interest_24h_qty"] is None
    assert body["funding"]["um_read"] is False and body["funding"]["last_24h_usd"] is None
