"""Liabilities & P&L, the tiles: what the account owes and what that costs, then its P&L
(unrealized, funding, the change of adjusted equity), each in words with its tooltip."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dash import html

from app.web.format import (
    UNKNOWN_TEXT,
    fmt_signed_usd,
    fmt_usd,
)
from app.web.pages.liabilities_rows import funding_since_usd, times_or_none, total_of
from app.web.pages.liabilities_since import (
    DAY_MS,
    UNAVAILABLE_TEXT,
    EquityChange,
    signed_usd_words,
    usd_words,
)
from risk.model import RiskReport


# ---- the tiles -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    note: str
    hint: str
    tone: str = ""  # "neg", "pos", "unknown", "unavailable" or ""


def _tone(value: float | None, text: str) -> str:
    if text == UNAVAILABLE_TEXT:
        return "unavailable"
    if text == UNKNOWN_TEXT:
        return "unknown"
    if value is None or not math.isfinite(value):
        return ""
    return "neg" if value < 0 else "pos" if value > 0 else ""


def _tile(key: str, label: str, value: float | None, text: str, note: str, hint: str) -> Tile:
    return Tile(key, label, text, note, hint, _tone(value, text))


def _debt_tile(key: str, label: str, value: float | None, text: str, note: str, hint: str) -> Tile:
    """A figure the account owes or pays: amber when above zero, never a reassuring green."""
    tone = _tone(value, text)
    return Tile(key, label, text, note, hint, "debt" if tone == "pos" else tone)


def short_utc(ms: int, now_ms: int) -> str:
    """HH:MM UTC today, else the date too."""
    same_day = ms // DAY_MS == now_ms // DAY_MS
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(
        "%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC"
    )


def _baseline_note(change: EquityChange, now_ms: int) -> str:
    b = change.baseline
    if b is None:
        return "no stored history since then"
    head = "first" if b.after else "was"  # "first": the history starts after the time
    return f"{head} {fmt_usd(b.equity_usd)} at {short_utc(b.at_ms, now_ms)}"


OWES_TILES = ("net-buffer", "loans", "loan-mm", "interest-24h", "funding-24h")
"""The first row: what the account owes and what that costs; the rest is its P&L."""


def tiles(
    detail: RiskReport,
    today: EquityChange,
    since: EquityChange,
    start_ms: int | None,
    now_ms: int,
    equity_now_usd: float = math.nan,
) -> list[Tile]:
    liab = detail.liabilities
    net = detail.net_stablecoin_buffer_usd
    loans = [r for r in liab if r.borrowed_qty > 0 or r.interest_qty > 0]
    owed = total_of([r.loan_usd for r in loans])
    interest_usd = total_of([times_or_none(r.interest_qty, r.index_price_usd) for r in loans])
    loan_mm = total_of([r.loan_mm_usd for r in loans])
    charged = total_of([times_or_none(r.interest_24h_qty, r.index_price_usd) for r in loans])
    funding = detail.funding
    day = None if funding is None else funding.last_24h_usd
    day_missing = (
        UNAVAILABLE_TEXT
        if funding is None
        or not (funding.um_read and funding.cm_read)
        or any(not r.available for r in funding.rows)
        else UNKNOWN_TEXT
    )
    since_funding = funding_since_usd(detail, start_ms)
    upnl = total_of([p.unrealized_pnl_usd for p in detail.positions])
    n_pos = len(detail.positions)
    net_text = usd_words(net)
    owes = net is not None and math.isfinite(net) and net < 0
    out = [
        _tile(
            "net-buffer",
            "Net stablecoin buffer",
            net,
            net_text,
            "OWES stablecoin" if owes else "held less debts",
            "Stablecoins held minus stablecoin debts — loans, accrued interest, futures wallets "
            "below zero and unrealized losses settled in them — at their index prices. "
            "Negative: the account owes more stablecoin than it holds, and that debt counts in "
            "full against adjusted equity.",
        ),
        _debt_tile(
            "loans",
            "Loans + interest",
            owed,
            usd_words(owed) if loans else fmt_usd(0.0),
            f"interest accrued {usd_words(interest_usd)}" if loans else "no loans",
            "Cross-margin loans plus the interest accrued on them and not yet repaid "
            "(/papi/v1/balance crossMarginBorrowed + crossMarginInterest), at index prices.",
        ),
        _debt_tile(
            "loan-mm",
            "Loan maintenance margin",
            loan_mm,
            usd_words(loan_mm) if loans else fmt_usd(0.0),
            "borrowed × loan MMR",
            "Maintenance margin the loans cost: Σ borrowed × loan MMR × index price (uniMMR "
            "FAQ). The MMR per asset, and where it comes from, is in Loans below.",
        ),
        _debt_tile(
            "interest-24h",
            "Interest charged, 24 h",
            charged,
            usd_words(charged, UNAVAILABLE_TEXT) if loans else fmt_usd(0.0),
            "Binance's hourly charges" if loans else "no loans",
            "Interest Binance charged in the last 24 hours (its hourly PERIODIC and ON_BORROW "
            "charges, /papi/v1/margin/marginInterestHistory), at index prices. Unavailable "
            "when that history was not read or was refused.",
        ),
        _tile(
            "funding-24h",
            "Funding, last 24 h",
            day,
            signed_usd_words(day, day_missing),
            "+ received · − paid",
            "Funding paid (−) and received (+) on every perpetual in the last 24 hours "
            "(FUNDING_FEE rows of /papi/v1/um/income and /papi/v1/cm/income), at today's index "
            "prices. Unavailable when either venue's income was not read.",
        ),
        _tile(
            "equity-today",
            "Equity change today",
            today.change_usd,
            signed_usd_words(today.change_usd, UNAVAILABLE_TEXT),
            _baseline_note(today, now_ms),
            "Adjusted equity now minus adjusted equity at 00:00 UTC — the last stored value "
            "before it ('was'), or the first stored after it when the history starts later "
            "('first') — from the stored history. It moves with prices, funding, interest and "
            "the haircut: the P&L the account's margin sees.",
        ),
        _tile(
            "equity-since",
            "Equity change, chosen time",
            since.change_usd,
            signed_usd_words(since.change_usd, UNAVAILABLE_TEXT),
            _baseline_note(since, now_ms),
            "Adjusted equity now minus adjusted equity at the time chosen above, from the "
            "stored history (1-minute closes).",
        ),
        _tile(
            "funding-since",
            "Funding, chosen time",
            since_funding,
            signed_usd_words(since_funding, UNAVAILABLE_TEXT),
            "—" if start_ms is None else f"since {short_utc(start_ms, now_ms)}",
            "Funding paid (−) and received (+) since the time chosen above. pmdesk reads the "
            "last 7 days of funding: an earlier time is unavailable.",
        ),
        _tile(
            "upnl",
            "Unrealized P&L",
            upnl,
            signed_usd_words(upnl) if n_pos else fmt_signed_usd(0.0),
            f"{n_pos} position{'s' if n_pos != 1 else ''}" if n_pos else "no positions",
            "Σ each futures position's unrealized P&L as Binance reports it "
            "(unRealizedProfit), at its settlement asset's index price.",
        ),
        _tile(
            "equity-now",
            "Adjusted equity now",
            None,
            usd_words(equity_now_usd),
            "what the changes start from",
            "Σ equity × index price × collateral rate (debts in full) − open-order loss: the "
            "numerator of uniMMR, as pmdesk recomputes it for the newest report.",
        ),
    ]
    return out


def tile_groups(all_tiles: list[Tile]) -> list[Any]:
    """Two labelled rows: what the account owes and costs, then its P&L."""
    owes = [tile_div(t) for t in all_tiles if t.key in OWES_TILES]
    pnl = [tile_div(t) for t in all_tiles if t.key not in OWES_TILES]
    return [
        html.Div("Owes and costs", className="liab-group"),
        html.Div(owes, className="liab-tiles"),
        html.Div("P&L", className="liab-group"),
        html.Div(pnl, className="liab-tiles"),
    ]


def tile_div(t: Tile) -> html.Div:
    tone = f" liab-{t.tone}" if t.tone else ""
    return html.Div(
        [
            html.Div(t.label, className="tile-label"),
            html.Div(t.value, className=f"tile-value liab-value{tone}", id=f"liab-{t.key}"),
            html.Div(t.note, className="tile-note", id=f"liab-{t.key}-note"),
        ],
        className="tile liab-tile",
        title=t.hint,
    )
