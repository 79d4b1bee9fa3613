"""Binance's documented sample responses (tests/fixtures/binance_docs, pages in SOURCES.md)
parse to the values printed on those pages."""

from __future__ import annotations

import json

import pytest

from connectors.binance.capture import file_name
from connectors.binance.parse import (
    API_RESTRICTIONS,
    TICKER_PRICE,
    parse_key_permissions,
    parse_reported_position_margins,
    parse_ticker_prices,
    snapshot_from_payloads,
)
from tests.support.paths import BINANCE_DOCS

DOCS = BINANCE_DOCS
PATHS = (
    "/papi/v1/account",
    "/papi/v1/balance",
    "/papi/v1/um/positionRisk",
    "/papi/v1/cm/positionRisk",
    "/papi/v1/um/account",
    "/papi/v1/cm/account",
    "/papi/v1/um/leverageBracket",
    "/papi/v1/cm/leverageBracket",
    "/sapi/v2/portfolio/collateralRate",
    "/sapi/v1/portfolio/asset-index-price",
    "/fapi/v1/premiumIndex",
    "/dapi/v1/premiumIndex",
    "/api/v3/ticker/price",
    "/sapi/v1/account/apiRestrictions",
)


def documented() -> dict[str, object]:
    return {p: json.loads((DOCS / file_name(p)).read_text()) for p in PATHS}


def test_every_sample_is_named_as_a_capture() -> None:
    on_disk = {f.name for f in DOCS.glob("*.json")}
    assert {file_name(p) for p in PATHS} <= on_disk


def test_snapshot_from_the_documented_samples() -> None:
    snapshot, market = snapshot_from_payloads(documented())
    (usdt,) = snapshot.balances
    # Balance page: crossMarginAsset 92.27530794 − borrowed 10 − interest 0.72469206
    # + umWallet 0 + umUnrealizedPNL 23.72469206 + cmWallet 23.72469206 + cmUnrealizedPNL ""(0)
    # = 129.0
    assert usdt.asset == "USDT"
    assert usdt.cross_margin_borrowed_qty == 10.0
    assert usdt.cross_margin_interest_qty == pytest.approx(0.72469206)
    assert usdt.cm_unrealized_pnl_qty == 0.0
    assert usdt.equity_qty == pytest.approx(129.0)
    assert snapshot.reported is not None
    assert snapshot.reported.uni_mmr == pytest.approx(5167.92171923)
    assert snapshot.reported.account_equity_usd == pytest.approx(122607.35137903)
    assert snapshot.reported.account_status == "NORMAL"
    # "" on the page: unavailable, not a made-up 0 (counted as no open loss, and said so).
    assert snapshot.reported.total_margin_open_loss_usd is None
    assert snapshot.open_margin_order_loss_usd == 0.0
    # The pages' position rows are all zero (BTCUSD_201225 even with markPrice "0.00000000"):
    # zero rows are skipped, whatever their symbol, and are no problem.
    assert snapshot.um_positions == () and snapshot.cm_positions == ()
    # The pages do not agree with each other: the balance shows 23.72 USDT of UM PnL while the
    # UM positions page lists no open position. pmdesk cannot know that position's MM.
    assert {(r.path, r.field, r.item) for r in snapshot.problems} == {
        ("/papi/v1/balance", "umUnrealizedPNL", "USDT"),
        ("/papi/v1/um/positionRisk", "positionAmt", "USDT"),
    }
    # Brackets: ETHUSDT [0, 10,000) at 0.65 %; BTCUSD_PERP [0, 50) coin at 0.4 %.
    (eth,) = market.um_brackets["ETHUSDT"]
    assert (eth.floor, eth.cap, eth.maint_margin_ratio, eth.cum) == (0.0, 10_000.0, 0.0065, 0.0)
    (coin,) = market.cm_brackets["BTCUSD_PERP"]
    assert (coin.floor, coin.cap, coin.maint_margin_ratio) == (0.0, 50.0, 0.004)
    # Tiered collateral (v2): BNB [0, 1,000) at 100 %.
    (bnb,) = market.collateral_tiers["BNB"]
    assert (bnb.floor_usd, bnb.cap_usd, bnb.collateral_rate) == (0.0, 1_000.0, 1.0)
    assert market.index_price_usd == {"BTC": pytest.approx(28251.9136906)}
    assert market.time_ms == 1683518338121
    # Premium-index marks override the positions' own (6679.50671178 on positionRisk).
    assert market.mark_price["BTCUSDT"] == pytest.approx(11793.63104562)
    assert market.mark_price["BTCUSD_PERP"] == pytest.approx(11029.69574559)


def test_ticker_and_futures_account_samples() -> None:
    payloads = documented()
    assert parse_ticker_prices({TICKER_PRICE: payloads[TICKER_PRICE]}) == {
        "LTCBTC": pytest.approx(4.000002)
    }
    # Both pages list only zero positions with no MM: nothing of Binance's to reconcile against.
    assert parse_reported_position_margins(payloads) == ()


def test_documented_key_can_transfer_and_trade_pm_so_is_not_read_only() -> None:
    # The page's key: enableInternalTransfer true, permitsUniversalTransfer true,
    # enablePortfolioMarginTrading true, withdrawals false, no IP restriction.
    perms = parse_key_permissions({API_RESTRICTIONS: documented()[API_RESTRICTIONS]})
    assert perms.can_read
    assert perms.trading == ("enablePortfolioMarginTrading",)
    assert perms.transfer == ("enableInternalTransfer", "permitsUniversalTransfer")
    assert not perms.can_withdraw
    assert not perms.ip_restricted
    assert not perms.read_only
