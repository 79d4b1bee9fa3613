"""Portfolio Margin user-data-stream messages read into typed events: Binance's documented samples
(tests/fixtures/binance_docs/ws_pm_*.json, SOURCES.md), hand-written events with the documented
field names, an unknown type, and malformed fields named in the error."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.binance.errors import BadPayload
from connectors.binance.parse.events import SOURCE, parse_event
from risk.account_events import (
    FuturesBalance,
    FuturesPosition,
    FuturesUpdate,
    LeverageUpdate,
    LiabilityUpdate,
    ListenKeyExpired,
    MarginBalance,
    MarginDelta,
    MarginOrderUpdate,
    MarginPosition,
    OpenOrderLoss,
    OrderUpdate,
    RiskLevelChange,
    UnknownEvent,
)
from tests.support.paths import BINANCE_DOCS


def sample(event: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((BINANCE_DOCS / f"ws_pm_{event}.json").read_text())
    return body


def test_risk_level_change_sample() -> None:
    assert parse_event(sample("riskLevelChange")) == RiskLevelChange(
        1587727187525, 1.99999999, "MARGIN_CALL", 30.23416728, 30.23416728, 15.11708371
    )


def test_liability_change_sample() -> None:
    assert parse_event(sample("liabilityChange")) == LiabilityUpdate(
        1573200697110, "BTC", "BORROW", 1.0345343, 0.0, 1.03476851
    )


def test_open_order_loss_sample() -> None:
    assert parse_event(sample("openOrderLoss")) == OpenOrderLoss(
        1678710578788, (("BUSD", -0.1232313), ("BNB", -12.1232313))
    )


def test_outbound_account_position_sample() -> None:
    assert parse_event(sample("outboundAccountPosition")) == MarginPosition(
        1564034571105, (MarginBalance("ETH", 10000.0, 0.0),)
    )


def test_order_trade_update_sample_is_no_liquidation() -> None:
    event = parse_event(sample("ORDER_TRADE_UPDATE"))
    assert event == OrderUpdate(
        1568879465651,
        "UM",
        "BTCUSDT",
        "TEST",
        "SELL",
        "TRAILING_STOP_MARKET",
        "NEW",
        "NEW",
        0.0,
        0.0,
        0.0,
        "LONG",
        order_id=8886774,  # "i":8886774
        orig_qty=0.001,  # "q":"0.001"
    )
    assert isinstance(event, OrderUpdate) and not event.liquidation and not event.adl
    # Without "i" and "q" the order is still read (they only name the order in alert words).
    raw = sample("ORDER_TRADE_UPDATE")
    del raw["o"]["i"], raw["o"]["q"]
    bare = parse_event(raw)
    assert isinstance(bare, OrderUpdate) and (bare.order_id, bare.orig_qty) == (None, None)


@pytest.mark.parametrize(
    ("client_id", "liquidation", "adl"),
    [
        ("autoclose-1568879465650", True, False),  # "starts with autoclose-": liquidation
        ("adl_autoclose", False, True),  # "adl_autoclose": ADL
        ("settlement_autoclose-123", False, False),  # delisting / delivery: neither
        ("autoclose", False, False),  # no dash: not the prefix
    ],
)
def test_liquidation_and_adl_order_ids(client_id: str, liquidation: bool, adl: bool) -> None:
    raw = sample("ORDER_TRADE_UPDATE")
    raw["o"]["c"] = client_id
    event = parse_event(raw)
    assert isinstance(event, OrderUpdate)
    assert (event.liquidation, event.adl) == (liquidation, adl)


def test_account_update_sample_balance() -> None:
    assert parse_event(sample("ACCOUNT_UPDATE")) == FuturesUpdate(
        1564745798939,
        "UM",
        "ORDER",
        (FuturesBalance("USDT", 122624.12345678, 100.12345678, 50.12345678),),
        (),
    )


def test_account_update_with_positions_cm() -> None:
    raw = {
        "e": "ACCOUNT_UPDATE",
        "fs": "CM",
        "E": 1700000000001,
        "T": 1700000000000,
        "i": "SfsR",
        "a": {
            "m": "ORDER",
            "B": [{"a": "BTC", "wb": "1.5", "cw": "1.5", "bc": "0"}],
            "P": [
                {
                    "s": "BTCUSD_PERP",
                    "pa": "20",
                    "ep": "6563.6",
                    "cr": "0",
                    "up": "2850.212",
                    "ps": "LONG",
                    "bep": "6563.7",
                }
            ],
        },
    }
    assert parse_event(raw) == FuturesUpdate(
        1700000000001,
        "CM",
        "ORDER",
        (FuturesBalance("BTC", 1.5, 1.5, 0.0),),
        (FuturesPosition("BTCUSD_PERP", "LONG", 20.0, 6563.6, 2850.212, 0.0, 6563.7),),
    )


def test_the_other_documented_events() -> None:
    assert parse_event(
        {"e": "balanceUpdate", "E": 1, "a": "USDT", "d": "-12.5", "U": 7, "T": 2}
    ) == MarginDelta(1, "USDT", -12.5)
    assert parse_event({"e": "listenKeyExpired", "E": 5}) == ListenKeyExpired(5)
    assert parse_event(
        {"e": "ACCOUNT_CONFIG_UPDATE", "fs": "UM", "E": 9, "T": 8, "ac": {"s": "BTCUSDT", "l": 25}}
    ) == LeverageUpdate(9, "UM", "BTCUSDT", 25.0)
    report = {
        "e": "executionReport",
        "E": 3,
        "s": "ETHBTC",
        "c": "mUvoqJxFIILMdfAW5iGSOW",
        "S": "BUY",
        "x": "TRADE",
        "X": "FILLED",
        "l": "1.00000000",
        "L": "0.10264410",
    }
    assert parse_event(report) == MarginOrderUpdate(
        3, "ETHBTC", "mUvoqJxFIILMdfAW5iGSOW", "BUY", "TRADE", "FILLED", 1.0, 0.1026441
    )


def test_unknown_and_known_without_effect() -> None:
    assert parse_event({"e": "SOMETHING_NEW", "E": 4}) == UnknownEvent(4, "SOMETHING_NEW")
    assert parse_event({"e": "ALGO_UPDATE", "E": 4}) == UnknownEvent(4, "ALGO_UPDATE", True)
    assert parse_event({"e": "SOMETHING_NEW"}) == UnknownEvent(None, "SOMETHING_NEW")


def test_combined_stream_wrapper_is_unwrapped() -> None:
    wrapped = {"stream": "key", "data": sample("riskLevelChange")}
    assert isinstance(parse_event(wrapped), RiskLevelChange)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({**sample("riskLevelChange"), "u": "abc"}, "u"),
        ({**sample("riskLevelChange"), "E": "1587727187525"}, "E"),
        ({k: v for k, v in sample("liabilityChange").items() if k != "l"}, "l"),
        ({**sample("liabilityChange"), "l": "-1"}, "l"),
        ({**sample("ACCOUNT_UPDATE"), "fs": "XM"}, "fs"),
        ({**sample("openOrderLoss"), "O": [{"a": "BNB", "o": "NaN"}]}, "O[0].o"),
        ({**sample("outboundAccountPosition"), "B": "ETH"}, "B"),
    ],
)
def test_a_malformed_field_is_named(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(BadPayload) as info:
        parse_event(raw)
    assert info.value.field == field
    assert info.value.path is not None and info.value.path.startswith(SOURCE)
    assert str(raw["e"]) in info.value.path


def test_a_bad_position_row_names_its_index() -> None:
    raw = sample("ACCOUNT_UPDATE")
    raw["a"]["P"] = [
        {"s": "BTCUSDT", "pa": "1", "ep": "1", "cr": "0", "up": "0", "ps": "BOTH", "bep": "1"},
        {"s": "ETHUSDT", "pa": "", "ep": "1", "cr": "0", "up": "0", "ps": "BOTH", "bep": "1"},
    ]
    with pytest.raises(BadPayload) as info:
        parse_event(raw)
    assert info.value.field == "a.P[1].pa"


@pytest.mark.parametrize("raw", [[], "x", {"E": 1}, {"e": ""}])
def test_not_an_event(raw: object) -> None:
    with pytest.raises(BadPayload):
        parse_event(raw)
