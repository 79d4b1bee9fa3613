"""The store's engine and what can stop it saving: SQLite's pragmas and owner-only files, the
busy timeout, and the screen's lines for a full, read-only or locked store (``LockWatch``)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.store.errors import StoreWriteError

log = logging.getLogger(__name__)


def _sqlite_pragmas(
    max_mb: float | None, busy_timeout_ms: int | None = None
) -> Callable[[Any, Any], None]:
    busy_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else int(busy_timeout_ms)

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: the pragmas below may wait too
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        if max_mb is not None:
            page = cur.execute("PRAGMA page_size").fetchone()[0]
            cur.execute(f"PRAGMA max_page_count={max(1, int(max_mb * 1e6 // page))}")
        cur.close()

    return on_connect


def owner_only_dir(path: Path) -> None:
    """Make ``path`` and any missing parent, each mode 0700 (issue 17: balances and positions
    are nobody else's business on a shared machine). Folders that exist are left as they are."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask


def owner_only_file(path: Path) -> None:
    """Create the SQLite store file mode 0600 (in a 0700 folder) before SQLite opens it;
    SQLite gives its -wal and -shm files the database file's mode. An existing store is left
    as it is, with a warning when others can read it."""
    owner_only_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "store %s can be read by other users (mode %03o): run chmod 600 %s*",
                path,
                mode,
                path,
            )
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


def make_engine(
    url: str, max_mb: float | None = None, busy_timeout_ms: int | None = None
) -> Engine:
    """The store's engine; on SQLite a lock held by another connection is waited for up to
    ``busy_timeout_ms`` (default ``BUSY_TIMEOUT_MS``), then "database is locked"."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        uri = parsed.query.get("uri") == "true"  # "file:…?mode=ro": SQLite's own URI form
        if parsed.database and parsed.database != ":memory:" and not uri:
            owner_only_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(max_mb, busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True)


BUSY_TIMEOUT_MS = 5000
BUSY_ATTEMPTS = 3
LOW_DISK_BYTES = 50_000_000
FULL_ROOM_PAGES = 8  # less room than this in a capped store: the next write may not fit


def describe_write_error(exc: BaseException) -> tuple[str, str]:
    """(kind, one clear line) for a failed store write: full, read-only, busy or other."""
    if isinstance(exc, StoreWriteError):
        return exc.kind, exc.message
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "full" in text or "no space" in text:
        return "full", (
            "store full: new data cannot be saved — free disk space (or raise store_max_mb); "
            "collection retries every cycle"
        )
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "read-only", (
            "store is read-only: new data cannot be saved — check the file's and its "
            "directory's permissions and the disk's mount; collection retries every cycle"
        )
    if "locked" in text or "busy" in text:
        return "busy", "store busy: another writer held it past the retries; next cycle retries"
    return "other", f"store write failed: {str(exc).splitlines()[0][:200]}"


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and describe_write_error(exc)[0] == "busy"


LOCKED_BY_OTHER = "the store is locked by another process"


def describe_lock(exc: BaseException, what: str = "new data cannot be saved") -> str | None:
    """The screen's line for a store that another process keeps locked past the busy timeout
    (SQLite's "database is locked" / "busy"), with SQLite's own words; None for any other
    error. ``what``: what the lock stops (saving, or the screen's reading)."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = cause[0][:200] if cause else ""
    if "locked" not in first.lower() and "busy" not in first.lower():
        return None
    return (
        f"{LOCKED_BY_OTHER}: {what} until it lets go — is a sqlite3 shell, a backup or another "
        f"program holding a transaction on it? ({first})"
    )


class LockWatch:
    """Whether another process holds a SQLite store's write lock past the busy timeout.

    In WAL mode a writer never blocks readers: a store locked by, say, a sqlite3 shell holding
    ``BEGIN EXCLUSIVE`` reads fine while the collector cannot save, and the screen would only see
    its data go stale. So this probes the write lock the way the collector takes it (``BEGIN
    IMMEDIATE``, then ``ROLLBACK`` at once: nothing is written), waiting up to the busy timeout.
    The probe runs on its own thread — at most one at a time, at most every ``every_s`` — so
    asking (``trouble``) never waits: it gives what the last probe found."""

    def __init__(self, path: Path, busy_timeout_ms: int, every_s: float = 1.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_ms / 1000
        self.every_s = every_s
        self._trouble: str | None = None
        self._running = threading.Lock()
        self._started = -math.inf  # monotonic time the last probe started

    def trouble(self) -> str | None:
        now = time.monotonic()
        if now - self._started >= self.every_s and self._running.acquire(blocking=False):
            self._started = now
            threading.Thread(target=self._probe, name="pmdesk-lock-probe", daemon=True).start()
        return self._trouble

    def probe(self) -> str | None:
        """One probe, on the caller's thread: the lock's line, or None when it could be had."""
        if not self.path.exists():
            return None
        try:  # mode=rw: never creates the file
            con = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=rw",
                uri=True,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error:
            return None  # not there or not readable: health's other checks say so
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return describe_lock(exc)  # anything but a lock: health's other checks say it
        finally:
            con.close()
        return None

    def _probe(self) -> None:
        try:
            self._trouble = self.probe()
        finally:
            self._running.release()
