"""Carry: interest charged on loans and funding paid or received (pure, display-only).

Sources: binance/binance-connector-js, clients/derivatives-trading-portfolio-margin/src/rest-api/
modules/account-api.ts: "Get Margin Borrow/Loan Interest History" → ``{rows, total}``; "Get UM
Income History" / "Get CM Income History" → ``[{symbol, incomeType, income, asset, info, time,
tranId, tradeId}]``.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.binance.endpoints import (
    MARGIN_INTEREST_HISTORY,
    UM_INCOME,
)
from connectors.binance.parse.fields import (
    ROOT_FIELD,
    FieldError,
    name_of,
    number,
    optional,
    time_ms,
)
from risk.model import (
    FundingPayment,
    InterestCharge,
    InterestHistory,
)

FUNDING_FEE = "FUNDING_FEE"


def parse_interest_history(payloads: Mapping[str, object]) -> InterestHistory | None:
    """``/papi/v1/margin/marginInterestHistory``: ``{"rows": [...], "total": n}`` (a bare list is
    read as the rows). None when not read. Display-only: a row that cannot be read is left out
    and the history marked incomplete (sums over it are then unavailable), never guessed.
    Binance spells the time ``interestAccuredTime``; ``interestAccruedTime`` is read too."""
    raw = payloads.get(MARGIN_INTEREST_HISTORY)
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        rows, total = raw.get("rows", []), raw.get("total")
    else:
        rows, total = raw, None
    if not isinstance(rows, list):
        return InterestHistory((), False)
    complete = True
    charges: list[InterestCharge] = []
    for row in rows:
        try:
            if not isinstance(row, Mapping):
                raise FieldError(ROOT_FIELD, "not an object")
            asset = name_of(row, "asset")
            when = time_ms(row.get("interestAccuredTime", row.get("interestAccruedTime")))
            if when <= 0:
                raise FieldError("interestAccuredTime", "missing")
            interest = number(row, "interest")
        except FieldError:
            complete = False
            continue
        rate = optional(row, "interestRate")
        raw_asset = row.get("rawAsset")
        kind = row.get("type")
        charges.append(
            InterestCharge(
                asset=asset,
                time_ms=when,
                interest_qty=interest,
                daily_rate=rate if rate is not None and rate >= 0 else None,
                principal_qty=optional(row, "principal"),
                kind=kind if isinstance(kind, str) else "",
                raw_asset=raw_asset if isinstance(raw_asset, str) else "",
            )
        )
    if isinstance(total, bool) or not isinstance(total, int | str):
        total_n = None
    else:
        total_n = int(total) if str(total).isdigit() else None
    if total_n is not None and total_n > len(rows):
        complete = False
    return InterestHistory(tuple(charges), complete)


def parse_funding(payloads: Mapping[str, object], path: str) -> tuple[FundingPayment, ...] | None:
    """The ``FUNDING_FEE`` rows of ``/papi/v1/um/income`` or ``/papi/v1/cm/income`` (other income
    types are ignored); None when not read or not a list (unavailable). A row repeated across
    pages (same ``tranId`` and symbol) counts once; an unreadable row makes the whole payload
    unavailable (a sum that silently misses a payment would look like a figure)."""
    raw = payloads.get(path)
    if not isinstance(raw, list):
        return None
    venue = "UM" if path == UM_INCOME else "CM"
    seen: set[tuple[str, str]] = set()
    out: list[FundingPayment] = []
    for row in raw:
        if not isinstance(row, Mapping):
            return None
        if row.get("incomeType") != FUNDING_FEE:
            continue
        try:
            symbol = name_of(row, "symbol")
            asset = name_of(row, "asset")
            income = number(row, "income")
        except FieldError:
            return None
        when = time_ms(row.get("time"))
        if when <= 0:
            return None
        tran = row.get("tranId")
        if tran is not None and tran != "":
            key = (str(tran), symbol)
            if key in seen:
                continue
            seen.add(key)
        out.append(FundingPayment(venue, symbol, asset, income, when))
    return tuple(out)
