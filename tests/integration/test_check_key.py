"""``pmdesk check-key`` against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.cli import main
from connectors.simulator.server import Simulator, SimulatorServer


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    s = SimulatorServer(Simulator(preset="basis")).start()
    monkeypatch.setenv("PMDESK_EXCHANGE__BASE_URL", s.base_url)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY", s.simulator.api_key)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET", s.simulator.api_secret)
    yield s
    s.stop()


def test_read_only_key_is_accepted(
    server: SimulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-key"]) == 0
    out = capsys.readouterr().out
    assert "trade               no" in out
    assert "pmdesk will use this key" in out
    assert server.simulator.api_secret not in out


def test_trading_key_is_refused_and_named(
    server: SimulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.simulator.key_permissions["enableFutures"] = True
    server.simulator.key_permissions["ipRestrict"] = False
    assert main(["check-key"]) == 2
    captured = capsys.readouterr()
    assert "trade               enableFutures" in captured.out
    assert "no IP restriction" in captured.out
    assert "pmdesk: error: key refused: the key can trade (enableFutures)" in captured.err
    assert main(["check-key", "--allow-key-that-can-trade"]) == 0
    assert "ACCEPTED ANYWAY" in capsys.readouterr().out
