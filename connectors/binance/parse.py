"""Raw Binance JSON → ``risk.model`` dataclasses. Pure: no I/O, no clock.

Keys of ``payloads`` are Binance paths (design doc, "Stable interfaces"); values are the JSON
exactly as Binance returns it, decimals as strings. Every problem raises ``PayloadError`` naming
the path and the field, so a bad capture or a changed API gives one clear message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from risk.model import (
    AccountSnapshot,
    AssetBalance,
    Bracket,
    CmPosition,
    CollateralTier,
    MarketState,
    ReportedAccount,
    UmPosition,
)
from risk.symbols import cm_symbol_coin, um_symbol_assets

ACCOUNT = "/papi/v1/account"
BALANCE = "/papi/v1/balance"
UM_POSITION_RISK = "/papi/v1/um/positionRisk"
CM_POSITION_RISK = "/papi/v1/cm/positionRisk"
UM_LEVERAGE_BRACKET = "/papi/v1/um/leverageBracket"
CM_LEVERAGE_BRACKET = "/papi/v1/cm/leverageBracket"
COLLATERAL_RATE_TIERED = "/sapi/v2/portfolio/collateralRate"
COLLATERAL_RATE_FLAT = "/sapi/v1/portfolio/collateralRate"
ASSET_INDEX_PRICE = "/sapi/v1/portfolio/asset-index-price"
UM_PREMIUM_INDEX = "/fapi/v1/premiumIndex"
CM_PREMIUM_INDEX = "/dapi/v1/premiumIndex"
TICKER_PRICE = "/api/v3/ticker/price"
UM_ACCOUNT = "/papi/v1/um/account"
CM_ACCOUNT = "/papi/v1/cm/account"
API_RESTRICTIONS = "/sapi/v1/account/apiRestrictions"

REQUIRED_PATHS = (BALANCE, ASSET_INDEX_PRICE)
ROOT_FIELD = "<root>"
"""The ``field`` of a PayloadError about the whole payload rather than one field."""


class PayloadError(ValueError):
    """A payload is missing or malformed; the message names the path and the field."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        super().__init__(f"{path}: field {field!r}: {problem}")
        self.path = path
        self.field = field
        self.problem = problem


def rows_of(payloads: Mapping[str, object], path: str) -> list[Mapping[str, Any]]:
    """A list-of-objects payload (a single object is accepted as a one-row list)."""
    raw = payloads.get(path, [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        raise PayloadError(path, ROOT_FIELD, "expected a JSON array of objects")
    return raw


def _num(row: Mapping[str, Any], field: str, path: str, *, empty_is_zero: bool = False) -> float:
    if field not in row:
        raise PayloadError(path, field, "missing")
    raw = row[field]
    if raw == "" and empty_is_zero:
        return 0.0
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise PayloadError(path, field, f"expected a number, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise PayloadError(path, field, f"not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise PayloadError(path, field, f"not a finite number: {raw!r}")
    return value


def _str(row: Mapping[str, Any], field: str, path: str) -> str:
    raw = row.get(field)
    if not isinstance(raw, str) or not raw:
        raise PayloadError(path, field, "missing or not a string")
    return raw


def _int(row: Mapping[str, Any], field: str, path: str) -> int:
    return int(_num(row, field, path))


def parse_balances(payloads: Mapping[str, object]) -> tuple[AssetBalance, ...]:
    p = BALANCE

    def amount(row: Mapping[str, Any], field: str) -> float:
        return _num(row, field, p, empty_is_zero=True)

    return tuple(
        AssetBalance(
            asset=_str(row, "asset", p),
            cross_margin_asset_qty=amount(row, "crossMarginAsset"),
            cross_margin_borrowed_qty=amount(row, "crossMarginBorrowed"),
            cross_margin_interest_qty=amount(row, "crossMarginInterest"),
            um_wallet_qty=amount(row, "umWalletBalance"),
            um_unrealized_pnl_qty=amount(row, "umUnrealizedPNL"),
            cm_wallet_qty=amount(row, "cmWalletBalance"),
            cm_unrealized_pnl_qty=amount(row, "cmUnrealizedPNL"),
        )
        for row in rows_of(payloads, p)
    )


def um_assets(symbol: str) -> tuple[str, str]:
    assets = um_symbol_assets(symbol)
    if assets is None:
        raise PayloadError(UM_POSITION_RISK, "symbol", f"unknown margin asset for {symbol!r}")
    return assets


def parse_um_positions(payloads: Mapping[str, object]) -> tuple[UmPosition, ...]:
    p = UM_POSITION_RISK
    out: list[UmPosition] = []
    for row in rows_of(payloads, p):
        symbol = _str(row, "symbol", p)
        base, margin = um_assets(symbol)
        out.append(
            UmPosition(
                symbol=symbol,
                position_side=str(row.get("positionSide", "BOTH")),
                position_amt_qty=_num(row, "positionAmt", p),
                entry_price=_num(row, "entryPrice", p),
                mark_price=_num(row, "markPrice", p),
                unrealized_pnl_qty=_num(row, "unRealizedProfit", p),
                base_asset=base,
                margin_asset=margin,
                leverage=_num(row, "leverage", p),
            )
        )
    return tuple(out)


def parse_cm_positions(payloads: Mapping[str, object]) -> tuple[CmPosition, ...]:
    """COIN-M rows; contract size in USD = |notionalValue (coin)| · mark / |contracts|."""
    p = CM_POSITION_RISK
    out: list[CmPosition] = []
    for row in rows_of(payloads, p):
        symbol = _str(row, "symbol", p)
        contracts = _num(row, "positionAmt", p)
        mark = _num(row, "markPrice", p)
        notional_coin = _num(row, "notionalValue", p)
        size = abs(notional_coin) * mark / abs(contracts) if contracts else 0.0
        out.append(
            CmPosition(
                symbol=symbol,
                position_side=str(row.get("positionSide", "BOTH")),
                position_amt_contracts=contracts,
                entry_price=_num(row, "entryPrice", p),
                mark_price=mark,
                unrealized_pnl_qty=_num(row, "unRealizedProfit", p),
                contract_size_usd=size,
                margin_asset=cm_symbol_coin(symbol),
                leverage=_num(row, "leverage", p),
            )
        )
    return tuple(out)


def parse_reported(payloads: Mapping[str, object]) -> ReportedAccount | None:
    p = ACCOUNT
    raw = payloads.get(p)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise PayloadError(p, ROOT_FIELD, "expected a JSON object")

    def amount(field: str) -> float:
        return _num(raw, field, p, empty_is_zero=True)

    return ReportedAccount(
        uni_mmr=_num(raw, "uniMMR", p),
        account_equity_usd=amount("accountEquity"),
        actual_equity_usd=amount("actualEquity"),
        account_maint_margin_usd=amount("accountMaintMargin"),
        account_initial_margin_usd=amount("accountInitialMargin"),
        account_status=_str(raw, "accountStatus", p),
        total_margin_open_loss_usd=amount("totalMarginOpenLoss"),
        update_time_ms=_int(raw, "updateTime", p),
    )


def _brackets(
    payloads: Mapping[str, object], path: str, floor_field: str, cap_field: str
) -> dict[str, tuple[Bracket, ...]]:
    out: dict[str, tuple[Bracket, ...]] = {}
    for row in rows_of(payloads, path):
        brackets = row.get("brackets")
        if not isinstance(brackets, Sequence) or not brackets:
            raise PayloadError(path, "brackets", "missing or empty")
        parsed = sorted(
            (
                Bracket(
                    floor=_num(b, floor_field, path),
                    cap=_num(b, cap_field, path),
                    maint_margin_ratio=_num(b, "maintMarginRatio", path),
                    cum=_num(b, "cum", path),
                    initial_leverage=_num(b, "initialLeverage", path),
                )
                for b in brackets
            ),
            key=lambda b: b.floor,
        )
        if parsed[0].floor != 0.0:
            raise PayloadError(path, floor_field, "lowest bracket does not start at 0")
        out[_str(row, "symbol", path)] = tuple(parsed)
    return out


def parse_collateral_tiers(payloads: Mapping[str, object]) -> dict[str, tuple[CollateralTier, ...]]:
    """Tiered rates from /sapi/v2 (preferred); the flat /sapi/v1 list as one tier per asset."""
    out: dict[str, tuple[CollateralTier, ...]] = {}
    if COLLATERAL_RATE_TIERED in payloads:
        p = COLLATERAL_RATE_TIERED
        for row in rows_of(payloads, p):
            info = row.get("collateralInfo")
            if not isinstance(info, Sequence) or not info:
                raise PayloadError(p, "collateralInfo", "missing or empty")
            tiers = sorted(
                (
                    CollateralTier(
                        floor_usd=_num(t, "tierFloor", p),
                        cap_usd=_num(t, "tierCap", p),
                        collateral_rate=_num(t, "collateralRate", p),
                        cum_usd=_num(t, "cum", p),
                    )
                    for t in info
                ),
                key=lambda t: t.floor_usd,
            )
            out[_str(row, "asset", p)] = tuple(tiers)
    elif COLLATERAL_RATE_FLAT in payloads:
        p = COLLATERAL_RATE_FLAT
        for row in rows_of(payloads, p):
            rate = _num(row, "collateralRate", p)
            out[_str(row, "asset", p)] = (CollateralTier(0.0, math.inf, rate, 0.0),)
    return out


def parse_index_prices(payloads: Mapping[str, object]) -> dict[str, float]:
    p = ASSET_INDEX_PRICE
    return {_str(r, "asset", p): _num(r, "assetIndexPrice", p) for r in rows_of(payloads, p)}


def parse_mark_prices(
    payloads: Mapping[str, object], um: tuple[UmPosition, ...], cm: tuple[CmPosition, ...]
) -> dict[str, float]:
    """Positions' own marks, overridden by the premium-index marks where both exist."""
    marks = {pos.symbol: pos.mark_price for pos in um}
    marks.update({pos.symbol: pos.mark_price for pos in cm})
    for path in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX):
        for row in rows_of(payloads, path):
            marks[_str(row, "symbol", path)] = _num(row, "markPrice", path)
    return marks


def snapshot_from_payloads(payloads: Mapping[str, object]) -> tuple[AccountSnapshot, MarketState]:
    """The design doc's stable interface: raw payloads by path → (snapshot, market)."""
    for path in REQUIRED_PATHS:
        if path not in payloads:
            raise PayloadError(path, ROOT_FIELD, "missing (required)")
    balances = parse_balances(payloads)
    um = parse_um_positions(payloads)
    cm = parse_cm_positions(payloads)
    reported = parse_reported(payloads)
    times = [r.update_time_ms for r in (reported,) if r is not None]
    times += [_int(row, "updateTime", BALANCE) for row in rows_of(payloads, BALANCE)]
    index_rows = rows_of(payloads, ASSET_INDEX_PRICE)
    snapshot = AccountSnapshot(
        balances=balances,
        um_positions=um,
        cm_positions=cm,
        reported=reported,
        open_margin_order_loss_usd=reported.total_margin_open_loss_usd if reported else 0.0,
        update_time_ms=max(times, default=0),
    )
    market = MarketState(
        index_price_usd=parse_index_prices(payloads),
        mark_price=parse_mark_prices(payloads, um, cm),
        um_brackets=_brackets(payloads, UM_LEVERAGE_BRACKET, "notionalFloor", "notionalCap"),
        cm_brackets=_brackets(payloads, CM_LEVERAGE_BRACKET, "qtyFloor", "qtyCap"),
        collateral_tiers=parse_collateral_tiers(payloads),
        time_ms=max((_int(r, "time", ASSET_INDEX_PRICE) for r in index_rows), default=0),
    )
    return snapshot, market


def parse_ticker_prices(payloads: Mapping[str, object]) -> dict[str, float]:
    """Spot last prices by symbol (``/api/v3/ticker/price``, all symbols or one)."""
    p = TICKER_PRICE
    return {_str(r, "symbol", p): _num(r, "price", p) for r in rows_of(payloads, p)}


def parse_futures_maint_margin(payloads: Mapping[str, object]) -> dict[str, float]:
    """Binance's own maintenance margin per futures position, by symbol (and side when not
    BOTH), from ``/papi/v1/um/account`` and ``/papi/v1/cm/account`` — in the margin asset's
    units; kept for reconciliation beside pmdesk's bracket computation."""
    out: dict[str, float] = {}
    for path in (UM_ACCOUNT, CM_ACCOUNT):
        raw = payloads.get(path)
        if raw is None:
            continue
        if not isinstance(raw, Mapping):
            raise PayloadError(path, ROOT_FIELD, "expected a JSON object")
        positions = raw.get("positions", [])
        if not isinstance(positions, list) or not all(isinstance(r, Mapping) for r in positions):
            raise PayloadError(path, "positions", "expected a JSON array of objects")
        for row in positions:
            symbol = _str(row, "symbol", path)
            side = str(row.get("positionSide", "BOTH"))
            key = symbol if side == "BOTH" else f"{symbol}:{side}"
            out[key] = _num(row, "maintMargin", path)
    return out


@dataclass(frozen=True)
class KeyPermissions:
    """What an API key may do (``GET /sapi/v1/account/apiRestrictions``)."""

    can_read: bool
    trading: tuple[str, ...]  # the enabled trading permissions, by Binance's field name
    can_withdraw: bool
    transfer: tuple[str, ...]  # the enabled transfer permissions
    ip_restricted: bool

    @property
    def read_only(self) -> bool:
        return self.can_read and not self.trading and not self.can_withdraw and not self.transfer


TRADING_FIELDS = ("enableSpotAndMarginTrading", "enableMargin", "enableFutures")
NEWER_TRADING_FIELDS = ("enablePortfolioMarginTrading", "enableVanillaOptions", "enableFixApiTrade")
TRANSFER_FIELDS = ("enableInternalTransfer", "permitsUniversalTransfer")


def parse_key_permissions(payloads: Mapping[str, object]) -> KeyPermissions:
    """A missing long-standing permission field counts as granted (pmdesk refuses what it
    cannot rule out); the newer ones (options, FIX, PM trading) count as absent when missing."""
    p = API_RESTRICTIONS
    raw = payloads.get(p)
    if not isinstance(raw, Mapping):
        raise PayloadError(p, ROOT_FIELD, "missing or not a JSON object")

    def flag(field: str, *, missing: bool) -> bool:
        value = raw.get(field, missing)
        if not isinstance(value, bool):
            raise PayloadError(p, field, f"expected true or false, got {value!r}")
        return value

    if "enableReading" not in raw or "ipRestrict" not in raw:
        missing = "enableReading" if "enableReading" not in raw else "ipRestrict"
        raise PayloadError(p, missing, "missing")
    return KeyPermissions(
        can_read=flag("enableReading", missing=False),
        trading=tuple(
            [f for f in TRADING_FIELDS if flag(f, missing=True)]
            + [f for f in NEWER_TRADING_FIELDS if flag(f, missing=False)]
        ),
        can_withdraw=flag("enableWithdrawals", missing=True),
        transfer=tuple(f for f in TRANSFER_FIELDS if flag(f, missing=True)),
        ip_restricted=flag("ipRestrict", missing=False),
    )
