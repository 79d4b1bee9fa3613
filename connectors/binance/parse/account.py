"""The account: balances (``/papi/v1/balance``) and what Binance reports of it
(``/papi/v1/account``, and its own MM per position from ``/papi/v1/um|cm/account``) (pure).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from connectors.binance.endpoints import (
    ACCOUNT,
    BALANCE,
    CM_ACCOUNT,
    CM_POSITION_RISK,
    UM_ACCOUNT,
    UM_POSITION_RISK,
)
from connectors.binance.parse.fields import (
    BOTH_SIDES,
    EQUITY_ONLY,
    MM_ONLY,
    ROOT_FIELD,
    SIDES,
    FieldError,
    Problems,
    name_of,
    nonneg,
    number,
    optional,
    time_ms,
    unique_rows,
)
from risk.model import (
    AssetBalance,
    ReportedAccount,
    ReportedPositionMargin,
)
from risk.symbols import cm_symbol_coin, um_symbol_assets

UNI_MMR_SENTINEL = 99_999_999.0
"""``/papi/v1/account`` reports this uniMMR when there is no maintenance margin (a real payload;
docs/binance-pm-notes.md): "no MM", read as ∞, never as a figure."""


_HOLDINGS = ("crossMarginAsset", "crossMarginBorrowed", "crossMarginInterest")
_WALLETS = ("umWalletBalance", "cmWalletBalance")
_PNL = {"umUnrealizedPNL": "UM", "cmUnrealizedPNL": "CM"}


def parse_balances(
    payloads: Mapping[str, object],
    problems: Problems,
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
        return name_of(row, "asset")

    out: list[AssetBalance] = []
    for row in unique_rows(rows, asset_of, p, "asset", problems, BOTH_SIDES):
        try:
            asset = asset_of(row)
        except FieldError as bad:
            problems.add(p, bad.field, bad.problem)
            continue
        try:
            held = {f: nonneg(row, f) for f in _HOLDINGS}
            wallets = {f: number(row, f) for f in _WALLETS}
            pnl = {}
            for field, venue in _PNL.items():
                raw = row.get(field)
                if (raw is None or raw == "") and asset not in open_in.get(venue, set()):
                    pnl[field] = 0.0  # nothing open there: no PnL to report
                else:
                    pnl[field] = number(row, field)
        except FieldError as bad:
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
    problems: Problems,
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
    payloads: Mapping[str, object], problems: Problems | None = None
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
    uni = optional(raw, "uniMMR")
    if uni is not None and uni >= UNI_MMR_SENTINEL:
        uni = math.inf
    loss: float | None = None
    if raw.get("totalMarginOpenLoss") not in (None, ""):
        try:
            loss = nonneg(raw, "totalMarginOpenLoss")
        except FieldError as bad:
            if problems is not None:
                problems.add(p, bad.field, bad.problem, affects=EQUITY_ONLY)
    status = raw.get("accountStatus")
    return ReportedAccount(
        uni_mmr=uni,
        account_equity_usd=optional(raw, "accountEquity"),
        actual_equity_usd=optional(raw, "actualEquity"),
        account_maint_margin_usd=_nonneg_or_none(raw, "accountMaintMargin"),
        account_initial_margin_usd=_nonneg_or_none(raw, "accountInitialMargin"),
        account_status=status if isinstance(status, str) and status else None,
        total_margin_open_loss_usd=loss,
        update_time_ms=time_ms(raw.get("updateTime")),
        virtual_max_withdraw_usd=_nonneg_or_none(raw, "virtualMaxWithdrawAmount"),
    )


def _nonneg_or_none(row: Mapping[str, Any], field: str) -> float | None:
    value = optional(row, field)
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
            mm = optional(row, "maintMargin")
            amount = optional(row, "positionAmt")
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
