"""LAN access: HTTP Basic authentication against a file of users with hashed passwords.

The file holds one ``name:hash`` per line (werkzeug's salted scrypt hashes; never a plain
password), only its owner may read it (mode 0600), and ``pmdesk user add NAME`` writes it. Every
route is protected: the dashboard, its callbacks, its assets and ``/healthz``.

A scrypt check costs tens of milliseconds by design; a viewer sends several requests a second, so
a credential that passed is remembered for a while as an HMAC under a per-process random key (the
password itself is never kept).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from pathlib import Path

import dash
import flask
from dash_auth.auth import Auth
from werkzeug.security import check_password_hash, generate_password_hash

from app.config import ConfigError

USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
VERIFIED_FOR_S = 300.0
REALM = "pmdesk"


def load_users(path: Path) -> dict[str, str]:
    """Users and their password hashes; a missing, loose or malformed file is one clear error."""
    try:
        mode = path.stat().st_mode
    except OSError:
        raise ConfigError(
            f"config: users_file not found: {path} (create it: pmdesk user add NAME)"
        ) from None
    if mode & 0o077:
        raise ConfigError(
            f"config: users_file {path} can be read by others (mode {mode & 0o777:03o}); "
            f"run: chmod 600 {path}"
        )
    users: dict[str, str] = {}
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, hashed = line.strip().partition(":")
        if not sep or not USER_NAME.match(name) or "$" not in hashed:
            raise ConfigError(f"config: users_file {path} line {n}: expected NAME:HASH")
        users[name] = hashed
    if not users:
        raise ConfigError(f"config: users_file {path} has no users (pmdesk user add NAME)")
    return users


def add_user(path: Path, name: str, password: str) -> None:
    """Add or replace a user; the file is created mode 0600."""
    if not USER_NAME.match(name):
        raise ConfigError("user name: 1-64 letters, digits or _ . @ -")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"password: at least {MIN_PASSWORD} characters")
    users = load_users(path) if path.exists() else {}
    users[name] = generate_password_hash(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(f"{u}:{h}\n" for u, h in users.items()))
    path.chmod(0o600)


class PasswordFileAuth(Auth):  # type: ignore[misc]
    """dash-auth's route protection with hashed passwords and a bounded verified cache."""

    def __init__(self, app: dash.Dash, users: dict[str, str]) -> None:
        self._users = dict(users)
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, float] = {}
        self._lock = threading.Lock()
        super().__init__(app)

    def _token(self, name: str, password: str) -> bytes:
        return hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()

    def check(self, name: str, password: str) -> bool:
        hashed = self._users.get(name)
        if hashed is None:
            return False
        token = self._token(name, password)
        now = time.monotonic()
        with self._lock:
            if self._verified.get(token, 0.0) > now:
                return True
        if not check_password_hash(hashed, password):
            return False
        with self._lock:
            if len(self._verified) > 1000:
                self._verified = {t: e for t, e in self._verified.items() if e > now}
            self._verified[token] = now + VERIFIED_FOR_S
        return True

    def is_authorized(self) -> bool:
        creds = flask.request.authorization
        if creds is None or creds.type != "basic":
            return False
        return self.check(creds.username or "", creds.password or "")

    def login_request(self) -> flask.Response:
        return flask.Response(
            "pmdesk: sign in required",
            status=401,
            headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
        )
