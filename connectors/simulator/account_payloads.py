"""A simulated account's own figures as Binance's JSON: ``/papi/v1/account``,
``/papi/v1/balance`` and ``/sapi/v1/portfolio/margin-asset-leverage``.

The uniMMR reported here is the book's own scalar computation (``AccountBook.reported_figures``),
deliberately separate from pmdesk's ``risk/``, as Binance's would be.
"""

from __future__ import annotations

from connectors.simulator.book import NO_MAINT_MARGIN_UNI_MMR, AccountBook
from connectors.simulator.market import Quote
from connectors.simulator.wire import dec

WITHDRAW_MM_MULTIPLE = 1.2
"""Binance FAQ 446ce2c3357a449599c82436078b0e3b: "Maxwithdraw = max(account Equity −1.2*MM, 0)".
The exchange's side of the rule, written here from the FAQ (pmdesk's own is in
``risk/evaluate.py``)."""

PM_PRO_LEVELS = (1.5, 1.2, 1.05, 1.0)
"""Binance's published PM Pro uniMMR levels (margin call, reduce only, liquidation, loss), written
here from the FAQ (5e33af8e6ac04d57a1d0a3398e0a0752) as the exchange's side keeps them: the
simulator keeps its own copy, like its weights, so that a wrong level in ``risk/`` is not wrong on
both sides; tests/unit/connectors/simulator/test_simulator_truth.py holds the two equal."""


def account_status(uni_mmr: float) -> str:
    """``accountStatus`` at this uniMMR: the status names are the simulator's (Binance does not
    publish the mapping; see docs/binance-pm-notes.md), the levels Binance's PM Pro ladder."""
    margin_call, reduce_only, liquidation, loss = PM_PRO_LEVELS
    if uni_mmr > margin_call:
        return "NORMAL"
    if uni_mmr > reduce_only:
        return "MARGIN_CALL"
    if uni_mmr > liquidation:
        return "REDUCE_ONLY"
    if uni_mmr > loss:
        return "ACTIVE_LIQUIDATION"
    return "BANKRUPTED"


def account_json(book: AccountBook, q: Quote, now_ms: int) -> dict[str, object]:
    """``GET /papi/v1/account``."""
    f = book.reported_figures(q)
    available = max(f["account_equity"] - f["initial"], 0.0)
    withdrawable = max(f["account_equity"] - WITHDRAW_MM_MULTIPLE * f["maint"], 0.0)
    return {
        "uniMMR": dec(f["uni_mmr"]) if f["maint"] > 0 else NO_MAINT_MARGIN_UNI_MMR,
        "accountEquity": dec(f["account_equity"]),
        "actualEquity": dec(f["actual_equity"]),
        "accountInitialMargin": dec(f["initial"]),
        "accountMaintMargin": dec(f["maint"]),
        "accountStatus": account_status(f["uni_mmr"]),
        "virtualMaxWithdrawAmount": dec(withdrawable),
        "totalAvailableBalance": dec(available),
        "totalMarginOpenLoss": dec(0.0),
        "updateTime": now_ms,
    }


def balance_json(book: AccountBook, q: Quote, now_ms: int) -> list[dict[str, object]]:
    """``GET /papi/v1/balance``: one row per asset held."""
    upnl = book.um_upnl_by_asset(q)
    cm_upnl = book.cm_upnl_by_asset(q)
    rows: list[dict[str, object]] = []
    for asset, h in book.holdings.items():
        total = h.cross_margin_asset - h.cross_margin_borrowed + h.um_wallet + h.cm_wallet
        rows.append(
            {
                "asset": asset,
                "totalWalletBalance": dec(total),
                "crossMarginAsset": dec(h.cross_margin_asset),
                "crossMarginBorrowed": dec(h.cross_margin_borrowed),
                "crossMarginFree": dec(h.cross_margin_asset),
                "crossMarginInterest": dec(h.cross_margin_interest),
                "crossMarginLocked": dec(0.0),
                "umWalletBalance": dec(h.um_wallet),
                "umUnrealizedPNL": dec(upnl.get(asset, 0.0)),
                "cmWalletBalance": dec(h.cm_wallet),
                "cmUnrealizedPNL": dec(cm_upnl.get(asset, 0.0)),
                "updateTime": now_ms,
                "negativeBalance": dec(max(-total, 0.0)),
            }
        )
    return rows


def margin_asset_leverage_json(book: AccountBook) -> list[dict[str, object]] | None:
    """``/sapi/v1/portfolio/margin-asset-leverage``: one row per borrowed asset, or None when
    the account does not answer that endpoint (its truth has no margin-asset leverage)."""
    leverage = book.truth.margin_asset_leverage
    if leverage is None:
        return None
    return [{"asset": asset, "leverage": leverage} for asset in book.borrowed_assets()]
