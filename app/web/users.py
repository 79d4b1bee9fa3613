"""Who may sign in: the users file and the screens file, and a ``Roster`` that re-reads them
when they change (at most once a second), so ``pmdesk user add/remove`` and ``pmdesk screen
add/revoke`` take effect without a restart.

Users file, one per line: ``NAME:ROLE:HASH`` (werkzeug's salted scrypt hash; never a password).
A line ``NAME:HASH`` (before roles existed) reads as an operator. Screens file: ``NAME:SHA256``
of the screen's token (the token itself is printed once and never stored). Both files are
written whole through a temporary file and a rename (a reader never sees half a file), mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, cast

from werkzeug.security import check_password_hash, generate_password_hash

from app.config import ConfigError

log = logging.getLogger(__name__)

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
SCREEN_PREFIX = "screen:"  # a screen signs in as the viewer "screen:NAME"
RECHECK_S = 1.0  # a file's mtime and size are looked at no more often than this


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str

    @property
    def generation(self) -> str:
        """Changes when the password or the role changes: a session made before ends."""
        return fingerprint(f"{self.role}:{self.password_hash}")


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_private(path: Path, what: str) -> None:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ConfigError(
            f"config: {what} {path} can be read by others (mode {mode & 0o777:03o}); "
            f"run: chmod 600 {path}"
        )


def load_users(path: Path) -> dict[str, User]:
    """Users by name; a missing, loose or malformed file is one clear error."""
    try:
        _check_private(path, "users_file")
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            f"config: users_file not found: {path} (create it: pmdesk user add NAME)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: users_file {path} cannot be read: {exc}") from None
    users: dict[str, User] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, rest = line.strip().partition(":")
        role, _, hashed = rest.partition(":")
        if role not in ROLES:  # NAME:HASH, from before roles: an operator
            role, hashed = "operator", rest
        if not sep or not USER_NAME.match(name) or "$" not in hashed:
            raise ConfigError(f"config: users_file {path} line {n}: expected NAME:ROLE:HASH")
        users[name] = User(name, cast(Role, role), hashed)
    if not users:
        raise ConfigError(f"config: users_file {path} has no users (pmdesk user add NAME)")
    return users


def load_screens(path: Path) -> dict[str, str]:
    """Screen names and their token hashes; no file: no screens."""
    try:
        _check_private(path, "screens_file")
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: screens_file {path} cannot be read: {exc}") from None
    screens: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, hashed = line.strip().partition(":")
        if not sep or not USER_NAME.match(name) or not re.fullmatch(r"[0-9a-f]{64}", hashed):
            raise ConfigError(f"config: screens_file {path} line {n}: expected NAME:SHA256")
        screens[name] = hashed
    return screens


def _write_private(path: Path, lines: list[str]) -> None:
    """The whole file, mode 0600, replaced in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(f"{line}\n" for line in lines))
        os.replace(tmp, path)
    except BaseException:  # anything, even Ctrl-C: no half-written temporary left; re-raised
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_name(name: str) -> None:
    if not USER_NAME.match(name):
        raise ConfigError("name: 1-64 letters, digits or _ . @ -")


def add_user(path: Path, name: str, password: str, role: str = "operator") -> None:
    """Add or replace a user (a replaced user's sessions end); the file is mode 0600."""
    _check_name(name)
    if role not in ROLES:
        raise ConfigError(f"role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"password: at least {MIN_PASSWORD} characters")
    users = load_users(path) if path.exists() else {}
    users[name] = User(name, role, generate_password_hash(password))
    _write_private(path, [f"{u.name}:{u.role}:{u.password_hash}" for u in users.values()])


def remove_user(path: Path, name: str) -> None:
    """Remove a user: their sessions end at their next request. The last user stays (a users
    file without users would lock everybody out: remove by replacing, or unset users_file)."""
    users = load_users(path)
    if name not in users:
        raise ConfigError(f"no user {name!r} in {path}")
    if len(users) == 1:
        raise ConfigError(f"{name} is the only user in {path}; add another first")
    del users[name]
    _write_private(path, [f"{u.name}:{u.role}:{u.password_hash}" for u in users.values()])


def add_screen(path: Path, name: str) -> str:
    """A new screen (or a new token for one): returns the token, stores only its hash."""
    _check_name(name)
    screens = load_screens(path)
    token = secrets.token_urlsafe(32)
    screens[name] = token_hash(token)
    _write_private(path, [f"{n}:{h}" for n, h in screens.items()])
    return token


def revoke_screen(path: Path, name: str) -> None:
    screens = load_screens(path)
    if name not in screens:
        raise ConfigError(f"no screen {name!r} in {path}")
    del screens[name]
    _write_private(path, [f"{n}:{h}" for n, h in screens.items()])


def default_screens_file(users_file: Path) -> Path:
    return users_file.with_name("screens")


@cache
def _dummy_hash(method: str) -> str:
    """A hash no password matches, made as the users' are: an unknown name costs the same
    check as a known one."""
    return generate_password_hash(secrets.token_urlsafe(32), method=method)


def _method(users: dict[str, User]) -> str:
    """The users' hash method and its cost (``scrypt:32768:8:1``), the commonest if several."""
    methods = [u.password_hash.split("$", 1)[0] for u in users.values()]
    return max(sorted(set(methods)), key=methods.count) if methods else "scrypt"


Stamp = tuple[int, ...]
ABSENT: Stamp = (-1,)
UNREADABLE: Stamp = (-2,)


@dataclass
class _Watched:
    """One file's last read: re-read when its inode, times, size or mode changed (a chmod
    changes only the ctime and mode)."""

    path: Path
    stamp: Stamp | None = None
    error: str | None = None

    def changed(self) -> Stamp | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            stamp = ABSENT
        except OSError:
            stamp = UNREADABLE
        else:
            stamp = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_mode)
        return stamp if stamp != self.stamp else None


@dataclass
class Roster:
    """The users and screens now, re-read when a file changes (looked at once a second at most;
    a change is a new inode, mtime, ctime, size or mode).

    A file that turns unreadable or malformed fails closed: nobody signs in and every session
    ends until it is fixed (one log line says why)."""

    users_file: Path
    screens_file: Path
    monotonic: Callable[[], float] = time.monotonic
    _users: dict[str, User] = field(default_factory=dict)
    _screens: dict[str, str] = field(default_factory=dict)
    _by_hash: dict[str, str] = field(default_factory=dict)
    _checked_at: float | None = None
    _dummy: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._uw = _Watched(self.users_file)
        self._sw = _Watched(self.screens_file)
        self.refresh(force=True)
        if self._uw.error:  # at start: refuse to serve rather than lock everybody out
            raise ConfigError(self._uw.error)

    @property
    def error(self) -> str | None:
        return self._uw.error or self._sw.error

    def refresh(self, force: bool = False) -> None:
        now = self.monotonic()
        with self._lock:
            if not force and self._checked_at is not None and now - self._checked_at < RECHECK_S:
                return
            self._checked_at = now
            stamp = self._uw.changed()
            if stamp is not None:
                self._uw.stamp = stamp
                try:
                    self._users, self._uw.error = load_users(self.users_file), None
                    self._dummy = _dummy_hash(_method(self._users))  # made now, not at sign-in
                except ConfigError as exc:
                    self._users, self._uw.error = {}, str(exc)
                    log.error("sign-in: nobody can sign in until this is fixed: %s", exc)
            stamp = self._sw.changed()
            if stamp is not None:
                self._sw.stamp = stamp
                try:
                    self._screens, self._sw.error = load_screens(self.screens_file), None
                except ConfigError as exc:
                    self._screens, self._sw.error = {}, str(exc)
                    log.error("sign-in: no screen can sign in until this is fixed: %s", exc)
                self._by_hash = {h: n for n, h in self._screens.items()}

    def users(self) -> dict[str, User]:
        self.refresh()
        return dict(self._users)

    def screens(self) -> list[str]:
        self.refresh()
        return list(self._screens)

    def user(self, name: str) -> User | None:
        self.refresh()
        return self._users.get(name)

    def screen_generation(self, name: str) -> str | None:
        """The fingerprint of the screen's token hash; None once revoked."""
        self.refresh()
        hashed = self._screens.get(name)
        return None if hashed is None else fingerprint(hashed)

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is theirs. Exactly one scrypt check either way: an
        unknown name is checked against a dummy hash, so timing does not tell names."""
        user = self.user(name)
        if user is None:  # just added (``pmdesk user add`` a moment ago)? look now
            self.refresh(force=True)
            user = self._users.get(name)
        hashed = user.password_hash if user is not None else self._dummy or _dummy_hash("scrypt")
        ok = check_password_hash(hashed, password)
        return user if ok and user is not None else None

    def screen_of_token(self, token: str) -> str | None:
        """The screen whose token this is (compared by its SHA-256, in constant time)."""
        self.refresh()
        hashed = token_hash(token)
        if hashed not in self._by_hash:  # just added? look now (the stat of two files)
            self.refresh(force=True)
        name = self._by_hash.get(hashed)
        if name is None or not hmac.compare_digest(self._screens.get(name, ""), hashed):
            return None
        return name
