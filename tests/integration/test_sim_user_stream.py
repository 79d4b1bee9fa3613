"""The simulator's Portfolio Margin user data stream over a real websocket on 127.0.0.1 (the
websockets sync client, not pmdesk's connector): each control action pushes Binance's events, whose
figures equal the signed REST payloads at the same moment; the exchange's liquidation pushes its
``autoclose-`` orders; each fault behaves. Waits are bounded ``recv`` calls, never sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from connectors.simulator.auth import hmac_sha256_hex
from connectors.simulator.clock import ManualClock
from connectors.simulator.server import Simulator, SimulatorServer

T0 = 1_767_225_600_000 + 3_600_000  # 2026-01-01 01:00 UTC: no funding time within the tests
WAIT_S = 30.0  # wall time for one pushed message on a busy machine


class Desk:
    def __init__(self, server: SimulatorServer) -> None:
        self.server, self.sim = server, server.simulator
        self.head = {"X-MBX-APIKEY": self.sim.api_key}

    def control(self, action: str, **params: str) -> list[dict[str, Any]]:
        r = requests.post(f"{self.server.base_url}/_sim/user/{action}", params=params, timeout=30)
        assert r.status_code == 200, r.text
        out: list[dict[str, Any]] = r.json()["events"]
        return out

    def signed(self, path: str) -> Any:
        query = f"timestamp={self.sim.now_ms()}"
        query += f"&signature={hmac_sha256_hex(self.sim.api_secret, query)}"
        r = requests.get(f"{self.server.base_url}{path}?{query}", headers=self.head, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def listen_key(self, method: str = "POST") -> requests.Response:
        return requests.request(
            method, f"{self.server.base_url}/papi/v1/listenKey", headers=self.head, timeout=30
        )

    def stream(self) -> ClientConnection:
        key = self.listen_key().json()["listenKey"]
        return connect(f"{self.server.pm_stream_url}/ws/{key}", open_timeout=WAIT_S)


def take(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    return [json.loads(ws.recv(timeout=WAIT_S)) for _ in range(n)]


def serve(preset: str, **kw: Any) -> Iterator[Desk]:
    sim = Simulator(preset=preset, clock=ManualClock(T0), still=True, **kw)
    server = SimulatorServer(sim, watch_interval_s=0.05).start()
    try:
        yield Desk(server)
    finally:
        server.stop()


@pytest.fixture
def desk() -> Iterator[Desk]:
    yield from serve("basis")


def test_a_fill_pushes_what_rest_then_shows(desk: Desk) -> None:
    with desk.stream() as ws:
        sent = desk.control("fill", symbol="BTCUSDT", side="BUY", quantity="2", price="94000")
        new, update, filled = take(ws, 3)
        assert [new, update, filled] == sent
        (row,) = desk.signed("/papi/v1/um/positionRisk")
        (usdt,) = [a for a in desk.signed("/papi/v1/um/account")["assets"] if a["asset"] == "USDT"]
    # basis preset: short 10 BTCUSDT @ 95,000 and 15,000 USDT in the UM wallet; buying 2 at
    # 94,000 realizes 2 · (95,000 − 94,000) = 2,000: wallet 17,000, position −8 @ 95,000.
    (p,) = update["a"]["P"]
    (b,) = update["a"]["B"]
    assert (p["pa"], p["ep"], p["cr"]) == ("-8.000", "95000.00000000", "2000.00000000")
    assert b["wb"] == b["cw"] == "17000.00000000"
    assert (p["pa"], p["ep"], p["up"]) == (
        row["positionAmt"],
        row["entryPrice"],
        row["unRealizedProfit"],
    )
    assert b["cw"] == usdt["crossWalletBalance"]
    assert float(p["up"]) == float(usdt["crossUnPnl"])  # one position: its PnL is the asset's
    assert update["E"] == desk.sim.now_ms() and filled["o"]["X"] == "FILLED"
    assert filled["o"]["rp"] == "2000.00000000" and filled["o"]["c"].startswith("sim-")


def test_transfer_borrow_repay_and_funding_push_their_events(desk: Desk) -> None:
    with desk.stream() as ws:
        sent = desk.control(
            "transfer", asset="USDT", amount="1000", **{"from": "margin", "to": "um"}
        )
        assert take(ws, 3) == sent
        assert [e["e"] for e in sent] == [
            "balanceUpdate",
            "outboundAccountPosition",
            "ACCOUNT_UPDATE",
        ]
        assert sent[1]["B"] == [
            {"a": "USDT", "f": "4000.00000000", "l": "0.00000000"}
        ]  # 5,000 − 1,000
        sent = desk.control("borrow", asset="USDT", amount="500")
        assert (
            take(ws, 2) == sent
            and sent[0]["e"] == "liabilityChange"
            and sent[0]["l"] == "500.00000000"
        )
        sent = desk.control("repay", asset="USDT", amount="200")
        assert take(ws, 2) == sent and sent[0]["l"] == "300.00000000"  # 500 − 200, no interest yet
        (funding,) = desk.control("funding")
        assert take(ws, 1) == [funding] and funding["a"]["m"] == "FUNDING_FEE"
        balance = {r["asset"]: r for r in desk.signed("/papi/v1/balance")}["USDT"]
    assert balance["crossMarginBorrowed"] == "300.00000000"
    assert balance["crossMarginAsset"] == "4300.00000000"  # 4,000 + 500 − 200
    assert balance["umWalletBalance"] == funding["a"]["B"][0]["wb"]  # 16,000 + the fee


def test_the_exchange_liquidates_with_autoclose_orders() -> None:
    for desk in serve("near_liquidation", auto_liquidate=True):
        with desk.stream() as ws:
            desk.sim.market.shock("BTC", -0.002)  # 10 · 95,000 · 0.2 % = 1,900 lost of 5,600
            level, new, update, filled = take(ws, 4)  # pushed by the server's own watch
            assert level["e"] == "riskLevelChange" and level["s"] == "FORCE_LIQUIDATION"
            assert float(level["u"]) <= 1.05
            assert new["o"]["c"].startswith("autoclose-") and new["o"]["X"] == "NEW"
            assert filled["o"]["X"] == "FILLED" and filled["o"]["S"] == "SELL"
            assert update["a"]["P"][0]["pa"] == "0.000"
            assert desk.signed("/papi/v1/um/positionRisk") == []


def test_listen_key_expiry_and_keepalive(desk: Desk) -> None:
    clock = desk.sim.clock
    assert isinstance(clock, ManualClock)
    with desk.stream() as ws:
        clock.advance(59 * 60)
        assert desk.listen_key("PUT").status_code == 200
        clock.advance(60 * 60)  # 60 minutes after the keep-alive
        (expired,) = take(ws, 1)
        assert expired == {"e": "listenKeyExpired", "E": desk.sim.now_ms()}
        desk.control("borrow", asset="USDT", amount="1")  # nothing more on this connection
        assert desk.listen_key("PUT").json()["code"] == -1125
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.0)  # bounded: proves silence, not synchronisation
    with desk.stream() as ws:  # a new key, a new stream: the fault expires it at once
        desk.sim.faults.set(listen_key_expire=1)
        assert take(ws, 1)[0]["e"] == "listenKeyExpired"


def test_cut_drop_and_24_hours(desk: Desk) -> None:
    with desk.stream() as ws:
        desk.sim.faults.set(user_stream_drop=1)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=WAIT_S)
    with desk.stream() as ws:
        desk.sim.faults.set(user_event_drop=1)
        desk.control("borrow", asset="USDT", amount="10")  # liabilityChange lost
        (position,) = take(ws, 1)
        assert position["e"] == "outboundAccountPosition"  # only the second arrived
        borrowed = {r["asset"]: r for r in desk.signed("/papi/v1/balance")}["USDT"]
        assert borrowed["crossMarginBorrowed"] == "10.00000000"  # REST shows the change
        desk.sim.faults.set(user_stream_age_out=1)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT_S)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    clock = desk.sim.clock
    assert isinstance(clock, ManualClock)
    with desk.stream() as ws:
        for step in range(48):  # keep the key alive every 30 minutes, for 24 hours
            if step == 47:
                desk.control("check")  # the exchange's work up to 00:30 done (no race with 24 h)
            clock.advance(30 * 60)
            assert desk.listen_key("PUT").status_code == 200
        pushed: list[dict[str, Any]] = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                pushed.append(json.loads(ws.recv(timeout=WAIT_S)))
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.reason == "connection open 24 hours"
    # 01:00 → 01:00 the next day passed three funding times (08:00, 16:00, 00:00), each pushed
    assert [(e["e"], e["a"]["m"], e["a"]["S"]) for e in pushed] == [
        ("ACCOUNT_UPDATE", "FUNDING_FEE", "BTCUSDT")
    ] * 3


def test_an_adl_close_is_pushed_with_binance_s_adl_id(desk: Desk) -> None:
    with desk.stream() as ws:
        sent = desk.control("adl", symbol="BTCUSDT", quantity="4")
        new, update, filled = take(ws, 3)
        assert [new, update, filled] == sent
        (row,) = desk.signed("/papi/v1/um/positionRisk")
    # basis: short 10 BTCUSDT; the exchange closes 4 of it (BUY) at the mark: −6 left.
    assert new["o"]["c"] == filled["o"]["c"] == "adl_autoclose"
    assert (filled["o"]["S"], filled["o"]["q"], filled["o"]["X"]) == ("BUY", "4.000", "FILLED")
    assert update["a"]["P"][0]["pa"] == row["positionAmt"] == "-6.000"
