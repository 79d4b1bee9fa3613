"""Binance's per-IP, per-minute request-weight limits of each API family: a neutral table that the
connector (planning and backoff), the collector's gate, the metrics and the web's status bar all
read, so the web needs nothing of the connector. ``connectors.binance.limits.LIMITS_PER_MINUTE`` is
this same table. See docs/architecture.md.
"""

from __future__ import annotations

LIMITS_PER_MINUTE: dict[str, int] = {
    "papi": 6_000,
    "sapi": 12_000,
    "fapi": 2_400,
    "dapi": 2_400,
    "api": 6_000,
}
