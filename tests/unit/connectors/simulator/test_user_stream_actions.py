"""The control endpoint's actions on a simulated book, the events Binance would push for each, and
the exchange's own risk watch and liquidation — figures worked by hand (no fees; basis 0, so each
perpetual's mark is its index)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.simulator.accounts import SimAccount
from connectors.simulator.actions import Ids, fill_cm, fill_um
from connectors.simulator.book import AccountBook
from connectors.simulator.faults import Faults
from connectors.simulator.legs import CmLeg, Holding, UmLeg
from connectors.simulator.market import PERPETUALS, Quote
from connectors.simulator.user_data import UserData
from connectors.simulator.wallet_actions import borrow, pay_funding, repay, transfer


def loose(events: object) -> Any:
    """Events as JSON-shaped values (nested lookups in the assertions)."""
    return events


T0 = 1_767_225_600_000


def quote(btc: float) -> Quote:
    index = {"BTC": btc, "ETH": 3_500.0, "BNB": 650.0, "SOL": 180.0, "XRP": 2.2, "USDT": 1.0}
    return Quote(index, dict.fromkeys(PERPETUALS, 0.0))


def basis_book() -> AccountBook:
    return AccountBook(
        "b",
        holdings={
            "BTC": Holding(cross_margin_asset=10.0),
            "USDT": Holding(5_000.0, um_wallet=15_000.0),
        },
        um_legs=[UmLeg("BTCUSDT", -10.0, 95_000.0)],
    )


def test_a_um_fill_that_reduces_realizes_pnl_into_the_um_wallet() -> None:
    book, q = basis_book(), quote(95_000.0)
    out = loose(fill_um(book, q, T0, Ids(), "BTCUSDT", "BUY", 2.0, 94_000.0))
    # short 10 @ 95,000, buy 2 @ 94,000: realized 2 · (95,000 − 94,000) = 2,000 USDT
    assert [e["e"] for e in out] == ["ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE"]
    new, update, filled = out
    assert new["o"]["X"] == "NEW" and filled["o"]["X"] == "FILLED"
    assert filled["o"]["rp"] == "2000.00000000" and filled["o"]["L"] == "94000.00000000"
    assert update == {
        "e": "ACCOUNT_UPDATE",
        "fs": "UM",
        "E": T0,
        "T": T0,
        "i": "",
        "a": {
            "m": "ORDER",
            "B": [
                {"a": "USDT", "wb": "17000.00000000", "cw": "17000.00000000", "bc": "0.00000000"}
            ],
            # −8 · (95,000 − 95,000) = 0 unrealized; entry unchanged on a reduction
            "P": [
                {
                    "s": "BTCUSDT",
                    "pa": "-8.000",
                    "ep": "95000.00000000",
                    "cr": "2000.00000000",
                    "up": "-0.00000000",
                    "ps": "BOTH",
                    "bep": "95000.00000000",
                }
            ],
        },
    }


def test_a_um_fill_through_zero_opens_the_rest_at_the_fill_price() -> None:
    book, q = basis_book(), quote(95_000.0)
    fill_um(book, q, T0, Ids(), "BTCUSDT", "BUY", 12.0, 94_000.0)
    # closes 10 (realized 10 · 1,000 = 10,000) and opens 2 long at 94,000
    assert book.um_legs == [UmLeg("BTCUSDT", 2.0, 94_000.0, realized=10_000.0)]
    assert book.holdings["USDT"].um_wallet == 25_000.0
    out = loose(fill_um(book, q, T0, Ids(), "BTCUSDT", "BUY", 2.0, 96_000.0))
    # adding: entry (2 · 94,000 + 2 · 96,000) / 4 = 95,000
    assert book.um_legs[0].entry_price == 95_000.0 and book.um_legs[0].amount == 4.0
    fill_um(book, q, T0, Ids(), "BTCUSDT", "SELL", 4.0)  # at the mark 95,000: realizes 0
    assert book.um_legs == [] and book.holdings["USDT"].um_wallet == 25_000.0
    assert out[1]["a"]["P"][0]["pa"] == "4.000"


def test_a_cm_fill_averages_the_entry_inversely_and_realizes_in_the_coin() -> None:
    book = AccountBook(
        "c",
        holdings={"BTC": Holding(cm_wallet=1.0)},
        cm_legs=[CmLeg("BTCUSD_PERP", 100.0, 50_000.0)],
    )
    q = quote(50_000.0)
    fill_cm(book, q, T0, Ids(), "BTCUSD_PERP", "BUY", 100.0, 40_000.0)
    # 200 contracts over (100 / 50,000 + 100 / 40,000) = 200 / 0.0045 = 44,444.44…
    leg = book.cm_legs[0]
    assert leg.contracts == 200.0 and abs(leg.entry_price - 200 / 0.0045) < 1e-9
    out = loose(fill_cm(book, q, T0, Ids(), "BTCUSD_PERP", "SELL", 100.0, 50_000.0))
    # 100 contracts · 100 USD · (1 / 44,444.44 − 1 / 50,000)
    #   = 10,000 · (0.0000225 − 0.00002) = 0.025 BTC
    assert abs(book.holdings["BTC"].cm_wallet - 1.025) < 1e-12
    assert out[1]["fs"] == "CM" and out[1]["a"]["B"][0]["wb"] == "1.02500000"
    assert out[1]["a"]["P"][0]["pa"] == "100"


def test_transfer_borrow_repay_and_funding() -> None:
    book, ids = basis_book(), Ids()
    out = loose(transfer(book, T0, ids, "USDT", 1_000.0, "margin", "um"))
    assert book.holdings["USDT"].cross_margin_asset == 4_000.0
    assert [e["e"] for e in out] == ["balanceUpdate", "outboundAccountPosition", "ACCOUNT_UPDATE"]
    assert out[0]["d"] == "-1000.00000000"
    assert out[2]["a"] == {
        "m": "DEPOSIT",
        "B": [{"a": "USDT", "wb": "16000.00000000", "cw": "16000.00000000", "bc": "1000.00000000"}],
        "P": [],
    }
    out = loose(borrow(book, T0, ids, "USDT", 500.0))
    assert out[0] | {"T": 0} == {
        "e": "liabilityChange", "E": T0, "a": "USDT", "t": "BORROW", "T": 0,
        "p": "500.00000000", "i": "0.00000000", "l": "500.00000000",
    }  # fmt: skip
    assert out[1]["B"] == [{"a": "USDT", "f": "4500.00000000", "l": "0.00000000"}]
    book.holdings["USDT"].cross_margin_interest = 2.0
    out = loose(repay(book, T0, ids, "USDT", 102.0))  # interest 2 first, then 100 of principal
    assert (out[0]["p"], out[0]["i"], out[0]["l"]) == ("100.00000000", "2.00000000", "400.00000000")
    assert book.holdings["USDT"].cross_margin_asset == 4_398.0
    out = loose(pay_funding(book, quote(95_000.0), T0))
    # basis 0: rate = clamp(0.0001 − 0) = 0.0001; a short receives −(−10) · 95,000 · 0.0001 = 95
    assert out == [
        {
            "e": "ACCOUNT_UPDATE", "fs": "UM", "E": T0, "T": T0, "i": "",
            "a": {"m": "FUNDING_FEE", "S": "BTCUSDT", "P": [], "B": [
                {"a": "USDT", "wb": "16095.00000000", "cw": "16095.00000000", "bc": "95.00000000"}
            ]},
        }
    ]  # fmt: skip


def near_liquidation() -> tuple[UserData, list[Quote], SimAccount]:
    book = AccountBook(
        "n",
        holdings={"USDT": Holding(um_wallet=5_600.0)},
        um_legs=[UmLeg("BTCUSDT", 10.0, 95_000.0, 125)],
    )
    account = SimAccount("n", "k" * 64, "s" * 64, book)
    now = [quote(95_000.0)]
    return UserData([account], lambda: now[0], lambda: T0, Faults()), now, account


def test_risk_levels_are_pushed_when_crossed_and_the_exchange_liquidates() -> None:
    data, now, account = near_liquidation()
    key = data.keys.create("n", T0)
    sub = data.subscribe(key)
    assert sub is not None
    # BTCUSDT brackets: 800k–3M at 0.65 %, cum 300 + 800,000 · 0.15 % = 1,500.
    # At 95,000: 5,600 / (950,000 · 0.0065 − 1,500 = 4,675) = 1.198 — REDUCE_ONLY, as it started.
    assert data.act("check", {}) == []
    now[0] = quote(95_100.0)  # 6,600 / (951,000 · 0.0065 − 1,500 = 4,681.5) = 1.4098: MARGIN_CALL
    (margin_call,) = loose(data.act("check", {}))
    assert margin_call == {
        "e": "riskLevelChange", "E": T0, "u": f"{6_600 / 4_681.5:.8f}", "s": "MARGIN_CALL",
        "eq": "6600.00000000", "ae": "6600.00000000", "m": "4681.50000000",
    }  # fmt: skip
    now[0] = quote(94_900.0)  # 4,600 / (949,000 · 0.0065 − 1,500 = 4,668.5) = 0.985
    (change,) = loose(data.act("check", {}))  # liquidation off: the level only
    assert change["s"] == "FORCE_LIQUIDATION" and change["u"] == f"{4_600 / 4_668.5:.8f}"
    data.auto_liquidate = True
    out = loose(data.act("check", {}))
    assert [e["e"] for e in out] == ["ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ORDER_TRADE_UPDATE"]
    order = out[0]["o"]
    assert (
        str(order["c"]).startswith("autoclose-") and order["S"] == "SELL" and order["q"] == "10.000"
    )
    # closed at the mark: 5,600 + 10 · (94,900 − 95,000) = 4,600; no position, MM 0: NORMAL
    assert out[1]["a"]["B"][0]["wb"] == "4600.00000000"
    assert out[1]["a"]["P"][0]["pa"] == "0.000"
    assert account.book.um_legs == []
    pushed = [sub.events.get_nowait() for _ in range(sub.events.qsize())]
    assert pushed == [margin_call, change, *out]  # each pushed once, in order


def test_a_dropped_event_is_not_sent_but_the_book_changed() -> None:
    data, _now, account = near_liquidation()
    sub = data.subscribe(data.keys.create("n", T0))
    assert sub is not None
    account.faults.set(user_event_drop=1)  # this account's next event
    out = loose(
        data.act("transfer", {"asset": "USDT", "amount": "100", "from": "um", "to": "margin"})
    )
    assert [e["e"] for e in out] == ["ACCOUNT_UPDATE", "balanceUpdate", "outboundAccountPosition"]
    pushed = [sub.events.get_nowait() for _ in range(sub.events.qsize())]
    assert pushed == out[1:]  # the first is lost: a gap only REST can heal
    assert account.book.holdings["USDT"].um_wallet == 5_500.0


def keys_of(event: Any, path: str = "") -> dict[str, set[str]]:
    """Field names by path: the top level, then nested objects and lists' first rows."""
    out = {path: set(event)}
    for name, value in event.items():
        row = value[0] if isinstance(value, list) and value else value
        if isinstance(row, dict):
            out |= keys_of(row, f"{path}.{name}")
    return out


def test_the_events_carry_the_documented_samples_fields() -> None:
    """Helper P's documented samples (tests/fixtures/binance_docs/SOURCES.md): every field a
    sample shows, the simulator sends — but the commission (``N`` / ``n``, "will not push if no
    commission") and the ``P`` rows the ACCOUNT_UPDATE sample lacks (checked by hand above)."""
    docs = Path(__file__).parents[3] / "fixtures" / "binance_docs"
    data, now, account = near_liquidation()
    ids = Ids()
    book, q = account.book, now[0]
    update, filled = loose(fill_um(book, q, T0, ids, "BTCUSDT", "SELL", 1.0))[1:]
    ours = {
        "ACCOUNT_UPDATE": update,
        "ORDER_TRADE_UPDATE": filled,
        "liabilityChange": loose(borrow(book, T0, ids, "USDT", 1.0))[0],
        "outboundAccountPosition": loose(borrow(book, T0, ids, "USDT", 1.0))[1],
        "riskLevelChange": loose(
            data.act("fill", {"symbol": "BTCUSDT", "side": "BUY", "quantity": "5"})
        )[-1],
    }
    for name, event in ours.items():
        sample = json.loads((docs / f"ws_pm_{name}.json").read_text())
        assert event["e"] == sample["e"]
        want, got = keys_of(sample), keys_of(event)
        if name == "ORDER_TRADE_UPDATE":
            want[".o"] -= {"N", "n"}
        for path, names in want.items():
            assert names <= got[path], f"{name}{path}: missing {names - got[path]}"
