"""The exchange feed's status as the header shows it: a neutral type shared by the collector
(which decides it) and the web (which displays it), so the web needs nothing of the collector or
the connectors. ``app.collector.feed.FeedStatus`` is this same class. See docs/architecture.md.
"""

from __future__ import annotations

from enum import StrEnum


class FeedStatus(StrEnum):
    OK = "OK"
    DEGRADED = "DEGRADED"
    RATE_LIMITED = "RATE_LIMITED"
    BANNED = "BANNED"
    DOWN = "DOWN"
    AUTH_ERROR = "AUTH_ERROR"
