"""Issue 17, item 5: secret files (API key and secret, session secret, TLS key, metrics token)
must be regular files only their owner can read, read without ever hanging; anything else is
one clear line and exit code 2 — never the contents. ``serve`` never opens an API key file.
Store and capture files are created owner-only."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import app.cli
import app.config.loading
import app.config.secrets
from app.cli import main
from app.config import ConfigError, Settings, load_settings, read_secret_file
from app.store.store import Store
from connectors.binance.capture import write_capture
from tests.support.paths import ROOT
from tests.support.secret_watch import watch_secret

CONTENT = "k3y-C0NTENT-never-shown-0123456789abcdef"  # ≥ 32 characters: a session secret too
watch_secret(CONTENT)


def _secret_file(path: Path, mode: int = 0o600, text: str = CONTENT) -> Path:
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


@pytest.fixture
def good_secret(tmp_path: Path) -> Path:
    return _secret_file(tmp_path / "api_secret")


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``pmdesk`` in a child process, bounded: a key file that blocks fails the test by the
    timeout instead of hanging the suite."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        cwd=ROOT,
        check=False,
    )


def _one_line_exit_2(status: int, err: str, *words: str) -> str:
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], lines[0]
    assert CONTENT not in err
    return lines[0]


def test_a_fifo_key_file_is_refused_at_once_never_waited_on(
    tmp_path: Path, good_secret: Path
) -> None:
    fifo = tmp_path / "api_key"
    os.mkfifo(fifo, 0o600)  # no writer ever opens it: a blocking open would wait forever
    out = run_cli(
        "check-key",
        env={
            "PMDESK_EXCHANGE__API_KEY_FILE": str(fifo),
            "PMDESK_EXCHANGE__API_SECRET_FILE": str(good_secret),
        },
        timeout=30,
    )
    _one_line_exit_2(out.returncode, out.stderr, "api_key file", "FIFO", "give a regular file")
    assert out.stdout == ""


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(mode=0o700), ("is a directory",)),
        (lambda p: None, ("api_key file not found",)),
        (lambda p: _secret_file(p, 0o644), ("can be read by others (mode 644)", "chmod 600")),
        (lambda p: _secret_file(p, 0o640), ("can be read by others (mode 640)",)),
        (lambda p: _secret_file(p, 0o620), ("can be written or run by others (mode 620)",)),
        (lambda p: _secret_file(p, 0o600, "  \n"), ("is empty",)),
        (lambda p: _secret_file(p, 0o000), ("cannot be read by this user",)),
    ],
    ids=["directory", "missing", "mode-644", "mode-640", "mode-620", "empty", "mode-000"],
)
def test_a_bad_key_file_is_one_clear_line_and_exit_2(
    make: Callable[[Path], object],
    words: tuple[str, ...],
    tmp_path: Path,
    good_secret: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = tmp_path / "api_key"
    make(key)
    if words == ("cannot be read by this user",) and os.geteuid() == 0:
        # Root reads a mode-000 file: the kernel's answer to anyone else is given instead.
        real_open = os.open

        def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if Path(path) == key:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr("app.config.secrets.os.open", refusing_open)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY_FILE", str(key))
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET_FILE", str(good_secret))
    for command in ("collect", "check-key", "run"):
        status = main([command])
        _one_line_exit_2(status, capsys.readouterr().err, "pmdesk: error: config:", *words)


def test_a_device_is_not_a_key_file() -> None:
    with pytest.raises(ConfigError, match="is a character device: give a regular file"):
        read_secret_file(Path("/dev/null"), "api_key")


def test_a_symlink_to_an_owner_only_file_is_read(tmp_path: Path, good_secret: Path) -> None:
    """Kubernetes and some secret stores hand files through symbolic links: the file is what
    counts (checked on the opened descriptor)."""
    link = tmp_path / "link"
    link.symlink_to(good_secret)
    assert read_secret_file(link, "api_secret").get_secret_value() == CONTENT


def test_a_bare_name_that_is_no_file_is_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key itself pasted where its file's path belongs: the error does not print it."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_settings(api_key_file=Path(CONTENT))
    assert CONTENT not in str(err.value)
    assert "api_key file not found" in str(err.value) and "not shown" in str(err.value)


def test_a_key_file_read_that_hangs_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read stuck in the kernel (a dead network mount) is stood in for by a reader that
    waits on an event nobody sets until the test ends."""
    release = threading.Event()

    def stuck(path: Path, what: str) -> str:
        release.wait(60)
        return CONTENT

    monkeypatch.setattr(app.config.secrets, "_read_owner_only", stuck)
    try:
        with pytest.raises(ConfigError, match=r"api_key file .* within 0\.2 s"):
            read_secret_file(_secret_file(tmp_path / "k"), "api_key", timeout_s=0.2)
    finally:
        release.set()


def test_a_good_key_file_is_read_and_kept_secret(tmp_path: Path, good_secret: Path) -> None:
    key = _secret_file(tmp_path / "api_key", text="the-key")
    settings = load_settings(api_key_file=key, api_secret_file=good_secret)
    exchange = settings.exchange
    assert exchange.api_key is not None and exchange.api_key.get_secret_value() == "the-key"
    assert exchange.api_secret is not None
    assert exchange.api_secret.get_secret_value() == CONTENT
    assert CONTENT not in repr(settings)


# ---- the other secret files: same rules, through `pmdesk serve` in a child process ----------
def _serve_env(tmp_path: Path, setting: str, path: Path) -> dict[str, str]:
    env = {
        f"PMDESK_WEB__{setting.upper()}": str(path),
        "PMDESK_STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    if setting == "tls_key_file":
        env["PMDESK_WEB__TLS_CERT_FILE"] = str(_secret_file(tmp_path / "cert.pem", 0o644, "CERT"))
    if setting == "session_secret_file":  # read when sign-in is on: a users file
        users = tmp_path / "users"
        made = run_cli(
            *("user", "add", "desk", "--role", "viewer", "--users-file", str(users)),
            "--password-stdin",
            env={},
            stdin="a-long-enough-passphrase-42\n",
        )
        assert made.returncode == 0, made.stderr
        env["PMDESK_WEB__USERS_FILE"] = str(users)
    return env


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("session_secret_file", ("session_secret", "chmod 600")),
        ("metrics_token_file", ("metrics_token", "chmod 600")),
        ("tls_key_file", ("tls_key", "chmod 600")),
    ],
)
def test_serve_refuses_a_loose_secret_file_without_showing_it(
    setting: str, words: tuple[str, ...], tmp_path: Path
) -> None:
    assert setting in Settings.model_fields["web"].annotation.model_fields  # type: ignore[union-attr]
    loose = _secret_file(tmp_path / setting, 0o644)
    out = run_cli("serve", "--port", "0", env=_serve_env(tmp_path, setting, loose))
    _one_line_exit_2(out.returncode, out.stderr, *words)


@pytest.mark.parametrize("setting", ["session_secret_file", "metrics_token_file"])
def test_serve_refuses_a_fifo_secret_file_at_once(setting: str, tmp_path: Path) -> None:
    fifo = tmp_path / setting
    os.mkfifo(fifo, 0o600)
    out = run_cli("serve", "--port", "0", env=_serve_env(tmp_path, setting, fifo), timeout=30)
    _one_line_exit_2(out.returncode, out.stderr, "FIFO")


# ---- serve never opens an API key file ------------------------------------------------------
@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Settings]]:
    """``pmdesk serve`` up to the point it would listen: the settings it would serve with."""
    seen: list[Settings] = []
    monkeypatch.setattr(app.cli.web, "serve_web", lambda settings, *a, **k: seen.append(settings))
    yield seen


def test_serve_never_reads_an_api_key_and_says_it_ignores_the_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    served: list[Settings],
) -> None:
    opened: list[Path] = []
    real = app.config.secrets.read_secret_file

    def spy(path: Path, what: str, **kw: float) -> object:
        opened.append(path)
        return real(path, what, **kw)

    monkeypatch.setattr(app.config.loading, "read_secret_file", spy)
    # Files read would refuse (a FIFO, a loose mode): serve must not even look.
    fifo = tmp_path / "api_key"
    os.mkfifo(fifo, 0o600)
    loose = _secret_file(tmp_path / "api_secret", 0o644)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY_FILE", str(fifo))
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET_FILE", str(loose))
    with caplog.at_level(logging.WARNING):
        assert main(["serve", "--port", "0"]) == 0
    assert opened == []
    (settings,) = served
    assert settings.exchange.api_key is None and settings.exchange.api_secret is None
    ignored = [r.getMessage() for r in caplog.records if "ignores the API key" in r.getMessage()]
    assert len(ignored) == 1
    assert "api_key_file" in ignored[0] and "api_secret_file" in ignored[0]
    assert CONTENT not in capsys.readouterr().err


def test_serve_drops_a_key_given_as_a_value(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    served: list[Settings],
) -> None:
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY", CONTENT)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET", CONTENT)
    with caplog.at_level(logging.WARNING):
        assert main(["serve", "--port", "0"]) == 0
    (settings,) = served
    assert settings.exchange.api_key is None and settings.exchange.api_secret is None
    assert "ignores the API key settings (exchange.api_key, exchange.api_secret)" in caplog.text
    assert CONTENT not in caplog.text


def test_serve_with_no_key_setting_says_nothing_about_keys(
    caplog: pytest.LogCaptureFixture, served: list[Settings]
) -> None:
    with caplog.at_level(logging.WARNING):
        assert main(["serve", "--port", "0"]) == 0
    assert "API key" not in caplog.text


# ---- store and capture files: owner-only ----------------------------------------------------
@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 000: the modes below must come from pmdesk, not from a careful umask."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_folder_and_files_are_created_owner_only(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "deep" / "var" / "pmdesk.db"
    store = Store(f"sqlite:///{db}")
    store.create_schema()  # writes: the -wal and -shm files exist now
    try:
        assert _mode(tmp_path / "deep") == 0o700
        assert _mode(db.parent) == 0o700
        for name in ("pmdesk.db", "pmdesk.db-wal", "pmdesk.db-shm"):
            assert (db.parent / name).exists(), name
            assert _mode(db.parent / name) == 0o600, name
    finally:
        store.close()


def test_an_existing_loose_store_is_kept_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "old.db"
    db.touch(mode=0o644)
    db.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        Store(f"sqlite:///{db}").close()
    assert _mode(db) == 0o644  # not changed behind the owner's back …
    assert "can be read by other users (mode 644)" in caplog.text  # … but said


def test_db_upgrade_makes_the_default_store_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_umask: None
) -> None:
    monkeypatch.delenv("PMDESK_STORE__URL")
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    assert _mode(tmp_path / "var") == 0o700
    assert _mode(tmp_path / "var" / "pmdesk.db") == 0o600


def test_capture_folder_and_files_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    target = tmp_path / "captures" / "today"
    (written,) = write_capture(target, {"/papi/v1/account": {"uniMMR": "5"}})
    assert _mode(tmp_path / "captures") == 0o700 and _mode(target) == 0o700
    assert _mode(written) == 0o600
    written.chmod(0o644)  # captured again into the same folder: tightened
    write_capture(target, {"/papi/v1/account": {"uniMMR": "6"}})
    assert _mode(written) == 0o600
    assert '"6"' in written.read_text()
