"""Which accounts this collector may poll: leases in the database, a fair share of them.

A desk that outgrows one IP's weight runs several ``pmdesk collect`` processes (other hosts,
other IPs) on one PostgreSQL. Each account is then polled by exactly one of them: the one
holding its lease. The lease is a PostgreSQL session-level advisory lock (``app/store/
leases.py``) rather than a row lock or a table of claims with expiry times, because the
database itself then decides who holds what, and a holder that dies loses its leases with its
session — no clock, no coordinator, no second source of truth. A small table of members with a
heartbeat (by the database's clock) says how many collectors are alive, for the fair share.
On SQLite there is one collector: it is granted every lease at once, without a thread.

``LeaseKeeper`` runs the round every ``heartbeat_s``: heartbeat and census (who is alive, who
holds what), then ``plan``: a collector holding more than ``ceil(accounts / live collectors)``
gives up the surplus (only as many as the others lack: a lease given up with nobody to take it
would leave an account unpolled), and takes free leases while under its share — or beyond it
when no other live collector has room (availability first). Free leases are tried in an order
of their own per collector, so that two collectors rarely race for the same one.

The order that keeps an account from being polled by two collectors at once:
- gaining: the lock is taken first, then the account's collector is started (``Holder.gain``);
- giving up: the collector is stopped first — its poll job removed and waited for, its user
  stream closed and its listenKey deleted (``Holder.lose`` returns only then) — and only then
  is the lock released;
- losing the session (an error, or no successful heartbeat for ``fence_s``): every collector is
  stopped at once and the session is closed. The watchdog that enforces ``fence_s`` runs on its
  own thread, so a heartbeat stuck in the network cannot hold it up.

The 15 s bound (``dead_after_s``, setting ``store.lease_dead_after_s``), from ``LeaseTimings``:
- a SIGKILLed collector: its kernel closes its sockets, PostgreSQL ends the session at once and
  the locks are free; the others take them at their next round (``heartbeat_s``, 2 s);
- a host that vanishes (power, network): the server's TCP keepalive and user timeout drop the
  session ``silence_s`` (10 s) after its last packet, which was at most ``heartbeat_s`` before;
  the others take the leases at their next round: ``silence_s + 2 * heartbeat_s`` <= 15 s;
- the vanished collector, cut off, stops polling once ``fence_s`` (6 s) passed without proof —
  before the server can drop its session (``silence_s``, measured from no earlier than that
  proof) and so before anyone else can take its leases. A request already on the wire then
  still ends within the client's timeout; it is a read, and the margin is ``silence_s - fence_s``.
- a frozen collector (SIGSTOP, a swapped-out VM) keeps its TCP session alive: silent for more
  than ``dead_after_s``, its session is ended by a live member (``pg_terminate_backend``); when
  it wakes, its watchdog stops its collectors (no proof for ``fence_s``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.store.leases import UNKNOWN_HOLDER, Census, Keepalive, LeaseStoreError

log = logging.getLogger(__name__)

DEFAULT_DEAD_AFTER_S = 15.0
KEEPALIVE_PROBES = 3


@dataclass(frozen=True)
class LeaseTimings:
    """Every interval of the leases, derived from one: ``dead_after_s`` (see the module)."""

    dead_after_s: float
    heartbeat_s: float  # one round: heartbeat, census, plan
    silence_s: float  # the server drops a lease session this long after its last packet
    fence_s: float  # no proof of the session for this long: stop polling everything
    keepalive: Keepalive

    @classmethod
    def derive(cls, dead_after_s: float = DEFAULT_DEAD_AFTER_S) -> LeaseTimings:
        """At 15 s: a round every 2 s, the server drops a silent session after 4 + 3 * 2 = 10 s
        (TCP user timeout 10 s), and a collector without proof for 6 s stops polling."""
        if dead_after_s < 6:
            raise ValueError("lease_dead_after_s must be at least 6 s")
        heartbeat = dead_after_s / 7.5
        silence = dead_after_s * 2 / 3  # + 2 rounds (14/15 of dead_after): within it
        interval = max(1, int(silence // 5))
        idle = max(1, int(silence - KEEPALIVE_PROBES * interval))
        dropped = idle + KEEPALIVE_PROBES * interval  # <= silence: what the server really does
        keepalive = Keepalive(idle, interval, KEEPALIVE_PROBES, dropped * 1000)
        return cls(dead_after_s, heartbeat, float(dropped), 0.6 * dropped, keepalive)


@dataclass(frozen=True)
class Plan:
    """One round's decision: leases to give up, then free ones to try (in order) until
    ``take`` of them are held."""

    release: tuple[str, ...]
    candidates: tuple[str, ...]
    take: int


def preference(member: str, account: str) -> int:
    """A member's own order of the accounts (stable; differs between members)."""
    digest = hashlib.blake2b(f"{member}\0{account}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def fair_share(accounts: int, live: int) -> int:
    return math.ceil(accounts / max(1, live))


def plan(
    me: str,
    accounts: Sequence[str],
    mine: frozenset[str],
    holders: Mapping[str, str],
    live: frozenset[str],
) -> Plan:
    """The fair share, pure: what ``me`` gives up and takes given a census."""
    members = live | {me}
    share = fair_share(len(accounts), len(members))
    counts = {m: 0 for m in members}
    for holder in holders.values():
        if holder in counts and holder != me:
            counts[holder] += 1
    others_lack = sum(max(0, share - counts[m]) for m in members if m != me)
    order = sorted(mine, key=lambda a: preference(me, a))
    surplus = len(mine) - share
    give_up = min(surplus, others_lack) if surplus > 0 else 0
    release = tuple(order[len(order) - give_up :]) if give_up else ()
    free = sorted(
        (a for a in accounts if a not in mine and a not in holders),
        key=lambda a: preference(me, a),
    )
    kept = len(mine) - len(release)
    room = share - kept if others_lack > 0 else len(free)  # nobody else has room: take all
    return Plan(release, tuple(free), max(0, min(room, len(free))) if not release else 0)


class LeaseBackend(Protocol):
    """The leases in the store (``app/store/leases.py``): ``shared`` is False when no other
    collector can exist (SQLite: no thread, no fence)."""

    shared: bool

    def census(self, accounts: Sequence[str]) -> Census: ...

    def try_acquire(self, account: str) -> bool: ...

    def release(self, account: str) -> None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


class Holder(Protocol):
    """What holding a lease means: ``gain`` starts polling the account; ``lose`` stops it and
    returns only once nothing of that account's is in flight; ``settled`` after each round
    (the polls planned for what is held now)."""

    def gain(self, account: str) -> None: ...

    def lose(self, account: str) -> None: ...

    def settled(self) -> None: ...


class LeaseKeeper:
    """This collector's leases: rounds on a thread, the fence on another (see the module)."""

    def __init__(
        self,
        backend: LeaseBackend,
        accounts: Sequence[str],
        me: str,
        holder: Holder,
        timings: LeaseTimings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.accounts = tuple(accounts)
        self.me = me
        self.holder = holder
        self.timings = timings
        self._monotonic = monotonic
        self._lock = threading.RLock()  # the held set and every gain / lose
        self._held: set[str] = set()
        self._generation = 0  # +1 each time everything is lost: a round in flight is void
        self._proof_at = -math.inf  # monotonic time of the last round that proved the session
        self._reset_due = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def held(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._held)

    def start(self) -> LeaseKeeper:
        """The first round now (on SQLite: every lease, and that is all); then, when other
        collectors may exist, the rounds and the fence on their threads."""
        self.round()
        if self.backend.shared:
            for name, loop in (("lease-rounds", self._rounds), ("lease-fence", self._fence)):
                t = threading.Thread(target=loop, name=name, daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def stop(self) -> None:
        """Every collector stopped, then the leases freed and the member gone."""
        self._stopping.set()
        for t in self._threads:
            t.join(timeout=30)
        with self._lock:
            for account in sorted(self._held):
                self.holder.lose(account)
            self._held.clear()
        self.backend.close()

    # ---- one round -----------------------------------------------------------------------------
    def round(self) -> None:
        if self._reset_due:
            self._reset_due = False
            self.backend.reset()
        started = self._monotonic()
        with self._lock:
            generation = self._generation
        try:
            census = self.backend.census(self.accounts)
        except LeaseStoreError as exc:
            self.lose_all(f"lease store unreachable ({exc})")
            return
        with self._lock:
            if generation != self._generation:
                return  # everything was lost while the census ran: the next round starts over
            self._proof_at = started
            for account in sorted(self._held - census.mine):  # the server says: not ours
                log.warning("lease on %s no longer held: its collection stops", account)
                self.holder.lose(account)
                self._held.discard(account)
            mine = frozenset(self._held)
        decided = plan(self.me, self.accounts, mine, census.holders, census.live)
        for account in decided.release:
            self._give_up(account, len(census.live))
        self._take(decided, generation)
        with self._lock:
            self.holder.settled()

    def _give_up(self, account: str, live: int) -> None:
        with self._lock:
            if account not in self._held:
                return
            log.info("lease on %s given up (fair share among %d collectors)", account, live)
            self.holder.lose(account)  # stopped first: nothing in flight when the lock goes
            self._held.discard(account)
        try:
            self.backend.release(account)
        except LeaseStoreError as exc:
            self.lose_all(f"lease store unreachable ({exc})")

    def _take(self, decided: Plan, generation: int) -> None:
        taken = 0
        for account in decided.candidates:
            if taken >= decided.take:
                return
            try:
                got = self.backend.try_acquire(account)
            except LeaseStoreError as exc:
                self.lose_all(f"lease store unreachable ({exc})")
                return
            if not got:
                continue  # another collector took it first
            with self._lock:
                if generation != self._generation:
                    return  # lost meanwhile: the session is reset before the next round
                self._held.add(account)
                log.info("lease on %s taken by collector %s", account, self.me)
                self.holder.gain(account)
            taken += 1

    # ---- losing everything ---------------------------------------------------------------------
    def lose_all(self, reason: str) -> None:
        """The session can no longer prove the leases: stop every collector now; the session
        is closed before the next round (the server frees whatever it still held)."""
        with self._lock:
            self._generation += 1
            self._reset_due = True
            self._proof_at = -math.inf
            if not self._held:
                return
            log.warning("%s: collection of %s stops", reason, ", ".join(sorted(self._held)))
            for account in sorted(self._held):
                self.holder.lose(account)
            self._held.clear()
            self.holder.settled()

    def fence_check(self) -> None:
        """No round proved the session for ``fence_s``: let go before the server can."""
        with self._lock:
            silent = self._monotonic() - self._proof_at
            due = bool(self._held) and silent > self.timings.fence_s
        if due:
            self.lose_all(f"no proof of the leases for {self.timings.fence_s:g} s")

    def _rounds(self) -> None:
        while not self._stopping.wait(self.timings.heartbeat_s):
            try:
                self.round()
            # Broad on purpose: the lease thread must outlive any bug in a round; everything is
            # let go (fail closed) and the next round starts over.
            except Exception:
                log.exception("a lease round failed")
                self.lose_all("a lease round failed")

    def _fence(self) -> None:
        step = min(0.5, self.timings.fence_s / 10)
        while not self._stopping.wait(step):
            self.fence_check()


__all__ = [
    "UNKNOWN_HOLDER",
    "Holder",
    "LeaseBackend",
    "LeaseKeeper",
    "LeaseTimings",
    "Plan",
    "fair_share",
    "plan",
    "preference",
]
