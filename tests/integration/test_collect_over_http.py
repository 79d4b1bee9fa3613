"""python-binance → simulator over real HTTP → collector → SQLite rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from binance.client import Client
from binance.exceptions import BinanceAPIException
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.collector.collector import Collector
from app.store.schema import ReportRow, SnapshotRow
from app.store.store import Store
from connectors.binance.client import make_client
from connectors.simulator.accounts import SimAccount
from connectors.simulator.clock import ManualClock
from connectors.simulator.legs import UmLeg
from connectors.simulator.routes import Route
from connectors.simulator.server import Simulator, SimulatorServer
from risk import RiskRules


def test_one_cycle_writes_snapshot_and_report_by_hand(
    collector: Collector, store: Store, tmp_path: Path
) -> None:
    result = collector.run_once()
    assert result.failure is None and result.report_id is not None

    latest = store.latest_report("sim-basis")
    assert latest is not None and latest.simulated
    # The basis preset at the simulator's start prices (BTC 95,000, USDT 1.00, clock not moved).
    # Its exchange values it with the flat table (/sapi/v1/portfolio/collateralRate: BTC 0.90),
    # not the tiered one (BTC 0.95 below 5 M); pmdesk finds that out from accountEquity:
    #   BTC:  x = 10 spot, 10 · 95,000 = 950,000 at 90 % → 855,000
    #   USDT: x = 5,000 margin + 15,000 UM wallet + uPnL 0 (entry = mark) → 20,000 at 100 %
    #   adjusted equity = 875,000 (the tiered table would have said 922,500)
    #   UM MM: |−10 · 95,000| = 950,000 in BTCUSDT bracket 3 [800 k, 3 M): 0.65 %, cum 1,500
    #          → 950,000 · 0.0065 − 1,500 = 4,675
    #   uniMMR = 875,000 / 4,675 = 187.1657…
    assert latest.adjusted_equity_usd == pytest.approx(875_000.0)
    assert latest.maint_margin_usd == pytest.approx(4_675.0)
    assert latest.uni_mmr == pytest.approx(875_000 / 4_675)
    assert latest.status == "NORMAL"
    assert latest.reported_status == "NORMAL"
    assert (latest.collateral_table, latest.calibrated, latest.recon_agrees) == ("flat", True, True)

    with Session(store.engine) as s:
        snap = s.scalars(select(SnapshotRow)).one()
        rep = s.scalars(select(ReportRow)).one()
        assert rep.snapshot_id == snap.id
        assert snap.simulated


def test_prices_move_and_each_cycle_adds_a_report(
    collector: Collector, store: Store, clock: ManualClock, sim_server: SimulatorServer
) -> None:
    collector.run_once()
    first = store.latest_report("sim-basis")
    sim_server.simulator.market.shock("BTC", 0.10)
    clock.advance(2)
    collector.run_once()
    second = store.latest_report("sim-basis")
    assert first is not None and second is not None
    assert second.id != first.id and store.count_reports("sim-basis") == 2
    # A rally hurts a long-spot / short-perp book: the spot leg gains 95 % of the move in
    # equity, the perp loses all of it, and the perp's MM grows.
    assert second.uni_mmr < first.uni_mmr


def test_bad_signature_gets_binance_error(sim_server: SimulatorServer) -> None:
    bad = make_client(sim_server.simulator.api_key, "not-the-secret", sim_server.base_url)
    with pytest.raises(BinanceAPIException) as err:
        bad.papi_get_account()
    assert err.value.status_code == 400
    assert err.value.code == -1022
    assert err.value.message == "Signature for this request is not valid."


def test_old_timestamp_gets_1021(client: Client) -> None:
    client.timestamp_offset = -70_000  # 70 s behind the server, beyond recvWindow 10,000
    with pytest.raises(BinanceAPIException) as err:
        client.papi_get_balance()
    assert err.value.code == -1021


def test_collector_records_auth_failure_and_keeps_running(
    sim_server: SimulatorServer, store: Store, clock: ManualClock
) -> None:
    bad = make_client(sim_server.simulator.api_key, "not-the-secret", sim_server.base_url)
    collector = Collector(store, bad, RiskRules(), "sim-basis", now_ms=clock.now_ms)
    result = collector.run_once()
    assert result.report_id is None and result.failure is not None
    assert result.failure.status == "AUTH_ERROR"
    event = store.latest_event("sim-basis")
    assert event is not None and event.kind == "AUTH_ERROR" and event.code == -1022
    assert event.endpoint == "/sapi/v1/account/apiRestrictions"  # the first signed call
    assert "not-the-secret" not in event.message


def test_exchange_unreachable_is_down_not_a_crash(store: Store, clock: ManualClock) -> None:
    # A port nothing listens on: bind a socket, read its port, close it.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client("k", "s", f"http://127.0.0.1:{port}")
    collector = Collector(store, client, RiskRules(), "gone", now_ms=clock.now_ms)
    result = collector.run_once()
    assert result.failure is not None and result.failure.status == "DOWN"
    assert store.latest_report("gone") is None


def test_store_is_sqlite_wal(collector: Collector, store: Store) -> None:
    collector.run_once()
    db = store.engine.url.database
    assert db is not None
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_brackets_and_collateral_tiers_are_read_hourly_not_every_cycle(
    client: Client, store: Store, sim_server: SimulatorServer
) -> None:
    # The collector's own clock moves; the exchange's does not (no -1021 from the jump).
    clock = ManualClock(0)
    collector = Collector(store, client, RiskRules(), "sim-basis", now_ms=clock.now_ms)
    seen: list[str] = []
    sim_server.simulator.on_request = seen.append
    collector.run_once()
    clock.advance(2)
    collector.run_once()
    assert seen.count("/sapi/v2/portfolio/collateralRate") == 1
    assert seen.count("/papi/v1/um/leverageBracket") == 1
    assert seen.count("/papi/v1/balance") == 2
    clock.advance(3600)
    collector.run_once()
    assert seen.count("/sapi/v2/portfolio/collateralRate") == 2


def test_no_key_or_secret_reaches_the_store(
    collector: Collector, store: Store, sim_server: SimulatorServer, tmp_path: Path
) -> None:
    collector.run_once()
    sim_server.simulator.faults.set(fail_5xx=100)
    collector.run_once()  # and an error event
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("pmdesk.db*"))
    assert len(raw) > 0
    for secret in (sim_server.simulator.api_key, sim_server.simulator.api_secret):
        assert secret.encode() not in raw


def hide_brackets(sim: Simulator, monkeypatch: pytest.MonkeyPatch, hidden: set[str]) -> set[str]:
    """The exchange's bracket endpoint leaves out ``hidden`` symbols (its own figures still
    use their brackets): a listing not yet published, as pmdesk sees it."""
    path = "/papi/v1/um/leverageBracket"
    listed = sim.routes[path]

    def brackets(account: SimAccount) -> list[dict[str, object]]:
        rows = listed.render(account)
        assert isinstance(rows, list)
        return [r for r in rows if isinstance(r, dict) and r["symbol"] not in hidden]

    monkeypatch.setitem(sim.routes, path, Route(listed.signed, brackets))
    return hidden


def test_a_new_symbol_gets_its_brackets_at_once_not_at_the_hourly_refresh(
    collector: Collector,
    store: Store,
    clock: ManualClock,
    sim_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = sim_server.simulator
    reads: list[str] = []
    sim.on_request = lambda path: reads.append(path)
    # A symbol the exchange lists only later: not in the brackets read at start.
    hidden = hide_brackets(sim, monkeypatch, {"SOLUSDT"})
    assert collector.run_once().report_id is not None
    assert reads.count("/papi/v1/um/leverageBracket") == 1
    # The account opens a SOLUSDT position as the listing's brackets appear: the next poll sees
    # a position its brackets do not list and reads the brackets again, in the same poll.
    hidden.clear()
    sol = sim.market.index_prices_usd()["SOL"]
    sim.book.um_legs.append(UmLeg("SOLUSDT", 100.0, sol))
    clock.advance(2)
    assert collector.run_once().report_id is not None
    assert reads.count("/papi/v1/um/leverageBracket") == 2
    latest = store.latest_report("sim-basis")
    assert latest is not None
    assert latest.state == "OK", latest.unknown_reasons
    # Once read, the next polls don't read them again (until the hourly refresh).
    clock.advance(2)
    collector.run_once()
    assert reads.count("/papi/v1/um/leverageBracket") == 2


def test_brackets_that_never_list_the_symbol_leave_only_that_account_unknown(
    collector: Collector,
    store: Store,
    clock: ManualClock,
    sim_server: SimulatorServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = sim_server.simulator
    reads: list[str] = []
    sim.on_request = lambda path: reads.append(path)
    hide_brackets(sim, monkeypatch, {"SOLUSDT"})
    sim.book.um_legs.append(UmLeg("SOLUSDT", 100.0, sim.market.index_prices_usd()["SOL"]))
    assert collector.run_once().report_id is not None
    latest = store.latest_report("sim-basis")
    assert latest is not None and latest.state == "UNKNOWN" and latest.status == "UNKNOWN"
    assert any("SOLUSDT" in r and "brackets" in r for r in latest.unknown_reasons)
    # Tried once for that symbol, not on every poll.
    clock.advance(2)
    collector.run_once()
    assert reads.count("/papi/v1/um/leverageBracket") == 1
