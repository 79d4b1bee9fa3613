"""Carry endpoints: parsing Binance's documented sample shapes, their weights in the plan, and
the simulator's carry (interest accrual, funding every 8 h, its own bracket table per symbol).

Samples: binance/binance-connector-js,
clients/derivatives-trading-portfolio-margin/tests/unit/rest-api/AccountApiTest.test.ts
(getMarginBorrowLoanInterestHistory, getUmIncomeHistory mock responses, copied as published),
and the PM docs page "Query Portfolio Margin Negative Balance Interest History" (its row).
"""

from __future__ import annotations

import itertools

import pytest

from connectors.binance.capture import KNOWN_PATHS, file_name
from connectors.binance.client import CARRY_ENDPOINTS, ENDPOINTS, SLOW_PATHS
from connectors.binance.limits import (
    CARRY_PATHS,
    WEIGHTS,
    min_poll_interval_s,
    planned_weight_per_minute,
)
from connectors.binance.parse import (
    CM_INCOME,
    MARGIN_INTEREST_HISTORY,
    UM_INCOME,
    parse_funding,
    parse_interest_history,
    snapshot_from_payloads,
)
from connectors.simulator.book import AccountBook
from connectors.simulator.legs import Holding, UmLeg
from connectors.simulator.market import PERPETUALS, Quote
from connectors.simulator.params import CM_BRACKETS, UM_BRACKETS, tier_value

INTEREST_ROW: dict[str, object] = {
    "txId": 1352286576452864800,
    "interestAccuredTime": 1672160400000,
    "asset": "USDT",
    "rawAsset": "USDT",
    "principal": "45.3313",
    "interest": "0.00024995",
    "interestRate": "0.00013233",
    "type": "ON_BORROW",
}
INTEREST_SAMPLE: dict[str, object] = {"rows": [INTEREST_ROW], "total": 1}
UM_INCOME_SAMPLE = [
    {
        "symbol": "",
        "incomeType": "TRANSFER",
        "income": "-0.37500000",
        "asset": "USDT",
        "info": "TRANSFER",
        "time": 1570608000000,
        "tranId": "9689322392",
        "tradeId": "",
    }
]
FUNDING_ROW = {  # the same shape, a FUNDING_FEE row (fields as the connector's type lists them)
    "symbol": "BTCUSDT",
    "incomeType": "FUNDING_FEE",
    "income": "-1.25000000",
    "asset": "USDT",
    "info": "FUNDING_FEE",
    "time": 1570636800000,
    "tranId": "9689322393",
    "tradeId": "",
}


def test_interest_history_sample() -> None:
    h = parse_interest_history({MARGIN_INTEREST_HISTORY: INTEREST_SAMPLE})
    assert h is not None and h.complete
    (c,) = h.charges
    assert (c.asset, c.loan_asset, c.kind, c.time_ms) == (
        "USDT",
        "USDT",
        "ON_BORROW",
        1672160400000,
    )
    assert c.interest_qty == pytest.approx(0.00024995)
    assert c.daily_rate == pytest.approx(0.00013233) and c.principal_qty == pytest.approx(45.3313)
    # interestRate is a *daily* rate, charged an hour at a time: 45.3313 · 0.00013233 / 24
    # = 0.000249946 ≈ the row's 0.00024995 (at a daily rate per hour it would be 24 × that).
    assert pytest.approx(c.interest_qty, rel=1e-4) == 45.3313 * 0.00013233 / 24


def test_interest_history_not_read_partial_or_bad() -> None:
    assert parse_interest_history({}) is None
    more = {**INTEREST_SAMPLE, "total": 250}  # Binance has more rows than were read
    partial = parse_interest_history({MARGIN_INTEREST_HISTORY: more})
    assert partial is not None and not partial.complete and len(partial.charges) == 1
    bad = {"rows": [{**INTEREST_ROW, "interest": "x"}], "total": 1}
    unreadable = parse_interest_history({MARGIN_INTEREST_HISTORY: bad})
    assert unreadable is not None and unreadable.charges == () and not unreadable.complete
    # Binance's spelling is "interestAccuredTime"; the corrected spelling is read too.
    row = dict(INTEREST_ROW)
    row["interestAccruedTime"] = row.pop("interestAccuredTime")
    fixed = parse_interest_history({MARGIN_INTEREST_HISTORY: {"rows": [row], "total": 1}})
    assert fixed is not None and fixed.charges[0].time_ms == 1672160400000


def test_negative_balance_row_from_the_pm_docs() -> None:
    # "Query Portfolio Margin Negative Balance Interest History": 210,000 USDT at 0.0001164 a
    # day → 24.444 USDT; in marginInterestHistory such a charge is type PORTFOLIO.
    row = {"asset": "USDT", "interest": "24.4440", "interestAccuredTime": 1670227200000,
           "interestRate": "0.0001164", "principal": "210000", "type": "PORTFOLIO"}  # fmt: skip
    h = parse_interest_history({MARGIN_INTEREST_HISTORY: {"rows": [row], "total": 1}})
    assert h is not None
    (c,) = h.charges
    assert c.kind == "PORTFOLIO" and c.interest_qty == pytest.approx(210_000 * 0.0001164)


def test_income_sample_has_no_funding_and_funding_rows_are_read() -> None:
    # The documented sample is a TRANSFER: read, and no funding in it (never "unavailable").
    assert parse_funding({UM_INCOME: UM_INCOME_SAMPLE}, UM_INCOME) == ()
    (f,) = parse_funding({UM_INCOME: [*UM_INCOME_SAMPLE, FUNDING_ROW]}, UM_INCOME) or ()
    assert (f.venue, f.symbol, f.asset, f.time_ms) == ("UM", "BTCUSDT", "USDT", 1570636800000)
    assert f.income_qty == pytest.approx(-1.25)
    coin = {**FUNDING_ROW, "symbol": "ETHUSD_PERP", "asset": "ETH", "income": "0.00012"}
    (c,) = parse_funding({CM_INCOME: [coin]}, CM_INCOME) or ()
    assert (c.venue, c.asset) == ("CM", "ETH") and c.income_qty == pytest.approx(0.00012)


def test_income_not_read_repeated_or_unreadable() -> None:
    assert parse_funding({}, UM_INCOME) is None
    twice = parse_funding({UM_INCOME: [FUNDING_ROW, FUNDING_ROW]}, UM_INCOME)
    assert twice is not None and len(twice) == 1  # the same tranId across pages counts once
    broken = {**FUNDING_ROW, "income": ""}
    assert parse_funding({UM_INCOME: [broken]}, UM_INCOME) is None  # never a silent gap
    assert parse_funding({UM_INCOME: {"code": -1}}, UM_INCOME) is None


def test_snapshot_carries_them() -> None:
    snap, _ = snapshot_from_payloads(
        {MARGIN_INTEREST_HISTORY: INTEREST_SAMPLE, UM_INCOME: [FUNDING_ROW]}
    )
    assert snap.interest_history is not None and len(snap.interest_history.charges) == 1
    assert snap.um_funding is not None and snap.cm_funding is None


def test_capture_knows_the_carry_files() -> None:
    assert set(KNOWN_PATHS) >= CARRY_PATHS
    assert file_name(MARGIN_INTEREST_HISTORY) == "papi_v1_margin_marginInterestHistory.json"
    assert file_name(UM_INCOME) == "papi_v1_um_income.json"
    assert set(CARRY_ENDPOINTS) == CARRY_PATHS and not CARRY_PATHS & set(ENDPOINTS)


def test_carry_weights_and_the_plan() -> None:
    # binance-connector-js account-api.ts: interest history 1, UM and CM income 30 each.
    assert {p: WEIGHTS[p] for p in CARRY_PATHS} == {
        MARGIN_INTEREST_HISTORY: 1,
        UM_INCOME: 30,
        CM_INCOME: 30,
    }
    fast = frozenset(ENDPOINTS) - SLOW_PATHS
    # The worst minute at a 2 s poll: papi 31 polls (a calendar minute holds floor(60 / 2) + 1)
    # · 56 = 1,736 + one carry read 61 + the hourly brackets 2 = 1,799, 30 % of 6,000 (under
    # half); sapi 31 · 50 + the hourly tables 150; the other families carry nothing.
    plan = planned_weight_per_minute(fast, 2.0)
    assert plan["papi"] == pytest.approx(1_799.0)
    assert plan["sapi"] == pytest.approx(1_700.0)
    assert all(plan[f] <= 0.5 * limit for f, limit in {"papi": 6_000, "sapi": 12_000}.items())
    # At the shortest poll the plan allows (1.2 s): 51 · 56 + 61 + 2 = 2,919 ≤ 3,000.
    assert min_poll_interval_s(fast) == 1.2
    assert planned_weight_per_minute(fast, 1.2)["papi"] == pytest.approx(2_919.0)


# ---- the simulator ----------------------------------------------------------------------------
START = 1_767_225_600_000  # 2026-01-01 00:00 UTC: a funding time
H = 3_600_000
QUOTE = Quote(
    {"BTC": 100_000.0, "ETH": 3_000.0, "USDT": 1.0},
    dict.fromkeys(PERPETUALS, 0.0) | {"BTCUSDT": 0.0002},
)


def test_simulator_charges_a_loan_hourly() -> None:
    book = AccountBook("b", holdings={"USDT": Holding(cross_margin_borrowed=200_000.0)})
    book.settle(QUOTE, START)  # opens: one hour charged on borrowing
    # 200,000 · 0.012 % a day / 24 = 1 USDT an hour.
    assert book.holdings["USDT"].cross_margin_interest == pytest.approx(1.0)
    book.settle(QUOTE, START + 3 * H + 59_000)  # 01:00, 02:00, 03:00
    assert book.holdings["USDT"].cross_margin_interest == pytest.approx(4.0)
    kinds = [(r["type"], r["interestAccuredTime"]) for r in book.interest_rows]
    assert kinds == [("ON_BORROW", START)] + [("PERIODIC", START + k * H) for k in (1, 2, 3)]
    assert {r["interestRate"] for r in book.interest_rows} == {"0.00012000"}
    book.settle(QUOTE, START + 3 * H + 59_000)  # nothing new to charge
    assert len(book.interest_rows) == 4


def test_simulator_pays_funding_every_8_hours() -> None:
    book = AccountBook(
        "s", holdings={"USDT": Holding(um_wallet=1_000.0)}, um_legs=[UmLeg("BTCUSDT", -10.0, 1e5)]
    )
    book.settle(QUOTE, START)
    book.settle(QUOTE, START + 8 * H - 1)
    assert book.income_rows["UM"] == []  # not yet
    book.settle(QUOTE, START + 8 * H + 90_000)
    (row,) = book.income_rows["UM"]
    # Basis 0.02 %: rate = 0.0002 + clamp(0.0001 − 0.0002, ±0.05 %) = 0.0001; mark 100,000 ·
    # 1.0002 = 100,020. The short receives 10 · 100,020 · 0.0001 = 100.02 USDT.
    assert (row["symbol"], row["incomeType"], row["time"]) == (
        "BTCUSDT",
        "FUNDING_FEE",
        START + 8 * H,
    )
    assert float(row["income"]) == pytest.approx(100.02)  # type: ignore[arg-type]
    assert book.holdings["USDT"].um_wallet == pytest.approx(1_100.02)


def test_every_demo_symbol_has_its_own_brackets() -> None:
    tables = {**UM_BRACKETS, **CM_BRACKETS}
    assert set(tables) >= {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"}
    assert set(CM_BRACKETS) == {"BTCUSD_PERP", "ETHUSD_PERP"}
    assert len({id(t) for t in tables.values()}) == len(tables)  # no shared schedule
    assert CM_BRACKETS["ETHUSD_PERP"] != CM_BRACKETS["BTCUSD_PERP"]
    # The case: a 700,000 USD ETHUSD_PERP position = 200 ETH at 3,500. BTC's table put
    # it at 12.5 %; ETH's own: [100, 500) at 0.65 %, cum 100 · (0.0065 − 0.005) = 0.15 →
    # 200 · 0.0065 − 0.15 = 1.15 ETH.
    assert tier_value(CM_BRACKETS["ETHUSD_PERP"], 200.0, -1.0) == pytest.approx(1.15)
    # ETHUSDT: 210,000 in [50 k, 600 k) at 0.5 %, cum 50 → 1,050 − 50 = 1,000.
    assert tier_value(UM_BRACKETS["ETHUSDT"], 210_000.0, -1.0) == pytest.approx(1_000.0)
    # SOLUSDT: 150,000 in [100 k, 800 k) at 1 %, cum 20,000 · 0.0015 + 100,000 · 0.0035 = 380
    # → 1,500 − 380 = 1,120.
    assert tier_value(UM_BRACKETS["SOLUSDT"], 150_000.0, -1.0) == pytest.approx(1_120.0)
    for table in tables.values():  # Binance's shape: from 0, contiguous, MMR rising
        assert table[0].floor == 0
        assert all(a.cap == b.floor and a.rate < b.rate for a, b in itertools.pairwise(table))
