"""Liabilities and carry (``risk/liabilities.py``), worked by hand.

Two books from the issue: a borrower with a 200,000 USDT cross-margin loan and its accrued
interest, and a basis book that holds −52,767 USDT (a short perpetual's loss larger than its
20,000 USDT). Funding sums by hand over known payments. Every expected figure is written with its
arithmetic; none is taken from the code under test.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from risk import RiskRules, evaluate
from risk.liabilities import DAY_MS, funding_report, liabilities, sum_since
from risk.model import (
    AccountSnapshot,
    CmPosition,
    FundingPayment,
    InterestCharge,
    InterestHistory,
)
from tests.support.books import bal, market, perp

T = 1_767_225_600_000 + 12 * 3_600_000  # 2026-01-01 12:00 UTC: "now" for every book here
H = 3_600_000
STABLES = RiskRules().stablecoins


def charge(
    kind: str, hours_ago: float, interest: float, rate: float, asset: str = "USDT"
) -> InterestCharge:
    return InterestCharge(asset, int(T - hours_ago * H), interest, rate, 200_000.0, kind)


def borrower(history: InterestHistory | None) -> AccountSnapshot:
    """100 ETH bought with 200,000 borrowed USDT; 18.25 USDT of interest accrued."""
    return AccountSnapshot(
        balances=(
            bal("ETH", cross_margin_asset_qty=100.0),
            bal("USDT", cross_margin_borrowed_qty=200_000.0, cross_margin_interest_qty=18.25),
        ),
        um_positions=(),
        update_time_ms=T,
        interest_history=history,
    )


HISTORY = InterestHistory(
    (
        # Older than 24 h: the loan's first charge, out of the 24 h sum.
        charge("ON_BORROW", 30, 1.0, 0.00012),
        charge("PERIODIC", 20, 1.0, 0.00012),
        charge("PERIODIC", 2, 1.0833, 0.00013),
        charge("PERIODIC", 1, 1.0833, 0.00013),  # the newest: its rate is the loan's rate
    ),
    complete=True,
)


def test_borrower_loan_interest_rate_and_mm() -> None:
    m = market({"USDT": 1.0001, "ETH": 3_000.0})
    report = evaluate(borrower(HISTORY), m, RiskRules())
    (usdt,) = [r for r in report.liabilities if r.asset == "USDT"]
    assert [r.asset for r in report.liabilities] == ["USDT"]  # ETH is held, not owed
    assert usdt.borrowed_qty == 200_000.0 and usdt.interest_qty == 18.25
    assert usdt.stable and usdt.has_loan and usdt.negative  # it owes USDT net
    # Owed: (200,000 + 18.25) · 1.0001 = 200,018.25 · 1.0001 = 200,038.251825.
    assert usdt.loan_usd == pytest.approx(200_038.251825)
    # x = 0 − 200,000 − 18.25 = −200,018.25 → −200,038.251825 USD.
    assert usdt.equity_qty == pytest.approx(-200_018.25)
    assert usdt.equity_usd == pytest.approx(-200_038.251825)
    # No Binance figures to calibrate against: the conservative 10 % (3x). MM = 200,000 · 10 %
    # · 1.0001 = 20,002 — on the principal, not the interest.
    assert usdt.loan_mmr == pytest.approx(0.10)
    assert usdt.loan_mm_usd == pytest.approx(20_002.0)
    assert report.maint_margin.margin_usd == pytest.approx(20_002.0)  # the same figure
    # Binance's rate: the newest charge's (1 h ago), 0.013 % a day.
    assert usdt.loan_daily_rate == pytest.approx(0.00013)
    assert usdt.rate_time_ms == T - H
    assert usdt.negative_balance_daily_rate is None  # no PORTFOLIO charge
    # Charged in the last 24 h: 1.0 (20 h ago) + 1.0833 + 1.0833 = 3.1666 (30 h ago is out).
    assert usdt.interest_24h_qty == pytest.approx(3.1666)
    # Net stablecoin buffer: no stablecoin held, −200,038.251825 owed.
    assert report.net_stablecoin_buffer_usd == pytest.approx(-200_038.251825)


def test_without_interest_history_the_rate_is_unavailable_not_zero() -> None:
    report = evaluate(borrower(None), market(), RiskRules())
    (usdt,) = report.liabilities
    assert usdt.loan_daily_rate is None and usdt.interest_24h_qty is None
    assert usdt.interest_qty == 18.25  # the balance's own figure stays


def test_an_incomplete_history_keeps_the_rate_but_not_the_sum() -> None:
    partial = InterestHistory(HISTORY.charges[2:], complete=False)  # Binance's total > rows
    (usdt,) = evaluate(borrower(partial), market(), RiskRules()).liabilities
    assert usdt.loan_daily_rate == pytest.approx(0.00013)
    assert usdt.interest_24h_qty is None


def test_unknown_price_is_unknown_usd() -> None:
    snap = borrower(HISTORY)
    (usdt,) = liabilities(snap, {"ETH": 3_000.0}, lambda a: 0.1, STABLES, T)
    assert math.isnan(usdt.loan_usd) and math.isnan(usdt.loan_mm_usd)
    assert usdt.borrowed_qty == 200_000.0  # quantities stay known


def basis_owing_usdt() -> AccountSnapshot:
    """Long 10 BTC spot, short 10 BTCUSDT perpetual from 95,000, now marked 102,276.70: the
    short has lost 10 · 7,276.70 = 72,767 USDT, more than the 5,000 + 15,000 USDT held."""
    return AccountSnapshot(
        balances=(
            bal("BTC", cross_margin_asset_qty=10.0),
            bal(
                "USDT",
                cross_margin_asset_qty=5_000.0,
                um_wallet_qty=15_000.0,
                um_unrealized_pnl_qty=-72_767.0,
            ),
        ),
        um_positions=(perp("BTCUSDT", -10.0, 102_276.70, entry=95_000.0),),
        update_time_ms=T,
    )


def test_basis_book_owes_52767_usdt() -> None:
    m = dataclasses.replace(
        market({"BTC": 95_000.0, "USDT": 1.0}), mark_price={"BTCUSDT": 102_276.70}
    )
    report = evaluate(basis_owing_usdt(), m, RiskRules())
    (usdt,) = report.liabilities
    # x = 5,000 + 15,000 − 72,767 = −52,767 USDT; no loan, no negative wallet.
    assert usdt.equity_qty == pytest.approx(-52_767.0)
    assert usdt.equity_usd == pytest.approx(-52_767.0)
    assert usdt.unrealized_pnl_qty == pytest.approx(-72_767.0)
    assert not usdt.has_loan and usdt.negative
    assert usdt.loan_mmr is None and usdt.loan_mm_usd == 0.0 and usdt.loan_usd == 0.0
    assert usdt.negative_wallets_qty == 0.0
    # The headline it used to hide: "Stablecoin buffer $0.00" counts only what is held; the net
    # buffer says the account owes 52,767 USDT.
    assert report.stablecoin_buffer_usd == 0.0
    assert report.net_stablecoin_buffer_usd == pytest.approx(-52_767.0)


def test_a_negative_futures_wallet_and_its_daily_interest() -> None:
    """The same loss realized: the USDⓈ-M wallet at −52,767 USDT, charged a day's interest."""
    snap = AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=10.0), bal("USDT", um_wallet_qty=-52_767.0)),
        um_positions=(),
        update_time_ms=T,
        interest_history=InterestHistory(
            (InterestCharge("USDT", T - 12 * H, 6.3320, 0.00012, 52_767.0, "PORTFOLIO"),), True
        ),
    )
    (usdt,) = liabilities(snap, {"USDT": 0.9995, "BTC": 95_000.0}, lambda a: 0.1, STABLES, T)
    # −52,767 · 0.9995 = −52,740.6165.
    assert usdt.negative_wallets_qty == -52_767.0
    assert usdt.negative_wallets_usd == pytest.approx(-52_740.6165)
    assert usdt.equity_usd == pytest.approx(-52_740.6165)
    assert usdt.loan_mmr is None and usdt.loan_daily_rate is None
    # 52,767 · 0.012 % = 6.33204: Binance's daily negative-balance charge.
    assert usdt.negative_balance_daily_rate == pytest.approx(0.00012)
    assert usdt.interest_24h_qty == pytest.approx(6.3320)


def test_nothing_owed_no_rows() -> None:
    snap = AccountSnapshot(balances=(bal("USDT", um_wallet_qty=1_000.0),), um_positions=())
    assert liabilities(snap, {"USDT": 1.0}, lambda a: 0.1, STABLES, T) == ()


# ---- funding ----------------------------------------------------------------------------------
def pay(venue: str, symbol: str, asset: str, hours_ago: float, income: float) -> FundingPayment:
    return FundingPayment(venue, symbol, asset, income, int(T - hours_ago * H))


UM_PAID = (
    pay("UM", "BTCUSDT", "USDT", 30, 10.0),  # older than 24 h
    pay("UM", "BTCUSDT", "USDT", 20, 5.5),
    pay("UM", "BTCUSDT", "USDT", 12, -2.25),
    pay("UM", "BTCUSDT", "USDT", 4, 1.75),
)
CM_PAID = (pay("CM", "ETHUSD_PERP", "ETH", 4, -0.01),)
PRICES = {"USDT": 1.0001, "ETH": 3_500.0, "BTC": 95_000.0}


def hedged(um: object = UM_PAID, cm: object = CM_PAID) -> AccountSnapshot:
    return AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=10_000.0),),
        um_positions=(perp("BTCUSDT", -1.0, 95_000.0),),
        cm_positions=(
            CmPosition("ETHUSD_PERP", "BOTH", -100.0, 3_500.0, 3_500.0, 0.0, 10.0, "ETH", 5.0),
        ),
        um_funding=um,  # type: ignore[arg-type]
        cm_funding=cm,  # type: ignore[arg-type]
    )


def test_funding_last_24h_per_symbol_and_total() -> None:
    f = funding_report(hedged(), PRICES, T)
    rows = {r.symbol: r for r in f.rows}
    btc, eth = rows["BTCUSDT"], rows["ETHUSD_PERP"]
    # BTCUSDT, last 24 h: 5.5 − 2.25 + 1.75 = 5.0 USDT (the 10.0 of 30 h ago is older);
    # · 1.0001 = 5.0005 USD.
    assert btc.last_24h_qty == pytest.approx(5.0)
    assert btc.last_24h_usd == pytest.approx(5.0005)
    assert btc.times_ms == tuple(int(T - h * H) for h in (30, 20, 12, 4))  # oldest first
    # ETHUSD_PERP: −0.01 ETH · 3,500 = −35 USD, paid.
    assert eth.last_24h_qty == pytest.approx(-0.01)
    assert eth.last_24h_usd == pytest.approx(-35.0)
    assert btc.open_position and eth.open_position and btc.available and eth.available
    # Total: 5.0005 − 35 = −29.9995 USD.
    assert f.last_24h_usd == pytest.approx(-29.9995)
    assert f.window_start_ms == T - 7 * DAY_MS and f.as_of_ms == T


def test_funding_since_a_chosen_time() -> None:
    f = funding_report(hedged(), PRICES, T)
    btc = next(r for r in f.rows if r.symbol == "BTCUSDT")
    # Since 13 h ago: −2.25 + 1.75 = −0.5; since 12 h ago (inclusive): the same; since 4 h
    # ago: 1.75; since 31 h ago: 10 + 5.5 − 2.25 + 1.75 = 15.0.
    assert sum_since(btc.times_ms, btc.income_qty, T - 13 * H) == pytest.approx(-0.5)
    assert sum_since(btc.times_ms, btc.income_qty, T - 12 * H) == pytest.approx(-0.5)
    assert sum_since(btc.times_ms, btc.income_qty, T - 4 * H) == pytest.approx(1.75)
    assert sum_since(btc.times_ms, btc.income_qty, T - 31 * H) == pytest.approx(15.0)


def test_a_venue_not_read_is_unavailable_never_zero() -> None:
    f = funding_report(hedged(cm=None), PRICES, T)
    eth = next(r for r in f.rows if r.symbol == "ETHUSD_PERP")
    assert not f.cm_read and f.um_read
    assert not eth.available and eth.last_24h_qty is None and eth.last_24h_usd is None
    assert f.last_24h_usd is None  # the total cannot be known
    btc = next(r for r in f.rows if r.symbol == "BTCUSDT")
    assert btc.last_24h_qty == pytest.approx(5.0)  # the venue that was read still shows


def test_an_open_position_with_no_payment_yet_is_zero_when_read() -> None:
    f = funding_report(hedged(um=(), cm=()), PRICES, T)
    assert {r.symbol: r.last_24h_qty for r in f.rows} == {"BTCUSDT": 0.0, "ETHUSD_PERP": 0.0}
    assert f.last_24h_usd == 0.0


def test_a_closed_position_s_funding_still_counts() -> None:
    snap = AccountSnapshot(balances=(), um_positions=(), um_funding=(UM_PAID[3],), cm_funding=())
    (row,) = funding_report(snap, PRICES, T).rows
    assert row.symbol == "BTCUSDT" and not row.open_position
    assert row.last_24h_qty == pytest.approx(1.75)
