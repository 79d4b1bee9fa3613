"""Sign-in (issue 17): the users and screens files, the failure limiter, sessions and their
expiry on an injected clock, the gate (which never reads a body), the sign-in form, roles."""

from __future__ import annotations

import io
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import flask
import pytest
from dash import Input, Output, html
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.test import EnvironBuilder, run_wsgi_app

import app.web.users as users_module
from app.cli import main
from app.config import ConfigError
from app.web.ratelimit import FailureLimiter, Policy, address_key, name_key
from app.web.sessions import COOKIE, Sessions
from app.web.signin import (
    SignIn,
    SignInPolicy,
    require_acknowledge,
    safe_next,
    signed_in_badge,
)
from app.web.users import (
    Roster,
    add_screen,
    add_user,
    load_screens,
    load_users,
    remove_user,
    revoke_screen,
    token_hash,
)

PASSWORD = "a long desk password"


class Clock:
    """An injected clock: tests move it; nothing sleeps."""

    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# ---- the users and screens files -------------------------------------------------------------
def test_users_file_roles_and_the_old_format(tmp_path: Path) -> None:
    path = tmp_path / "users"
    add_user(path, "maria", PASSWORD, "admin")
    add_user(path, "tom", PASSWORD, "viewer")
    add_user(path, "desk", PASSWORD)  # operator by default
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text()
    users = load_users(path)
    assert {n: u.role for n, u in users.items()} == {
        "maria": "admin",
        "tom": "viewer",
        "desk": "operator",
    }
    # A file from before roles: NAME:HASH reads as an operator.
    old = tmp_path / "old"
    old.write_text(f"legacy:{generate_password_hash(PASSWORD)}\n")
    old.chmod(0o600)
    (legacy,) = load_users(old).values()
    assert (legacy.name, legacy.role) == ("legacy", "operator")
    add_user(old, "new", PASSWORD, "viewer")  # rewritten in the new format, the old user kept
    assert all(line.count(":") >= 2 for line in old.read_text().splitlines())
    assert load_users(old)["legacy"].password_hash == legacy.password_hash

    with pytest.raises(ConfigError, match="role: one of viewer, operator, admin"):
        add_user(path, "x", PASSWORD, "root")
    with pytest.raises(ConfigError, match="at least 10"):
        add_user(path, "x", "short")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_users(path)
    bad = tmp_path / "bad"
    bad.write_text("no-colon-here\n")
    bad.chmod(0o600)
    with pytest.raises(ConfigError, match="line 1: expected NAME:ROLE:HASH"):
        load_users(bad)


def test_remove_user_and_screens_file(tmp_path: Path) -> None:
    path = tmp_path / "users"
    add_user(path, "maria", PASSWORD)
    add_user(path, "tom", PASSWORD)
    remove_user(path, "tom")
    assert list(load_users(path)) == ["maria"]
    with pytest.raises(ConfigError, match="no user 'tom'"):
        remove_user(path, "tom")
    with pytest.raises(ConfigError, match="only user"):
        remove_user(path, "maria")

    screens = tmp_path / "screens"
    assert load_screens(screens) == {}  # no file: no screens
    token = add_screen(screens, "lobby")
    assert len(token) >= 43 and token not in screens.read_text()
    assert load_screens(screens) == {"lobby": token_hash(token)}
    assert stat.S_IMODE(screens.stat().st_mode) == 0o600
    revoke_screen(screens, "lobby")
    assert load_screens(screens) == {}
    with pytest.raises(ConfigError, match="no screen"):
        revoke_screen(screens, "lobby")


def test_roster_rereads_a_changed_file_at_most_once_a_second(tmp_path: Path) -> None:
    path, screens = tmp_path / "users", tmp_path / "screens"
    add_user(path, "maria", PASSWORD)
    mono = Clock(0.0)
    roster = Roster(path, screens, monotonic=mono)
    add_user(path, "tom", PASSWORD, "viewer")
    token = add_screen(screens, "lobby")
    mono.t += 0.5
    assert roster.user("tom") is None  # looked at no more than once a second
    mono.t += 0.6
    assert roster.user("tom") is not None and roster.user("tom").role == "viewer"  # type: ignore[union-attr]
    assert roster.screen_of_token(token) == "lobby"
    remove_user(path, "tom")
    revoke_screen(screens, "lobby")
    mono.t += 1.5
    assert roster.user("tom") is None and roster.screen_of_token(token) is None
    # A file that turns unreadable fails closed: nobody, with the reason kept.
    path.chmod(0o644)
    mono.t += 1.5
    assert roster.user("maria") is None and "chmod 600" in (roster.error or "")
    path.chmod(0o600)
    path.touch()
    mono.t += 1.5
    assert roster.user("maria") is not None and roster.error is None


def test_unknown_and_known_names_cost_one_password_check_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_user(tmp_path / "users", "maria", PASSWORD)
    roster = Roster(tmp_path / "users", tmp_path / "screens")
    checked: list[str] = []

    def counting(hashed: str, password: str) -> bool:
        checked.append(hashed.split("$", 1)[0])
        return check_password_hash(hashed, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting)
    assert roster.verify("nobody", PASSWORD) is None
    assert roster.verify("maria", "wrong password") is None
    user = roster.verify("maria", PASSWORD)
    assert user is not None and user.name == "maria"
    # The same method and cost for the unknown name (a dummy hash), one check each.
    assert checked == [checked[1]] * 3 and checked[0].startswith("scrypt:")


# ---- the failure limiter ---------------------------------------------------------------------
def _fail(limiter: FailureLimiter, *keys: tuple[str, str]) -> float:
    """One attempt that fails: the wait asked for, else 0 and counted."""
    wait = limiter.reserve(keys)
    if wait == 0:
        limiter.failed(keys)
    return wait


def test_limiter_counts_failures_locks_out_with_backoff_and_forgets() -> None:
    mono = Clock(0.0)
    limiter = FailureLimiter(
        {"addr": Policy(3, 30.0, 100.0, 3600.0), "name": Policy(2, 10.0, 100.0, 3600.0)}, mono
    )
    a, n = address_key("192.0.2.7"), name_key("Maria")
    assert n == name_key("maria ")  # one name whatever its case
    assert _fail(limiter, a, n) == 0  # failure 1
    assert _fail(limiter, a, n) == 0  # failure 2: the name is now locked 10 s
    assert _fail(limiter, a, n) == pytest.approx(10.0)  # refused, not counted
    assert _fail(limiter, a, name_key("tom")) == 0  # another name: the address's 3rd
    assert _fail(limiter, a, name_key("ann")) == pytest.approx(30.0)  # the address locked
    mono.t += 30.0
    assert _fail(limiter, a, name_key("ann")) == 0  # the 4th: locked twice as long
    assert limiter.wait_s(a) == pytest.approx(60.0)
    mono.t += 60.0
    # A good sign-in: its name starts afresh; the address keeps its failures.
    assert limiter.reserve([a, n]) == 0
    limiter.succeeded(n, a)
    assert limiter.wait_s(n) == 0 and limiter.wait_s(a) == 0
    assert _fail(limiter, a, n) == 0  # the address's 5th: locked 120 s, capped at 100
    assert limiter.wait_s(a) == pytest.approx(100.0)
    assert Policy(3, 30.0, 100.0, 3600.0).lockout_s(20) == 100.0
    mono.t += 3601.0  # an hour without a failure: forgotten
    assert limiter.wait_s(a) == 0 and _fail(limiter, a, n) == 0
    assert limiter.wait_s(a) == 0


def test_limiter_parallel_attempts_cannot_overtake_the_limit() -> None:
    limiter = FailureLimiter({"addr": Policy(2, 30.0, 100.0, 3600.0)}, Clock())
    a = address_key("192.0.2.7")
    assert limiter.reserve([a]) == 0  # two attempts being checked at once: the limit's worth
    assert limiter.reserve([a]) == 0
    assert limiter.reserve([a]) == 1.0  # a third waits for them to be decided
    limiter.failed([a])
    limiter.cancel([a])  # not decided (busy): not a failure
    assert limiter.reserve([a]) == 0
    limiter.failed([a])
    assert limiter.reserve([a]) == pytest.approx(30.0)


def test_limiter_keys_ipv6_by_its_prefix() -> None:
    assert (
        address_key("2001:db8::1")
        == address_key("2001:db8::ffff:1")
        == (
            "addr",
            "2001:db8::/64",
        )
    )
    assert address_key("192.0.2.7") == ("addr", "192.0.2.7")
    assert address_key(None) == ("addr", "?")


# ---- sessions --------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    add_user(tmp_path / "users", "maria", PASSWORD, "operator")
    add_user(tmp_path / "users", "ann", PASSWORD, "admin")
    return tmp_path / "users", tmp_path / "screens"


def test_session_idle_and_absolute_expiry(files: tuple[Path, Path]) -> None:
    clock, mono = Clock(), Clock(0.0)
    roster = Roster(*files, monotonic=mono)
    sessions = Sessions(b"s" * 32, roster, idle_s=3600.0, max_s=12 * 3600.0, clock=clock)
    user = roster.user("maria")
    assert user is not None
    cookie, _ = sessions.new("maria", "operator", user.generation)
    clock.t += 3599.0
    assert sessions.check(cookie) is not None
    clock.t += 2.0
    assert sessions.check(cookie) is None  # idle past an hour
    # Renewed while used, a session still ends 12 h after sign-in.
    start = clock.t
    cookie, _ = sessions.new("maria", "operator", user.generation)
    while clock.t - start < 12 * 3600.0 - 1800.0:
        clock.t += 1800.0
        checked = sessions.check(cookie)
        assert checked is not None and sessions.needs_renewal(checked)
        cookie = sessions.renewed(checked)
    clock.t = start + 12 * 3600.0 + 1.0
    assert sessions.check(cookie) is None
    # A wall screen's session has no absolute end, only idle and revocation.
    token = add_screen(files[1], "lobby")
    mono.t += 1.0
    name = roster.screen_of_token(token)
    generation = roster.screen_generation("lobby")
    assert name == "lobby" and generation is not None
    cookie, _ = sessions.new("screen:lobby", "viewer", generation)
    for _ in range(48):
        clock.t += 1800.0
        checked = sessions.check(cookie)
        assert checked is not None
        cookie = sessions.renewed(checked)
    revoke_screen(files[1], "lobby")
    mono.t += 1.0
    assert sessions.check(cookie) is None


def test_session_ends_with_user_removed_role_changed_signed_out_or_tampered(
    files: tuple[Path, Path],
) -> None:
    clock, mono = Clock(), Clock(0.0)
    roster = Roster(*files, monotonic=mono)
    sessions = Sessions(b"s" * 32, roster, 3600.0, 43200.0, clock)

    def fresh() -> str:
        user = roster.user("maria")
        assert user is not None
        return sessions.new("maria", user.role, user.generation)[0]

    cookie = fresh()
    add_user(files[0], "maria", PASSWORD, "viewer")  # role changed
    mono.t += 1.0
    assert sessions.check(cookie) is None
    cookie = fresh()
    add_user(files[0], "maria", "another long password", "viewer")  # password changed
    mono.t += 1.0
    assert sessions.check(cookie) is None
    cookie = fresh()
    remove_user(files[0], "maria")
    mono.t += 1.0
    assert sessions.check(cookie) is None

    cookie, _ = sessions.new("ann", "admin", roster.user("ann").generation)  # type: ignore[union-attr]
    user = sessions.check(cookie)
    assert user is not None
    sessions.end(user)  # signed out: a copy of the cookie no longer works
    assert sessions.check(cookie) is None
    cookie, _ = sessions.new("ann", "admin", roster.user("ann").generation)  # type: ignore[union-attr]
    body, sig = cookie.rsplit(".", 1)
    assert sessions.check(f"{body}.{sig[::-1]}") is None
    other = Sessions(b"t" * 32, roster, 3600.0, 43200.0, clock)  # another secret
    assert other.check(cookie) is None
    assert sessions.check("garbage") is None and sessions.check("x" * 5000) is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/?account=a&view=stress", "/?account=a&view=stress"),
        ("/admin", "/admin"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login", "/"),
        ("/screen/abc", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
    ],
)
def test_next_is_only_a_path_on_this_site(given: str | None, kept: str) -> None:
    assert safe_next(given) == kept


# ---- the gate and the routes, through Flask's test client ---------------------------------------
class Exploding(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        raise AssertionError("the gate read the request body")


@pytest.fixture
def signin(files: tuple[Path, Path]) -> SignIn:
    policy = SignInPolicy(
        idle_s=3600.0,
        max_s=43200.0,
        per_address=Policy(4, 30.0, 900.0, 3600.0),
        per_name=Policy(3, 30.0, 900.0, 3600.0),
    )
    return SignIn(Roster(*files, monotonic=Clock(0.0)), b"k" * 32, policy, clock=Clock())


@pytest.fixture
def server(signin: SignIn) -> Iterator[flask.Flask]:
    app = dash.Dash("pmdesk-test")
    app.layout = lambda: html.Div([html.Button(id="b"), html.Div(id="out"), *signed_in_badge()])

    @app.callback(Output("out", "children"), Input("b", "n_clicks"))
    def acknowledge(_n: int | None) -> str:
        require_acknowledge()
        return "acknowledged"

    signin.install(app.server)
    yield app.server


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, nxt: str = "/") -> Any:
    form = client.get("/login")
    data = {"name": name, "password": password, "csrf": csrf_of(form.text), "next": nxt}
    return client.post("/login", data=data)


def test_gate_lets_only_the_open_routes_through_and_never_reads_a_body(
    server: flask.Flask,
) -> None:
    client = server.test_client()
    page = client.get("/?account=a&view=stress")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=%2F%3Faccount%3Da%26view%3Dstress"
    for path in ("/_dash-layout", "/_dash-dependencies", "/assets/pmdesk.css", "/admin/x"):
        response = client.get(path)
        assert response.status_code in (302, 401), path
        assert "WWW-Authenticate" not in response.headers  # no browser password dialog
    assert client.get("/_dash-layout").status_code == 401
    # A callback with a body nobody may read: answered 401 without reading it.
    environ = EnvironBuilder("/_dash-update-component", method="POST").get_environ()
    environ.update(
        {
            "wsgi.input": Exploding(),
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": "104857600",
        }
    )
    _, status, _ = run_wsgi_app(server.wsgi_app, environ, buffered=True)
    assert status.startswith("401")
    assert client.get("/login").status_code == 200
    assert client.get("/assets/fonts/pmdesk-sans.css").status_code == 200
    assert client.get("/screen/not-a-token").status_code == 403


def test_sign_in_form_csrf_wrong_password_and_sign_out(server: flask.Flask) -> None:
    client = server.test_client()
    form = client.get("/login?next=/%3Fview%3Dstress")
    assert 'value="/?view=stress"' in form.text and "HttpOnly" in form.headers["Set-Cookie"]
    # Without the form's token (another site's form): refused, and no password checked.
    forged = server.test_client().post("/login", data={"name": "maria", "password": PASSWORD})
    assert forged.status_code == 400 and "expired" in forged.text
    foreign = client.post(
        "/login",
        data={"name": "maria", "password": PASSWORD, "csrf": csrf_of(form.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 400
    wrong = sign_in(client, "maria", "not the password")
    assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
    good = sign_in(client, "maria", nxt="/?view=stress")
    assert good.status_code == 303 and good.headers["Location"] == "/?view=stress"
    again = client.get("/login?next=/%3Fview%3Dhedges")  # signed in already: on to the page
    assert again.status_code == 302 and again.headers["Location"] == "/?view=hedges"
    cookie = next(c for c in good.headers.getlist("Set-Cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert client.get("/_dash-layout").status_code == 200
    # Over HTTPS the cookie is Secure.
    secure = server.test_client()
    form = secure.get("/login", base_url="https://localhost")
    data = {"name": "maria", "password": PASSWORD, "csrf": csrf_of(form.text)}
    signed = secure.post("/login", data=data, base_url="https://localhost")
    assert "Secure" in next(c for c in signed.headers.getlist("Set-Cookie") if COOKIE in c)

    # Sign-out needs the page's token; then the session is over, even for a copied cookie.
    copied = client.get_cookie(COOKIE)
    assert copied is not None
    assert client.post("/logout", data={"csrf": "x"}).status_code == 403
    layout = client.get("/_dash-layout")
    assert "maria · operator" in layout.text
    token = re.search(r'"value":"([0-9a-f]{64})"', layout.text)
    assert token is not None, "the header's Sign out form carries the session's token"
    out = client.post("/logout", data={"csrf": token.group(1)})
    assert out.status_code == 303 and out.headers["Location"] == "/login?out=1"
    assert client.get("/_dash-layout").status_code == 401
    thief = server.test_client()
    thief.set_cookie(COOKIE, copied.value)
    assert thief.get("/_dash-layout").status_code == 401


def test_failed_sign_ins_are_limited_without_a_password_check(
    server: flask.Flask, signin: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []

    def counting(hashed: str, password: str) -> bool:
        checks.append(password)
        return check_password_hash(hashed, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting)
    client = server.test_client()
    statuses = [sign_in(client, "maria", f"guess number {i}").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]  # 3 for one name, then locked
    assert len(checks) == 3  # a locked attempt costs no password check
    locked = sign_in(client, "maria")  # even the right password waits
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "30"
    assert "Too many attempts — try again in 30 s." in locked.text
    # Per address: a 4th failure from this address locks any name.
    assert sign_in(client, "ann", "wrong guess!").status_code == 401
    assert sign_in(client, "ann").status_code == 429
    assert len(checks) == 4


def test_viewer_cannot_acknowledge_operator_can(
    server: flask.Flask, signin: SignIn, files: tuple[Path, Path]
) -> None:
    # Added now; the roster's clock stands still (no second passes), yet tom signs in: a name
    # not known makes it look at the file at once (pmdesk user add, then sign in).
    add_user(files[0], "tom", PASSWORD, "viewer")
    body = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [{"id": "b", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["b.n_clicks"],
    }
    viewer = server.test_client()
    assert sign_in(viewer, "tom").status_code == 303
    assert viewer.post("/_dash-update-component", json=body).status_code == 403
    operator = server.test_client()
    assert sign_in(operator, "maria").status_code == 303
    answer = operator.post("/_dash-update-component", json=body)
    assert answer.status_code == 200 and "acknowledged" in answer.text


def test_admin_page_removes_users_and_revokes_screens(
    server: flask.Flask, signin: SignIn, files: tuple[Path, Path]
) -> None:
    token = add_screen(files[1], "lobby")  # seen at once, as a new user is (above)
    operator = server.test_client()
    assert sign_in(operator, "maria").status_code == 303
    assert operator.get("/admin").status_code == 403
    admin = server.test_client()
    assert sign_in(admin, "ann").status_code == 303
    page = admin.get("/admin")
    assert page.status_code == 200 and "maria" in page.text and "lobby" in page.text
    csrf = csrf_of(page.text)
    assert admin.post("/admin/users/remove", data={"name": "maria"}).status_code == 403
    done = admin.post("/admin/users/remove", data={"name": "maria", "csrf": csrf})
    assert done.status_code == 200 and "Removed maria" in done.text
    assert operator.get("/_dash-layout").status_code == 401  # her session ended
    screen = server.test_client()
    assert screen.get(f"/screen/{token}").status_code == 200
    assert screen.get("/_dash-layout").status_code == 200
    done = admin.post("/admin/screens/revoke", data={"name": "lobby", "csrf": csrf})
    assert done.status_code == 200 and "Revoked screen lobby" in done.text
    assert screen.get("/_dash-layout").status_code == 401
    mine = admin.post("/admin/users/remove", data={"name": "ann", "csrf": csrf})
    assert mine.status_code == 400 and "cannot remove yourself" in mine.text


# ---- the command line ------------------------------------------------------------------------
def test_cli_users_and_screens(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    users = tmp_path / "users"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "maria", "--role", "admin", "--users-file", str(users),
                 "--password-stdin"]) == 0  # fmt: skip
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "tom", "--users-file", str(users), "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["user", "list", "--users-file", str(users)]) == 0
    assert capsys.readouterr().out.splitlines() == ["maria\tadmin", "tom\toperator"]
    assert main(["user", "remove", "tom", "--users-file", str(users)]) == 0
    assert list(load_users(users)) == ["maria"]
    assert main(["user", "remove", "nobody", "--users-file", str(users)]) == 2

    capsys.readouterr()
    args = ["--users-file", str(users), "--host", "desk.lan", "--port", "8050"]
    assert main(["screen", "add", "lobby", *args]) == 0
    out = capsys.readouterr().out
    url = re.search(r"http://desk\.lan:8050/screen/(\S+)", out)
    assert url is not None
    assert load_screens(tmp_path / "screens") == {"lobby": token_hash(url.group(1))}
    assert main(["screen", "list", *args]) == 0
    assert capsys.readouterr().out.splitlines() == ["lobby"]
    assert main(["screen", "revoke", "lobby", *args]) == 0
    assert load_screens(tmp_path / "screens") == {}
