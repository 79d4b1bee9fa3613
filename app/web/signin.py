"""Sign-in for the LAN: the gate in front of every route, ``/login``, ``/logout`` and the wall
screens' ``/screen/TOKEN``; what the Dash pages ask of the signed-in user (role, name).

The gate looks only at the path and the session cookie — never at the request body — so a
request without a good session costs a dict lookup and an HMAC. Let through without a session:
``/login``, ``/logout``, ``/healthz`` and ``/metrics`` (each guards itself), ``/screen/TOKEN``
and the bundled font the sign-in page uses. Any other page load goes to ``/login?next=…``; any
other request (Dash's callbacks, assets) is answered 401, which the dashboard's
``assets/signin.js`` turns into a reload — to the sign-in page.

Forms carry a CSRF token (an HMAC of the session id, or of a one-off cookie on the sign-in
page); cookies are HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import flask
from dash import dcc, html
from flask import Flask, Response, g, request
from markupsafe import Markup
from werkzeug.wrappers import Response as AnyResponse

from app.config import ConfigError, Settings, read_secret_file
from app.web.admin import add_admin_routes
from app.web.checks import ChecksBusyError, SlowChecks
from app.web.ratelimit import FailureLimiter, Policy, address_key, name_key
from app.web.sessions import COOKIE, Sessions, SessionUser, current_user, same_origin
from app.web.signin_page import message, notice_page, signin_page
from app.web.users import SCREEN_PREFIX, Role, Roster, User, default_screens_file

log = logging.getLogger(__name__)

EXTENSION = "pmdesk_signin"
OPEN_PATHS = frozenset({"/login", "/logout", "/healthz", "/metrics"})
OPEN_PREFIXES = ("/screen/", "/assets/fonts/")  # the sign-in page's font, nothing else
LOGIN_COOKIE = "pmdesk_login"  # the sign-in form's one-off CSRF nonce
LOGIN_BODY_MAX = 8192  # a sign-in form is a few hundred bytes
ACKNOWLEDGE_ROLES: frozenset[Role] = frozenset({"operator", "admin"})
KEPT_SCREEN_QUERY = ("kiosk", "account", "view")


# The settings' defaults (app/config.py): 10 failures from an address, 5 for a name, then
# locked 30 s, doubling per further failure up to 15 min; counts forgotten after an hour quiet.
ADDRESS_POLICY = Policy(10, 30.0, 900.0, 3600.0)
NAME_POLICY = Policy(5, 30.0, 900.0, 3600.0)


@dataclass(frozen=True)
class SignInPolicy:
    idle_s: float = 3600.0
    max_s: float = 12 * 3600.0
    per_address: Policy = ADDRESS_POLICY
    per_name: Policy = NAME_POLICY


def safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``); anything else: ``/``."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in OPEN_PATHS:
        return "/"
    if parts.path.startswith("/screen/"):
        return "/"
    return value


def _is_page_load() -> bool:
    path = request.path
    return request.method in ("GET", "HEAD") and not path.startswith(("/_", "/assets/"))


class SignIn:
    def __init__(
        self,
        roster: Roster,
        secret: bytes,
        policy: SignInPolicy | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or SignInPolicy()
        self.roster = roster
        self.sessions = Sessions(secret, roster, self.policy.idle_s, self.policy.max_s, clock)
        self.limiter = FailureLimiter(
            {"addr": self.policy.per_address, "name": self.policy.per_name}, monotonic
        )
        self._csrf_key = hmac.new(secret, b"pmdesk.csrf", hashlib.sha256).digest()
        self._checks: SlowChecks[User | None] = SlowChecks()

    # ---- tokens -----------------------------------------------------------------------------
    def csrf_for(self, what: str) -> str:
        return hmac.new(self._csrf_key, what.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, what: str) -> bool:
        sent = request.form.get("csrf", "")
        return bool(what) and hmac.compare_digest(sent.encode(), self.csrf_for(what).encode())

    def session_csrf(self, user: SessionUser) -> str:
        return self.csrf_for(f"session:{user.sid}")

    # ---- cookies ----------------------------------------------------------------------------
    @staticmethod
    def _set_cookie(resp: AnyResponse, name: str, value: str, path: str = "/") -> None:
        resp.set_cookie(
            name, value, httponly=True, samesite="Strict", secure=request.is_secure, path=path
        )

    # ---- wiring -----------------------------------------------------------------------------
    def install(self, server: Flask) -> None:
        server.extensions[EXTENSION] = self
        server.before_request(self._gate)
        server.after_request(self._renew)
        server.add_url_rule("/login", "pmdesk_login", self._login_form, methods=["GET"])
        server.add_url_rule("/login", "pmdesk_login_post", self._login, methods=["POST"])
        server.add_url_rule("/logout", "pmdesk_logout", self._logout, methods=["POST"])
        server.add_url_rule("/screen/<token>", "pmdesk_screen", self._screen, methods=["GET"])
        add_admin_routes(server, self)

    def _gate(self) -> AnyResponse | None:
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        user = self.sessions.check(request.cookies.get(COOKIE))
        if user is not None:
            g.pmdesk_user = user
            return None
        if _is_page_load():
            target = request.full_path.removesuffix("?")
            return flask.redirect("/login?" + urlencode({"next": safe_next(target)}), 302)
        return Response(
            "pmdesk: sign in required\n",
            status=401,
            mimetype="text/plain",
            headers={"Cache-Control": "no-store"},
        )

    def _renew(self, resp: Response) -> Response:
        user: SessionUser | None = g.get("pmdesk_user")
        if (
            user is not None
            and not g.get("pmdesk_signed_out")
            and resp.status_code < 400
            and self.sessions.needs_renewal(user)
        ):
            self._set_cookie(resp, COOKIE, self.sessions.renewed(user))
        return resp

    # ---- the sign-in page -------------------------------------------------------------------
    def _form(
        self, status: int, next_url: str, name: str = "", notice: Markup | None = None
    ) -> Response:
        nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
        if len(nonce) > 64:
            nonce = secrets.token_urlsafe(16)
        if notice is None and self.roster.error:
            notice = message(
                "error",
                "Sign-in is unavailable: the users file has a problem "
                "(the server's log says what).",
            )
        html = signin_page(self.csrf_for(f"login:{nonce}"), next_url, name, notice)
        resp = Response(html, status=status, mimetype="text/html")
        resp.headers["Cache-Control"] = "no-store"
        self._set_cookie(resp, LOGIN_COOKIE, nonce, path="/login")
        return resp

    def _login_form(self) -> AnyResponse:
        next_url = safe_next(request.args.get("next"))
        if self.sessions.check(request.cookies.get(COOKIE)) is not None:
            return flask.redirect(next_url, 302)  # signed in already
        notice = None
        if request.args.get("out"):
            notice = message("info", "Signed out.")
        return self._form(200, next_url, notice=notice)

    def _login(self) -> AnyResponse:
        request.max_content_length = LOGIN_BODY_MAX  # read no more than a form's worth
        next_url = safe_next(request.form.get("next"))
        name = request.form.get("name", "").strip()[:64]
        password = request.form.get("password", "")[:1024]
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not same_origin() or not nonce or not self.csrf_ok(f"login:{nonce}"):
            expired = message("error", "The sign-in form had expired: please sign in again.")
            return self._form(400, next_url, name, expired)
        keys = (address_key(request.remote_addr), name_key(name))
        wait_s = self.limiter.reserve(keys)
        if wait_s > 0:
            return self._too_many(wait_s, next_url, name)
        try:
            user = self._checks.run(lambda: self.roster.verify(name, password))
        except ChecksBusyError:
            self.limiter.cancel(keys)
            return self._too_many(1.0, next_url, name, busy=True)
        if user is None:
            self.limiter.failed(keys)
            log.info("sign-in failed for %r from %s", name, request.remote_addr)
            wrong = message("error", "Wrong name or password.")
            return self._form(401, next_url, name, wrong)
        self.limiter.succeeded(keys[1], keys[0])
        log.info("%s signed in (%s) from %s", user.name, user.role, request.remote_addr)
        cookie, _ = self.sessions.new(user.name, user.role, user.generation)
        resp = flask.redirect(next_url, 303)
        self._set_cookie(resp, COOKIE, cookie)
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    def _too_many(self, wait_s: float, next_url: str, name: str, busy: bool = False) -> Response:
        seconds = max(1, math.ceil(wait_s))
        why = "Sign-in is busy" if busy else "Too many attempts"
        notice = message("wait", f"{why} — try again in {seconds} s.")
        resp = self._form(429, next_url, name, notice)
        resp.headers["Retry-After"] = str(seconds)
        return resp

    def _logout(self) -> AnyResponse:
        user = self.sessions.check(request.cookies.get(COOKIE))
        if user is not None:
            request.max_content_length = LOGIN_BODY_MAX
            if not same_origin() or not self.csrf_ok(f"session:{user.sid}"):
                return Response("pmdesk: sign-out needs the page's own form\n", 403)
            self.sessions.end(user)
            g.pmdesk_signed_out = True
            log.info("%s signed out", user.name)
        resp = flask.redirect("/login?out=1", 303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    # ---- wall screens -----------------------------------------------------------------------
    def _screen(self, token: str) -> Response:
        key = address_key(request.remote_addr)
        wait_s = self.limiter.reserve([key])
        if wait_s > 0:
            seconds = max(1, math.ceil(wait_s))
            resp = Response(
                notice_page(
                    "screen", message("wait", f"Too many attempts — try again in {seconds} s.")
                ),
                status=429,
                mimetype="text/html",
            )
            resp.headers["Retry-After"] = str(seconds)
            return resp
        screen = self.roster.screen_of_token(token[:200])
        generation = None if screen is None else self.roster.screen_generation(screen)
        if screen is None or generation is None:
            self.limiter.failed([key])
            log.info("a screen link that is not valid, from %s", request.remote_addr)
            page = notice_page(
                "screen",
                message("error", "This screen link is not valid (revoked, or mistyped)."),
            )
            return Response(page, status=403, mimetype="text/html")
        self.limiter.cancel([key])
        log.info("screen %s signed in from %s", screen, request.remote_addr)
        cookie, _ = self.sessions.new(f"{SCREEN_PREFIX}{screen}", "viewer", generation)
        kept = {k: request.args[k] for k in KEPT_SCREEN_QUERY if k in request.args}
        target = "/" + (("?" + urlencode(kept)) if kept else "")
        # A page that moves on itself, not a redirect: a link opened from another site would
        # otherwise arrive without the SameSite=Strict cookie just set.
        body = Markup(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="refresh" content="0;url={target}"><title>pmdesk</title></head>'
            '<body style="background:#0b0e13;color:#e8edf4">'
            '<a href="{target}">Open the desk</a></body></html>'
        ).format(target=target)
        resp = Response(str(body), status=200, mimetype="text/html")
        resp.headers["Cache-Control"] = "no-store"
        self._set_cookie(resp, COOKIE, cookie)
        return resp


# ---- what the dashboard asks -------------------------------------------------------------------
def active() -> SignIn | None:
    """The sign-in in force for this request's app (None: loopback without sign-in)."""
    if not flask.has_app_context():
        return None
    found = flask.current_app.extensions.get(EXTENSION)
    return found if isinstance(found, SignIn) else None


def can_acknowledge() -> bool:
    """Without sign-in (loopback) anyone at the screen may; with it, operators and admins."""
    if active() is None:
        return True
    user = current_user()
    return user is not None and user.role in ACKNOWLEDGE_ROLES


def require_acknowledge() -> None:
    """For the acknowledge callbacks: a viewer's (or a crafted) request is refused, 403."""
    if not can_acknowledge():
        flask.abort(403, "viewers cannot acknowledge")


def signed_in_badge() -> list[Any]:
    """The header's "maria · operator", a link to /admin for admins, and Sign out (a form:
    POST /logout with the session's CSRF token). Nothing without sign-in."""
    signin, user = active(), current_user()
    if signin is None or user is None:
        return []
    parts: list[Any] = [
        html.Span(
            f"{user.name} · {user.role}",
            className="signed-in",
            title="Signed in as "
            + user.name
            + {
                "viewer": " — a viewer sees everything and acknowledges nothing",
                "operator": " — an operator also acknowledges alerts",
                "admin": " — an admin also manages users and screens",
            }[user.role],
        )
    ]
    if user.role == "admin":
        parts.append(html.A("Users", href="/admin", className="signed-in-admin"))
    parts.append(
        html.Form(
            [
                dcc.Input(type="hidden", name="csrf", value=signin.session_csrf(user)),
                html.Button("Sign out", type="submit", className="sign-out"),
            ],
            action="/logout",
            method="POST",
            className="sign-out-form",
        )
    )
    return parts


def signin_from_settings(settings: Settings) -> SignIn | None:
    """The sign-in the settings ask for (None without ``users_file``); a bad users file,
    screens file or session secret file is one ConfigError."""
    if settings.web.users_file is None:
        return None
    screens = settings.web.screens_file or default_screens_file(settings.web.users_file)
    roster = Roster(settings.web.users_file, screens)
    if settings.web.session_secret_file is not None:
        secret = read_secret_file(settings.web.session_secret_file, "session_secret")
        raw = secret.get_secret_value().encode()
        if len(raw) < 32:
            raise ConfigError("config: session_secret file: at least 32 characters")
    else:
        raw = secrets.token_bytes(32)
        log.info("sign-in: no session_secret_file, so sessions end when pmdesk restarts")
    policy = SignInPolicy(
        idle_s=settings.web.session_idle_min * 60.0,
        max_s=settings.web.session_max_h * 3600.0,
        per_address=Policy(
            settings.web.signin_failures_per_address,
            settings.web.signin_lockout_s,
            settings.web.signin_lockout_max_s,
            3600.0,
        ),
        per_name=Policy(
            settings.web.signin_failures_per_name,
            settings.web.signin_lockout_s,
            settings.web.signin_lockout_max_s,
            3600.0,
        ),
    )
    return SignIn(roster, raw, policy)


def screen_url(settings: Settings, token: str, host: str | None = None) -> str:
    """The URL that signs a wall screen in."""
    scheme = "https" if settings.web.tls_cert_file is not None else "http"
    where = host or settings.web.host
    if where in ("0.0.0.0", "::", ""):
        where = socket.gethostname()
    if ":" in where:
        where = f"[{where}]"
    return f"{scheme}://{where}:{settings.web.port}/screen/{quote(token)}"


__all__ = [
    "SignIn",
    "SignInPolicy",
    "active",
    "can_acknowledge",
    "current_user",
    "require_acknowledge",
    "safe_next",
    "screen_url",
    "signed_in_badge",
    "signin_from_settings",
]
