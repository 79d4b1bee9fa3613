"""The session-wide secret watch (tests/conftest.py): the keys, secrets and tokens no log line of
any test may carry."""

from __future__ import annotations

SECRETS: set[str] = set()


def watch_secret(*values: str) -> None:
    """Add values (a notify token, a database password, a session secret…) to the watch: the
    session fails if any log line of any test carries one."""
    SECRETS.update(v for v in values if v)
