"""Sign-in sessions: a signed cookie (itsdangerous, HMAC-SHA1 under the session secret) that
holds who, their role, when the session began and when it was last used — no password.

Checked on every request against the roster (a dict lookup): the user must still exist with the
same role and password (``User.generation``), a screen's token must not have been revoked.
Idle expiry: no request for ``idle_s`` (an open dashboard asks four times a second, so only a closed
or sleeping browser goes idle). Absolute expiry: ``max_s`` after sign-in, for people; a wall
screen signed in by its token has none (it ends when the token is revoked). Signing out ends the
session in this process even if the cookie was copied.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from itsdangerous import BadSignature, URLSafeSerializer

from app.web.users import ROLES, SCREEN_PREFIX, Role, Roster

COOKIE = "pmdesk_session"
REFRESH_S = 60.0  # the cookie's last-use time is renewed at most this often


@dataclass(frozen=True)
class SessionUser:
    name: str  # a person's name, or "screen:NAME"
    role: Role
    sid: str
    started_s: float
    seen_s: float

    @property
    def is_screen(self) -> bool:
        return self.name.startswith(SCREEN_PREFIX)


class Sessions:
    def __init__(
        self,
        secret: bytes,
        roster: Roster,
        idle_s: float,
        max_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = URLSafeSerializer(secret, salt="pmdesk.session")
        self.roster = roster
        self.idle_s = idle_s
        self.max_s = max_s
        self.clock = clock
        self._ended: dict[str, float] = {}  # signed-out session ids → when they would expire
        self._lock = threading.Lock()

    def new(self, name: str, role: Role, generation: str) -> tuple[str, SessionUser]:
        now = self.clock()
        user = SessionUser(name, role, secrets.token_urlsafe(16), now, now)
        return self._dump(user, generation), user

    def renewed(self, user: SessionUser) -> str:
        """The cookie with its last-use time now."""
        generation = self._generation(user)
        now = self.clock()
        return self._dump(
            SessionUser(user.name, user.role, user.sid, user.started_s, now), generation or ""
        )

    def _dump(self, user: SessionUser, generation: str) -> str:
        body = {
            "u": user.name,
            "r": user.role,
            "g": generation,
            "sid": user.sid,
            "t0": round(user.started_s, 3),
            "ts": round(user.seen_s, 3),
        }
        return self._signer.dumps(body)

    def _generation(self, user: SessionUser) -> str | None:
        if user.is_screen:
            return self.roster.screen_generation(user.name.removeprefix(SCREEN_PREFIX))
        found = self.roster.user(user.name)
        return None if found is None or found.role != user.role else found.generation

    def check(self, cookie: str | None) -> SessionUser | None:
        """The session's user when the cookie is good, unexpired, not signed out, and its
        user or screen still stands as it was."""
        if not cookie or len(cookie) > 4096:
            return None
        try:
            body: Any = self._signer.loads(cookie)
            user = SessionUser(
                str(body["u"]), body["r"], str(body["sid"]), float(body["t0"]), float(body["ts"])
            )
            generation = str(body["g"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        now = self.clock()
        if user.role not in ROLES or now - user.seen_s > self.idle_s:
            return None
        if not user.is_screen and now - user.started_s > self.max_s:
            return None
        with self._lock:
            if user.sid in self._ended:
                return None
        if self._generation(user) != generation:
            return None
        return user

    def needs_renewal(self, user: SessionUser) -> bool:
        return self.clock() - user.seen_s >= REFRESH_S

    def end(self, user: SessionUser) -> None:
        """Sign-out: this session id is refused from now on. Kept one idle period: any copy of
        the cookie was last renewed before now, so it has gone idle by then."""
        now = self.clock()
        with self._lock:
            self._ended = {sid: t for sid, t in self._ended.items() if t > now}
            self._ended[user.sid] = now + self.idle_s


def current_user() -> SessionUser | None:
    """This request's signed-in user (set by the sign-in gate), if any."""
    if not flask.has_request_context():
        return None
    user = flask.g.get("pmdesk_user")
    return user if isinstance(user, SessionUser) else None


def same_origin() -> bool:
    """A browser's Origin, when it names one, must be this site (``null`` — sent under
    Referrer-Policy: no-referrer — proves nothing either way: the CSRF token decides)."""
    origin = flask.request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    return origin.rstrip("/") == flask.request.host_url.rstrip("/")
