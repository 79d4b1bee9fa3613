"""Mark-price stream messages (Binance's documented samples), the symbols and index base a poll
gives them, and a poll's parsed payloads re-marked (``risk.remark``) against the same payloads
as Binance would send them at the new prices. Expected numbers are the pages' own values and hand
arithmetic."""

from __future__ import annotations

import json
import math

import pytest

from connectors.binance.marks import (
    MarkUpdate,
    cm_pairs,
    index_driver,
    mark_basis,
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
    BadPayload,
    snapshot_from_payloads,
)
from risk.remark import remark
from tests.support.paths import BINANCE_DOCS

DOCS = BINANCE_DOCS


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
    with pytest.raises(BadPayload):
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


def test_relevant_symbols_are_positions_and_the_held_assets_index_drivers() -> None:
    # ETHUSDT: a position (and ETH's driver); BTC's driver is the COIN-M perpetual (a USD
    # index, like the asset index); USDT has none; SOL is neither held nor a position.
    assert relevant_symbols(poll()) == {"ETHUSDT", "BTCUSD_PERP"}
    assert index_driver("BTC", ["BTCUSDT", "BTCUSD_PERP"]) == "BTCUSD_PERP"
    assert index_driver("ETH", ["BTCUSDT", "ETHUSDT"]) == "ETHUSDT"
    assert index_driver("USDT", ["BTCUSDT"]) is None


def test_mark_basis_is_the_polls_index_price_per_listed_contract() -> None:
    basis = mark_basis(poll())
    assert basis.contract_index_price == {
        "BTCUSDT": 95_000.0,
        "ETHUSDT": 3_500.0,
        "SOLUSDT": 180.0,
        "BTCUSD_PERP": 95_004.0,
    }
    bad = {**poll(), UM_PREMIUM_INDEX: [{"symbol": "ETHUSDT", "indexPrice": "x"}]}
    assert math.isnan(mark_basis(bad).contract_index_price["ETHUSDT"])  # moves nothing


def balance_row(asset: str, um_wallet: str, um_pnl: str, held: str, cm_pnl: str) -> dict[str, str]:
    return {
        "asset": asset,
        "crossMarginAsset": held,
        "crossMarginBorrowed": "0",
        "crossMarginInterest": "0",
        "umWalletBalance": um_wallet,
        "cmWalletBalance": "0",
        "umUnrealizedPNL": um_pnl,
        "cmUnrealizedPNL": cm_pnl,
    }


def at(
    eth_mark: str, eth_pnl: str, btc_mark: str, btc_pnl: str, btc_nv: str, index: dict[str, str]
) -> dict[str, object]:
    """The poll's payloads as Binance would send them at these prices (short 10 ETHUSDT entered
    at 3,500; short 100 BTCUSD_PERP contracts of 100 USD)."""
    return {
        **poll(),
        BALANCE: [
            balance_row("USDT", "50000", eth_pnl, "0", "0"),
            balance_row("BTC", "0", "0", "1", btc_pnl),
            balance_row("ETH", "0", "0", "2", "0"),
        ],
        UM_POSITION_RISK: [
            {
                "symbol": "ETHUSDT",
                "positionAmt": "-10",
                "entryPrice": "3500.0",
                "markPrice": eth_mark,
                "unRealizedProfit": eth_pnl,
            }
        ],
        CM_POSITION_RISK: [
            {
                "symbol": "BTCUSD_PERP",
                "positionAmt": "-100",
                "entryPrice": "94930.0",
                "markPrice": btc_mark,
                "unRealizedProfit": btc_pnl,
                "notionalValue": btc_nv,
            }
        ],
        UM_PREMIUM_INDEX: [
            {"symbol": "ETHUSDT", "markPrice": eth_mark, "indexPrice": index["ETHUSDT"], "time": 1},
        ],
        CM_PREMIUM_INDEX: [
            {
                "symbol": "BTCUSD_PERP",
                "pair": "BTCUSD",
                "markPrice": btc_mark,
                "indexPrice": index["BTCUSD_PERP"],
                "time": 1,
            }
        ],
        ASSET_INDEX_PRICE: [
            {"asset": "BTC", "assetIndexPrice": index["BTC"], "time": index["time"]},
            {"asset": "ETH", "assetIndexPrice": index["ETH"], "time": index["time"]},
            {"asset": "USDT", "assetIndexPrice": "0.9998", "time": index["time"]},
        ],
    }


def test_re_marked_poll_reads_like_a_poll_at_the_new_prices() -> None:
    # 100 contracts of 100 USD at 95,020: 10,000 / 95,020 = 0.10524100 BTC.
    polled = at(
        "3501.0",
        "-10.0",
        "95020.0",
        "0.001",
        "-0.10524100",
        {
            "ETHUSDT": "3500.0",
            "BTCUSD_PERP": "95004.0",
            "BTC": "95002.0",
            "ETH": "3499.3",
            "time": "1",
        },
    )
    # Short 10 ETH, 3,501 → 3,535: −10 − 10 · 34 = −350 USDT. Short 100 · 100 USD BTC,
    # 95,020 → 94,100: 0.001 − 10,000 · (1/95,020 − 1/94,100) = 0.001 + 0.00102893 BTC.
    btc_pnl = 0.001 - 10_000 * (1 / 95_020 - 1 / 94_100)
    # Index: ETH 3,499.3 · 3,535/3,500 = 3,534.293; BTC 95,002 · 94,053.96/95,004 = 94,051.98.
    later = at(
        "3535.0",
        "-350.0",
        "94100.0",
        repr(btc_pnl),
        repr(-10_000 / 94_100),
        {
            "ETHUSDT": "3535.0",
            "BTCUSD_PERP": "94053.96",
            "BTC": "94051.98",
            "ETH": "3534.293",
            "time": "2500",
        },
    )
    updates = [
        MarkUpdate("ETHUSDT", 3_535.0, 3_535.0, 2_000),
        MarkUpdate("BTCUSD_PERP", 94_100.0, 94_053.96, 2_500),
    ]
    s, m = remark(*snapshot_from_payloads(polled), mark_basis(polled), updates)
    want_s, want_m = snapshot_from_payloads(later)
    assert s.problems == want_s.problems == () and m.problems == want_m.problems
    for got, want in zip(
        s.um_positions + s.cm_positions, want_s.um_positions + want_s.cm_positions, strict=True
    ):
        assert (got.symbol, got.mark_price) == (want.symbol, want.mark_price)
        assert got.unrealized_pnl_qty == pytest.approx(want.unrealized_pnl_qty, rel=1e-12)
    assert [b.equity_qty for b in s.balances] == pytest.approx(
        [b.equity_qty for b in want_s.balances], rel=1e-12
    )
    assert m.mark_price == want_m.mark_price
    assert m.index_price_usd == pytest.approx(want_m.index_price_usd, rel=1e-12)
    assert m.time_ms == want_m.time_ms == 2_500


def test_rest_fallback_reads_premium_index_as_updates() -> None:
    updates = updates_from_premium_index(poll())
    assert MarkUpdate("BTCUSD_PERP", 95_020.0, 95_004.0, 1) in updates
    assert len(updates) == 4
    assert cm_pairs(poll()) == ("BTCUSD",)
