"""The simulator's listenKeys under a manual clock, as Binance's Portfolio Margin "User Data
Streams" page states the rules (https://developers.binance.com/docs/derivatives/portfolio-margin/
user-data-streams): valid 60 minutes, PUT extends by 60 minutes, -1125 "This listenKey does not
exist." once gone, DELETE invalidates, POST returns the active key and extends it. Weight 1 each
(Start / Keepalive / Close User Data Stream pages); USER_STREAM: API key header, no signature."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from connectors.simulator.auth import BinanceError
from connectors.simulator.clock import ManualClock
from connectors.simulator.listen_keys import KeyState, ListenKeys
from connectors.simulator.server import Simulator
from connectors.simulator.wsgi import build_app

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MIN = 60_000
PATH = "/papi/v1/listenKey"


def code_of(call: object) -> tuple[int, str]:
    assert callable(call)
    with pytest.raises(BinanceError) as err:
        call()
    return err.value.code, err.value.msg


def test_a_key_lives_60_minutes_and_a_keepalive_gives_60_more() -> None:
    keys = ListenKeys()
    key = keys.create("a", T0)
    assert len(key) == 64 and key.isalnum()
    assert keys.expires_ms(key) == T0 + 60 * MIN
    keys.keepalive("a", key, T0 + 59 * MIN)  # one minute before expiry
    assert keys.expires_ms(key) == T0 + 59 * MIN + 60 * MIN
    assert keys.state(key, T0 + 119 * MIN - 1) == (KeyState.LIVE, "a")
    assert keys.state(key, T0 + 119 * MIN) == (KeyState.EXPIRED, "a")  # 59 + 60 minutes


def test_post_returns_the_active_key_and_extends_it() -> None:
    keys = ListenKeys()
    key = keys.create("a", T0)
    assert keys.create("a", T0 + 30 * MIN) == key  # one key per account
    assert keys.expires_ms(key) == T0 + 90 * MIN
    assert keys.create("b", T0) != key  # another account, another key


def test_an_expired_key_answers_minus_1125_and_post_makes_a_new_one() -> None:
    keys = ListenKeys()
    key = keys.create("a", T0)
    late = T0 + 60 * MIN  # exactly 60 minutes: gone
    assert code_of(lambda: keys.keepalive("a", key, late)) == (
        -1125,
        "This listenKey does not exist.",
    )
    assert code_of(lambda: keys.keepalive("a", None, late))[0] == -1125  # no key named
    fresh = keys.create("a", late)
    assert fresh != key
    keys.keepalive("a", None, late + MIN)  # the account's active key
    assert keys.expires_ms(fresh) == late + 61 * MIN


def test_delete_closes_the_key() -> None:
    keys = ListenKeys()
    key = keys.create("a", T0)
    keys.close("a", key, T0 + MIN)
    assert keys.state(key, T0 + MIN) == (KeyState.CLOSED, "a")
    assert code_of(lambda: keys.keepalive("a", key, T0 + 2 * MIN))[0] == -1125
    assert code_of(lambda: keys.close("a", key, T0 + 2 * MIN))[0] == -1125


def test_another_accounts_key_does_not_exist_for_this_one() -> None:
    keys = ListenKeys()
    key = keys.create("a", T0)
    assert code_of(lambda: keys.keepalive("b", key, T0))[0] == -1125


def test_expire_now_expires_only_live_keys() -> None:
    keys = ListenKeys()
    a, b = keys.create("a", T0), keys.create("b", T0)
    assert keys.expire("a", T0) == [a]
    assert keys.state(a, T0) == (KeyState.EXPIRED, "a")
    assert keys.state(b, T0) == (KeyState.LIVE, "b")


# ---- over the Flask app (no sockets) --------------------------------------------------------


@pytest.fixture
def sim() -> Simulator:
    return Simulator(preset="basis", clock=ManualClock(T0), still=True)


def client_of(sim: Simulator) -> FlaskClient:
    return build_app(sim).test_client()


def test_http_lifecycle_weight_and_errors(sim: Simulator) -> None:
    client, clock = client_of(sim), sim.clock
    assert isinstance(clock, ManualClock)
    head = {"X-MBX-APIKEY": sim.api_key}
    created = client.post(PATH, headers=head)
    assert created.status_code == 200
    assert created.headers["X-MBX-USED-WEIGHT-1M"] == "1"  # weight 1, first request this minute
    key = created.get_json()["listenKey"]
    assert client.post(PATH, headers=head).get_json() == {"listenKey": key}
    assert client.post(PATH, headers=head).headers["X-MBX-USED-WEIGHT-1M"] == "3"  # 1 + 1 + 1
    clock.advance(59 * 60)
    kept = client.put(PATH, headers=head, query_string={"listenKey": key})
    assert (kept.status_code, kept.get_json()) == (200, {})
    clock.advance(59 * 60)  # 118 minutes after creation, 59 after the keep-alive
    assert client.put(PATH, headers=head).status_code == 200
    clock.advance(61 * 60)  # now 61 minutes after the last keep-alive
    gone = client.put(PATH, headers=head)
    assert (gone.status_code, gone.get_json()) == (
        400,
        {"code": -1125, "msg": "This listenKey does not exist."},
    )
    fresh = client.post(PATH, headers=head).get_json()["listenKey"]
    assert fresh != key
    assert client.delete(PATH, headers=head, query_string={"listenKey": fresh}).status_code == 200
    assert client.put(PATH, headers=head).get_json()["code"] == -1125


def test_http_needs_the_api_key_but_no_signature(sim: Simulator) -> None:
    client = client_of(sim)
    assert client.post(PATH).get_json()["code"] == -2014
    assert client.post(PATH, headers={"X-MBX-APIKEY": "x" * 64}).get_json()["code"] == -2015


def test_fault_minus_1125_on_the_next_keepalive(sim: Simulator) -> None:
    client = client_of(sim)
    head = {"X-MBX-APIKEY": sim.api_key}
    key = client.post(PATH, headers=head).get_json()["listenKey"]
    client.post("/_sim/faults", query_string={"listen_key_invalid": "1"})
    assert client.put(PATH, headers=head).get_json()["code"] == -1125
    assert client.post(PATH, headers=head).get_json()["listenKey"] != key  # recreated
    assert client.put(PATH, headers=head).status_code == 200  # the fault was taken once


def test_fault_expire_now(sim: Simulator) -> None:
    client = client_of(sim)
    head = {"X-MBX-APIKEY": sim.api_key}
    key = client.post(PATH, headers=head).get_json()["listenKey"]
    sim.account("basis").faults.set(listen_key_expire=1)  # this account's keys only
    assert client.put(PATH, headers=head).get_json()["code"] == -1125
    assert sim.user_data.key_state(key) == (KeyState.EXPIRED, "basis")
