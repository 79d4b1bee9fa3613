"""The Liabilities & P&L view's figures from a stored report and history: words for what is
unavailable or unknown, the chosen time, and the equity change from the stored history."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from app.store.store import CycleRecord, Store
from app.web.pages import liabilities_rows as liab_rows
from app.web.pages import liabilities_since as liab_since
from app.web.pages import liabilities_tiles as liab_tiles
from risk import RiskRules, evaluate
from risk.model import AccountSnapshot, FundingReport, InterestCharge, InterestHistory, RiskReport
from risk.serialize import report_from_dict
from tests.support.books import bal, market

MIDNIGHT = 1_767_225_600_000  # 2026-01-01 00:00 UTC
H = 3_600_000
NOW = MIDNIGHT + 10 * H + 30 * 60_000  # 10:30 UTC


def borrower(interest: float = 2.0, history: bool = True) -> AccountSnapshot:
    charges = (InterestCharge("USDT", NOW - H, 1.0, 0.00012, 200_000.0, "PERIODIC"),)
    return AccountSnapshot(
        balances=(
            bal("ETH", cross_margin_asset_qty=100.0),
            bal("USDT", cross_margin_borrowed_qty=200_000.0, cross_margin_interest_qty=interest),
        ),
        um_positions=(),
        update_time_ms=NOW,
        interest_history=InterestHistory(charges, True) if history else None,
    )


def detail_of(snapshot: AccountSnapshot) -> RiskReport:
    return evaluate(snapshot, market({"ETH": 3_000.0}), RiskRules())


def test_loan_row_words() -> None:
    (row,) = liab_rows.loan_rows(detail_of(borrower()))
    assert row["borrowed"] == 200_000.0 and row["interest"] == 2.0
    assert row["owed_usd"] == pytest.approx(200_002.0)
    # 0.012 % a day; × 365 = 4.38 % a year; loan MMR 10 % → MM 20,000.
    assert row["daily_pct"] == pytest.approx(0.012) and row["yearly_pct"] == pytest.approx(4.38)
    assert row["mmr_pct"] == pytest.approx(10.0) and row["mm_usd"] == pytest.approx(20_000.0)
    assert row["interest_24h"] == pytest.approx(1.0)
    assert row[liab_since.UNAVAILABLE_KEY] == [] and row["unknown"] == []
    assert liab_since.rate_words(0.00012) == "0.0120 % a day (4.38 % a year)"


def test_without_the_history_the_rate_reads_unavailable() -> None:
    (row,) = liab_rows.loan_rows(detail_of(borrower(history=False)))
    assert row["daily_pct"] is None and row["interest_24h"] is None
    assert set(row[liab_since.UNAVAILABLE_KEY]) == {
        "daily_pct",
        "yearly_pct",
        "interest_24h",
        "interest_24h_usd",
    }
    assert liab_since.rate_words(None) == "unavailable"
    tiles = {t.key: t for t in liab_tiles.tiles(detail_of(borrower(history=False)), *_no_change())}
    assert tiles["interest-24h"].value == "unavailable"
    assert tiles["interest-24h"].tone == "unavailable"


def _no_change() -> tuple[liab_since.EquityChange, liab_since.EquityChange, int | None, int]:
    none = liab_since.EquityChange(None, None)
    return none, none, MIDNIGHT, NOW


def test_tiles_of_a_borrower() -> None:
    tiles = {t.key: t for t in liab_tiles.tiles(detail_of(borrower()), *_no_change(), 127_999.0)}
    # No stablecoin held, 200,002 owed: the net buffer is −200,002 and says so.
    assert tiles["net-buffer"].value == "−$200,002.00"
    assert tiles["net-buffer"].note == "OWES stablecoin" and tiles["net-buffer"].tone == "neg"
    assert tiles["loans"].value == "$200,002.00" and tiles["loans"].tone == "debt"
    assert tiles["loans"].note == "interest accrued $2.00"
    assert tiles["loan-mm"].value == "$20,000.00"
    # No funding read in this report: unavailable, never +$0.00.
    assert tiles["funding-24h"].value == "unavailable"
    assert tiles["funding-since"].value == "unavailable"
    assert tiles["equity-today"].value == "unavailable"
    assert tiles["equity-now"].value == "$127,999.00"
    assert all(t.hint for t in tiles.values())  # every figure has its tooltip


def test_basis_book_negative_row() -> None:
    snap = AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=10.0),
            bal(
                "USDT",
                cross_margin_asset_qty=5_000.0,
                um_wallet_qty=15_000.0,
                um_unrealized_pnl_qty=-72_767.0,
            ),
        ),
        um_positions=(),
    )
    detail = evaluate(snap, market(), RiskRules())
    (row,) = liab_rows.negative_rows(detail)
    assert row["asset"] == "USDT" and row["net_qty"] == pytest.approx(-52_767.0)
    assert row["why"] == "unrealized loss"
    assert row["daily_pct"] is None and row[liab_since.UNAVAILABLE_KEY] == []  # "—": not charged
    assert liab_rows.loan_rows(detail) == []


def _funding(body: dict[str, Any]) -> FundingReport:
    """A funding report from its stored form (``risk.serialize``)."""
    funding = report_from_dict({"funding": body}).funding
    assert funding is not None
    return funding


def test_funding_rows_unavailable_and_since() -> None:
    detail = dataclasses.replace(detail_of(borrower()), funding=_funding({
        "rows": [
            {"venue": "UM", "symbol": "BTCUSDT", "asset": "USDT", "index_price_usd": 1.0,
             "available": True, "times_ms": [NOW - 20 * H, NOW - 4 * H], "income_qty": [3.0, -1.0],
             "last_24h_qty": 2.0, "last_24h_usd": 2.0, "open_position": True},
            {"venue": "CM", "symbol": "ETHUSD_PERP", "asset": "ETH", "index_price_usd": 3_000.0,
             "available": False, "times_ms": [], "income_qty": [], "last_24h_qty": None,
             "last_24h_usd": None, "open_position": True},
        ],
        "um_read": True, "cm_read": False, "window_start_ms": NOW - 7 * 24 * H, "as_of_ms": NOW,
        "last_24h_usd": None,
    }))  # fmt: skip
    btc, eth = liab_rows.funding_rows(detail, NOW - 5 * H)
    assert btc["since_qty"] == pytest.approx(-1.0) and btc["since_usd"] == pytest.approx(-1.0)
    assert eth["day_usd"] is None and "day_usd" in eth[liab_since.UNAVAILABLE_KEY]
    # Before the 7 days read: unavailable, not a smaller sum.
    (old, _) = liab_rows.funding_rows(detail, NOW - 8 * 24 * H)
    assert old["since_qty"] is None and "since_qty" in old[liab_since.UNAVAILABLE_KEY]
    assert liab_rows.funding_since_usd(detail, NOW - 5 * H) is None  # COIN-M not read
    tiles = {t.key: t for t in liab_tiles.tiles(detail, *_no_change())}
    assert tiles["funding-24h"].value == "unavailable"


def test_chosen_time() -> None:
    assert liab_since.since_ms("today", None, NOW)[0] == MIDNIGHT
    assert liab_since.since_ms("8h", None, NOW)[0] == NOW - 8 * H
    start, words = liab_since.since_ms("custom", "2026-01-01 08:15", NOW)
    assert start == MIDNIGHT + 8 * H + 15 * 60_000 and words == "since 2026-01-01 08:15 UTC"
    assert liab_since.since_ms("custom", "09:00", NOW)[0] == MIDNIGHT + 9 * H  # today
    assert liab_since.since_ms("custom", "23:00", NOW)[0] == MIDNIGHT - H  # still ahead: yesterday
    bad, said = liab_since.since_ms("custom", "tomorrow-ish", NOW)
    assert bad is None and "write it as 2026-01-01 08:00 (UTC)" in said
    ahead, said = liab_since.since_ms("custom", "2026-02-01", NOW)
    assert ahead is None and "still ahead" in said


def _write(store: Store, account: str, at_ms: int, usdt_interest: float) -> None:
    """A stored report whose adjusted equity is worked by hand: ETH 100 · 3,000 at 90 % =
    270,000, less the 200,000 USDT loan and its interest."""
    snap = dataclasses.replace(borrower(usdt_interest), update_time_ms=at_ms)
    report = evaluate(snap, market({"ETH": 3_000.0}), RiskRules())
    store.write_cycle(CycleRecord(account, at_ms, at_ms, True, {}, report, None), at_ms)


def test_equity_change_from_the_stored_history(store: Store) -> None:
    # 23:59:30 yesterday: 270,000 − 200,000 − 1 = 69,999; 00:00:30: − 2 → 69,998;
    # 10:30: − 12 → 69,988.
    _write(store, "b", MIDNIGHT - 30_000, 1.0)
    _write(store, "b", MIDNIGHT + 30_000, 2.0)
    _write(store, "b", NOW, 12.0)
    found, settled = liab_since.equity_baseline(store, "b", MIDNIGHT, NOW)
    assert found is not None and not found.after and found.at_ms == MIDNIGHT - 30_000
    assert found.equity_usd == pytest.approx(69_999.0)
    assert settled == MIDNIGHT  # the minute before midnight is over
    change = liab_since.equity_change(69_988.0, found)
    assert change.change_usd == pytest.approx(-11.0)
    # History that starts after the chosen time: its first report, said as such.
    later, _ = liab_since.equity_baseline(store, "c", MIDNIGHT, NOW)
    assert later is None
    _write(store, "c", MIDNIGHT + 5 * H, 7.0)
    _write(store, "c", MIDNIGHT + 5 * H + 20_000, 8.0)
    first, _ = liab_since.equity_baseline(store, "c", MIDNIGHT, MIDNIGHT + 5 * H + 30_000)
    assert first is not None and first.after and first.at_ms == MIDNIGHT + 5 * H
    assert first.equity_usd == pytest.approx(69_993.0)  # 70,000 − 7
    unknown = liab_since.equity_change(math.nan, first).change_usd
    assert unknown is not None and math.isnan(unknown)  # unknown now: never a number
    assert liab_since.signed_usd_words(unknown) == "unknown"
    assert liab_since.signed_usd_words(None, liab_since.UNAVAILABLE_TEXT) == "unavailable"
