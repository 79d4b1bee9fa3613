"""Why a figure cannot be computed: the fail-closed vocabulary every part of the model shares."""

from __future__ import annotations

from dataclasses import dataclass

EQUITY, MAINT = "equity", "mm"
"""What an unknown input makes unknown: adjusted equity, maintenance margin, or both."""


@dataclass(frozen=True)
class UnknownReason:
    """Why a figure cannot be computed: the payload path, the field, and what is wrong with it.

    ``item`` names the row (an asset, a symbol) where the payload has rows; ``affects`` says
    which headline figures it makes unknown (``EQUITY``, ``MAINT`` or both).
    """

    path: str
    field: str
    problem: str
    item: str = ""
    affects: frozenset[str] = frozenset({EQUITY, MAINT})

    def __str__(self) -> str:
        row = f" {self.item}" if self.item else ""
        return f"{self.path}{row}: {self.field}: {self.problem}"
