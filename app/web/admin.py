"""``/admin``: for admins, the users (name, role) and the wall screens, with Remove and Revoke.

Adding a user (a password) or a screen (a token to copy once), and changing a role, stay on the
server's command line (``pmdesk user add``, ``pmdesk screen add``): a password or a token never
travels through the web UI. Every form carries the session's CSRF token; the session cookie is
SameSite=Strict, and a foreign Origin is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask
from flask import Flask, Response, request
from markupsafe import Markup

from app.config import ConfigError
from app.web.sessions import current_user, same_origin
from app.web.signin_page import admin_page, message
from app.web.users import remove_user, revoke_screen

if TYPE_CHECKING:
    from app.web.signin import SignIn

FORM_MAX = 8192


def add_admin_routes(server: Flask, signin: SignIn) -> None:
    def admin_or_403() -> Response | None:
        user = current_user()
        if user is None or user.role != "admin":
            return Response("pmdesk: only an admin manages users\n", 403, mimetype="text/plain")
        return None

    def render(notice: Markup | None = None, status: int = 200) -> Response:
        user = current_user()
        assert user is not None
        signin.roster.refresh(force=True)  # what the files hold this moment
        users = sorted((u.name, u.role) for u in signin.roster.users().values())
        html = admin_page(
            user.name, signin.session_csrf(user), users, sorted(signin.roster.screens()), notice
        )
        resp = Response(html, status=status, mimetype="text/html")
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def show() -> Response:
        return admin_or_403() or render()

    def act(change: str) -> Response:
        refused = admin_or_403()
        if refused is not None:
            return refused
        user = current_user()
        assert user is not None
        request.max_content_length = FORM_MAX
        if not same_origin() or not signin.csrf_ok(f"session:{user.sid}"):
            return Response("pmdesk: this needs the admin page's own form\n", 403)
        name = request.form.get("name", "")
        try:
            if change == "remove":
                if name == user.name:
                    raise ConfigError("you cannot remove yourself")
                remove_user(signin.roster.users_file, name)
                done = f"Removed {name}: their sessions have ended."
            else:
                revoke_screen(signin.roster.screens_file, name)
                done = f"Revoked screen {name}: it is signed out."
        except ConfigError as exc:
            return render(message("error", str(exc)), 400)
        signin.roster.refresh(force=True)
        flask.current_app.logger.info("%s: %s", user.name, done)
        return render(message("info", done))

    server.add_url_rule("/admin", "pmdesk_admin", show, methods=["GET"])
    server.add_url_rule(
        "/admin/users/remove", "pmdesk_admin_remove", lambda: act("remove"), methods=["POST"]
    )
    server.add_url_rule(
        "/admin/screens/revoke", "pmdesk_admin_revoke", lambda: act("revoke"), methods=["POST"]
    )
