"""Leases on accounts, without a database: the fair share, the timings behind the 15 s bound,
and the keeper's order (stop before release; everything stopped when the session is lost)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from app.collector.leases import (
    LeaseKeeper,
    LeaseTimings,
    fair_share,
    plan,
    preference,
)
from app.store.leases import UNKNOWN_HOLDER, Census, LeaseStoreError

SIX = tuple(f"acct-{i}" for i in range(6))


# ---- the fair share --------------------------------------------------------------------------
def test_fair_share_is_the_ceiling() -> None:
    assert fair_share(6, 3) == 2  # 6 / 3
    assert fair_share(6, 4) == 2  # 1.5 up
    assert fair_share(7, 3) == 3  # 2.33 up
    assert fair_share(6, 0) == 6  # no one counted: this one alone


def test_alone_takes_every_account() -> None:
    p = plan("a", SIX, frozenset(), {}, frozenset({"a"}))
    assert p.release == () and p.take == 6 and set(p.candidates) == set(SIX)


def test_a_newcomer_makes_the_holder_give_up_the_surplus() -> None:
    # a holds all 6, b has joined: share ceil(6 / 2) = 3, a gives 6 - 3 = 3 up and takes none.
    p = plan("a", SIX, frozenset(SIX), {}, frozenset({"a", "b"}))
    assert len(p.release) == 3 and p.take == 0
    # the newcomer sees nothing free yet: takes nothing, gives nothing up
    q = plan("b", SIX, frozenset(), {x: "a" for x in SIX}, frozenset({"a", "b"}))
    assert q == type(q)((), (), 0)


def test_three_collectors_balance_two_each() -> None:
    # a 3, b 3, c 0: share ceil(6 / 3) = 2; a and b each give 3 - 2 = 1 up (c lacks 2).
    a_mine = frozenset(SIX[:3])
    holders = {x: "b" for x in SIX[3:]}
    p = plan("a", SIX, a_mine, holders, frozenset({"a", "b", "c"}))
    assert len(p.release) == 1 and p.release[0] in a_mine
    # c, once two are free, takes 2 of them
    free_two = {x: ("a" if x in SIX[:2] else "b") for x in SIX[:2] + SIX[3:5]}
    q = plan("c", SIX, frozenset(), free_two, frozenset({"a", "b", "c"}))
    assert q.release == () and q.take == 2 and set(q.candidates) == {SIX[2], SIX[5]}


def test_surplus_is_kept_when_nobody_lacks() -> None:
    # 7 accounts, share ceil(7 / 3) = 3; a 3, b 3, c 1: c lacks 2, but a is not over its share.
    seven = (*SIX, "acct-6")
    holders = {SIX[3]: "b", SIX[4]: "b", SIX[5]: "b", "acct-6": "c"}
    p = plan("a", seven, frozenset(SIX[:3]), holders, frozenset({"a", "b", "c"}))
    assert p.release == () and p.take == 0
    # 4 accounts, 3 collectors, share 2: a holds 3, b 1 and c 0 lack 1 + 2 = 3; a gives 1 up.
    four = SIX[:4]
    p2 = plan("a", four, frozenset(four[:3]), {four[3]: "b"}, frozenset({"a", "b", "c"}))
    assert len(p2.release) == 1
    # nobody else lacking what could be taken: nothing is given up, nothing orphaned
    p3 = plan(
        "a",
        SIX,
        frozenset(SIX[:3]),
        {SIX[3]: "b", SIX[4]: "b", SIX[5]: UNKNOWN_HOLDER},
        frozenset({"a", "b"}),
    )
    # share ceil(6 / 2) = 3: a at share, b at 2 lacks 1 but nothing is free
    assert p3.release == () and p3.take == 0


def test_orphans_of_a_dead_collector_are_shared_by_the_survivors() -> None:
    # c died holding 2: a 2, b 2, share ceil(6 / 2) = 3: each takes 1, trying all the free ones.
    holders = {SIX[2]: "b", SIX[3]: "b"}
    p = plan("a", SIX, frozenset(SIX[:2]), holders, frozenset({"a", "b"}))
    assert p.release == () and p.take == 1 and set(p.candidates) == {SIX[4], SIX[5]}


def test_free_accounts_are_taken_beyond_the_share_when_nobody_else_has_room() -> None:
    # b is counted live but full (3 of 6 with share 3); a holds 2; one account is free.
    holders = {SIX[2]: "b", SIX[3]: "b", SIX[4]: "b"}
    p = plan("a", SIX, frozenset(SIX[:1]), holders, frozenset({"a", "b"}))
    assert p.take == 2  # room 3 - 1 = 2, both free ones
    # b over its share with a full: b takes the free one anyway (availability first)
    holders_b = {SIX[0]: "a", SIX[1]: "a", SIX[2]: "a"}
    q = plan("b", SIX, frozenset(SIX[3:5]), holders_b, frozenset({"a", "b"}))
    assert q.take == 1 and q.candidates == (SIX[5],)


def test_an_unknown_holder_is_neither_free_nor_counted() -> None:
    p = plan("a", SIX[:2], frozenset(), {SIX[0]: UNKNOWN_HOLDER}, frozenset({"a"}))
    assert p.candidates == (SIX[1],) and p.take == 1


def test_each_member_has_its_own_order() -> None:
    a = sorted(SIX, key=lambda x: preference("a", x))
    b = sorted(SIX, key=lambda x: preference("b", x))
    assert a != b and sorted(a) == sorted(b)
    assert preference("a", SIX[0]) == preference("a", SIX[0])


# ---- the timings -----------------------------------------------------------------------------
def test_default_timings() -> None:
    t = LeaseTimings.derive()
    assert t.dead_after_s == 15.0
    assert t.heartbeat_s == pytest.approx(2.0)  # 15 / 7.5
    # silence 10 s: probes every 10 // 5 = 2 s, 3 of them, after 10 - 3 * 2 = 4 s idle
    assert (t.keepalive.idle_s, t.keepalive.interval_s, t.keepalive.count) == (4, 2, 3)
    assert t.silence_s == 10.0 and t.keepalive.user_timeout_ms == 10_000
    assert t.fence_s == pytest.approx(6.0)  # 0.6 * 10


@pytest.mark.parametrize("dead_after_s", [6.0, 7.0, 10.0, 15.0, 30.0, 100.0, 600.0])
def test_the_bounds_hold_for_every_setting(dead_after_s: float) -> None:
    t = LeaseTimings.derive(dead_after_s)
    k = t.keepalive
    assert k.idle_s >= 1 and k.interval_s >= 1
    assert t.silence_s == k.idle_s + k.interval_s * k.count
    # a vanished host: its last packet at most one round before it went, the server drops it
    # silence_s later, the others take over at their next round: within dead_after_s
    assert t.silence_s + 2 * t.heartbeat_s <= dead_after_s
    # the cut-off collector stops before the server can free its leases, and a late round
    # or two does not make it stop
    assert 2 * t.heartbeat_s <= t.fence_s < t.silence_s


def test_too_short_a_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 6 s"):
        LeaseTimings.derive(5.0)


# ---- the keeper ------------------------------------------------------------------------------
class FakeBackend:
    """The database's part: who holds which lock (this member, or others), and failures."""

    shared = True

    def __init__(self, me: str, log: list[str]) -> None:
        self.me = me
        self.log = log
        self.locks: dict[str, str] = {}  # account -> member
        self.live = {me}
        self.fail: Exception | None = None

    def census(self, accounts: Sequence[str]) -> Census:
        if self.fail is not None:
            raise self.fail
        mine = frozenset(a for a, m in self.locks.items() if m == self.me)
        others = {a: m for a, m in self.locks.items() if m != self.me}
        return Census(frozenset(self.live), others, mine)

    def try_acquire(self, account: str) -> bool:
        if account in self.locks:
            return self.locks[account] == self.me
        self.locks[account] = self.me
        self.log.append(f"lock {account}")
        return True

    def release(self, account: str) -> None:
        self.log.append(f"unlock {account}")
        del self.locks[account]

    def reset(self) -> None:
        self.log.append("reset")
        self.locks = {a: m for a, m in self.locks.items() if m != self.me}

    def close(self) -> None:
        self.log.append("close")
        self.reset()


class FakeHolder:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.polling: set[str] = set()

    def gain(self, account: str) -> None:
        self.log.append(f"start {account}")
        self.polling.add(account)

    def lose(self, account: str) -> None:
        self.log.append(f"stop {account}")
        self.polling.discard(account)

    def settled(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _keeper(
    accounts: Sequence[str] = SIX[:4],
) -> tuple[LeaseKeeper, FakeBackend, FakeHolder, Clock, list[str]]:
    log: list[str] = []
    backend, holder, clock = FakeBackend("a", log), FakeHolder(log), Clock()
    keeper = LeaseKeeper(backend, accounts, "a", holder, LeaseTimings.derive(), clock)
    return keeper, backend, holder, clock, log


def test_a_lock_is_taken_before_its_collector_starts() -> None:
    keeper, _backend, holder, _clock, log = _keeper()
    keeper.round()
    assert holder.polling == set(SIX[:4]) == keeper.held
    for account in SIX[:4]:
        assert log.index(f"lock {account}") < log.index(f"start {account}")


def test_a_collector_stops_before_its_lock_is_released() -> None:
    keeper, backend, holder, _clock, log = _keeper()
    keeper.round()
    backend.live = {"a", "b"}  # b joins: share 2, a gives 2 up
    log.clear()
    keeper.round()
    released = [line.split()[1] for line in log if line.startswith("unlock")]
    assert len(released) == 2 and keeper.held == frozenset(SIX[:4]) - set(released)
    for account in released:
        assert log.index(f"stop {account}") < log.index(f"unlock {account}")
    assert holder.polling == keeper.held


def test_a_lost_session_stops_everything_and_is_reset() -> None:
    keeper, backend, holder, _clock, log = _keeper()
    keeper.round()
    backend.fail = LeaseStoreError("server closed the connection unexpectedly")
    keeper.round()
    assert holder.polling == set() and keeper.held == frozenset()
    backend.fail = None
    log.clear()
    keeper.round()  # the session is closed first, then the leases are taken again
    assert log[0] == "reset" and holder.polling == set(SIX[:4])


def test_no_proof_for_the_fence_stops_everything() -> None:
    keeper, _backend, holder, clock, _log = _keeper()
    keeper.round()
    clock.t += keeper.timings.fence_s  # exactly at the fence: still held
    keeper.fence_check()
    assert holder.polling == set(SIX[:4])
    clock.t += 0.01
    keeper.fence_check()
    assert holder.polling == set()


def test_a_lease_the_server_no_longer_shows_stops_its_collector() -> None:
    keeper, backend, holder, _clock, _log = _keeper()
    keeper.round()
    backend.locks[SIX[0]] = "b"  # e.g. the session was replaced under us
    keeper.round()
    assert SIX[0] not in holder.polling and SIX[0] not in keeper.held


def test_stop_stops_collectors_then_closes() -> None:
    keeper, _backend, holder, _clock, log = _keeper()
    keeper.round()
    keeper.stop()
    assert holder.polling == set()
    assert log[-1].startswith("close") or "close" in log
    assert max(log.index(f"stop {a}") for a in SIX[:4]) < log.index("close")
