"""Issue 17, item 5: no setting that can hold a token or password is ever echoed — whatever its
type error, from the config file or the environment, through the real CLI entry point — and
the store's URL is printed without its password.

Every secret used here is registered with the session-wide watch (tests/conftest.py): any log
line of any test that carries one fails the session, beside the checks each test makes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from app.alerts.notify import Notifier
from app.cli import main
from app.config import AccountSettings, ConfigError, Settings, load_settings, safe_db_url
from tests.support.secret_watch import watch_secret

TOKEN = "xoxb-4f1a-S3CRET-t0ken"  # a notify token, an API key, a password: one marker
DIGITS = "918273645546372819"  # the same for values that can only be numbers
watch_secret(TOKEN, DIGITS)

STR_WRONG = {  # TOML values of the wrong type for a string (or path) setting
    "int": DIGITS,
    "table": f'{{ value = "{TOKEN}" }}',
    "list": f'["{TOKEN}"]',
    "list of tables": f'[{{ value = "{TOKEN}" }}]',
    "bool-then-token table": f'{{ "{TOKEN}" = true }}',
}
LIST_WRONG = {  # … and for a list setting (notify_urls)
    "string": f'"slack://{TOKEN}"',
    "int": DIGITS,
    "table": f'{{ url = "slack://{TOKEN}" }}',
    "list with an int": f'["slack://{TOKEN}", {DIGITS}]',
    "list with a table": f'[{{ url = "slack://{TOKEN}" }}]',
    "list of lists": f'[["slack://{TOKEN}"]]',
}
URL_WRONG = {  # strings that are not a store URL, each carrying the password
    "bad port": f'"postgresql+psycopg://desk:{TOKEN}@db:port/pmdesk"',
    "unknown dialect": f'"nosuchdb://desk:{TOKEN}@db/pmdesk"',
    "no scheme": f'"desk:{TOKEN}@db/pmdesk"',
}

# Every setting that can hold a secret, and the wrong values it is tried with. A setting of
# this kind added later must be listed here (test_every_secret_setting_is_covered).
SECRET_SETTINGS: dict[str, dict[str, str]] = {
    "exchange.api_key": STR_WRONG,
    "exchange.api_secret": STR_WRONG,
    "exchange.api_key_file": STR_WRONG,
    "exchange.api_secret_file": STR_WRONG,
    "alerts.notify_urls": LIST_WRONG,
    "store.url": STR_WRONG | URL_WRONG,
    "web.session_secret_file": STR_WRONG,
    "web.tls_key_file": STR_WRONG,
    "web.metrics_token_file": STR_WRONG,
    "store.password_file": STR_WRONG,
}
# Names that match the words below but hold no secret (public endpoints, a switch).
NOT_SECRET = {
    "exchange.base_url",
    "exchange.um_stream_url",
    "exchange.cm_stream_url",
    "exchange.pm_stream_url",  # the host only: the listenKey is added at run time, never logged
    "exchange.allow_key_that_can_trade",
}
SECRET_WORDS = ("key", "secret", "token", "passw", "url", "cookie")
ACCOUNT_FIELDS = ("api_key_file", "api_secret_file", "api_key_env", "api_secret_env")

CASES = [
    pytest.param(name, value, id=f"{name}-{kind}")
    for name, wrong in SECRET_SETTINGS.items()
    for kind, value in wrong.items()
]


def _assert_no_secret(text: str) -> None:
    assert TOKEN not in text and DIGITS not in text, text
    assert "4f1a" not in text  # not even a piece of it


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> tuple[int, str, str]:
    with caplog.at_level(logging.DEBUG):
        status = main(argv)
    out, err = capsys.readouterr()
    for text in (out, err, caplog.text):
        _assert_no_secret(text)
    return status, out, err


def test_every_secret_setting_is_covered() -> None:
    names = {
        f"{section}.{name}"
        for section, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
        for name in field.annotation.model_fields
    } | {f"accounts.{n}" for n in AccountSettings.model_fields}
    secretish = {n for n in names if any(w in n.lower() for w in SECRET_WORDS)}
    covered = set(SECRET_SETTINGS) | NOT_SECRET | {f"accounts.{n}" for n in ACCOUNT_FIELDS}
    assert secretish - covered == set(), "add these settings to SECRET_SETTINGS"


@pytest.mark.parametrize(("name", "value"), CASES)
def test_wrong_type_in_the_config_file_is_never_echoed(
    name: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("PMDESK_STORE__URL")  # the file's store.url must count (env beats file)
    monkeypatch.chdir(tmp_path)  # the default store, were the setting accepted, lands here
    config = tmp_path / "pmdesk.toml"
    config.write_text(f"{name} = {value}\n")
    for command in (["db", "upgrade"], ["collect"]):
        status, out, err = _run([*command, "--config", str(config)], capsys, caplog)
        assert status == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"pmdesk: error: config: {name}"), err
        assert "value not shown" in lines[0]
        assert out == ""


@pytest.mark.parametrize("field", ACCOUNT_FIELDS)
@pytest.mark.parametrize("kind", ["int", "table", "list"])
def test_wrong_type_in_an_account_table_is_never_echoed(
    field: str,
    kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = tmp_path / "pmdesk.toml"
    config.write_text(f'[[accounts]]\nname = "desk"\n{field} = {STR_WRONG[kind]}\n')
    status, _, err = _run(["collect", "--config", str(config)], capsys, caplog)
    assert status == 2 and f"config: accounts.0.{field}" in err


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PMDESK_ALERTS__NOTIFY_URLS", f"slack://{TOKEN}"),  # not JSON at all
        ("PMDESK_ALERTS__NOTIFY_URLS", json.dumps(f"slack://{TOKEN}")),  # JSON, but a string
        ("PMDESK_ALERTS__NOTIFY_URLS", json.dumps({"url": f"slack://{TOKEN}"})),
        ("PMDESK_ALERTS__NOTIFY_URLS", json.dumps([f"slack://{TOKEN}", int(DIGITS)])),
        ("PMDESK_ALERTS__NOTIFY_URLS", f'["slack://{TOKEN}"'),  # broken JSON
        ("PMDESK_STORE__URL", f"postgresql+psycopg://desk:{TOKEN}@db:port/pmdesk"),
        ("PMDESK_STORE__URL", f"nosuchdb://desk:{TOKEN}@db/pmdesk"),
        ("PMDESK_ACCOUNTS", json.dumps([{"name": "x", "api_key_file": [TOKEN]}])),
        ("PMDESK_ACCOUNTS", f"[{{name: {TOKEN}"),
    ],
)
def test_wrong_value_in_the_environment_is_never_echoed(
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(variable, value)
    for command in (["db", "upgrade"], ["collect"]):
        status, _, err = _run(command, capsys, caplog)
        assert status == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pmdesk: error: config: "), err


def test_a_bad_notify_url_is_named_by_its_label_and_apprise_never_quotes_it(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """apprise logs "Unparseable URL <the URL>" at ERROR: pmdesk masks it in apprise's lines."""
    for url in (f"nonsense://{TOKEN}@host", TOKEN, f"{TOKEN}:rest", f"tgram://{TOKEN}:x/"):
        with caplog.at_level(logging.DEBUG), pytest.raises(ValueError) as err:
            Notifier(["json://127.0.0.1:1/hook", url], None, lambda: 0)
        _assert_no_secret(str(err.value))
        assert "target" in str(err.value) and "#2" in str(err.value)
    _assert_no_secret(caplog.text)
    assert "***" in caplog.text  # apprise did log about the URL, masked


def test_settings_repr_and_errors_hide_the_store_password() -> None:
    settings = load_settings(db_url=f"postgresql+psycopg://desk:{TOKEN}@db:5432/pmdesk")
    _assert_no_secret(repr(settings))
    _assert_no_secret(str(settings))
    with pytest.raises(ConfigError) as err:
        load_settings(db_url=f"postgresql+psycopg://desk:{TOKEN}@db:port/pmdesk")
    _assert_no_secret(str(err.value))
    assert "store.url" in str(err.value) and "not a SQLAlchemy URL" in str(err.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"postgresql+psycopg://desk:{TOKEN}@db:5432/pmdesk", "postgresql+psycopg://desk:***@db"),
        (
            f"postgresql+psycopg:///pmdesk?host=db&password={TOKEN}&sslpassword={TOKEN}",
            "password=***&sslpassword=***",
        ),
        ("sqlite:///var/pmdesk.db", "sqlite:///var/pmdesk.db"),
        (f"desk:{TOKEN}@db:port", "not shown"),
    ],
)
def test_safe_db_url(url: str, shown: str) -> None:
    text = safe_db_url(url)
    _assert_no_secret(text)
    assert shown in text


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_db_upgrade_prints_the_url_without_its_password(
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = make_url(db_url)
    assert url.password, "the test PostgreSQL URL has a password: the test needs one"
    # The test server's password is also its user's name (and a prefix of the database's):
    # what must never show is the password in its place, user:PASSWORD@.
    revealed = f"{url.username}:{url.password}@"
    monkeypatch.setenv("PMDESK_STORE__URL", db_url)
    with caplog.at_level(logging.DEBUG):
        assert main(["db", "upgrade"]) == 0
    out, err = capsys.readouterr()
    for text in (out, err, caplog.text):
        assert revealed not in text and db_url not in text
    assert out.strip() == (f"store schema up to date at {url.render_as_string(hide_password=True)}")
    assert f"{url.username}:***@" in out


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_store_password_can_live_in_a_file(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """db_password_file (a docker secret in compose): the URL carries no password at all."""
    url = make_url(db_url)
    password_file = tmp_path / "db_password"
    password_file.write_text(f"{url.password}\n")
    password_file.chmod(0o600)
    monkeypatch.setenv(
        "PMDESK_STORE__URL", url._replace(password=None).render_as_string(hide_password=False)
    )
    monkeypatch.setenv("PMDESK_STORE__PASSWORD_FILE", str(password_file))
    with caplog.at_level(logging.DEBUG):
        assert main(["db", "upgrade"]) == 0
    out, err = capsys.readouterr()
    revealed = f"{url.username}:{url.password}@"
    for text in (out, err, caplog.text):
        assert revealed not in text
    assert f"{url.username}:***@" in out
    password_file.chmod(0o644)
    assert main(["db", "upgrade"]) == 2
    assert "db_password file" in capsys.readouterr().err


def test_db_password_file_rules(tmp_path: Path) -> None:
    password_file = tmp_path / "db_password"
    password_file.write_text(TOKEN)
    password_file.chmod(0o600)
    settings = load_settings(
        db_url="postgresql+psycopg://desk@db:5432/pmdesk", db_password_file=password_file
    )
    assert make_url(settings.store.url).password == TOKEN
    _assert_no_secret(repr(settings))
    _assert_no_secret(safe_db_url(settings.store.url))
    with pytest.raises(ConfigError, match="give it in one place") as err:
        load_settings(
            db_url="postgresql+psycopg://desk:other@db/pmdesk", db_password_file=password_file
        )
    _assert_no_secret(str(err.value))
    with pytest.raises(ConfigError, match="for a database server"):
        load_settings(db_url="sqlite:///x.db", db_password_file=password_file)


def test_an_unknown_name_is_shown_only_when_it_looks_like_a_setting(tmp_path: Path) -> None:
    """A secret pasted as a TOML key (a table of one entry) is an unknown setting: its name
    is not echoed; a mistyped setting's is."""
    config = tmp_path / "pmdesk.toml"
    config.write_text(f'[[accounts]]\nname = "x"\ncolour = 1\n"slack://{TOKEN}" = 1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert "unknown setting 'accounts.0.colour'" in str(err.value)
    config.write_text(f'[[accounts]]\nname = "x"\n"slack://{TOKEN}" = 1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    _assert_no_secret(str(err.value))
    assert "unknown setting (its name is not shown" in str(err.value)
