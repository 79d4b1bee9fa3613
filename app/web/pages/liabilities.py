"""Liabilities & P&L: what the account owes, what that costs, and what it made or lost.

From the newest report (``risk/liabilities.py`` computed it): every loan per asset (amount,
interest accrued, Binance's daily rate, USD, the loan MMR and its maintenance margin), every
negative balance (a futures wallet below zero, or an asset the account owes net, e.g. a USDⓈ-M
loss larger than its stablecoins), funding paid and received per perpetual (last 24 h and since
a chosen time), the net stablecoin buffer (negative when the account owes stablecoin), each
position's unrealized P&L; and from the stored history, the change of adjusted equity today and
since the chosen time.

Fail closed, in words: a figure pmdesk could not compute (an unknown price) reads "unknown"; one
whose source was not read or was refused (interest history, funding income) reads
"unavailable" — never 0, never a number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, dcc, html

from app.store.rollup import MINUTE_S
from app.store.store import Store, StoredReport
from app.web.components import grid, num_col, panel, text_col, view
from app.web.context import WebContext
from app.web.format import (
    GRID_UNKNOWN_CELL,
    UNKNOWN_KEY,
    UNKNOWN_TEXT,
    fmt_signed_usd,
    fmt_usd,
)
from app.web.pages.positions import position_base
from risk.liabilities import sum_since

VIEW = "liabilities"
UNAVAILABLE_TEXT = "unavailable"
UNAVAILABLE_KEY = "unavailable"  # a grid row's list of fields whose source was not read
MINUTE_MS = MINUTE_S * 1000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TODAY, CUSTOM = "today", "custom"
SINCE_CHOICES: dict[str, str] = {
    TODAY: "Today (since 00:00 UTC)",
    "1h": "The last hour",
    "8h": "The last 8 h (one funding period)",
    "24h": "The last 24 h",
    "7d": "The last 7 days",
    CUSTOM: "Since a time (UTC)…",
}
SINCE_SPAN_MS = {"1h": HOUR_MS, "8h": 8 * HOUR_MS, "24h": DAY_MS, "7d": 7 * DAY_MS}


# ---- words and numbers ---------------------------------------------------------------------
def utc_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def short_utc_date(ms: int) -> str:
    """Month-day and time, UTC (a grid cell's width)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%m-%d %H:%M UTC")


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def signed_usd_words(value: float | None, missing: str = UNKNOWN_TEXT) -> str:
    """A change in USD, always signed; ``missing`` for None (``unavailable`` or ``unknown``)
    and "unknown" for NaN."""
    if value is None:
        return missing
    return fmt_signed_usd(value)


def usd_words(value: float | None, missing: str = UNKNOWN_TEXT) -> str:
    return missing if value is None else fmt_usd(value)


def rate_words(daily: float | None) -> str:
    """Binance's daily rate as % a day and, simply × 365, % a year."""
    if daily is None:
        return UNAVAILABLE_TEXT
    return f"{100 * daily:,.4f} % a day ({100 * 365 * daily:,.2f} % a year)"


def parse_since(text: str | None, now_ms: int) -> int | None:
    """A UTC time typed by the desk: ``YYYY-MM-DD HH:MM`` (or with ``T``), ``YYYY-MM-DD``
    (midnight), or ``HH:MM`` (today; yesterday when that is still ahead). None: unreadable."""
    raw = (text or "").strip()
    if not raw:
        return None
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    try:
        if m:
            at = now.replace(hour=int(m[1]), minute=int(m[2]), second=0, microsecond=0)
            ms = int(at.timestamp() * 1000)
            return ms - DAY_MS if ms > now_ms else ms
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
            try:
                at = datetime.strptime(raw, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
            return int(at.timestamp() * 1000)
    except ValueError:
        return None
    return None


def since_ms(choice: str | None, custom: str | None, now_ms: int) -> tuple[int | None, str]:
    """(the chosen start, its words); None when a custom time cannot be read (the words say
    how to write it)."""
    midnight = now_ms - now_ms % DAY_MS
    if choice in SINCE_SPAN_MS:
        back = now_ms - SINCE_SPAN_MS[choice]
        back -= back % MINUTE_MS
        return back, f"since {utc_text(back)}"
    if choice == CUSTOM:
        start = parse_since(custom, now_ms)
        if start is None:
            shown = (custom or "").strip()
            said = f"“{shown}” is not a time: " if shown else ""
            return None, f"{said}write it as 2026-01-01 08:00 (UTC), or 08:00 for today"
        if start > now_ms:
            return None, f"{utc_text(start)} is still ahead"
        return start, f"since {utc_text(start)}"
    return midnight, f"since {utc_text(midnight)} (today)"


# ---- equity change from the stored history --------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    """Adjusted equity at (or just before) a chosen time, from the 1-minute history buckets.
    ``after``: the history starts after the chosen time; this is its first minute instead."""

    at_ms: int
    equity_usd: float
    after: bool


EXACT_START_WITHIN_MS = 2 * HOUR_MS
"""When the history starts after the chosen time and that start is this recent, its very first
report is read (at most a couple of hours of rows); older, the close of its first minute."""


def equity_baseline(
    store: Store, account: str, start_ms: int, now_ms: int
) -> tuple[Baseline | None, int]:
    """Adjusted equity at the chosen time: the close of the minute before it (the last stored
    value before it). When the history starts after it: the first stored report (the close of
    its first minute when that is more than ``EXACT_START_WITHIN_MS`` ago). None without
    history since. Also returns when the answer stops changing (the end of its minute)."""
    minute = start_ms - start_ms % MINUTE_MS
    buckets = store.history_buckets(account, MINUTE_S, minute - MINUTE_MS)
    if not buckets:
        return None, 0
    first = buckets[0]
    settled = first.start_ms + MINUTE_MS
    if first.start_ms < minute:
        return Baseline(first.last_at_ms, first.equity_last_usd, after=False), settled
    if now_ms - first.start_ms <= EXACT_START_WITHIN_MS:
        for sample in store.history_samples(account, first.start_ms):
            if math.isfinite(sample.equity_usd):
                return Baseline(sample.at_ms, sample.equity_usd, after=True), settled
    return Baseline(first.last_at_ms, first.equity_last_usd, after=True), settled


@dataclass(frozen=True)
class EquityChange:
    change_usd: float | None  # None: no history since then; NaN: equity unknown now
    baseline: Baseline | None


def equity_change(now_equity_usd: float, baseline: Baseline | None) -> EquityChange:
    if baseline is None:
        return EquityChange(None, None)
    if not (math.isfinite(now_equity_usd) and math.isfinite(baseline.equity_usd)):
        return EquityChange(math.nan, baseline)
    return EquityChange(now_equity_usd - baseline.equity_usd, baseline)


# ---- rows from the report detail ------------------------------------------------------------
def _marked(row: dict[str, Any], unknown: list[str], unavailable: list[str]) -> dict[str, Any]:
    row[UNKNOWN_KEY] = [f for f in unknown if row.get(f) is None]
    row[UNAVAILABLE_KEY] = [f for f in unavailable if row.get(f) is None]
    return row


def _times(x: float | None, k: float | None) -> float | None:
    return None if x is None or k is None else x * k


def loan_rows(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per asset with a loan or accrued interest."""
    rows = []
    for r in detail.get("liabilities") or []:
        if not (r["borrowed_qty"] > 0 or r["interest_qty"] > 0):
            continue
        daily = r["loan_daily_rate"]
        price = r["index_price_usd"]
        row = {
            "key": r["asset"],
            "asset": r["asset"],
            "borrowed": r["borrowed_qty"],
            "interest": r["interest_qty"],
            "owed_usd": r["loan_usd"],
            "daily_pct": None if daily is None else 100 * daily,
            "yearly_pct": None if daily is None else 100 * 365 * daily,
            "interest_24h": r["interest_24h_qty"],
            "interest_24h_usd": _times(r["interest_24h_qty"], price),
            "mmr_pct": None if r["loan_mmr"] is None else 100 * r["loan_mmr"],
            "mm_usd": r["loan_mm_usd"],
            "rate_at": "" if r["rate_time_ms"] is None else short_utc_date(r["rate_time_ms"]),
        }
        unavailable = ["daily_pct", "yearly_pct", "interest_24h"]
        if r["interest_24h_qty"] is None:
            unavailable.append("interest_24h_usd")
        rows.append(_marked(row, ["owed_usd", "mm_usd", "interest_24h_usd"], unavailable))
    return rows


def negative_rows(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per asset below zero: a negative futures wallet, or owed net."""
    rows = []
    for r in detail.get("liabilities") or []:
        neg_wallets = min(r["um_wallet_qty"], 0.0) + min(r["cm_wallet_qty"], 0.0)
        if not (neg_wallets < 0 or r["equity_qty"] < 0):
            continue
        causes = []
        if r["borrowed_qty"] > 0 or r["interest_qty"] > 0:
            causes.append("loan")
        if r["um_wallet_qty"] < 0:
            causes.append("USD-M wallet below 0")
        if r["cm_wallet_qty"] < 0:
            causes.append("COIN-M wallet below 0")
        if r["unrealized_pnl_qty"] < 0 and r["equity_qty"] < 0:
            causes.append("unrealized loss")
        # The rate Binance charges that debt: a negative wallet's daily PORTFOLIO interest, a
        # loan's own rate; an unrealized loss is charged nothing until it is realized ("—").
        unavailable = ["daily_pct"]
        if neg_wallets < 0:
            daily = r["negative_balance_daily_rate"]
        elif r["borrowed_qty"] > 0 or r["interest_qty"] > 0:
            daily = r["loan_daily_rate"]
        else:
            daily, unavailable = None, []
        row = {
            "key": r["asset"],
            "asset": r["asset"],
            "um_wallet": r["um_wallet_qty"],
            "cm_wallet": r["cm_wallet_qty"],
            "upnl": r["unrealized_pnl_qty"],
            "net_qty": r["equity_qty"],
            "net_usd": r["equity_usd"],
            "wallets_usd": r["negative_wallets_usd"],
            "daily_pct": None if daily is None else 100 * daily,
            "why": ", ".join(causes) or "—",
        }
        rows.append(_marked(row, ["net_usd", "wallets_usd"], unavailable))
    return rows


def funding_rows(detail: dict[str, Any], start_ms: int | None) -> list[dict[str, Any]]:
    """Funding per perpetual: the last 24 h and since the chosen time, + received / − paid.
    Since a time before the window pmdesk read (``window_start_ms``) is unavailable."""
    funding = detail.get("funding")
    if funding is None:
        return []
    covered = start_ms is not None and start_ms >= funding["window_start_ms"]
    rows = []
    for r in funding["rows"]:
        price = r["index_price_usd"]
        since_qty = None
        if r["available"] and covered and start_ms is not None:
            since_qty = sum_since(r["times_ms"], r["income_qty"], start_ms)
        row = {
            "key": f"{r['venue']}:{r['symbol']}",
            "venue": r["venue"],
            "symbol": r["symbol"],
            "asset": r["asset"],
            "day_qty": r["last_24h_qty"],
            "day_usd": r["last_24h_usd"],
            "since_qty": since_qty,
            "since_usd": _times(since_qty, price),
            "payments": len(r["times_ms"]) if r["available"] else None,
            "open": "open" if r["open_position"] else "closed",
        }
        unavailable: list[str] = []
        unknown: list[str] = []
        if not r["available"]:
            unavailable += ["day_qty", "day_usd", "payments", "since_qty", "since_usd"]
        else:
            unknown.append("day_usd")  # null at a known quantity: the price is unknown
            if since_qty is None:
                unavailable += ["since_qty", "since_usd"]
            else:
                unknown.append("since_usd")
        rows.append(_marked(row, unknown, unavailable))
    return rows


def funding_since_usd(detail: dict[str, Any], start_ms: int | None) -> float | None:
    """Every perpetual's funding since the chosen time, USD; None when unavailable (a venue not
    read, or a time before the window read); NaN when a price is unknown."""
    funding = detail.get("funding")
    if funding is None or start_ms is None or start_ms < funding["window_start_ms"]:
        return None
    if not (funding["um_read"] and funding["cm_read"]):
        return None
    total = 0.0
    for r in funding["rows"]:
        if not r["available"]:
            return None
        qty = sum_since(r["times_ms"], r["income_qty"], start_ms)
        price = r["index_price_usd"]
        total += 0.0 if qty == 0.0 else (math.nan if price is None else qty * price)
    return total


def position_rows(detail: dict[str, Any], start_ms: int | None) -> list[dict[str, Any]]:
    """Each position's unrealized P&L, with its funding (24 h and since the chosen time)."""
    funding = {(r["venue"], r["symbol"]): r for r in funding_rows(detail, start_ms)}
    rows = []
    for p in detail.get("positions") or []:
        f = funding.get((p["venue"], p["symbol"]))
        row = position_base(p) | {
            "funding_day_usd": None if f is None else f["day_usd"],
            "funding_since_usd": None if f is None else f["since_usd"],
        }
        funding_missing = f is None or "day_usd" in f[UNAVAILABLE_KEY]
        unavailable = ["funding_since_usd"] + (["funding_day_usd"] if funding_missing else [])
        known = ["entry", "mark", "notional_usd", "upnl_usd"]
        if not funding_missing:
            known.append("funding_day_usd")
        rows.append(_marked(row, known, unavailable))
    return rows


def _sum(values: list[float | None]) -> float | None:
    """None when any is None (unavailable); NaN when any is unknown."""
    if any(v is None for v in values):
        return None
    return math.fsum(v for v in values if v is not None)


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
    detail: dict[str, Any],
    today: EquityChange,
    since: EquityChange,
    start_ms: int | None,
    now_ms: int,
    equity_now_usd: float = math.nan,
) -> list[Tile]:
    liab = detail.get("liabilities") or []
    net = detail.get("net_stablecoin_buffer_usd")
    loans = [r for r in liab if r["borrowed_qty"] > 0 or r["interest_qty"] > 0]
    owed = _sum([r["loan_usd"] for r in loans])
    interest_usd = _sum([_times(r["interest_qty"], r["index_price_usd"]) for r in loans])
    loan_mm = _sum([r["loan_mm_usd"] for r in loans])
    charged = _sum([_times(r["interest_24h_qty"], r["index_price_usd"]) for r in loans])
    funding = detail.get("funding") or {}
    day = funding.get("last_24h_usd")
    day_missing = (
        UNAVAILABLE_TEXT
        if not (funding.get("um_read") and funding.get("cm_read"))
        or any(not r["available"] for r in funding.get("rows", []))
        else UNKNOWN_TEXT
    )
    since_funding = funding_since_usd(detail, start_ms)
    upnl = _sum([p["unrealized_pnl_usd"] for p in detail.get("positions") or []])
    n_pos = len(detail.get("positions") or [])
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


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "Liabilities & P&L",
            "What the account owes (loans, interest, negative balances), what it costs "
            "(interest, loan maintenance margin, funding), and what it made or lost (equity "
            "change, unrealized P&L). Hover a figure for how it is computed.",
            html.Div(
                [
                    html.Label("Since", htmlFor="liab-since", className="liab-since-label"),
                    dcc.Dropdown(
                        id="liab-since",
                        options=[{"label": v, "value": k} for k, v in SINCE_CHOICES.items()],
                        value=TODAY,
                        clearable=False,
                        searchable=False,
                        persistence=True,
                        className="liab-since-picker",
                    ),
                    dcc.Input(
                        id="liab-since-custom",
                        type="text",
                        placeholder="2026-01-01 08:00",
                        debounce=True,
                        persistence=True,
                        className="liab-since-custom",
                        style={"display": "none"},
                    ),
                    html.Span("", id="liab-since-note", className="liab-since-note"),
                ],
                className="liab-controls",
                title="The time the 'chosen time' figures count from (UTC).",
            ),
            html.Div([], id="liab-tiles", className="liab-tile-groups"),
            html.Div("", id="liab-asof", className="muted liab-asof"),
        ),
        panel(
            "Loans",
            "Every cross-margin loan: amount, interest accrued, Binance's rate, value, and the "
            "maintenance margin it costs.",
            grid("liab-loans-grid", LOAN_COLUMNS, "pmdesk-loans", no_rows="No loans"),
        ),
        panel(
            "Negative balances",
            "Assets below zero: a futures wallet under 0, or an asset the account owes net "
            "(a loss larger than what it holds of that asset). Each counts in full against "
            "adjusted equity.",
            grid(
                "liab-negative-grid",
                NEGATIVE_COLUMNS,
                "pmdesk-negative-balances",
                no_rows="No negative balances",
            ),
        ),
        panel(
            "Funding",
            "Funding paid and received per perpetual (+ received, − paid), read every 5 minutes "
            "and just after each funding time.",
            grid(
                "liab-funding-grid",
                FUNDING_COLUMNS,
                "pmdesk-funding",
                no_rows="No funding in the last 7 days",
            ),
            html.Div("", id="liab-funding-note", className="muted liab-asof"),
        ),
        panel(
            "P&L per position",
            "Each futures position's unrealized P&L with the funding it paid or received.",
            grid("liab-positions-grid", POSITION_COLUMNS, "pmdesk-pnl", no_rows="No positions"),
        ),
    )


EMPTY: tuple[Any, ...] = ([], "", "— no data yet", [], [], [], "", [])


def render(
    report: StoredReport,
    detail: dict[str, Any],
    today: EquityChange,
    since: EquityChange,
    start_ms: int | None,
    since_words: str,
    now_ms: int,
) -> tuple[Any, ...]:
    funding = detail.get("funding")
    if funding is None:
        funding_note = "Funding: not in this report."
    else:
        unread = [v for v, k in (("USD-M", "um_read"), ("COIN-M", "cm_read")) if not funding[k]]
        funding_note = (
            f"Funding read for {utc_text(funding['window_start_ms'])} – "
            f"{utc_text(funding['as_of_ms'])}"
            if funding["as_of_ms"]
            else "Funding: the report's time is unknown"
        )
        if unread:
            funding_note += f"; {' and '.join(unread)} income unavailable (not read or refused)"
    return (
        tile_groups(tiles(detail, today, since, start_ms, now_ms, report.adjusted_equity_usd)),
        since_words,
        f"As of {utc_text(report.data_time_ms)} · quantities in each asset's units, USD at "
        "index prices",
        loan_rows(detail),
        negative_rows(detail),
        funding_rows(detail, start_ms),
        funding_note,
        position_rows(detail, start_ms),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    cache: dict[tuple[str, int], Baseline | None] = {}

    def baseline(account: str, start: int, now: int) -> Baseline | None:
        """History does not change once its minute is over: each (account, time) is read
        from the store until then, and remembered after."""
        key = (account, start)
        if key in cache:
            return cache[key]
        found, settled_ms = equity_baseline(ctx.store, account, start, now)
        if found is not None and now >= settled_ms:
            if len(cache) > 256:
                cache.clear()
            cache[key] = found
        return found

    @app.callback(
        Output("liab-since-custom", "style"),
        Input("liab-since", "value"),
    )
    def show_custom(choice: str | None) -> dict[str, str]:
        return {} if choice == CUSTOM else {"display": "none"}

    @app.callback(
        Output("liab-tiles", "children"),
        Output("liab-since-note", "children"),
        Output("liab-asof", "children"),
        Output("liab-loans-grid", "rowData"),
        Output("liab-negative-grid", "rowData"),
        Output("liab-funding-grid", "rowData"),
        Output("liab-funding-note", "children"),
        Output("liab-positions-grid", "rowData"),
        Input("report-key", "data"),
        Input("view", "value"),
        Input("account", "value"),
        Input("liab-since", "value"),
        Input("liab-since-custom", "value"),
    )
    def refresh(
        _key: object, shown: str, picked: str | None, choice: str | None, custom: str | None
    ) -> tuple[Any, ...]:
        if shown != VIEW:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        latest = ctx.latest(account)
        if latest is None:
            return EMPTY
        report, detail = latest
        now = ctx.clock()
        start, words = since_ms(choice, custom, now)
        midnight = now - now % DAY_MS
        equity = report.adjusted_equity_usd
        today = equity_change(equity, baseline(account, midnight, now))
        since = (
            equity_change(equity, baseline(account, start, now))
            if start is not None
            else EquityChange(None, None)
        )
        return render(report, detail, today, since, start, words, now)
