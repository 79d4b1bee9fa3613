"""Reading one field of one row, and the reasons collected when it cannot be read (pure).

A value the figures depend on that is missing, empty, not a number, not finite, implausibly large,
of the wrong sign, or in a duplicated row is never guessed: ``FieldError`` names the field, and
``Problems`` turns it into an ``UnknownReason`` naming the path, the row and the field.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from connectors.binance.errors import BadPayload
from risk.model import (
    EQUITY,
    MAINT,
    UnknownReason,
)

ROOT_FIELD = "<root>"
"""The ``field`` of a problem about the whole payload rather than one field."""
MAX_MAGNITUDE = 1e15
"""Larger than any real quantity, price or USD figure: such a value is corrupt, not a number."""
SIDES = ("BOTH", "LONG", "SHORT")
BOTH_SIDES = frozenset({EQUITY, MAINT})
MM_ONLY = frozenset({MAINT})
EQUITY_ONLY = frozenset({EQUITY})


class FieldError(ValueError):
    """One field of one row cannot be used (internal: becomes an UnknownReason)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def rows_of(payloads: Mapping[str, object], path: str) -> list[Mapping[str, Any]]:
    """A list-of-objects payload (a single object is accepted as a one-row list); raises
    BadPayload on any other shape."""
    raw = payloads.get(path, [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        raise BadPayload(path, ROOT_FIELD, "expected a JSON array of objects")
    return raw


def number(row: Mapping[str, Any], field: str) -> float:
    """A finite number of plausible size, or FieldError saying what it is instead."""
    if field not in row:
        raise FieldError(field, "missing")
    raw = row[field]
    if raw is None or raw == "":
        raise FieldError(field, f"empty ({raw!r})")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise FieldError(field, f"expected a number, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise FieldError(field, f"not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise FieldError(field, f"not a finite number: {raw!r}")
    if abs(value) > MAX_MAGNITUDE:
        raise FieldError(field, f"implausibly large: {raw!r}")
    return value


def nonneg(row: Mapping[str, Any], field: str) -> float:
    value = number(row, field)
    if value < 0:
        raise FieldError(field, f"negative: {row[field]!r}")
    return value


def positive(row: Mapping[str, Any], field: str) -> float:
    value = number(row, field)
    if value <= 0:
        raise FieldError(field, f"not positive: {row[field]!r}")
    return value


def optional(row: Mapping[str, Any], field: str) -> float | None:
    """A display-only number: None when Binance left it empty, null, out or unreadable."""
    try:
        return number(row, field)
    except FieldError:
        return None


def name_of(row: Mapping[str, Any], field: str) -> str:
    raw = row.get(field)
    if not isinstance(raw, str) or not raw:
        raise FieldError(field, f"missing or not a name: {raw!r}")
    return raw


def time_ms(raw: object) -> int:
    """An epoch-ms time, as an integer or a string of digits (ccxt relays it as a string)."""
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return 0


class Problems:
    """Reasons collected while parsing one set of payloads."""

    def __init__(self) -> None:
        self.items: list[UnknownReason] = []

    def add(
        self,
        path: str,
        field: str,
        problem: str,
        item: str = "",
        affects: frozenset[str] = BOTH_SIDES,
    ) -> None:
        self.items.append(UnknownReason(path, field, problem, item, affects))

    def rows(
        self, payloads: Mapping[str, object], path: str, affects: frozenset[str] = BOTH_SIDES
    ) -> list[Mapping[str, Any]] | None:
        """The payload's rows; None (and a reason) when it is not an array of objects."""
        try:
            return rows_of(payloads, path)
        except BadPayload as exc:
            self.add(path, ROOT_FIELD, exc.problem, affects=affects)
            return None


def unique_rows(
    rows: list[Mapping[str, Any]],
    key: Callable[[Mapping[str, Any]], str],
    path: str,
    field: str,
    problems: Problems,
    affects: frozenset[str],
) -> list[Mapping[str, Any]]:
    """Rows whose key appears once; a duplicated key is a reason and none of its rows is used
    (which of two disagreeing rows is right cannot be told)."""
    keys: list[str | None] = []
    for row in rows:
        try:
            keys.append(key(row))
        except FieldError:
            keys.append(None)
    count = Counter(k for k in keys if k is not None)
    out = []
    for row, k in zip(rows, keys, strict=True):
        if k is not None and count[k] > 1:
            continue
        out.append(row)
    for k in sorted(k for k, n in count.items() if n > 1):
        problems.add(path, field, f"duplicated row ({count[k]} rows)", k, affects)
    return out


def display(row: Mapping[str, Any], field: str) -> float:
    value = optional(row, field)
    return math.nan if value is None else value
