"""Leases in the store, on both backends: on SQLite every lease is granted to the one collector;
on PostgreSQL they are advisory locks on a session of their own, read back from pg_locks, freed
with the session, and members are counted live by their session and heartbeat."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

from app.collector.leases import LeaseTimings
from app.store.leases import (
    UNKNOWN_HOLDER,
    LeaseStoreError,
    Member,
    PostgresLeases,
    SingleHostLeases,
    lease_key,
    read_leases,
)
from app.store.store import Store

ACCOUNTS = ("desk-a", "desk-b", "desk-c")
T = LeaseTimings.derive()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.create_schema()
    yield s
    s.close()


def _member(name: str) -> Member:
    return Member(name, "host-" + name, 4242)


def _open(store: Store, name: str) -> SingleHostLeases | PostgresLeases:
    return store.open_leases(_member(name), T.dead_after_s, T.keepalive)


def test_the_one_collector_or_the_shared_ones(store: Store) -> None:
    a = _open(store, "a")
    try:
        if store.engine.url.get_backend_name() == "sqlite":
            assert isinstance(a, SingleHostLeases) and not a.shared
        else:
            assert isinstance(a, PostgresLeases) and a.shared
        assert a.census(ACCOUNTS).mine == frozenset()
        assert all(a.try_acquire(x) for x in ACCOUNTS)
        seen = a.census(ACCOUNTS)
        assert seen.mine == frozenset(ACCOUNTS) and seen.live == frozenset({"a"})
        assert seen.holders == {}  # nobody else holds anything
        a.release("desk-b")
        assert a.census(ACCOUNTS).mine == frozenset({"desk-a", "desk-c"})
    finally:
        a.close()


def test_the_lease_key_is_a_signed_64_bit_integer() -> None:
    keys = {lease_key(a) for a in ACCOUNTS}
    assert len(keys) == 3 and all(-(2**63) <= k < 2**63 for k in keys)
    assert lease_key("desk-a") == lease_key("desk-a")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_one_holder_per_account_and_a_closed_session_frees_its_leases(store: Store) -> None:
    a, b = _open(store, "a"), _open(store, "b")
    try:
        a.census(ACCOUNTS)
        b.census(ACCOUNTS)
        assert a.try_acquire("desk-a") and a.try_acquire("desk-b")
        assert not b.try_acquire("desk-a")  # held by a
        assert b.try_acquire("desk-c")
        seen = b.census(ACCOUNTS)
        assert seen.live == frozenset({"a", "b"})
        assert seen.holders == {"desk-a": "a", "desk-b": "a"} and seen.mine == {"desk-c"}
        onlooker = read_leases(store.engine, ACCOUNTS, T.dead_after_s)
        assert onlooker.holders() == {"desk-a": "a", "desk-b": "a", "desk-c": "b"}
        a.reset()  # a's session ends (as when its process is killed): its locks go with it
        after = b.census(ACCOUNTS)
        assert after.live == frozenset({"b"})  # and it is no longer counted
        assert after.holders == {}
        assert b.try_acquire("desk-a")
        rows = read_leases(store.engine, ACCOUNTS, T.dead_after_s)
        assert rows.live == frozenset({"b"}) and rows.dead == ()  # a's row was removed
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_session_asks_the_server_to_drop_it_when_silent(store: Store) -> None:
    a = _open(store, "a")
    assert isinstance(a, PostgresLeases)
    try:
        # 127.0.0.1 over TCP: the server applies them (a Unix socket would read 0)
        assert a.settings_in_force() == {
            "tcp_keepalives_idle": "4",
            "tcp_keepalives_interval": "2",
            "tcp_keepalives_count": "3",
        }
    finally:
        a.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_silent_member_has_its_session_ended(store: Store) -> None:
    a, b = _open(store, "a"), _open(store, "b")
    try:
        a.census(ACCOUNTS)
        assert a.try_acquire("desk-a")
        with store.engine.begin() as conn:  # a's last heartbeat 16 s ago: a frozen process
            conn.execute(
                text(
                    "UPDATE collector_members SET heartbeat_at_ms = heartbeat_at_ms - 16000 "
                    "WHERE collector_id = 'a'"
                )
            )
        seen = b.census(ACCOUNTS)  # ends a's session, which frees its lease
        assert seen.live == frozenset({"b"})
        # the server ends the backend asynchronously: b's lock attempt may have to wait a moment
        assert _eventually(lambda: b.try_acquire("desk-a"))
        with pytest.raises(LeaseStoreError):  # a wakes up: its session is gone
            a.census(ACCOUNTS)
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lock_held_by_another_session_is_an_unknown_holder(store: Store) -> None:
    a = _open(store, "a")
    try:
        a.census(ACCOUNTS)
        with store.engine.connect() as other:
            assert other.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": lease_key("desk-c")}
            ).scalar_one()
            seen = a.census(ACCOUNTS)
            assert seen.holders == {"desk-c": UNKNOWN_HOLDER}
            assert not a.try_acquire("desk-c")
            other.execute(text("SELECT pg_advisory_unlock_all()"))
    finally:
        a.close()


def _eventually(attempt: Callable[[], bool], tries: int = 200) -> bool:
    """Retry a lock attempt until it succeeds (bounded): pg_terminate_backend signals the
    backend, which exits a moment later; each attempt is itself a round trip to the server."""
    return any(attempt() for _ in range(tries))
