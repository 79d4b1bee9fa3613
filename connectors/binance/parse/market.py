"""Market parameters and prices: leverage brackets, collateral tables, index, mark and spot prices,
and the margin-asset leverage (pure). Tier tables must be ascending, contiguous from 0 and
continuous (each ``cum`` matches the rates); a table that is not is a reason naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from connectors.binance.endpoints import (
    ASSET_INDEX_PRICE,
    CM_POSITION_RISK,
    CM_PREMIUM_INDEX,
    COLLATERAL_RATE_FLAT,
    COLLATERAL_RATE_TIERED,
    MARGIN_ASSET_LEVERAGE,
    TICKER_PRICE,
    UM_POSITION_RISK,
    UM_PREMIUM_INDEX,
)
from connectors.binance.parse.fields import (
    BOTH_SIDES,
    EQUITY_ONLY,
    MM_ONLY,
    ROOT_FIELD,
    FieldError,
    Problems,
    display,
    name_of,
    nonneg,
    optional,
    positive,
    rows_of,
    unique_rows,
)
from risk.model import (
    Bracket,
    CmPosition,
    CollateralTier,
    UmPosition,
)


def _continuous(
    rows: list[tuple[float, float, float, float]], sign: float, scale: float
) -> int | None:
    """Index of the first tier whose cum breaks continuity, or None. Rows are (floor, cap,
    rate, cum) ascending; v · rate + sign · cum must agree on both sides of every floor:
    cum_k = cum_{k−1} + floor_k · (rate_k − rate_{k−1}) · (−sign)."""
    for k in range(1, len(rows)):
        floor, _cap, rate, cum = rows[k]
        prev_rate, prev_cum = rows[k - 1][2], rows[k - 1][3]
        expected = prev_cum - sign * floor * (rate - prev_rate)
        if abs(cum - expected) > 1e-6 * max(floor * scale, abs(cum), 1.0):
            return k
    return None


def _tier_table(
    tiers: object, fields: tuple[str, str, str, str], sign: float, max_rate: float
) -> list[tuple[float, float, float, float]]:
    """(floor, cap, rate, cum) rows: ascending, contiguous, from 0, continuous; or FieldError
    naming the field(s) at fault."""
    floor_f, cap_f, rate_f, cum_f = fields
    if not isinstance(tiers, Sequence) or isinstance(tiers, str) or not tiers:
        raise FieldError(ROOT_FIELD, "tiers missing or empty")
    rows = []
    for t in tiers:
        if not isinstance(t, Mapping):
            raise FieldError(ROOT_FIELD, f"a tier is not an object: {t!r}")
        rate = nonneg(t, rate_f)
        if rate > max_rate:
            raise FieldError(rate_f, f"rate {t[rate_f]!r} above {max_rate:g}")
        rows.append((nonneg(t, floor_f), nonneg(t, cap_f), rate, nonneg(t, cum_f)))
    rows.sort(key=lambda r: r[0])
    if rows[0][0] != 0.0:
        raise FieldError(floor_f, "lowest tier does not start at 0")
    for k, (floor, cap, _rate, _cum) in enumerate(rows):
        if cap <= floor:
            raise FieldError(cap_f, f"cap {cap:g} not above floor {floor:g}")
        if k + 1 < len(rows) and rows[k + 1][0] != cap:
            raise FieldError(f"{cap_f}/{floor_f}", f"tiers not contiguous at {cap:g}")
    broken = _continuous(rows, sign, max(r[2] for r in rows))
    if broken is not None:
        raise FieldError(
            f"{rate_f}/{cum_f}/{floor_f}",
            f"not continuous at {rows[broken][0]:g} (cum does not match the rates)",
        )
    return rows


T = TypeVar("T")


def _keyed(
    payloads: Mapping[str, object],
    path: str,
    key_field: str,
    affects: frozenset[str],
    problems: Problems,
    read: Callable[[Mapping[str, Any]], T],
) -> dict[str, T]:
    """A payload of rows keyed by ``key_field`` (a symbol, an asset), each read by ``read``;
    an unreadable key, a duplicated one or an unreadable row is a reason naming it."""
    rows = problems.rows(payloads, path, affects)
    if rows is None:
        return {}

    def key_of(row: Mapping[str, Any]) -> str:
        return name_of(row, key_field)

    out: dict[str, T] = {}
    for row in unique_rows(rows, key_of, path, key_field, problems, affects):
        try:
            key = key_of(row)
        except FieldError as bad:
            problems.add(path, bad.field, bad.problem, affects=affects)
            continue
        try:
            out[key] = read(row)
        except FieldError as bad:
            problems.add(path, bad.field, bad.problem, key, affects)
    return out


Fields4 = tuple[str, str, str, str]


def _tiers_of(
    row: Mapping[str, Any], list_field: str, fields: Fields4, sign: float
) -> list[tuple[float, float, float, float]]:
    """A row's tier list (``brackets``, ``collateralInfo``), the list itself named when bad."""
    try:
        return _tier_table(row.get(list_field), fields, sign, 1.0)
    except FieldError as bad:
        if bad.field == ROOT_FIELD:
            raise FieldError(list_field, bad.problem) from None
        raise


def parse_brackets(
    payloads: Mapping[str, object],
    path: str,
    floor_field: str,
    cap_field: str,
    problems: Problems,
) -> dict[str, tuple[Bracket, ...]]:
    """Leverage brackets by symbol: MM = notional · maintMarginRatio − cum (continuous)."""
    fields: Fields4 = (floor_field, cap_field, "maintMarginRatio", "cum")

    def read(row: Mapping[str, Any]) -> tuple[Bracket, ...]:
        table = _tiers_of(row, "brackets", fields, -1.0)
        leverage = {
            display(b, floor_field): display(b, "initialLeverage")
            for b in row["brackets"]
            if isinstance(b, Mapping)
        }
        return tuple(
            Bracket(floor=f, cap=c, maint_margin_ratio=r, cum=cum, initial_leverage=leverage[f])
            for f, c, r, cum in table
        )

    return _keyed(payloads, path, "symbol", MM_ONLY, problems, read)


def parse_collateral_tiered(
    payloads: Mapping[str, object], problems: Problems
) -> dict[str, tuple[CollateralTier, ...]]:
    """``/sapi/v2``: value in a tier counts value · collateralRate + cum (continuous)."""
    fields: Fields4 = ("tierFloor", "tierCap", "collateralRate", "cum")

    def read(row: Mapping[str, Any]) -> tuple[CollateralTier, ...]:
        table = _tiers_of(row, "collateralInfo", fields, 1.0)
        return tuple(CollateralTier(f, c, r, cum) for f, c, r, cum in table)

    return _keyed(payloads, COLLATERAL_RATE_TIERED, "asset", EQUITY_ONLY, problems, read)


def parse_collateral_flat(
    payloads: Mapping[str, object], problems: Problems
) -> dict[str, tuple[CollateralTier, ...]]:
    """``/sapi/v1``: one rate per asset, as a single unbounded tier."""

    def read(row: Mapping[str, Any]) -> tuple[CollateralTier, ...]:
        rate = nonneg(row, "collateralRate")
        if rate > 1.0:
            raise FieldError("collateralRate", f"rate {row['collateralRate']!r} above 1")
        return (CollateralTier(0.0, math.inf, rate, 0.0),)

    return _keyed(payloads, COLLATERAL_RATE_FLAT, "asset", EQUITY_ONLY, problems, read)


def parse_index_prices(payloads: Mapping[str, object], problems: Problems) -> dict[str, float]:
    p = ASSET_INDEX_PRICE
    if p not in payloads:
        problems.add(p, ROOT_FIELD, "not read: index prices unknown")
        return {}
    return _keyed(
        payloads, p, "asset", BOTH_SIDES, problems, lambda row: positive(row, "assetIndexPrice")
    )


def parse_mark_prices(
    payloads: Mapping[str, object],
    um: tuple[UmPosition, ...],
    cm: tuple[CmPosition, ...],
    problems: Problems,
) -> dict[str, float]:
    """Each position's mark: the premium index's where it lists the symbol (it is the fresher,
    and the one the streams update), else the position row's own. A zero, negative or
    unreadable mark is a reason, never a fallback: only valid marks are returned."""
    own = {pos.symbol: (pos.mark_price, UM_POSITION_RISK) for pos in um}
    own.update({pos.symbol: (pos.mark_price, CM_POSITION_RISK) for pos in cm})
    premium: dict[str, float | FieldError] = {}
    for path in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX):
        rows = problems.rows(payloads, path, MM_ONLY) if path in payloads else []
        for row in rows or []:
            try:
                symbol = name_of(row, "symbol")
            except FieldError as bad:
                problems.add(path, bad.field, bad.problem, affects=MM_ONLY)
                continue
            try:
                if symbol in premium:
                    raise FieldError("symbol", "duplicated row")
                premium[symbol] = positive(row, "markPrice")
            except FieldError as bad:
                premium[symbol] = bad
                if symbol in own:
                    problems.add(path, bad.field, bad.problem, symbol, MM_ONLY)
    marks: dict[str, float] = {}
    for symbol, (mark, path) in own.items():
        chosen = premium.get(symbol, mark)
        if isinstance(chosen, FieldError):
            continue
        if not (math.isfinite(chosen) and chosen > 0):
            said = "missing or unreadable" if math.isnan(chosen) else f"{chosen:g}, not a price"
            problems.add(path, "markPrice", f"mark {said}", symbol, MM_ONLY)
            continue
        marks[symbol] = chosen
    for symbol, value in premium.items():  # other symbols (index drivers, what-if)
        if symbol not in own and not isinstance(value, FieldError):
            marks[symbol] = value
    return marks


def parse_margin_asset_leverage(payloads: Mapping[str, object]) -> dict[str, float] | None:
    """``/sapi/v1/portfolio/margin-asset-leverage`` (PM Pro): asset → leverage (≥ 1); None when
    the account did not answer it. Unreadable rows are left out."""
    raw = payloads.get(MARGIN_ASSET_LEVERAGE)
    if not isinstance(raw, list):
        return None
    out: dict[str, float] = {}
    for row in raw:
        if isinstance(row, Mapping) and isinstance(row.get("asset"), str):
            lev = optional(row, "leverage")
            if lev is not None and lev >= 1:
                out[str(row["asset"])] = lev
    return out


def parse_ticker_prices(payloads: Mapping[str, object]) -> dict[str, float]:
    """Spot last prices by symbol (``/api/v3/ticker/price``, all symbols or one); unreadable
    rows are left out (display only)."""
    out: dict[str, float] = {}
    for r in rows_of(payloads, TICKER_PRICE):
        price = optional(r, "price")
        if isinstance(r.get("symbol"), str) and price is not None:
            out[str(r["symbol"])] = price
    return out
