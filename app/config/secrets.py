"""Secrets in settings: which settings may hold one, the store's URL as it may be printed, and
secret files read safely (owner-only regular files, within a time limit, never echoed)."""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import URL, make_url


class ConfigError(Exception):
    """A configuration problem, phrased for the person who has to fix it."""


# --- LAN security: secrets and files (issue 17) ---
SECRET_FIELDS = frozenset({"api_key", "api_secret", "notify_urls", "db_url", "url"})
"""Settings whose value can hold a token or password. Their values, whatever their type error,
never appear in a message; nor does the value of any setting whose name says it may hold one
(``_SECRET_NAME``: api_key_file, session_secret_file, metrics_token_file, tls_key_file, …)."""
_SECRET_NAME = re.compile(r"key|secret|token|passw|url", re.IGNORECASE)
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,4}")
SECRET_FILE_TIMEOUT_S = 5.0
"""A key file not read within this long (a hung network mount) is one clear error."""
SECRET_FILE_MAX_BYTES = 64 * 1024


def is_secret_setting(name: str) -> bool:
    return name in SECRET_FIELDS or bool(_SECRET_NAME.search(name))


def safe_db_url(url: str) -> str:
    """The store's URL as it may be printed: no password, nor any query value that may be one
    (``?password=…``, ``sslpassword``…). A URL that does not parse is not shown at all."""
    try:
        parsed: URL = make_url(url)
    # Broad on purpose: SQLAlchemy raises several types for a bad URL, and any of them only
    # means the URL is not shown (a password in it must never reach an error message).
    except Exception:
        return "(store URL not shown: it does not parse)"
    hidden = {k: "***" for k in parsed.query if _SECRET_NAME.search(k) or "pass" in k.lower()}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def _shown(path: Path) -> str:
    """A key file's path as a message may show it: a bare name (no ``/``) might be the secret
    itself, pasted where its file's path belongs, so it is not shown."""
    text = str(path)
    return text if os.sep in text else "(a name without '/', not shown: it may be the secret)"


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _read_owner_only(path: Path, what: str) -> str:
    """The text of ``path`` if it is a regular file with no group or other permission bits.
    Opened non-blocking, so a FIFO (or a device) is refused at once instead of waiting for a
    writer; checked on the opened descriptor (fstat), so a swap after the check is no way in."""
    shown = _shown(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError(f"config: {what} file not found: {shown}") from None
    except PermissionError:
        raise ConfigError(
            f"config: {what} file {shown} cannot be read by this user (uid {os.geteuid()})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config: {what} file {shown} cannot be opened: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(
                f"config: {what} file {shown} is {_file_kind(st.st_mode)}: give a regular file "
                "(mode 0600)"
            )
        mode = st.st_mode & 0o777
        if mode & 0o077:
            how = "read" if mode & 0o044 else "written or run"
            raise ConfigError(
                f"config: {what} file {shown} can be {how} by others (mode {mode:03o}); "
                f"run: chmod 600 {shown}"
            )
        if st.st_size > SECRET_FILE_MAX_BYTES:
            raise ConfigError(
                f"config: {what} file {shown} is {st.st_size:,} bytes: too large for a secret"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= SECRET_FILE_MAX_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError(f"config: {what} file {shown} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > SECRET_FILE_MAX_BYTES:
        raise ConfigError(f"config: {what} file {shown} grew too large for a secret")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config: {what} file {shown} is not UTF-8 text") from None


def read_secret_file(
    path: Path, what: str, *, timeout_s: float = SECRET_FILE_TIMEOUT_S
) -> SecretStr:
    """A secret (an API key, a token, a TLS key…) from a file only its owner can read: a
    regular file with no group or other permission bits, read within ``timeout_s``. Anything
    else — missing, a directory, a FIFO, a device, a looser mode, empty, unreadable, a hung
    mount — is one ``ConfigError`` line that never shows the contents. For every ``*_file``
    setting that holds a secret."""
    outcome: list[str | ConfigError] = []

    def read() -> None:
        try:
            outcome.append(_read_owner_only(path, what))
        except ConfigError as exc:
            outcome.append(exc)
        except Exception as exc:  # never a traceback (nor a value) for a key file
            outcome.append(
                ConfigError(
                    f"config: {what} file {_shown(path)} cannot be read: {type(exc).__name__}"
                )
            )

    # A daemon thread: a read stuck in the kernel (a dead NFS server) cannot hold pmdesk up.
    reader = threading.Thread(target=read, name=f"read {what} file", daemon=True)
    reader.start()
    reader.join(timeout_s)
    if not outcome:
        raise ConfigError(
            f"config: {what} file {_shown(path)} could not be read within {timeout_s:g} s "
            "(a hung network mount?)"
        )
    result = outcome[0]
    if isinstance(result, ConfigError):
        raise result
    value = result.strip()
    if not value:
        raise ConfigError(f"config: {what} file {_shown(path)} is empty")
    return SecretStr(value)


def describe(err: ValidationError) -> str:
    """The first error as one line; a secret setting's value never appears, whatever its type
    error (a string for a list, a number, a table…), nor does an unknown name that does not
    look like a setting's."""
    first = err.errors()[0]
    parts = [str(p) for p in first["loc"]]
    where = ".".join(parts) or "<settings>"
    if first["type"] == "extra_forbidden":
        if not all(_SETTING_NAME.fullmatch(p) for p in parts):
            return "config: unknown setting (its name is not shown: it does not look like one)"
        return f"config: unknown setting {where!r}"
    if any(is_secret_setting(p) for p in parts):
        return f"config: {where}: {first['msg']} (value not shown: it may hold a secret)"
    return f"config: {where}: {first['msg']} (got {first.get('input')!r})"
