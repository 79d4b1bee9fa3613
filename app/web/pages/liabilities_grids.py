"""Liabilities & P&L, the grids' columns (loans, negative balances, funding, positions)."""

from __future__ import annotations

from typing import Any

from app.web.components import num_col, text_col
from app.web.format import GRID_UNKNOWN_CELL
from app.web.pages.liabilities_since import UNAVAILABLE_KEY

# ---- the grids -------------------------------------------------------------------------------
UNAVAILABLE_CELL = (
    f"params.value == null && ((params.data && params.data.{UNAVAILABLE_KEY}) || [])"
    ".includes(params.colDef.field)"
)


def col(
    field: str, header: str, hint: str, spec: str = ",.2f", suffix: str = "", csv: str | None = None
) -> dict[str, Any]:
    """A figure column; a null the row lists as unavailable reads "unavailable" (its source was
    not read), as unknown "unknown", else "—"."""
    return num_col(
        field,
        header,
        hint,
        spec=spec,
        suffix=suffix,
        csv=csv,
        cellClassRules={
            "cell-unknown": GRID_UNKNOWN_CELL,
            "cell-unavailable": UNAVAILABLE_CELL,
            "liab-cell-neg": "params.value != null && params.value < 0",
        },
    )


RATE_HINT = (
    "Binance's daily interest rate on this loan: the interestRate of its newest hourly charge "
    "(/papi/v1/margin/marginInterestHistory). Unavailable when that history was not read."
)
LOAN_COLUMNS = [
    text_col("asset", "Asset", "The borrowed asset."),
    col("borrowed", "Borrowed", "Cross-margin loan, in the asset (crossMarginBorrowed).", ",.4f"),
    col(
        "interest",
        "Interest",
        "Interest accrued: charged and not yet repaid, in the asset (crossMarginInterest).",
        ",.4f",
    ),
    col("owed_usd", "Owed (USD)", "(Borrowed + interest accrued) × index price."),
    col("daily_pct", "Rate / day", RATE_HINT, ",.4f", " %"),
    col(
        "yearly_pct", "Rate / year", "The daily rate × 365 (simple, not compounded).", ",.2f", " %"
    ),
    col(
        "interest_24h_usd",
        "24 h charged",
        "Interest Binance charged in the last 24 hours, in USD at the index price.",
    ),
    col(
        "mmr_pct",
        "Loan MMR",
        "The loan maintenance margin rate pmdesk uses (calibrated against Binance's "
        "accountMaintMargin; see Binance vs pmdesk).",
        ",.2f",
        " %",
    ),
    col("mm_usd", "MM (USD)", "Loan maintenance margin: borrowed × loan MMR × index price."),
    text_col("rate_at", "Rate as of", "When Binance charged at that rate (month-day, UTC)."),
]
NEGATIVE_COLUMNS = [
    text_col("asset", "Asset", "An asset below zero."),
    col("um_wallet", "USD-M wallet", "umWalletBalance: below zero when losses exceed it.", ",.4f"),
    col("cm_wallet", "COIN-M wallet", "cmWalletBalance, in the coin.", ",.4f"),
    col("upnl", "Unrealized P&L", "Futures unrealized P&L settled in this asset.", "+,.4f"),
    col(
        "net_qty",
        "Net balance",
        "Held − loans − interest + futures wallets + unrealized P&L, in the asset: below zero, "
        "the account owes it.",
        "+,.4f",
    ),
    col("net_usd", "Net (USD)", "Net balance × index price (a debt counts in full).", "+,.2f"),
    col(
        "daily_pct",
        "Rate / day",
        "What Binance charges this debt a day: a negative futures wallet its PORTFOLIO interest "
        "(unavailable until it has charged one), a loan its loan rate; an unrealized loss "
        "nothing until realized (—).",
        ",.4f",
        " %",
    ),
    text_col("why", "Why", "What puts the asset below zero."),
]
FUNDING_COLUMNS = [
    text_col("venue", "Venue", "UM = USD-M futures, CM = COIN-M futures."),
    text_col("symbol", "Symbol", "The perpetual."),
    text_col("asset", "Paid in", "The asset funding settles in."),
    col("day_qty", "24 h (asset)", "Funding in the last 24 h: + received, − paid.", "+,.6f"),
    col("day_usd", "24 h (USD)", "The same at today's index price.", "+,.2f"),
    col("since_qty", "Chosen (asset)", "Funding since the time chosen above.", "+,.6f"),
    col("since_usd", "Chosen (USD)", "The same at today's index price.", "+,.2f"),
    col("payments", "Payments", "Funding payments in the 7 days pmdesk read.", "d"),
    text_col("open", "Position", "Whether the position is still open."),
]
POSITION_COLUMNS = [
    text_col("venue", "Venue", "UM = USD-M futures, CM = COIN-M futures."),
    text_col("symbol", "Symbol", "The contract."),
    text_col("side", "Side", "Long or short."),
    col("amount", "Size", "Base quantity (UM) or contracts (CM), signed.", "+,.4~f"),
    col("entry", "Entry", "Average entry price."),
    col("mark", "Mark", "Mark price now."),
    col("notional_usd", "Notional (USD)", "|size| × mark, in USD."),
    col(
        "upnl_usd",
        "uPnL (USD)",
        "Unrealized P&L in USD: as Binance reports it (unRealizedProfit), at the settlement "
        "asset's index price.",
        "+,.2f",
    ),
    col(
        "funding_day_usd",
        "Funding 24 h",
        "Funding on this perpetual in the last 24 h, USD (+ received, − paid).",
        "+,.2f",
    ),
    col(
        "funding_since_usd",
        "Funding since",
        "Funding on this perpetual since the chosen time, USD (+ received, − paid).",
        "+,.2f",
    ),
]
