"""The exchange feed's status as the header shows it: a neutral type shared by the collector
(which decides it) and the web (which displays it), so the web needs nothing of the collector or
the connectors. ``app.collector.feed.FeedStatus`` is this same class. See docs/architecture.md.
"""

from __future__ import annotations

from enum import StrEnum

USER_STREAM = "user data stream"
"""The endpoint of the events that say whether the account's user data stream is up: the
collector records them, the header shows the newest while it says the stream is down."""
RECONCILIATION = "stream vs REST"
"""The endpoint of the events recording a difference a reconciliation poll found."""


class FeedStatus(StrEnum):
    OK = "OK"
    DEGRADED = "DEGRADED"
    RATE_LIMITED = "RATE_LIMITED"
    BANNED = "BANNED"
    DOWN = "DOWN"
    AUTH_ERROR = "AUTH_ERROR"
