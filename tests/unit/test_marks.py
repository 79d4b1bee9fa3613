"""Mark-price stream messages (Binance's documented samples) and how they move the last poll's
payloads. Expected numbers are the pages' own values and hand arithmetic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.binance.marks import (
    MarkUpdate,
    apply_marks,
    cm_pairs,
    index_driver,
    parse_mark_message,
    relevant_symbols,
    updates_from_premium_index,
)
from connectors.binance.parse import (
    ASSET_INDEX_PRICE,
    BALANCE,
    CM_POSITION_RISK,
    CM_PREMIUM_INDEX,
    UM_POSITION_RISK,
    UM_PREMIUM_INDEX,
    PayloadError,
)

DOCS = Path(__file__).parents[1] / "fixtures" / "binance_docs"


def sample(name: str) -> object:
    return json.loads((DOCS / name).read_text())


def test_usdm_stream_sample_parses_to_the_page_values() -> None:
    (u,) = parse_mark_message(sample("ws_fstream_markPrice.json"))
    assert u == MarkUpdate("BTCUSDT", 11794.15, 11784.62659091, 1562305380000)


def test_coinm_pair_sample_in_a_combined_stream_wrapper() -> None:
    message = {"stream": "btcusd@markPrice@1s", "data": sample("ws_dstream_pair_markPrice.json")}
    quarterly, perp = parse_mark_message(message)
    assert quarterly.symbol == "BTCUSD_201225" and quarterly.mark_price == 10934.62615417
    assert perp == MarkUpdate("BTCUSD_PERP", 11012.31359011, 10933.62615417, 1596095725000)


@pytest.mark.parametrize(
    "message",
    [{"e": "aggTrade", "s": "BTCUSDT"}, {"e": "markPriceUpdate", "s": "BTCUSDT"}, "[]x", 7],
)
def test_anything_else_is_a_payload_error(message: object) -> None:
    with pytest.raises(PayloadError):
        parse_mark_message(message)


def poll() -> dict[str, object]:
    """A poll's payloads, shaped as Binance sends them (strings for decimals)."""
    return {
        BALANCE: [{"asset": "BTC"}, {"asset": "ETH"}, {"asset": "USDT"}],
        UM_POSITION_RISK: [{"symbol": "ETHUSDT", "positionAmt": "-10"}],
        UM_PREMIUM_INDEX: [
            {"symbol": "BTCUSDT", "markPrice": "95010.0", "indexPrice": "95000.0", "time": 1},
            {"symbol": "ETHUSDT", "markPrice": "3501.0", "indexPrice": "3500.0", "time": 1},
            {"symbol": "SOLUSDT", "markPrice": "180.1", "indexPrice": "180.0", "time": 1},
        ],
        CM_PREMIUM_INDEX: [
            {
                "symbol": "BTCUSD_PERP",
                "pair": "BTCUSD",
                "markPrice": "95020.0",
                "indexPrice": "95004.0",
                "time": 1,
            }
        ],
        ASSET_INDEX_PRICE: [
            {"asset": "BTC", "assetIndexPrice": "95002.0", "time": 1},
            {"asset": "ETH", "assetIndexPrice": "3499.3", "time": 1},
            {"asset": "USDT", "assetIndexPrice": "0.9998", "time": 1},
        ],
    }


def rows(payloads: dict[str, object], path: str) -> list[dict[str, Any]]:
    value = payloads[path]
    assert isinstance(value, list)
    return value


def test_relevant_symbols_are_positions_and_the_held_assets_index_drivers() -> None:
    # ETHUSDT: a position (and ETH's driver); BTC's driver is the COIN-M perpetual (a USD
    # index, like the asset index); USDT has none; SOL is neither held nor a position.
    assert relevant_symbols(poll()) == {"ETHUSDT", "BTCUSD_PERP"}
    assert index_driver("BTC", ["BTCUSDT", "BTCUSD_PERP"]) == "BTCUSD_PERP"
    assert index_driver("ETH", ["BTCUSDT", "ETHUSDT"]) == "ETHUSDT"
    assert index_driver("USDT", ["BTCUSDT"]) is None


def test_apply_marks_moves_marks_and_scales_asset_indices_by_the_drivers_move() -> None:
    updates = [
        MarkUpdate("ETHUSDT", 3535.0, 3535.0, 2_000),  # ETH index +1 %: 3,500 → 3,535
        MarkUpdate("BTCUSD_PERP", 94_100.0, 94_053.96, 2_500),  # BTC index −1 %: 95,004 → 94,053.96
    ]
    out = apply_marks(poll(), updates)
    eth = next(r for r in rows(out, UM_PREMIUM_INDEX) if r["symbol"] == "ETHUSDT")
    assert (eth["markPrice"], eth["indexPrice"], eth["time"]) == (
        "3535.00000000",
        "3535.00000000",
        2_000,
    )
    btc_usdt = next(r for r in rows(out, UM_PREMIUM_INDEX) if r["symbol"] == "BTCUSDT")
    assert btc_usdt["markPrice"] == "95010.0"  # no update for it: untouched
    index = {r["asset"]: r for r in rows(out, ASSET_INDEX_PRICE)}
    # ETH: 3,499.3 · 3,535 / 3,500 = 3,499.3 · 1.01 = 3,534.293
    assert float(index["ETH"]["assetIndexPrice"]) == pytest.approx(3_534.293)
    # BTC: 95,002 · 94,053.96 / 95,004 = 95,002 · 0.99 = 94,051.98
    assert float(index["BTC"]["assetIndexPrice"]) == pytest.approx(94_051.98)
    assert index["BTC"]["time"] == 2_500  # the newest update applied
    assert index["USDT"]["assetIndexPrice"] == "0.9998"  # no driver: as polled


def test_apply_marks_leaves_its_input_alone() -> None:
    base = poll()
    before = json.dumps(base, sort_keys=True)
    apply_marks(base, [MarkUpdate("ETHUSDT", 1.0, 1.0, 9)])
    assert json.dumps(base, sort_keys=True) == before


def test_rest_fallback_reads_premium_index_as_updates() -> None:
    updates = updates_from_premium_index(poll())
    assert MarkUpdate("BTCUSD_PERP", 95_020.0, 95_004.0, 1) in updates
    assert len(updates) == 4
    assert cm_pairs(poll()) == ("BTCUSD",)


def test_apply_marks_re_marks_positions_and_their_balance_pnl() -> None:
    base = {
        **poll(),
        BALANCE: [
            {"asset": "USDT", "umUnrealizedPNL": "-10.0", "cmUnrealizedPNL": "0"},
            {"asset": "BTC", "umUnrealizedPNL": "0", "cmUnrealizedPNL": "0.001"},
        ],
        UM_POSITION_RISK: [
            {
                "symbol": "ETHUSDT",
                "positionAmt": "-10",
                "markPrice": "3501.0",
                "unRealizedProfit": "-10.0",
                "notional": "-35010.0",
            }
        ],
        CM_POSITION_RISK: [
            {
                "symbol": "BTCUSD_PERP",
                "positionAmt": "-100",
                "markPrice": "95020.0",
                "unRealizedProfit": "0.001",
                # 100 contracts of 100 USD at 95,020: 10,000 / 95,020 = 0.10524100 BTC
                "notionalValue": "-0.10524100",
            }
        ],
    }
    out = apply_marks(
        base,
        [
            MarkUpdate("ETHUSDT", 3535.0, 3535.0, 2),
            MarkUpdate("BTCUSD_PERP", 94_100.0, 94_053.96, 2),
        ],
    )
    (eth,) = rows(out, UM_POSITION_RISK)
    # Short 10 ETH, mark 3,501 → 3,535: PnL change −10 · 34 = −340 USDT → −10 − 340 = −350.
    assert float(eth["unRealizedProfit"]) == pytest.approx(-350.0)
    assert float(eth["notional"]) == pytest.approx(-35_350.0)
    (btc,) = rows(out, CM_POSITION_RISK)
    # Size = 0.105241 · 95,020 / 100 = 100.0 USD (to the sample's rounding). Short 100:
    # size · (−100) · (1/95,020 − 1/94,100) = −10,000 · (1.0524100e-5 − 1.0626993e-5)
    # = −10,000 · −1.028935e-7 = +0.00102893 BTC (a short gains as the price falls).
    size = 0.105241 * 95_020 / 100
    change = size * -100 * (1 / 95_020 - 1 / 94_100)
    assert change == pytest.approx(0.00102893, rel=1e-4)
    assert float(btc["unRealizedProfit"]) == pytest.approx(0.001 + change, abs=1e-8)
    assert float(btc["notionalValue"]) == pytest.approx(-100 * size / 94_100, rel=1e-6)
    balance = {r["asset"]: r for r in rows(out, BALANCE)}
    assert float(balance["USDT"]["umUnrealizedPNL"]) == pytest.approx(-350.0)
    assert float(balance["BTC"]["cmUnrealizedPNL"]) == pytest.approx(0.001 + change, abs=1e-8)
