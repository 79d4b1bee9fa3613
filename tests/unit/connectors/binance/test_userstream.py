"""The listenKey lifecycle under a manual clock and a fake transport (create, keep alive every
30 min, -1125 and lapse → a new key, close on exit), and the user stream against a local
websocket server: events handed over parsed, a resync asked on every connection, a new
connection with a new key after ``listenKeyExpired``, and a renewal before the 24 h limit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.server import ServerConnection, serve

from connectors.binance.errors import ExchangeDown, ExchangeError
from connectors.binance.listenkey import KEY_MISSING_CODE, ListenKeys
from connectors.binance.userstream import UserStream, user_stream_url
from risk.account_events import AccountEvent, ListenKeyExpired, RiskLevelChange

MIN = 60_000
WAIT_S = 10.0  # generous bound for anything the stream thread does


class Clock:
    def __init__(self, now_ms: int = 1_000_000) -> None:
        self.now = now_ms
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self.now

    def advance(self, ms: int) -> None:
        with self._lock:
            self.now += ms


class FakeTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.missing = 0  # answer the next N keep-alives -1125
        self.fail_close = False

    def create(self) -> str:
        key = f"key{sum(1 for c in self.calls if c[0] == 'create') + 1}"
        self.calls.append(("create", key))
        return key

    def keep_alive(self, key: str) -> None:
        self.calls.append(("keep_alive", key))
        if self.missing:
            self.missing -= 1
            raise ExchangeError("/papi/v1/listenKey", "This listenKey does not exist.", -1125, 400)

    def close(self, key: str) -> None:
        self.calls.append(("close", key))
        if self.fail_close:
            raise ExchangeDown("/papi/v1/listenKey", "exchange unreachable")


def test_the_key_is_kept_alive_every_30_minutes_not_sooner() -> None:
    clock, t = Clock(), FakeTransport()
    keys = ListenKeys(t, clock)
    assert keys.current() == "key1"
    clock.advance(29 * MIN)
    assert keys.keep_alive() == "key1"
    assert t.calls == [("create", "key1")]  # not due yet
    clock.advance(1 * MIN)
    assert keys.keep_alive() == "key1"
    assert t.calls[-1] == ("keep_alive", "key1")
    clock.advance(59 * MIN)  # 59 min after the keep-alive: still valid (60 min life)
    assert keys.valid(clock()) and keys.current() == "key1"


def test_minus_1125_creates_a_new_key() -> None:
    clock, t = Clock(), FakeTransport()
    keys = ListenKeys(t, clock)
    keys.current()
    t.missing = 1
    clock.advance(30 * MIN)
    assert KEY_MISSING_CODE == -1125
    assert keys.keep_alive() == "key2"
    assert t.calls == [("create", "key1"), ("keep_alive", "key1"), ("create", "key2")]
    assert keys.created == 2


def test_other_keep_alive_failures_surface_typed() -> None:
    class Down(FakeTransport):
        def keep_alive(self, key: str) -> None:
            raise ExchangeDown("/papi/v1/listenKey", "exchange timed out")

    clock = Clock()
    keys = ListenKeys(Down(), clock)
    keys.current()
    clock.advance(30 * MIN)
    with pytest.raises(ExchangeDown):
        keys.keep_alive()


def test_a_lapsed_or_expired_key_is_replaced() -> None:
    clock, t = Clock(), FakeTransport()
    keys = ListenKeys(t, clock)
    keys.current()
    clock.advance(60 * MIN)  # never kept alive: Binance dropped it at 60 min
    assert not keys.valid(clock())
    assert keys.keep_alive() == "key2"
    keys.expired()  # the stream said listenKeyExpired
    assert keys.current() == "key3"


def test_close_deletes_the_key_once_and_tolerates_failure() -> None:
    clock, t = Clock(), FakeTransport()
    keys = ListenKeys(t, clock)
    keys.current()
    t.fail_close = True
    keys.close()
    keys.close()
    assert [c for c in t.calls if c[0] == "close"] == [("close", "key1")]
    assert keys.key is None


# ---- the stream against a local server ----------------------------------------------------------
class Server:
    """Serves ``/ws/<key>``: sends the queued messages for that key, then stays open."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.outbox: dict[str, list[str]] = {}
        self.connected = threading.Condition()

    def handler(self, conn: ServerConnection) -> None:
        path = conn.request.path if conn.request is not None else ""
        with self.connected:
            self.paths.append(path)
            self.connected.notify_all()
        for message in self.outbox.get(path.rsplit("/", 1)[-1], []):
            conn.send(message)
        try:
            for _ in conn:
                pass
        except Exception:  # the client went away
            return

    def wait_for(self, count: int) -> list[str]:
        with self.connected:
            assert self.connected.wait_for(lambda: len(self.paths) >= count, WAIT_S), self.paths
            return list(self.paths)


@contextmanager
def served(server: Server) -> Iterator[str]:
    with serve(server.handler, "127.0.0.1", 0) as ws:
        thread = threading.Thread(target=ws.serve_forever, daemon=True)
        thread.start()
        host, port = ws.socket.getsockname()[:2]
        try:
            yield f"ws://{host}:{port}"
        finally:
            ws.shutdown()
            thread.join(timeout=WAIT_S)


class Collected:
    def __init__(self) -> None:
        self.events: list[AccountEvent] = []
        self.resyncs: list[str] = []
        self.changed = threading.Condition()

    def on_event(self, e: AccountEvent) -> None:
        with self.changed:
            self.events.append(e)
            self.changed.notify_all()

    def on_resync(self, reason: str) -> None:
        with self.changed:
            self.resyncs.append(reason)
            self.changed.notify_all()

    def wait(self, events: int, resyncs: int = 0) -> None:
        with self.changed:
            ok = self.changed.wait_for(
                lambda: len(self.events) >= events and len(self.resyncs) >= resyncs, WAIT_S
            )
        assert ok, (self.events, self.resyncs)


RISK = {
    "e": "riskLevelChange",
    "E": 5,
    "u": "1.2",
    "s": "MARGIN_CALL",
    "eq": "1",
    "ae": "1",
    "m": "1",
}


def test_events_flow_and_an_expired_key_reconnects_with_a_new_one() -> None:
    server, got, clock, t = Server(), Collected(), Clock(), FakeTransport()
    server.outbox["key1"] = [json.dumps(RISK), json.dumps({"e": "listenKeyExpired", "E": 6})]
    server.outbox["key2"] = [json.dumps({**RISK, "E": 7})]
    with served(server) as url:
        stream = UserStream(
            "a",
            url,
            ListenKeys(t, clock),
            got.on_event,
            clock,
            on_resync=got.on_resync,
            tick_s=0.05,
        ).start()
        try:
            got.wait(events=3, resyncs=2)
            assert server.wait_for(2)[:2] == ["/ws/key1", "/ws/key2"]
            assert [type(e) for e in got.events] == [
                RiskLevelChange,
                ListenKeyExpired,
                RiskLevelChange,
            ]
            assert stream.connects >= 2
            assert stream.healthy(clock())
        finally:
            stream.stop()
    assert ("close", "key2") in t.calls  # deleted on exit
    assert not stream.healthy(clock())


def test_the_connection_is_renewed_before_its_24_hours() -> None:
    server, got, clock, t = Server(), Collected(), Clock(), FakeTransport()
    with served(server) as url:
        stream = UserStream(
            "b",
            url,
            ListenKeys(t, clock, life_ms=48 * 60 * MIN),  # the jump below must not lapse it
            got.on_event,
            clock,
            on_resync=got.on_resync,
            tick_s=0.05,
            max_connection_ms=23 * 60 * MIN,
        ).start()
        try:
            got.wait(events=0, resyncs=1)
            clock.advance(23 * 60 * MIN)  # a keep-alive falls due too: the key stays key1
            paths = server.wait_for(2)
            assert paths[:2] == ["/ws/key1", "/ws/key1"]
            got.wait(events=0, resyncs=2)  # the new connection asks for a resync again
            assert ("keep_alive", "key1") in t.calls
        finally:
            stream.stop()


def test_user_stream_url() -> None:
    assert user_stream_url("wss://fstream.binance.com/pm/", "abc") == (
        "wss://fstream.binance.com/pm/ws/abc"
    )
