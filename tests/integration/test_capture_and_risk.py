"""``pmdesk capture`` then ``pmdesk risk`` against the simulator over real HTTP: the capture
holds every file the evaluation reads (Binance's per-position MM and both collateral tables
included), no secret, and offline evaluation calibrates to the account's hidden truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from connectors.binance.capture import file_name
from connectors.binance.parse import (
    ACCOUNT,
    BALANCE,
    CM_ACCOUNT,
    CM_POSITION_RISK,
    COLLATERAL_RATE_FLAT,
    COLLATERAL_RATE_TIERED,
    UM_ACCOUNT,
    UM_POSITION_RISK,
)
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Iterator[SimulatorServer]:
    # The clock stands still: every request of the capture sees the same prices.
    s = SimulatorServer(Simulator(preset="borrower", clock=clock)).start()
    monkeypatch.setenv("PMDESK_EXCHANGE__BASE_URL", s.base_url)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY", s.simulator.api_key)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET", s.simulator.api_secret)
    yield s
    s.stop()


def test_capture_holds_what_risk_needs_and_risk_calibrates_offline(
    server: SimulatorServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "cap"
    assert main(["capture", str(target)]) == 0
    written = {p.name for p in target.iterdir()}
    for path in (
        ACCOUNT,
        BALANCE,
        UM_POSITION_RISK,
        CM_POSITION_RISK,
        UM_ACCOUNT,
        CM_ACCOUNT,
        COLLATERAL_RATE_FLAT,
        COLLATERAL_RATE_TIERED,
    ):
        assert file_name(path) in written
    everything = "".join(p.read_text() for p in target.rglob("*") if p.is_file())
    sim = server.simulator
    assert sim.api_key not in everything and sim.api_secret not in everything
    capsys.readouterr()
    assert main(["risk", str(target), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    # The borrower's hidden truth: flat table (ETH 0.90, BNB 0.40), 8 % on its USDT loan;
    # ETH 100 · 3,500 · 0.90 + BNB 50 · 650 · 0.40 − 200,000 − 1 (the loan's first hour of
    # interest: 200,000 · 0.012 % / 24) = 127,999; MM 16,000 (on the principal).
    assert body["adjusted_equity_usd"] == pytest.approx(127_999.0)
    assert body["maint_margin"]["total_usd"] == pytest.approx(16_000.0)
    assert body["assumptions"]["collateral_table"] == "flat"
    assert body["assumptions"]["loan_mmr"] == {"USDT": pytest.approx(0.08)}
    assert body["assumptions"]["loan_mmr_source"] == "implied by Binance's MM"
    rec = body["reconciliation"]
    assert rec["agrees"] is True and rec["binance"]["uni_mmr"] == pytest.approx(127_999 / 16_000)
    assert rec["rel_diff"]["uni_mmr"] == pytest.approx(0.0, abs=1e-6)
