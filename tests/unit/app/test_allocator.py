"""The allocator setting pmdesk applies at start takes effect (CI and the desk run glibc)."""

from __future__ import annotations

from app.allocator import keep_freed_memory


def test_glibc_takes_both_settings() -> None:
    assert keep_freed_memory() is True
