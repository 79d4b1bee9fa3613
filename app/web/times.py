"""The viewer's time choice (the header's UTC / local toggle, kept in the browser) and times
of day and dates in it. Every time on the desk's own surfaces goes through here. Pure."""

from __future__ import annotations

import time
from typing import Any

from app.web.format import (
    fmt_clock,
)


def utc_clock(ms: int) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(ms / 1000))


TimePref = dict[str, Any]
"""The viewer's time choice (the header's UTC/local toggle, kept in the browser):
``{"local": bool, "zone": IANA name, "offset_min": minutes east of UTC}``; None: UTC."""


def checked_pref(pref: Any) -> TimePref | None:
    """The browser's time choice as the toggle writes it, anything else (a tampered request)
    read as UTC: a dict, ``local`` true, a zone name, an offset within a day."""
    if not isinstance(pref, dict) or pref.get("local") is not True:
        return None
    zone, offset = pref.get("zone"), pref.get("offset_min")
    return {
        "local": True,
        "zone": zone if isinstance(zone, str) and len(zone) <= 64 else "",
        "offset_min": offset
        if isinstance(offset, int | float) and not isinstance(offset, bool) and abs(offset) <= 1440
        else None,
    }


def clock_text(ms: int, pref: TimePref | None = None) -> str:
    """A time of day in the viewer's choice, labelled: "12:34:56 UTC" (default) or local
    ("13:34:56 CET"). Every time on the desk's own surfaces goes through here."""
    pref = checked_pref(pref)
    if not pref:
        return utc_clock(ms)
    offset = pref.get("offset_min")
    return fmt_clock(
        ms, str(pref.get("zone") or "?"), int(offset) if isinstance(offset, int | float) else None
    )


def _local_zone(pref: TimePref | None) -> Any:
    """The viewer's zone (a ``tzinfo``) when they chose local time; None for UTC."""
    import datetime as _dt
    import zoneinfo

    pref = checked_pref(pref)
    if not pref:
        return None
    try:
        return zoneinfo.ZoneInfo(str(pref.get("zone") or ""))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        offset = pref.get("offset_min")
        minutes = int(offset) if isinstance(offset, int | float) else 0
        return _dt.timezone(_dt.timedelta(minutes=minutes))


def offset_ms(ms: int, pref: TimePref | None = None) -> int:
    """How far the viewer's wall clock is ahead of UTC at ``ms`` (0 in UTC): a chart adds it
    to draw its time axis in the viewer's choice (DST honoured point by point)."""
    import datetime as _dt

    zone = _local_zone(pref)
    if zone is None:
        return 0
    delta = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).astimezone(zone).utcoffset()
    return 0 if delta is None else int(delta.total_seconds() * 1000)


def zone_label(ms: int, pref: TimePref | None = None) -> str:
    """The zone the viewer's times are in at ``ms``: "UTC", "JST", "UTC+04:00"."""
    return clock_text(ms, pref).split(" ", 1)[1]


def datetime_text(ms: int, pref: TimePref | None = None) -> str:
    """A date and time in the viewer's choice, labelled: "2026-01-01 12:34:56 UTC"."""
    import datetime as _dt

    zone = _local_zone(pref) or _dt.UTC
    at = _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).astimezone(zone)
    return f"{at:%Y-%m-%d} {clock_text(ms, pref)}"
