"""The exchange's own forced closes on a simulated book (``liquidation.py``): futures first, then
the margin loans covered from the account's assets; an ADL close; the exchange's own uniMMR set
apart from the book's (``binance_view``) — figures worked by hand (no fees; basis 0, so each
perpetual's mark is its index; the flat collateral table: BTC 90 %, USDT 100 %)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.simulator.account_payloads import account_json
from connectors.simulator.accounts import SimAccount
from connectors.simulator.actions import Ids
from connectors.simulator.book import AccountBook
from connectors.simulator.faults import Faults
from connectors.simulator.legs import Holding, UmLeg
from connectors.simulator.liquidation import adl, liquidate
from connectors.simulator.market import PERPETUALS, Quote
from connectors.simulator.truth import HiddenTruth
from connectors.simulator.user_data import UserData

T0 = 1_767_225_600_000
FLAT = HiddenTruth("flat", 0.10)


def quote(btc: float) -> Quote:
    index = {"BTC": btc, "ETH": 3_500.0, "BNB": 650.0, "SOL": 180.0, "XRP": 2.2, "USDT": 1.0}
    return Quote(index, dict.fromkeys(PERPETUALS, 0.0))


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["e"]) for e in events]


def test_futures_first_then_a_loan_covered_by_selling_another_asset() -> None:
    # 1 BTC held, 90,000 USDT owed (none held), 5,000 USDT in the UM wallet behind long 1
    # ETHUSDT @ 3,500 (MM 3,500 · 0.4 % = 14). Equity 0.9 · 95,000 − 90,000 + 5,000 = 500;
    # MM 10 % · 90,000 + 14 = 9,014: uniMMR 0.055.
    book = AccountBook(
        "x",
        holdings={
            "BTC": Holding(cross_margin_asset=1.0),
            "USDT": Holding(cross_margin_borrowed=90_000.0, um_wallet=5_000.0),
        },
        um_legs=[UmLeg("ETHUSDT", 1.0, 3_500.0)],
        truth=FLAT,
    )
    q = quote(95_000.0)
    out: list[dict[str, Any]] = liquidate(book, q, T0, Ids(), 1.05)
    # ETHUSDT closed at the mark (500 / 9,000 still ≤ 1.05); then the USDT loan: 90,000 / 95,000
    # BTC sold for it (an exchange order, autoclose-), the 90,000 repaid.
    assert kinds(out) == [
        "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE",
        "executionReport", "executionReport", "outboundAccountPosition",
        "liabilityChange", "outboundAccountPosition",
    ]  # fmt: skip
    assert str(out[0]["o"]["c"]).startswith("autoclose-") and out[0]["o"]["o"] == "LIQUIDATION"
    assert out[2]["o"]["x"] == "CALCULATED"  # Binance's execution type of a liquidation fill
    sold = out[4]
    assert str(sold["c"]).startswith("autoclose-") and (sold["s"], sold["S"]) == ("BTCUSDT", "SELL")
    assert float(sold["q"]) == pytest.approx(90_000 / 95_000, rel=1e-8)
    repaid = out[6]
    assert (repaid["a"], repaid["t"], repaid["p"], repaid["l"]) == (
        "USDT", "REPAY", "90000.00000000", "0.00000000",
    )  # fmt: skip
    assert book.um_legs == []
    usdt, btc = book.holdings["USDT"], book.holdings["BTC"]
    assert usdt.cross_margin_borrowed == 0.0 and usdt.cross_margin_asset == pytest.approx(0.0)
    assert btc.cross_margin_asset == pytest.approx(1 - 90_000 / 95_000, rel=1e-12)
    # Nothing owed, no position: MM 0 (uniMMR reported as the no-MM sentinel).
    assert book.reported_figures(q)["maint"] == 0.0


def test_liquidation_stops_once_above_the_level() -> None:
    # Two loans: USDT 100,000 (held 100,000) and 1 ETH (held 1), 2,000 USDT in the UM wallet.
    # Equity 2,000; MM 10,000 + 350: 0.19 ≤ 1.05. Repaying USDT (the larger) leaves 2,000 / 350
    # = 5.7: the ETH loan stays.
    book = AccountBook(
        "y",
        holdings={
            "USDT": Holding(100_000.0, cross_margin_borrowed=100_000.0, um_wallet=2_000.0),
            "ETH": Holding(1.0, cross_margin_borrowed=1.0),
        },
        truth=FLAT,
    )
    q = quote(95_000.0)
    out: list[dict[str, Any]] = liquidate(book, q, T0, Ids(), 1.05)
    assert kinds(out) == ["liabilityChange", "outboundAccountPosition"]
    assert out[0]["a"] == "USDT"
    assert book.holdings["ETH"].cross_margin_borrowed == 1.0
    assert book.reported_figures(q)["uni_mmr"] == pytest.approx(2_000 / 350, rel=1e-12)


def test_an_adl_close_carries_binance_s_adl_id() -> None:
    book = AccountBook(
        "b",
        holdings={"USDT": Holding(um_wallet=15_000.0)},
        um_legs=[UmLeg("BTCUSDT", -10.0, 95_000.0)],
    )
    out: list[dict[str, Any]] = adl(book, quote(96_000.0), T0, Ids(), "BTCUSDT", 4.0)
    new, update, filled = out
    assert new["o"]["c"] == filled["o"]["c"] == "adl_autoclose"
    assert (filled["o"]["S"], filled["o"]["q"], filled["o"]["R"]) == ("BUY", "4.000", True)
    assert filled["o"]["x"] == "CALCULATED"
    # 4 bought back at the mark: −4 · (96,000 − 95,000) = −4,000 realized: wallet 11,000.
    assert filled["o"]["rp"] == "-4000.00000000"
    assert update["a"]["P"][0]["pa"] == "-6.000" and update["a"]["B"][0]["wb"] == "11000.00000000"
    with pytest.raises(ValueError, match="no position"):
        adl(book, quote(96_000.0), T0, Ids(), "ETHUSDT", None)


def test_binance_view_sets_the_exchange_s_own_uni_mmr_and_pushes_its_level() -> None:
    # basis-like: equity 0.9 · 950,000 + 20,000 = 875,000; MM 4,675 (BTCUSDT): uniMMR 187.
    book = AccountBook(
        "b",
        holdings={
            "BTC": Holding(cross_margin_asset=10.0),
            "USDT": Holding(5_000.0, um_wallet=15_000.0),
        },
        um_legs=[UmLeg("BTCUSDT", -10.0, 95_000.0)],
        truth=FLAT,
    )
    account = SimAccount("b", "k" * 64, "s" * 64, book)
    data = UserData([account], lambda: quote(95_000.0), lambda: T0, Faults())
    (pushed,) = data.act("binance_view", {"uni_mmr": "1.18"})
    # MM only the exchange counts: 875,000 / 1.18 − 4,675.
    assert book.hidden_maint_usd == pytest.approx(875_000 / 1.18 - 4_675, rel=1e-12)
    assert (pushed["e"], pushed["s"]) == ("riskLevelChange", "REDUCE_ONLY")
    reported = account_json(book, quote(95_000.0), T0)
    assert reported["accountStatus"] == "REDUCE_ONLY"
    assert float(str(reported["uniMMR"])) == pytest.approx(1.18, rel=1e-8)
    assert data.act("binance_view", {"uni_mmr": "1000"}) == []  # above the book's: none hidden
    assert book.hidden_maint_usd == 0.0
