"""Paged history of one account, as Binance pages it: interest charged on loans
(``/papi/v1/margin/marginInterestHistory``) and funding (``/papi/v1/um/income``,
``/papi/v1/cm/income``), filtered by the request's query."""

from __future__ import annotations

from flask import request

from connectors.simulator.auth import BinanceError
from connectors.simulator.book import AccountBook
from connectors.simulator.carry import DAY_MS
from connectors.simulator.wire import Json


def interest_history(book: AccountBook, now_ms: int) -> Json:
    """``GET /papi/v1/margin/marginInterestHistory`` as Binance documents it: newest first;
    no times → the last 7 days; ``startTime`` alone → from it to now, at most 30 days;
    ``endTime`` alone → the 7 days before it; ``current`` (1-based) and ``size`` (default
    10, at most 100) page it; ``{"rows": [...], "total": n}``."""
    start, end = _ms_arg("startTime"), _ms_arg("endTime")
    if start is None and end is None:
        start, end = now_ms - 7 * DAY_MS, now_ms
    elif end is None:
        start, end = max(start or 0, now_ms - 30 * DAY_MS), now_ms
    elif start is None:
        start = end - 7 * DAY_MS
    asset = request.args.get("asset")
    rows = [
        r
        for r in book.interest_rows
        if start <= _row_time(r, "interestAccuredTime") <= end
        and (asset is None or r["asset"] == asset)
    ]
    rows.sort(key=lambda r: _row_time(r, "interestAccuredTime"), reverse=True)
    size = min(max(_int_arg("size", 10), 1), 100)
    current = max(_int_arg("current", 1), 1)
    return {"rows": rows[(current - 1) * size : current * size], "total": len(rows)}


def income(book: AccountBook, venue: str, now_ms: int) -> Json:
    """``GET /papi/v1/um/income`` / ``/papi/v1/cm/income``: oldest first; no times → the
    last 7 days (UM) or 200 days (CM); filtered by ``symbol`` and ``incomeType``;
    ``page`` (1-based) and ``limit`` (default 100, at most 1000) page it."""
    start, end = _ms_arg("startTime"), _ms_arg("endTime")
    default_days = 7 if venue == "UM" else 200
    if end is None:
        end = now_ms
    if start is None:
        start = end - default_days * DAY_MS
    symbol, kind = request.args.get("symbol"), request.args.get("incomeType")
    rows = [
        r
        for r in book.income_rows[venue]
        if start <= _row_time(r, "time") <= end
        and (symbol is None or r["symbol"] == symbol)
        and (kind is None or r["incomeType"] == kind)
    ]
    rows.sort(key=lambda r: _row_time(r, "time"))
    limit = min(max(_int_arg("limit", 100), 1), 1000)
    page = max(_int_arg("page", 1), 1)
    return rows[(page - 1) * limit : page * limit]


def _row_time(row: dict[str, object], key: str) -> int:
    t = row.get(key)
    return t if isinstance(t, int) else 0


def _ms_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return int(raw)


def _int_arg(name: str, default: int) -> int:
    value = _ms_arg(name)
    return default if value is None else value
