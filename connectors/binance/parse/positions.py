"""Open positions: ``/papi/v1/um/positionRisk`` and ``/papi/v1/cm/positionRisk`` (pure).

Zero-quantity rows are skipped whatever their symbol; a missing payload is a reason (never "no
positions"); a duplicated position, an unknown symbol or a COIN-M contract size that the row's
own notional contradicts is a reason, not a figure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from connectors.binance.endpoints import (
    CM_LEVERAGE_BRACKET,
    CM_POSITION_RISK,
    UM_LEVERAGE_BRACKET,
    UM_POSITION_RISK,
)
from connectors.binance.parse.fields import (
    MM_ONLY,
    ROOT_FIELD,
    SIDES,
    FieldError,
    Problems,
    display,
    name_of,
    number,
    optional,
)
from risk.model import (
    CmPosition,
    UmPosition,
)
from risk.symbols import cm_contract_size_usd, cm_symbol_coin, um_symbol_assets

CONTRACT_SIZE_TOLERANCE = 0.01


def _side(row: Mapping[str, Any], amount: float) -> str:
    """BOTH (one-way; also for null or empty), LONG or SHORT (hedge mode); a hedge-mode side
    whose amount has the other sign is a contradiction (Binance: SHORT amounts are negative)."""
    raw = row.get("positionSide")
    side = "BOTH" if raw is None or raw == "" else raw
    if side not in SIDES:
        raise FieldError("positionSide", f"unknown side {raw!r}")
    if (side == "LONG" and amount < 0) or (side == "SHORT" and amount > 0):
        raise FieldError("positionSide", f"{side} with amount {row.get('positionAmt')!r}")
    return str(side)


def _position_rows(
    payloads: Mapping[str, object], path: str, problems: Problems
) -> list[tuple[Mapping[str, Any], str, float, str]]:
    """(row, symbol, amount, side) of the open positions; zero rows are skipped whatever their
    symbol; a missing payload is a reason (never "no positions")."""
    if path not in payloads:
        problems.add(path, ROOT_FIELD, "not read: open positions unknown", affects=MM_ONLY)
        return []
    rows = problems.rows(payloads, path, MM_ONLY)
    out = []
    for row in rows or []:
        try:
            symbol = name_of(row, "symbol")
        except FieldError as bad:
            problems.add(path, bad.field, bad.problem, affects=MM_ONLY)
            continue
        try:
            amount = number(row, "positionAmt")
            if amount == 0.0:
                continue
            out.append((row, symbol, amount, _side(row, amount)))
        except FieldError as bad:
            problems.add(path, bad.field, bad.problem, symbol, MM_ONLY)

    def key(r: tuple[Mapping[str, Any], str, float, str]) -> str:
        return f"{r[1]} {r[3]}"

    count = Counter(key(r) for r in out)
    for k in sorted(k for k, n in count.items() if n > 1):
        problems.add(path, "symbol", f"duplicated position ({count[k]} rows)", k, MM_ONLY)
    return [r for r in out if count[key(r)] == 1]


def parse_um_positions(
    payloads: Mapping[str, object], problems: Problems
) -> tuple[UmPosition, ...]:
    p = UM_POSITION_RISK
    out: list[UmPosition] = []
    for row, symbol, amount, side in _position_rows(payloads, p, problems):
        assets = um_symbol_assets(symbol)
        if assets is None:
            problems.add(p, "symbol", "unknown margin asset", symbol, MM_ONLY)
            continue
        out.append(
            UmPosition(
                symbol=symbol,
                position_side=side,
                position_amt_qty=amount,
                entry_price=display(row, "entryPrice"),
                mark_price=display(row, "markPrice"),
                unrealized_pnl_qty=display(row, "unRealizedProfit"),
                base_asset=assets[0],
                margin_asset=assets[1],
                leverage=display(row, "leverage"),
            )
        )
    return tuple(out)


def parse_cm_positions(
    payloads: Mapping[str, object], problems: Problems
) -> tuple[CmPosition, ...]:
    """COIN-M rows: the contract size is the symbol's (100 USD BTC, 10 USD others), checked
    against the one ``notionalValue`` (coin) implies at the row's mark: |nv| · mark / |contracts|.
    A size that disagrees is a reason, not a figure."""
    p = CM_POSITION_RISK
    out: list[CmPosition] = []
    for row, symbol, contracts, side in _position_rows(payloads, p, problems):
        size = cm_contract_size_usd(symbol)
        if size is None:
            problems.add(p, "symbol", "unknown COIN-M contract size", symbol, MM_ONLY)
            continue
        mark = display(row, "markPrice")
        notional = optional(row, "notionalValue")
        if notional is not None and mark > 0:
            implied = abs(notional) * mark / abs(contracts)
            if abs(implied / size - 1.0) > CONTRACT_SIZE_TOLERANCE:
                problems.add(
                    p,
                    "notionalValue",
                    f"implies a contract size of {implied:,.4g} USD; {symbol}'s is {size:g} USD",
                    symbol,
                    MM_ONLY,
                )
                continue
        out.append(
            CmPosition(
                symbol=symbol,
                position_side=side,
                position_amt_contracts=contracts,
                entry_price=display(row, "entryPrice"),
                mark_price=mark,
                unrealized_pnl_qty=display(row, "unRealizedProfit"),
                contract_size_usd=size,
                margin_asset=cm_symbol_coin(symbol),
                leverage=display(row, "leverage"),
            )
        )
    return tuple(out)


def unbracketed_symbols(payloads: Mapping[str, object]) -> frozenset[str]:
    """Symbols with an open position that the leverage-bracket payloads do not list (a new
    listing, or brackets not read yet): the collector reads the brackets again at once."""
    out: set[str] = set()
    for positions, brackets in (
        (UM_POSITION_RISK, UM_LEVERAGE_BRACKET),
        (CM_POSITION_RISK, CM_LEVERAGE_BRACKET),
    ):
        listed = payloads.get(brackets)
        names = (
            {r.get("symbol") for r in listed if isinstance(r, Mapping)}
            if isinstance(listed, list)
            else set()
        )
        rows = payloads.get(positions)
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping) and optional(row, "positionAmt") not in (None, 0.0):
                symbol = row.get("symbol")
                if isinstance(symbol, str) and symbol not in names:
                    out.add(symbol)
    return frozenset(out)
