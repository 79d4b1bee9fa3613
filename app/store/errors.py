"""The store's own error type: what the collector sees when a write fails.

Store write methods raise ``StoreWriteError`` (never SQLAlchemy's types) so that the collector
needs no database library to tell a full disk from a busy lock (docs/architecture.md, the
"never import" rules).
"""

from __future__ import annotations


class StoreWriteError(Exception):
    """A write the store could not make. ``kind``: "full", "read-only", "busy" or "other";
    ``message``: the screen's line for it (what happened and what the collector does next)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
