"""Leases on accounts in the database: which ``pmdesk collect`` process holds which account.

On PostgreSQL a lease is a session-level advisory lock, ``pg_try_advisory_lock(key)`` with the
key ``lease_key(account)``, taken on a connection of its own (``PostgresLeases``). PostgreSQL
keeps such a lock until it is unlocked or the session ends, whatever happens to transactions
("Advisory Locks", https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS):
a collector that is SIGKILLed loses every lease the moment its kernel closes the socket and the
server's backend sees it. A host that vanishes without closing anything is found by TCP: the
session sets ``tcp_keepalives_idle`` / ``_interval`` / ``_count`` and ``tcp_user_timeout``
("Connection Settings", https://www.postgresql.org/docs/current/runtime-config-connection.html;
all four are user-settable, and ignored over a Unix socket, where a dead peer is seen at once)
so that the server drops a silent peer ``silence_s`` after its last packet
(``app/collector/leases.py`` derives the figures).

Beside the locks, ``collector_members`` (one row per process, heartbeat by the database's
clock) says how many collectors are alive, for the fair share. A member is alive while its
lease session is connected (``pg_stat_activity``, matched by ``application_name``) and its
heartbeat is younger than ``dead_after_s``; a member silent longer than that but still
connected (a frozen process) has its session ended (``pg_terminate_backend``: same role), which
frees its leases. Who holds which lease is read from ``pg_locks``: an advisory lock on one
bigint key shows its high half in ``classid``, its low half in ``objid`` and ``objsubid`` 1
(https://www.postgresql.org/docs/current/view-pg-locks.html).

On SQLite (one host, one collector: the file cannot be shared across hosts) ``SingleHostLeases``
grants every lease at once and needs nothing: today's behaviour, at no cost.

The lease session must reach PostgreSQL itself: a pooler in transaction mode (pgbouncer's
``pool_mode = transaction``) would hand the session's locks to whoever gets the connection next.
Errors leave as ``LeaseStoreError``; SQLAlchemy's types stay in the store.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

APPLICATION_PREFIX = "pmdesk-lease "  # + collector id: a lease session in pg_stat_activity
UNKNOWN_HOLDER = "?"  # a lease held by a session that is not a live member's
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 5000
_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"  # the database's clock


class LeaseStoreError(Exception):
    """The lease session failed or is gone: its leases cannot be proved any more."""


@dataclass(frozen=True)
class Member:
    """One collector process: its id (random; also in its requests' User-Agent), host, pid."""

    collector_id: str
    host: str
    pid: int


@dataclass(frozen=True)
class Keepalive:
    """How soon the server drops a silent lease session (seconds, milliseconds for the user
    timeout): after ``idle_s + interval_s * count`` without an answer to its probes, or
    ``user_timeout_ms`` with sent data unacknowledged."""

    idle_s: int
    interval_s: int
    count: int
    user_timeout_ms: int


@dataclass(frozen=True)
class Census:
    """What one heartbeat saw: the live members (this one among them), who holds each of the
    accounts asked about (member id, or ``UNKNOWN_HOLDER``; unheld accounts absent), and which
    of them this session holds."""

    live: frozenset[str]
    holders: Mapping[str, str]
    mine: frozenset[str]


def lease_key(account: str) -> int:
    """The advisory lock key of an account's lease: a signed 64-bit hash of
    ``pmdesk-lease:ACCOUNT`` (computed here rather than by ``hashtext``, so that the holders
    read from ``pg_locks`` map back to accounts)."""
    digest = hashlib.blake2b(f"pmdesk-lease:{account}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _key_of(classid: int, objid: int) -> int:
    """pg_locks' two unsigned halves back into the signed bigint key."""
    unsigned = (int(classid) << 32) | int(objid)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


class SingleHostLeases:
    """SQLite: one collector holds everything; nothing to prove, nothing stored."""

    shared = False  # no other collector can exist: no thread, no fence

    def __init__(self, member: Member) -> None:
        self.member = member
        self._held: set[str] = set()

    def census(self, accounts: Sequence[str]) -> Census:
        mine = frozenset(a for a in accounts if a in self._held)
        return Census(frozenset({self.member.collector_id}), {}, mine)

    def try_acquire(self, account: str) -> bool:
        self._held.add(account)
        return True

    def release(self, account: str) -> None:
        self._held.discard(account)

    def reset(self) -> None:
        self._held.clear()

    def close(self) -> None:
        self._held.clear()


class PostgresLeases:
    """The leases of one collector on PostgreSQL, on one dedicated session (AUTOCOMMIT).
    Not thread-safe: one thread (the lease keeper's) uses it."""

    shared = True

    def __init__(self, url: URL, member: Member, dead_after_s: float, keepalive: Keepalive) -> None:
        self.member = member
        self.dead_after_ms = int(dead_after_s * 1000)
        self.keepalive = keepalive
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "application_name": APPLICATION_PREFIX + member.collector_id,
                "connect_timeout": CONNECT_TIMEOUT_S,
                # the client's side of the same bounds: a dead server is found as soon
                "keepalives": 1,
                "keepalives_idle": keepalive.idle_s,
                "keepalives_interval": keepalive.interval_s,
                "keepalives_count": keepalive.count,
                "tcp_user_timeout": keepalive.user_timeout_ms,
            },
        )
        self._conn: Connection | None = None
        self.backend_pid: int | None = None

    # ---- the session ---------------------------------------------------------------------------
    def _session(self) -> Connection:
        if self._conn is not None:
            return self._conn
        conn = self._engine.connect()
        try:
            k = self.keepalive
            for name, value in (
                ("tcp_keepalives_idle", k.idle_s),
                ("tcp_keepalives_interval", k.interval_s),
                ("tcp_keepalives_count", k.count),
                ("tcp_user_timeout", k.user_timeout_ms),
                ("statement_timeout", STATEMENT_TIMEOUT_MS),
            ):
                conn.exec_driver_sql(f"SET {name} = {int(value)}")
            self.backend_pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        except BaseException:  # re-raised: only the half-made session is closed first
            conn.close()
            raise
        self._conn = conn
        log.info(
            "lease session of collector %s open (backend %d; the server drops it %d s after "
            "its last packet)",
            self.member.collector_id,
            self.backend_pid,
            k.idle_s + k.interval_s * k.count,
        )
        return conn

    def settings_in_force(self) -> dict[str, str]:
        """The session's own TCP settings as the server applies them (0 over a Unix socket)."""
        names = ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
        try:
            conn = self._session()
            return {n: str(conn.exec_driver_sql(f"SHOW {n}").scalar_one()) for n in names}
        except SQLAlchemyError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: SQLAlchemyError) -> LeaseStoreError:
        self.reset()
        return LeaseStoreError(str(getattr(exc, "orig", None) or exc).splitlines()[0][:200])

    def reset(self) -> None:
        """Close the session: the server frees every lock it held."""
        conn, self._conn, self.backend_pid = self._conn, None, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to a pool: the session ends here
                conn.close()
            except SQLAlchemyError as exc:  # closing a broken session: it is gone either way
                log.debug("lease session close: %s", exc)

    def close(self) -> None:
        """Leave: the member's row deleted, the session closed (its leases freed)."""
        try:
            if self._conn is not None:
                self._conn.execute(
                    text("DELETE FROM collector_members WHERE collector_id = :id"),
                    {"id": self.member.collector_id},
                )
        except SQLAlchemyError as exc:  # the others drop the row when its session is gone
            log.debug("collector_members row not deleted: %s", exc)
        self.reset()
        self._engine.dispose()

    # ---- the heartbeat -------------------------------------------------------------------------
    def census(self, accounts: Sequence[str]) -> Census:
        """Heartbeat, then the live members and the holders of ``accounts``; members found
        dead are removed (and a frozen one's session ended)."""
        try:
            conn = self._session()
            m = self.member
            conn.execute(
                text(
                    "INSERT INTO collector_members (collector_id, host, pid, backend_pid, "
                    f"started_at_ms, heartbeat_at_ms) VALUES (:id, :host, :pid, :bpid, {_NOW_MS}, "
                    f"{_NOW_MS}) ON CONFLICT (collector_id) DO UPDATE SET "
                    "heartbeat_at_ms = EXCLUDED.heartbeat_at_ms, backend_pid = EXCLUDED.backend_pid"
                ),
                {"id": m.collector_id, "host": m.host, "pid": m.pid, "bpid": self.backend_pid},
            )
            table = read_table(conn, accounts, self.dead_after_ms)
            self._bury(conn, table.dead)
        except SQLAlchemyError as exc:
            raise self._failed(exc) from None
        mine = frozenset(a for a, pid in table.lock_pids.items() if pid == self.backend_pid)
        holders = {
            a: table.member_of.get(pid, UNKNOWN_HOLDER)
            for a, pid in table.lock_pids.items()
            if pid != self.backend_pid
        }
        return Census(table.live | {m.collector_id}, holders, mine)

    def _bury(self, conn: Connection, dead: Iterable[_DeadMember]) -> None:
        for d in dead:
            if d.connected:  # silent but connected: a frozen process; its session ends
                log.warning(
                    "collector %s silent for %.0f s: ending its lease session (backend %d)",
                    d.collector_id,
                    d.silent_ms / 1000,
                    d.backend_pid,
                )
                try:
                    conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": d.backend_pid})
                except SQLAlchemyError as exc:  # not the same role: it holds on until TCP says
                    log.warning("could not end collector %s's session: %s", d.collector_id, exc)
                    continue
            conn.execute(
                text(
                    "DELETE FROM collector_members WHERE collector_id = :id "
                    "AND backend_pid = :bpid AND heartbeat_at_ms = :hb"
                ),
                {"id": d.collector_id, "bpid": d.backend_pid, "hb": d.heartbeat_at_ms},
            )

    def try_acquire(self, account: str) -> bool:
        try:
            got = self._session().execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": lease_key(account)}
            )
            return bool(got.scalar_one())
        except SQLAlchemyError as exc:
            raise self._failed(exc) from None

    def release(self, account: str) -> None:
        try:
            self._session().execute(
                text("SELECT pg_advisory_unlock(:k)"), {"k": lease_key(account)}
            )
        except SQLAlchemyError as exc:
            raise self._failed(exc) from None


@dataclass(frozen=True)
class _DeadMember:
    collector_id: str
    backend_pid: int
    heartbeat_at_ms: int
    silent_ms: int
    connected: bool


@dataclass(frozen=True)
class LeaseTable:
    """The leases as the database has them: live members, each held account's session, which
    member each session is, and the members found dead."""

    live: frozenset[str]
    lock_pids: Mapping[str, int]  # account -> backend pid holding its lease
    member_of: Mapping[int, str]  # backend pid -> live member id
    dead: tuple[_DeadMember, ...]

    def holders(self) -> dict[str, str]:
        """account -> member id (``UNKNOWN_HOLDER`` for a session that is no live member)."""
        return {a: self.member_of.get(pid, UNKNOWN_HOLDER) for a, pid in self.lock_pids.items()}


def read_table(conn: Connection, accounts: Sequence[str], dead_after_ms: int) -> LeaseTable:
    """One read of the members and the advisory locks of ``accounts`` (this database only)."""
    rows = conn.execute(
        text(
            f"SELECT m.collector_id, m.backend_pid, m.heartbeat_at_ms, {_NOW_MS} - "
            "m.heartbeat_at_ms, a.pid IS NOT NULL FROM collector_members m LEFT JOIN "
            "pg_stat_activity a ON a.pid = m.backend_pid AND a.application_name = "
            ":prefix || m.collector_id"
        ),
        {"prefix": APPLICATION_PREFIX},
    ).all()
    live: set[str] = set()
    member_of: dict[int, str] = {}
    dead: list[_DeadMember] = []
    for collector_id, pid, heartbeat, silent, connected in rows:
        if connected and silent <= dead_after_ms:
            live.add(collector_id)
            member_of[int(pid)] = collector_id
        else:
            dead.append(_DeadMember(collector_id, int(pid), int(heartbeat), int(silent), connected))
    by_key = {lease_key(a): a for a in accounts}
    locks = conn.execute(
        text(
            "SELECT l.pid, l.classid, l.objid FROM pg_locks l WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objsubid = 1 AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    ).all()
    lock_pids = {
        by_key[key]: int(pid)
        for pid, classid, objid in locks
        if (key := _key_of(classid, objid)) in by_key
    }
    return LeaseTable(frozenset(live), lock_pids, member_of, tuple(dead))


def read_leases(engine: Engine, accounts: Sequence[str], dead_after_s: float) -> LeaseTable:
    """The leases as an onlooker sees them (tests, diagnostics): nothing written, no member."""
    with engine.connect() as conn:
        return read_table(conn, accounts, int(dead_after_s * 1000))


def open_leases(
    engine: Engine, member: Member, dead_after_s: float, keepalive: Keepalive
) -> SingleHostLeases | PostgresLeases:
    """The lease store of this collector: advisory locks on PostgreSQL, trivial on SQLite."""
    if engine.url.get_backend_name() == "postgresql":
        return PostgresLeases(engine.url, member, dead_after_s, keepalive)
    return SingleHostLeases(member)
