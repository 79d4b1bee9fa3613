"""Binance's JSON → risk.model, one test per payload, shaped as Binance documents them.

Shapes follow the sample responses on developers.binance.com → Derivatives → Portfolio Margin
(Account Balance, Account Information, Query UM/CM Position Information, UM/CM Notional and
Leverage Brackets), Portfolio Margin Pro (Query Portfolio Margin Pro Tiered Collateral Rate,
Query Portfolio Margin Asset Index Price) and USDⓈ-M / COIN-M Market Data (Mark Price): decimals
as strings, empty strings for absent amounts, extra fields Binance adds later ignored.
"""

from __future__ import annotations

import math

import pytest

from connectors.binance.parse import snapshot_from_payloads
from risk.model import UnknownReason

BALANCE = [
    {
        "asset": "USDT",
        "totalWalletBalance": "122607.35137903",
        "crossMarginAsset": "92.27530794",
        "crossMarginBorrowed": "10.00000000",
        "crossMarginFree": "100.00000000",
        "crossMarginInterest": "0.72469206",
        "crossMarginLocked": "3.00000000",
        "umWalletBalance": "0.00000000",
        "umUnrealizedPNL": "23.72469206",
        "cmWalletBalance": "23.72469206",
        "cmUnrealizedPNL": "",
        "updateTime": 1617939110373,
        "negativeBalance": "0",
        "optionWalletBalance": "0",
        "optionEquity": "0",
    }
]
INDEX = [
    {"asset": "USDT", "assetIndexPrice": "0.99980000", "time": 1683518338121},
    {"asset": "BTC", "assetIndexPrice": "28251.91369060", "time": 1683518338122},
]


def payloads(**extra: object) -> dict[str, object]:
    return {
        "/papi/v1/balance": BALANCE,
        "/sapi/v1/portfolio/asset-index-price": INDEX,
        "/papi/v1/um/positionRisk": [],
        "/papi/v1/cm/positionRisk": [],
    } | {k.replace("__", "/"): v for k, v in extra.items()}


def position_problems(snap_problems: tuple[UnknownReason, ...]) -> list[UnknownReason]:
    """Leave out the docs balance's own reasons (23.72 USDT of UM PnL, no USDT-margined UM
    position in these tests)."""
    return [r for r in snap_problems if r.item != "USDT"]


def problems(p: dict[str, object]) -> list[UnknownReason]:
    snap, market = snapshot_from_payloads(p)
    return [*snap.problems, *market.problems]


def test_balance() -> None:
    snap, _ = snapshot_from_payloads(payloads())
    (usdt,) = snap.balances
    assert usdt.asset == "USDT"
    assert usdt.cross_margin_asset_qty == pytest.approx(92.27530794)
    assert usdt.cross_margin_borrowed_qty == pytest.approx(10.0)
    assert usdt.cross_margin_interest_qty == pytest.approx(0.72469206)
    assert usdt.um_unrealized_pnl_qty == pytest.approx(23.72469206)
    assert usdt.cm_unrealized_pnl_qty == 0.0  # "" = none
    # x = 92.27530794 − 10 − 0.72469206 + 0 + 23.72469206 + 23.72469206 + 0 = 129.0
    assert usdt.equity_qty == pytest.approx(129.0)
    assert snap.update_time_ms == 1617939110373


def test_asset_index_prices() -> None:
    _, market = snapshot_from_payloads(payloads())
    assert market.index_price_usd == {"USDT": 0.9998, "BTC": 28251.9136906}
    assert market.time_ms == 1683518338122


def test_account() -> None:
    account = {
        "uniMMR": "5167.92171923",
        "accountEquity": "122607.35137903",
        "actualEquity": "73.47428058",
        "accountInitialMargin": "23.72469206",
        "accountMaintMargin": "23.72469206",
        "accountStatus": "NORMAL",
        "virtualMaxWithdrawAmount": "1627523.32459208",
        "totalAvailableBalance": "",
        "totalMarginOpenLoss": "",
        "updateTime": 1657707212154,
    }
    snap, _ = snapshot_from_payloads(payloads(**{"/papi/v1/account": account}))
    r = snap.reported
    assert r is not None
    assert r.uni_mmr == pytest.approx(5167.92171923)
    assert r.account_status == "NORMAL"
    assert r.account_equity_usd == pytest.approx(122607.35137903)
    assert r.total_margin_open_loss_usd is None  # "": unavailable
    assert snap.open_margin_order_loss_usd == 0.0
    assert snap.update_time_ms == 1657707212154


def test_um_position_risk_and_marks() -> None:
    rows = [
        {
            "entryPrice": "6563.66500",
            "leverage": "10",
            "markPrice": "6679.50671178",
            "maxNotionalValue": "20000000",
            "positionAmt": "-0.010",
            "notional": "-66.79506712",
            "symbol": "BTCUSDT",
            "unRealizedProfit": "-1.15842",
            "liquidationPrice": "7930.72",
            "positionSide": "BOTH",
            "updateTime": 1625474304765,
        }
    ]
    premium = [{"symbol": "BTCUSDT", "markPrice": "6680.00000000", "indexPrice": "6679.1"}]
    snap, market = snapshot_from_payloads(
        payloads(**{"/papi/v1/um/positionRisk": rows, "/fapi/v1/premiumIndex": premium})
    )
    (pos,) = snap.um_positions
    assert (pos.symbol, pos.base_asset, pos.margin_asset) == ("BTCUSDT", "BTC", "USDT")
    assert pos.position_amt_qty == pytest.approx(-0.01)
    assert pos.leverage == 10.0
    assert pos.mark_price == pytest.approx(6679.50671178)
    # The premium index's mark is the one the model uses.
    assert market.mark_price["BTCUSDT"] == pytest.approx(6680.0)


def test_cm_position_risk_contract_size_from_notional() -> None:
    rows = [
        {
            "symbol": "BTCUSD_PERP",
            "positionAmt": "-3",
            "entryPrice": "60000.0",
            "markPrice": "50000.00000000",
            "unRealizedProfit": "0.00100000",
            "liquidationPrice": "0",
            "leverage": "20",
            "positionSide": "BOTH",
            "updateTime": 1627026881327,
            "maxQty": "50",
            "notionalValue": "-0.00600000",
        }
    ]
    snap, _ = snapshot_from_payloads(payloads(**{"/papi/v1/cm/positionRisk": rows}))
    (pos,) = snap.cm_positions
    # size = |−0.006 BTC| · 50,000 / |−3| = 100 USD per contract
    assert pos.contract_size_usd == pytest.approx(100.0)
    assert (pos.margin_asset, pos.position_amt_contracts, pos.leverage) == ("BTC", -3.0, 20.0)


def test_um_and_cm_leverage_brackets() -> None:
    um = [
        {
            "symbol": "ETHUSDT",
            "notionalCoef": "1.50",
            "brackets": [
                {
                    "bracket": 2,
                    "initialLeverage": 50,
                    "notionalCap": 50000,
                    "notionalFloor": 10000,
                    "maintMarginRatio": 0.01,
                    "cum": 35.0,
                },
                {
                    "bracket": 1,
                    "initialLeverage": 75,
                    "notionalCap": 10000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.0065,
                    "cum": 0.0,
                },
            ],
        }
    ]
    cm = [
        {
            "symbol": "BTCUSD_PERP",
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 125,
                    "qtyCap": 50,
                    "qtyFloor": 0,
                    "maintMarginRatio": 0.004,
                    "cum": 0.0,
                },
            ],
        }
    ]
    _, market = snapshot_from_payloads(
        payloads(**{"/papi/v1/um/leverageBracket": um, "/papi/v1/cm/leverageBracket": cm})
    )
    first, second = market.um_brackets["ETHUSDT"]  # sorted by floor
    assert (first.floor, first.cap, first.maint_margin_ratio) == (0.0, 10_000.0, 0.0065)
    assert (second.floor, second.cum, second.initial_leverage) == (10_000.0, 35.0, 50.0)
    (btc,) = market.cm_brackets["BTCUSD_PERP"]
    assert (btc.floor, btc.cap) == (0.0, 50.0)


def test_tiered_collateral_rates() -> None:
    tiered = [
        {
            "asset": "BNB",
            "collateralInfo": [
                {
                    "tierFloor": "1000.0000",
                    "tierCap": "2000.0000",
                    "collateralRate": "0.9000",
                    "cum": "100.0000",
                },
                {
                    "tierFloor": "0.0000",
                    "tierCap": "1000.0000",
                    "collateralRate": "1.0000",
                    "cum": "0.0000",
                },
            ],
        }
    ]
    _, market = snapshot_from_payloads(payloads(**{"/sapi/v2/portfolio/collateralRate": tiered}))
    low, high = market.collateral_tiers["BNB"]
    assert (low.floor_usd, low.collateral_rate) == (0.0, 1.0)
    assert (high.floor_usd, high.collateral_rate, high.cum_usd) == (1000.0, 0.9, 100.0)


def test_flat_collateral_rates() -> None:
    flat = [
        {"asset": "USDC", "collateralRate": "1.0000"},
        {"asset": "BUSD", "collateralRate": "0.9"},
    ]
    _, market = snapshot_from_payloads(payloads(**{"/sapi/v1/portfolio/collateralRate": flat}))
    assert market.collateral_flat is not None and market.collateral_tiers == {}
    (busd,) = market.collateral_flat["BUSD"]
    assert busd.collateral_rate == 0.9 and math.isinf(busd.cap_usd)


def test_coin_m_premium_index() -> None:
    premium = [{"symbol": "BTCUSD_PERP", "pair": "BTCUSD", "markPrice": "11029.69574559"}]
    _, market = snapshot_from_payloads(payloads(**{"/dapi/v1/premiumIndex": premium}))
    assert market.mark_price["BTCUSD_PERP"] == pytest.approx(11029.69574559)


@pytest.mark.parametrize(
    ("bad", "field", "item"),
    [
        ({"/papi/v1/balance": [{"asset": "USDT"}]}, "crossMarginAsset", "USDT"),
        (
            {"/papi/v1/balance": [{**BALANCE[0], "umWalletBalance": "1e"}]},
            "umWalletBalance",
            "USDT",
        ),
        (
            {"/papi/v1/balance": [{**BALANCE[0], "crossMarginBorrowed": "-1"}]},
            "crossMarginBorrowed",
            "USDT",
        ),
        ({"/papi/v1/balance": {"code": -1000}}, "asset", ""),
        ({"/papi/v1/balance": "oops"}, "<root>", ""),
        ({"/papi/v1/balance": [BALANCE[0], BALANCE[0]]}, "asset", "USDT"),
        ({"/sapi/v1/portfolio/asset-index-price": [{"asset": "BTC"}]}, "assetIndexPrice", "BTC"),
        (
            {"/sapi/v1/portfolio/asset-index-price": [{"asset": "BTC", "assetIndexPrice": "0"}]},
            "assetIndexPrice",
            "BTC",
        ),
        (
            {"/papi/v1/um/positionRisk": [{"symbol": "BTCUSDT", "positionAmt": "NaN"}]},
            "positionAmt",
            "BTCUSDT",
        ),
        (
            {
                "/papi/v1/um/positionRisk": [
                    {"symbol": "BTCUSDT", "positionAmt": "1", "positionSide": "SHORT"}
                ]
            },
            "positionSide",
            "BTCUSDT",
        ),
        (
            {"/papi/v1/um/positionRisk": [{"symbol": "BTCUSDT", "positionAmt": "1e30"}]},
            "positionAmt",
            "BTCUSDT",
        ),
    ],
)
def test_malformed_payloads_name_path_row_and_field(
    bad: dict[str, object], field: str, item: str
) -> None:
    (path,) = bad
    found = [(r.path, r.field, r.item) for r in problems(payloads() | bad)]
    assert (path, field, item) in found


def test_a_missing_payload_is_a_reason_never_nothing() -> None:
    found = problems({"/sapi/v1/portfolio/asset-index-price": INDEX})
    paths = {r.path for r in found if r.field == "<root>"}
    assert {"/papi/v1/balance", "/papi/v1/um/positionRisk", "/papi/v1/cm/positionRisk"} <= paths


def test_futures_pnl_without_its_positions_file_names_the_balance() -> None:
    # The balance shows 23.72 USDT of UM PnL; the positions were not read: never "no positions".
    p = payloads()
    del p["/papi/v1/um/positionRisk"]
    found = problems(p)
    assert any(
        (r.path, r.field, r.item) == ("/papi/v1/balance", "umUnrealizedPNL", "USDT") for r in found
    )


def test_zero_rows_of_unknown_symbols_are_ignored_and_sides_tolerated() -> None:
    um = [
        {"symbol": "1000XYZUSDX", "positionAmt": "0", "markPrice": "0.00000000"},
        {"symbol": "BTCUSDT", "positionAmt": "0.5", "positionSide": None, "markPrice": "30000"},
        {"symbol": "ETHUSDT", "positionAmt": "-2", "positionSide": "SHORT", "markPrice": "2000"},
        {"symbol": "ETHUSDT", "positionAmt": "3", "positionSide": "LONG", "markPrice": "2000"},
    ]
    snap, _ = snapshot_from_payloads(payloads(**{"/papi/v1/um/positionRisk": um}))
    assert position_problems(snap.problems) == []
    assert [(p.symbol, p.position_side, p.position_amt_qty) for p in snap.um_positions] == [
        ("BTCUSDT", "BOTH", 0.5),
        ("ETHUSDT", "SHORT", -2.0),
        ("ETHUSDT", "LONG", 3.0),
    ]
    assert math.isnan(snap.um_positions[0].leverage)  # absent: unavailable, not refused


def test_coin_m_contract_size_is_checked_against_notional_value() -> None:
    # ETHUSD_PERP is 10 USD a contract: 100 contracts at 2,000 → 1,000 USD / 2,000 = 0.5 ETH.
    good = {
        "symbol": "ETHUSD_PERP",
        "positionAmt": "100",
        "markPrice": "2000",
        "notionalValue": "0.5",
    }
    snap, _ = snapshot_from_payloads(payloads(**{"/papi/v1/cm/positionRisk": [good]}))
    (pos,) = snap.cm_positions
    assert pos.contract_size_usd == 10.0 and position_problems(snap.problems) == []
    # 5 ETH would mean 100 USD contracts: a notional that cannot be trusted.
    bad = {**good, "notionalValue": "5"}
    snap, _ = snapshot_from_payloads(payloads(**{"/papi/v1/cm/positionRisk": [bad]}))
    assert snap.cm_positions == ()
    ((path, field, item),) = [(r.path, r.field, r.item) for r in position_problems(snap.problems)]
    assert (path, field, item) == ("/papi/v1/cm/positionRisk", "notionalValue", "ETHUSD_PERP")


def test_uni_mmr_sentinel_and_loose_display_fields() -> None:
    account = {"uniMMR": "99999999", "accountEquity": "10", "accountStatus": None}
    snap, _ = snapshot_from_payloads(payloads(**{"/papi/v1/account": account}))
    assert snap.reported is not None
    assert math.isinf(snap.reported.uni_mmr or 0.0)  # "no maintenance margin", not a figure
    assert snap.reported.account_status is None
    assert snap.reported.account_maint_margin_usd is None
    assert position_problems(snap.problems) == []
