"""Raw Binance JSON → ``risk.model`` dataclasses. Pure: no I/O, no clock.

Keys of ``payloads`` are Binance paths (design doc, "Stable interfaces"); values are the JSON
exactly as Binance returns it, decimals as strings.

Fail closed, tolerant where Binance is loose. A value the figures depend on that is missing,
empty, not a number, not finite, implausibly large, of the wrong sign, or in a duplicated row is
never guessed: its row is left out and an ``UnknownReason`` names the path, the row and the field,
so the evaluation shows the figures it feeds as UNKNOWN (``risk/evaluate.py``). Fields that only
feed what is displayed (``uniMMR``, ``accountStatus``, ``leverage``, ``entryPrice``, …) may be
empty, null or absent: that figure is unavailable (None / NaN), nothing else. Zero-quantity rows
are skipped whatever their symbol. Only a payload that is not JSON of the expected shape where a
caller insists on it (mark streams, key permissions) raises ``PayloadError``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from risk.model import (
    COLLATERAL_TABLE_PATH,
    EQUITY,
    FLAT,
    MAINT,
    TIERED,
    AccountSnapshot,
    AssetBalance,
    Bracket,
    CmPosition,
    CollateralTier,
    FundingPayment,
    InterestCharge,
    InterestHistory,
    MarketState,
    ReportedAccount,
    ReportedPositionMargin,
    UmPosition,
    UnknownReason,
)
from risk.symbols import cm_contract_size_usd, cm_symbol_coin, um_symbol_assets

ACCOUNT = "/papi/v1/account"
BALANCE = "/papi/v1/balance"
UM_POSITION_RISK = "/papi/v1/um/positionRisk"
CM_POSITION_RISK = "/papi/v1/cm/positionRisk"
UM_LEVERAGE_BRACKET = "/papi/v1/um/leverageBracket"
CM_LEVERAGE_BRACKET = "/papi/v1/cm/leverageBracket"
COLLATERAL_RATE_TIERED = COLLATERAL_TABLE_PATH[TIERED]
COLLATERAL_RATE_FLAT = COLLATERAL_TABLE_PATH[FLAT]
ASSET_INDEX_PRICE = "/sapi/v1/portfolio/asset-index-price"
UM_PREMIUM_INDEX = "/fapi/v1/premiumIndex"
CM_PREMIUM_INDEX = "/dapi/v1/premiumIndex"
TICKER_PRICE = "/api/v3/ticker/price"
UM_ACCOUNT = "/papi/v1/um/account"
CM_ACCOUNT = "/papi/v1/cm/account"
API_RESTRICTIONS = "/sapi/v1/account/apiRestrictions"
MARGIN_ASSET_LEVERAGE = "/sapi/v1/portfolio/margin-asset-leverage"
# Carry (binance/binance-connector-js, clients/derivatives-trading-portfolio-margin/src/rest-api/
# modules/account-api.ts): "Get Margin Borrow/Loan Interest History" → ``{rows, total}``;
# "Get UM Income History" / "Get CM Income History" → ``[{symbol, incomeType, income, asset,
# info, time, tranId, tradeId}]``.
MARGIN_INTEREST_HISTORY = "/papi/v1/margin/marginInterestHistory"
UM_INCOME = "/papi/v1/um/income"
CM_INCOME = "/papi/v1/cm/income"
FUNDING_FEE = "FUNDING_FEE"

ROOT_FIELD = "<root>"
"""The ``field`` of a problem about the whole payload rather than one field."""
MAX_MAGNITUDE = 1e15
"""Larger than any real quantity, price or USD figure: such a value is corrupt, not a number."""
UNI_MMR_SENTINEL = 99_999_999.0
"""``/papi/v1/account`` reports this uniMMR when there is no maintenance margin (a real payload;
docs/binance-pm-notes.md): "no MM", read as ∞, never as a figure."""
CONTRACT_SIZE_TOLERANCE = 0.01
SIDES = ("BOTH", "LONG", "SHORT")
BOTH_SIDES = frozenset({EQUITY, MAINT})
MM_ONLY = frozenset({MAINT})
EQUITY_ONLY = frozenset({EQUITY})


class PayloadError(ValueError):
    """A payload is missing or malformed; the message names the path and the field."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        super().__init__(f"{path}: field {field!r}: {problem}")
        self.path = path
        self.field = field
        self.problem = problem


class _FieldError(ValueError):
    """One field of one row cannot be used (internal: becomes an UnknownReason)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def rows_of(payloads: Mapping[str, object], path: str) -> list[Mapping[str, Any]]:
    """A list-of-objects payload (a single object is accepted as a one-row list); raises
    PayloadError on any other shape."""
    raw = payloads.get(path, [])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(r, Mapping) for r in raw):
        raise PayloadError(path, ROOT_FIELD, "expected a JSON array of objects")
    return raw


def _value(row: Mapping[str, Any], field: str) -> float:
    """A finite number of plausible size, or _FieldError saying what it is instead."""
    if field not in row:
        raise _FieldError(field, "missing")
    raw = row[field]
    if raw is None or raw == "":
        raise _FieldError(field, f"empty ({raw!r})")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _FieldError(field, f"expected a number, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise _FieldError(field, f"not a number: {raw!r}") from None
    if not math.isfinite(value):
        raise _FieldError(field, f"not a finite number: {raw!r}")
    if abs(value) > MAX_MAGNITUDE:
        raise _FieldError(field, f"implausibly large: {raw!r}")
    return value


def _nonneg(row: Mapping[str, Any], field: str) -> float:
    value = _value(row, field)
    if value < 0:
        raise _FieldError(field, f"negative: {row[field]!r}")
    return value


def _positive(row: Mapping[str, Any], field: str) -> float:
    value = _value(row, field)
    if value <= 0:
        raise _FieldError(field, f"not positive: {row[field]!r}")
    return value


def _optional(row: Mapping[str, Any], field: str) -> float | None:
    """A display-only number: None when Binance left it empty, null, out or unreadable."""
    try:
        return _value(row, field)
    except _FieldError:
        return None


def _key(row: Mapping[str, Any], field: str) -> str:
    raw = row.get(field)
    if not isinstance(raw, str) or not raw:
        raise _FieldError(field, f"missing or not a name: {raw!r}")
    return raw


def _time_ms(raw: object) -> int:
    """An epoch-ms time, as an integer or a string of digits (ccxt relays it as a string)."""
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return 0


class _Problems:
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
        except PayloadError as exc:
            self.add(path, ROOT_FIELD, exc.problem, affects=affects)
            return None


def _unique(
    rows: list[Mapping[str, Any]],
    key: Callable[[Mapping[str, Any]], str],
    path: str,
    field: str,
    problems: _Problems,
    affects: frozenset[str],
) -> list[Mapping[str, Any]]:
    """Rows whose key appears once; a duplicated key is a reason and none of its rows is used
    (which of two disagreeing rows is right cannot be told)."""
    keys: list[str | None] = []
    for row in rows:
        try:
            keys.append(key(row))
        except _FieldError:
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


# ---- positions -------------------------------------------------------------------------------
def _side(row: Mapping[str, Any], amount: float) -> str:
    """BOTH (one-way; also for null or empty), LONG or SHORT (hedge mode); a hedge-mode side
    whose amount has the other sign is a contradiction (Binance: SHORT amounts are negative)."""
    raw = row.get("positionSide")
    side = "BOTH" if raw is None or raw == "" else raw
    if side not in SIDES:
        raise _FieldError("positionSide", f"unknown side {raw!r}")
    if (side == "LONG" and amount < 0) or (side == "SHORT" and amount > 0):
        raise _FieldError("positionSide", f"{side} with amount {row.get('positionAmt')!r}")
    return str(side)


def _display(row: Mapping[str, Any], field: str) -> float:
    value = _optional(row, field)
    return math.nan if value is None else value


def _position_rows(
    payloads: Mapping[str, object], path: str, problems: _Problems
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
            symbol = _key(row, "symbol")
        except _FieldError as bad:
            problems.add(path, bad.field, bad.problem, affects=MM_ONLY)
            continue
        try:
            amount = _value(row, "positionAmt")
            if amount == 0.0:
                continue
            out.append((row, symbol, amount, _side(row, amount)))
        except _FieldError as bad:
            problems.add(path, bad.field, bad.problem, symbol, MM_ONLY)

    def key(r: tuple[Mapping[str, Any], str, float, str]) -> str:
        return f"{r[1]} {r[3]}"

    count = Counter(key(r) for r in out)
    for k in sorted(k for k, n in count.items() if n > 1):
        problems.add(path, "symbol", f"duplicated position ({count[k]} rows)", k, MM_ONLY)
    return [r for r in out if count[key(r)] == 1]


def parse_um_positions(
    payloads: Mapping[str, object], problems: _Problems
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
                entry_price=_display(row, "entryPrice"),
                mark_price=_display(row, "markPrice"),
                unrealized_pnl_qty=_display(row, "unRealizedProfit"),
                base_asset=assets[0],
                margin_asset=assets[1],
                leverage=_display(row, "leverage"),
            )
        )
    return tuple(out)


def parse_cm_positions(
    payloads: Mapping[str, object], problems: _Problems
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
        mark = _display(row, "markPrice")
        notional = _optional(row, "notionalValue")
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
                entry_price=_display(row, "entryPrice"),
                mark_price=mark,
                unrealized_pnl_qty=_display(row, "unRealizedProfit"),
                contract_size_usd=size,
                margin_asset=cm_symbol_coin(symbol),
                leverage=_display(row, "leverage"),
            )
        )
    return tuple(out)


# ---- balances --------------------------------------------------------------------------------
_HOLDINGS = ("crossMarginAsset", "crossMarginBorrowed", "crossMarginInterest")
_WALLETS = ("umWalletBalance", "cmWalletBalance")
_PNL = {"umUnrealizedPNL": "UM", "cmUnrealizedPNL": "CM"}


def parse_balances(
    payloads: Mapping[str, object],
    problems: _Problems,
    open_in: dict[str, set[str]] | None = None,
) -> tuple[AssetBalance, ...]:
    """Holdings, loans and interest must be numbers ≥ 0; wallets any number. An empty futures
    PnL (Binance sends ``"cmUnrealizedPNL": ""``) is 0 only when no open position of that venue
    settles in the asset (``open_in``: venue → assets); otherwise it is a reason."""
    p = BALANCE
    if p not in payloads:
        problems.add(p, ROOT_FIELD, "not read: holdings unknown")
        return ()
    rows = problems.rows(payloads, p)
    if rows is None:
        return ()
    open_in = open_in or {}

    def asset_of(row: Mapping[str, Any]) -> str:
        return _key(row, "asset")

    out: list[AssetBalance] = []
    for row in _unique(rows, asset_of, p, "asset", problems, BOTH_SIDES):
        try:
            asset = asset_of(row)
        except _FieldError as bad:
            problems.add(p, bad.field, bad.problem)
            continue
        try:
            held = {f: _nonneg(row, f) for f in _HOLDINGS}
            wallets = {f: _value(row, f) for f in _WALLETS}
            pnl = {}
            for field, venue in _PNL.items():
                raw = row.get(field)
                if (raw is None or raw == "") and asset not in open_in.get(venue, set()):
                    pnl[field] = 0.0  # nothing open there: no PnL to report
                else:
                    pnl[field] = _value(row, field)
        except _FieldError as bad:
            problems.add(p, bad.field, bad.problem, asset)
            continue
        out.append(
            AssetBalance(
                asset=asset,
                cross_margin_asset_qty=held["crossMarginAsset"],
                cross_margin_borrowed_qty=held["crossMarginBorrowed"],
                cross_margin_interest_qty=held["crossMarginInterest"],
                um_wallet_qty=wallets["umWalletBalance"],
                um_unrealized_pnl_qty=pnl["umUnrealizedPNL"],
                cm_wallet_qty=wallets["cmWalletBalance"],
                cm_unrealized_pnl_qty=pnl["cmUnrealizedPNL"],
            )
        )
    return tuple(out)


def futures_pnl_without_positions(
    balances: tuple[AssetBalance, ...],
    payloads: Mapping[str, object],
    open_in: dict[str, set[str]],
    problems: _Problems,
) -> None:
    """A balance that shows futures PnL in an asset no open position of that venue settles in:
    the positions exist, pmdesk just does not see them (the positions file was not read, or
    does not list them) — its MM cannot be known. Never read as "no positions"."""
    for b in balances:
        for pnl, path, venue, field in (
            (b.um_unrealized_pnl_qty, UM_POSITION_RISK, "UM", "umUnrealizedPNL"),
            (b.cm_unrealized_pnl_qty, CM_POSITION_RISK, "CM", "cmUnrealizedPNL"),
        ):
            if pnl == 0.0 or b.asset in open_in.get(venue, set()):
                continue
            if path not in payloads:
                problems.add(
                    BALANCE,
                    field,
                    f"{pnl:+,.8g} of unrealized PnL but {path} was not read",
                    b.asset,
                    MM_ONLY,
                )
                continue
            # The two payloads contradict each other: both are named.
            problems.add(
                BALANCE,
                field,
                f"{pnl:+,.8g} of unrealized PnL but {path} lists no position settling in it",
                b.asset,
                MM_ONLY,
            )
            problems.add(
                path,
                "positionAmt",
                f"no open position settling in {b.asset}, whose balance shows {field} {pnl:+,.8g}",
                b.asset,
                MM_ONLY,
            )


# ---- what Binance reports --------------------------------------------------------------------
def parse_reported(
    payloads: Mapping[str, object], problems: _Problems | None = None
) -> ReportedAccount | None:
    """``/papi/v1/account``: every figure optional (Binance sends ``""`` for some). The open
    loss feeds adjusted equity: a negative or unreadable one is a reason; an empty one is
    unavailable (counted as 0, said in the report's warnings)."""
    p = ACCOUNT
    raw = payloads.get(p)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        if problems is not None:
            problems.add(p, ROOT_FIELD, "expected a JSON object", affects=EQUITY_ONLY)
        return None
    uni = _optional(raw, "uniMMR")
    if uni is not None and uni >= UNI_MMR_SENTINEL:
        uni = math.inf
    loss: float | None = None
    if raw.get("totalMarginOpenLoss") not in (None, ""):
        try:
            loss = _nonneg(raw, "totalMarginOpenLoss")
        except _FieldError as bad:
            if problems is not None:
                problems.add(p, bad.field, bad.problem, affects=EQUITY_ONLY)
    status = raw.get("accountStatus")
    return ReportedAccount(
        uni_mmr=uni,
        account_equity_usd=_optional(raw, "accountEquity"),
        actual_equity_usd=_optional(raw, "actualEquity"),
        account_maint_margin_usd=_nonneg_or_none(raw, "accountMaintMargin"),
        account_initial_margin_usd=_nonneg_or_none(raw, "accountInitialMargin"),
        account_status=status if isinstance(status, str) and status else None,
        total_margin_open_loss_usd=loss,
        update_time_ms=_time_ms(raw.get("updateTime")),
        virtual_max_withdraw_usd=_nonneg_or_none(raw, "virtualMaxWithdrawAmount"),
    )


def _nonneg_or_none(row: Mapping[str, Any], field: str) -> float | None:
    value = _optional(row, field)
    return None if value is None or value < 0 else value


def parse_reported_position_margins(
    payloads: Mapping[str, object],
) -> tuple[ReportedPositionMargin, ...] | None:
    """Binance's own MM per position (``/papi/v1/um/account``, ``/papi/v1/cm/account``), in
    the margin asset; None unless both were read. Rows with no MM and no amount are skipped;
    an unreadable MM is NaN (that position's comparison is unavailable)."""
    if UM_ACCOUNT not in payloads or CM_ACCOUNT not in payloads:
        return None
    out: list[ReportedPositionMargin] = []
    for path, venue in ((UM_ACCOUNT, "UM"), (CM_ACCOUNT, "CM")):
        raw = payloads[path]
        positions = raw.get("positions", []) if isinstance(raw, Mapping) else None
        if not isinstance(positions, list):
            return None
        for row in positions:
            if not isinstance(row, Mapping) or not isinstance(row.get("symbol"), str):
                continue
            symbol = str(row["symbol"])
            mm = _optional(row, "maintMargin")
            amount = _optional(row, "positionAmt")
            if mm == 0.0 and amount in (0.0, None):
                continue
            if venue == "UM":
                assets = um_symbol_assets(symbol)
                if assets is None:
                    continue
                margin_asset = assets[1]
            else:
                margin_asset = cm_symbol_coin(symbol)
            side = row.get("positionSide")
            out.append(
                ReportedPositionMargin(
                    venue,
                    symbol,
                    side if side in SIDES else "BOTH",
                    math.nan if mm is None or mm < 0 else mm,
                    margin_asset,
                )
            )
    return tuple(out)


# ---- market parameters -----------------------------------------------------------------------
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
    """(floor, cap, rate, cum) rows: ascending, contiguous, from 0, continuous; or _FieldError
    naming the field(s) at fault."""
    floor_f, cap_f, rate_f, cum_f = fields
    if not isinstance(tiers, Sequence) or isinstance(tiers, str) or not tiers:
        raise _FieldError(ROOT_FIELD, "tiers missing or empty")
    rows = []
    for t in tiers:
        if not isinstance(t, Mapping):
            raise _FieldError(ROOT_FIELD, f"a tier is not an object: {t!r}")
        rate = _nonneg(t, rate_f)
        if rate > max_rate:
            raise _FieldError(rate_f, f"rate {t[rate_f]!r} above {max_rate:g}")
        rows.append((_nonneg(t, floor_f), _nonneg(t, cap_f), rate, _nonneg(t, cum_f)))
    rows.sort(key=lambda r: r[0])
    if rows[0][0] != 0.0:
        raise _FieldError(floor_f, "lowest tier does not start at 0")
    for k, (floor, cap, _rate, _cum) in enumerate(rows):
        if cap <= floor:
            raise _FieldError(cap_f, f"cap {cap:g} not above floor {floor:g}")
        if k + 1 < len(rows) and rows[k + 1][0] != cap:
            raise _FieldError(f"{cap_f}/{floor_f}", f"tiers not contiguous at {cap:g}")
    broken = _continuous(rows, sign, max(r[2] for r in rows))
    if broken is not None:
        raise _FieldError(
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
    problems: _Problems,
    read: Callable[[Mapping[str, Any]], T],
) -> dict[str, T]:
    """A payload of rows keyed by ``key_field`` (a symbol, an asset), each read by ``read``;
    an unreadable key, a duplicated one or an unreadable row is a reason naming it."""
    rows = problems.rows(payloads, path, affects)
    if rows is None:
        return {}

    def key_of(row: Mapping[str, Any]) -> str:
        return _key(row, key_field)

    out: dict[str, T] = {}
    for row in _unique(rows, key_of, path, key_field, problems, affects):
        try:
            key = key_of(row)
        except _FieldError as bad:
            problems.add(path, bad.field, bad.problem, affects=affects)
            continue
        try:
            out[key] = read(row)
        except _FieldError as bad:
            problems.add(path, bad.field, bad.problem, key, affects)
    return out


Fields4 = tuple[str, str, str, str]


def _tiers_of(
    row: Mapping[str, Any], list_field: str, fields: Fields4, sign: float
) -> list[tuple[float, float, float, float]]:
    """A row's tier list (``brackets``, ``collateralInfo``), the list itself named when bad."""
    try:
        return _tier_table(row.get(list_field), fields, sign, 1.0)
    except _FieldError as bad:
        if bad.field == ROOT_FIELD:
            raise _FieldError(list_field, bad.problem) from None
        raise


def _brackets(
    payloads: Mapping[str, object],
    path: str,
    floor_field: str,
    cap_field: str,
    problems: _Problems,
) -> dict[str, tuple[Bracket, ...]]:
    """Leverage brackets by symbol: MM = notional · maintMarginRatio − cum (continuous)."""
    fields: Fields4 = (floor_field, cap_field, "maintMarginRatio", "cum")

    def read(row: Mapping[str, Any]) -> tuple[Bracket, ...]:
        table = _tiers_of(row, "brackets", fields, -1.0)
        leverage = {
            _display(b, floor_field): _display(b, "initialLeverage")
            for b in row["brackets"]
            if isinstance(b, Mapping)
        }
        return tuple(
            Bracket(floor=f, cap=c, maint_margin_ratio=r, cum=cum, initial_leverage=leverage[f])
            for f, c, r, cum in table
        )

    return _keyed(payloads, path, "symbol", MM_ONLY, problems, read)


def _collateral_tiered(
    payloads: Mapping[str, object], problems: _Problems
) -> dict[str, tuple[CollateralTier, ...]]:
    """``/sapi/v2``: value in a tier counts value · collateralRate + cum (continuous)."""
    fields: Fields4 = ("tierFloor", "tierCap", "collateralRate", "cum")

    def read(row: Mapping[str, Any]) -> tuple[CollateralTier, ...]:
        table = _tiers_of(row, "collateralInfo", fields, 1.0)
        return tuple(CollateralTier(f, c, r, cum) for f, c, r, cum in table)

    return _keyed(payloads, COLLATERAL_RATE_TIERED, "asset", EQUITY_ONLY, problems, read)


def _collateral_flat(
    payloads: Mapping[str, object], problems: _Problems
) -> dict[str, tuple[CollateralTier, ...]]:
    """``/sapi/v1``: one rate per asset, as a single unbounded tier."""

    def read(row: Mapping[str, Any]) -> tuple[CollateralTier, ...]:
        rate = _nonneg(row, "collateralRate")
        if rate > 1.0:
            raise _FieldError("collateralRate", f"rate {row['collateralRate']!r} above 1")
        return (CollateralTier(0.0, math.inf, rate, 0.0),)

    return _keyed(payloads, COLLATERAL_RATE_FLAT, "asset", EQUITY_ONLY, problems, read)


def parse_index_prices(payloads: Mapping[str, object], problems: _Problems) -> dict[str, float]:
    p = ASSET_INDEX_PRICE
    if p not in payloads:
        problems.add(p, ROOT_FIELD, "not read: index prices unknown")
        return {}
    return _keyed(
        payloads, p, "asset", BOTH_SIDES, problems, lambda row: _positive(row, "assetIndexPrice")
    )


def parse_mark_prices(
    payloads: Mapping[str, object],
    um: tuple[UmPosition, ...],
    cm: tuple[CmPosition, ...],
    problems: _Problems,
) -> dict[str, float]:
    """Each position's mark: the premium index's where it lists the symbol (it is the fresher,
    and the one the streams update), else the position row's own. A zero, negative or
    unreadable mark is a reason, never a fallback: only valid marks are returned."""
    own = {pos.symbol: (pos.mark_price, UM_POSITION_RISK) for pos in um}
    own.update({pos.symbol: (pos.mark_price, CM_POSITION_RISK) for pos in cm})
    premium: dict[str, float | _FieldError] = {}
    for path in (UM_PREMIUM_INDEX, CM_PREMIUM_INDEX):
        rows = problems.rows(payloads, path, MM_ONLY) if path in payloads else []
        for row in rows or []:
            try:
                symbol = _key(row, "symbol")
            except _FieldError as bad:
                problems.add(path, bad.field, bad.problem, affects=MM_ONLY)
                continue
            try:
                if symbol in premium:
                    raise _FieldError("symbol", "duplicated row")
                premium[symbol] = _positive(row, "markPrice")
            except _FieldError as bad:
                premium[symbol] = bad
                if symbol in own:
                    problems.add(path, bad.field, bad.problem, symbol, MM_ONLY)
    marks: dict[str, float] = {}
    for symbol, (mark, path) in own.items():
        chosen = premium.get(symbol, mark)
        if isinstance(chosen, _FieldError):
            continue
        if not (math.isfinite(chosen) and chosen > 0):
            said = "missing or unreadable" if math.isnan(chosen) else f"{chosen:g}, not a price"
            problems.add(path, "markPrice", f"mark {said}", symbol, MM_ONLY)
            continue
        marks[symbol] = chosen
    for symbol, value in premium.items():  # other symbols (index drivers, what-if)
        if symbol not in own and not isinstance(value, _FieldError):
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
            lev = _optional(row, "leverage")
            if lev is not None and lev >= 1:
                out[str(row["asset"])] = lev
    return out


# ---- carry: interest charged and funding paid ----------------------------------------------
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
                raise _FieldError(ROOT_FIELD, "not an object")
            asset = _key(row, "asset")
            when = _time_ms(row.get("interestAccuredTime", row.get("interestAccruedTime")))
            if when <= 0:
                raise _FieldError("interestAccuredTime", "missing")
            interest = _value(row, "interest")
        except _FieldError:
            complete = False
            continue
        rate = _optional(row, "interestRate")
        raw_asset = row.get("rawAsset")
        kind = row.get("type")
        charges.append(
            InterestCharge(
                asset=asset,
                time_ms=when,
                interest_qty=interest,
                daily_rate=rate if rate is not None and rate >= 0 else None,
                principal_qty=_optional(row, "principal"),
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
            symbol = _key(row, "symbol")
            asset = _key(row, "asset")
            income = _value(row, "income")
        except _FieldError:
            return None
        when = _time_ms(row.get("time"))
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


def snapshot_from_payloads(payloads: Mapping[str, object]) -> tuple[AccountSnapshot, MarketState]:
    """The design doc's stable interface: raw payloads by path → (snapshot, market).

    Never raises for a bad payload: what cannot be read is in ``snapshot.problems`` (the
    account's payloads) and ``market.problems`` (prices and parameters; the evaluation keeps
    those that touch the account)."""
    account = _Problems()
    um = parse_um_positions(payloads, account)
    cm = parse_cm_positions(payloads, account)
    open_in = {"UM": {p.margin_asset for p in um}, "CM": {p.margin_asset for p in cm}}
    balances = parse_balances(payloads, account, open_in)
    futures_pnl_without_positions(balances, payloads, open_in, account)
    reported = parse_reported(payloads, account)
    times = [reported.update_time_ms] if reported is not None else []
    balance_rows = payloads.get(BALANCE)
    if isinstance(balance_rows, list):
        times += [_time_ms(r.get("updateTime")) for r in balance_rows if isinstance(r, Mapping)]
    open_loss = reported.total_margin_open_loss_usd if reported is not None else None
    snapshot = AccountSnapshot(
        balances=balances,
        um_positions=um,
        cm_positions=cm,
        reported=reported,
        open_margin_order_loss_usd=open_loss or 0.0,
        update_time_ms=max(times, default=0),
        reported_position_margins=parse_reported_position_margins(payloads),
        problems=tuple(account.items),
        interest_history=parse_interest_history(payloads),
        um_funding=parse_funding(payloads, UM_INCOME),
        cm_funding=parse_funding(payloads, CM_INCOME),
    )
    market_problems = _Problems()
    index = parse_index_prices(payloads, market_problems)
    marks = parse_mark_prices(payloads, um, cm, market_problems)
    tiered = (
        _collateral_tiered(payloads, market_problems)
        if (COLLATERAL_RATE_TIERED in payloads)
        else {}
    )
    flat = _collateral_flat(payloads, market_problems) if COLLATERAL_RATE_FLAT in payloads else None
    index_rows = payloads.get(ASSET_INDEX_PRICE)
    market = MarketState(
        index_price_usd=index,
        mark_price=marks,
        um_brackets=_brackets(
            payloads, UM_LEVERAGE_BRACKET, "notionalFloor", "notionalCap", market_problems
        ),
        cm_brackets=_brackets(payloads, CM_LEVERAGE_BRACKET, "qtyFloor", "qtyCap", market_problems),
        collateral_tiers=tiered,
        time_ms=max(
            (_time_ms(r.get("time")) for r in index_rows if isinstance(r, Mapping)), default=0
        )
        if isinstance(index_rows, list)
        else 0,
        collateral_flat=flat,
        margin_asset_leverage=parse_margin_asset_leverage(payloads),
        problems=tuple(market_problems.items),
    )
    return snapshot, market


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
            if isinstance(row, Mapping) and _optional(row, "positionAmt") not in (None, 0.0):
                symbol = row.get("symbol")
                if isinstance(symbol, str) and symbol not in names:
                    out.add(symbol)
    return frozenset(out)


def parse_ticker_prices(payloads: Mapping[str, object]) -> dict[str, float]:
    """Spot last prices by symbol (``/api/v3/ticker/price``, all symbols or one); unreadable
    rows are left out (display only)."""
    out: dict[str, float] = {}
    for r in rows_of(payloads, TICKER_PRICE):
        price = _optional(r, "price")
        if isinstance(r.get("symbol"), str) and price is not None:
            out[str(r["symbol"])] = price
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
