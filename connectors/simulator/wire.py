"""How the simulator writes Binance's wire format: string-encoded decimals and JSON bodies."""

from __future__ import annotations

Json = dict[str, object] | list[dict[str, object]]
"""A response body: one object or a list of rows."""


def dec(value: float) -> str:
    """Binance's string-encoded decimal (8 places)."""
    return f"{value:.8f}"
