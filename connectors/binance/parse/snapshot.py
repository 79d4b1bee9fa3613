"""The stable interface: every payload by path → (``AccountSnapshot``, ``MarketState``) (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.binance.endpoints import (
    ASSET_INDEX_PRICE,
    BALANCE,
    CM_INCOME,
    CM_LEVERAGE_BRACKET,
    COLLATERAL_RATE_FLAT,
    COLLATERAL_RATE_TIERED,
    UM_INCOME,
    UM_LEVERAGE_BRACKET,
)
from connectors.binance.parse.account import (
    futures_pnl_without_positions,
    parse_balances,
    parse_reported,
    parse_reported_position_margins,
)
from connectors.binance.parse.carry import parse_funding, parse_interest_history
from connectors.binance.parse.fields import (
    Problems,
    time_ms,
)
from connectors.binance.parse.market import (
    parse_brackets,
    parse_collateral_flat,
    parse_collateral_tiered,
    parse_index_prices,
    parse_margin_asset_leverage,
    parse_mark_prices,
)
from connectors.binance.parse.positions import parse_cm_positions, parse_um_positions
from risk.model import (
    AccountSnapshot,
    MarketState,
)


def snapshot_from_payloads(payloads: Mapping[str, object]) -> tuple[AccountSnapshot, MarketState]:
    """The design doc's stable interface: raw payloads by path → (snapshot, market).

    Never raises for a bad payload: what cannot be read is in ``snapshot.problems`` (the
    account's payloads) and ``market.problems`` (prices and parameters; the evaluation keeps
    those that touch the account)."""
    account = Problems()
    um = parse_um_positions(payloads, account)
    cm = parse_cm_positions(payloads, account)
    open_in = {"UM": {p.margin_asset for p in um}, "CM": {p.margin_asset for p in cm}}
    balances = parse_balances(payloads, account, open_in)
    futures_pnl_without_positions(balances, payloads, open_in, account)
    reported = parse_reported(payloads, account)
    times = [reported.update_time_ms] if reported is not None else []
    balance_rows = payloads.get(BALANCE)
    if isinstance(balance_rows, list):
        times += [time_ms(r.get("updateTime")) for r in balance_rows if isinstance(r, Mapping)]
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
    market_problems = Problems()
    index = parse_index_prices(payloads, market_problems)
    marks = parse_mark_prices(payloads, um, cm, market_problems)
    tiered = (
        parse_collateral_tiered(payloads, market_problems)
        if (COLLATERAL_RATE_TIERED in payloads)
        else {}
    )
    flat = (
        parse_collateral_flat(payloads, market_problems)
        if COLLATERAL_RATE_FLAT in payloads
        else None
    )
    index_rows = payloads.get(ASSET_INDEX_PRICE)
    market = MarketState(
        index_price_usd=index,
        mark_price=marks,
        um_brackets=parse_brackets(
            payloads, UM_LEVERAGE_BRACKET, "notionalFloor", "notionalCap", market_problems
        ),
        cm_brackets=parse_brackets(
            payloads, CM_LEVERAGE_BRACKET, "qtyFloor", "qtyCap", market_problems
        ),
        collateral_tiers=tiered,
        time_ms=max(
            (time_ms(r.get("time")) for r in index_rows if isinstance(r, Mapping)), default=0
        )
        if isinstance(index_rows, list)
        else 0,
        collateral_flat=flat,
        margin_asset_leverage=parse_margin_asset_leverage(payloads),
        problems=tuple(market_problems.items),
    )
    return snapshot, market
