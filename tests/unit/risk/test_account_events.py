"""User-data-stream events applied to a hand-written snapshot (``risk.account_apply``): every
expected figure is worked by hand from Binance's rules, the arithmetic written beside it."""

from __future__ import annotations

import dataclasses
import math

import pytest

from risk.account_apply import (
    KEY_EXPIRED,
    NOT_IN_STREAM,
    OUT_OF_ORDER,
    UNKNOWN_EVENT,
    apply_events,
)
from risk.account_events import (
    AccountEvent,
    FuturesBalance,
    FuturesPosition,
    FuturesUpdate,
    LeverageUpdate,
    LiabilityUpdate,
    ListenKeyExpired,
    MarginBalance,
    MarginDelta,
    MarginPosition,
    OpenOrderLoss,
    OrderUpdate,
    RiskLevelChange,
    UnknownEvent,
)
from risk.model import AccountSnapshot, AssetBalance, CmPosition, MarketState, UmPosition
from risk.remark import MarkBasis, MarkUpdate, remark

T0 = 1_000  # the poll's time


def snapshot() -> AccountSnapshot:
    # UM: 0.1 BTCUSDT from 60,000 marked 61,000 → PnL 0.1 · (61,000 − 60,000) = 100 USDT.
    # CM: 10 BTCUSD_PERP (100 USD each) from 50,000 marked 62,500 →
    #     PnL 10 · 100 · (1/50,000 − 1/62,500) = 1,000 · 0.000004 = 0.004 BTC.
    return AccountSnapshot(
        balances=(
            AssetBalance("USDT", 1000.0, 0.0, 0.0, 5000.0, 100.0, 0.0, 0.0),
            AssetBalance("BTC", 0.5, 0.1, 0.001, 0.0, 0.0, 1.0, 0.004),
        ),
        um_positions=(
            UmPosition("BTCUSDT", "BOTH", 0.1, 60000.0, 61000.0, 100.0, "BTC", "USDT", 10.0),
        ),
        cm_positions=(
            CmPosition("BTCUSD_PERP", "BOTH", 10.0, 50000.0, 62500.0, 0.004, 100.0, "BTC", 20.0),
        ),
        update_time_ms=T0,
    )


def balance(s: AccountSnapshot, asset: str) -> AssetBalance:
    return next(b for b in s.balances if b.asset == asset)


def um(
    e: int, *positions: FuturesPosition, balances: tuple[FuturesBalance, ...] = ()
) -> FuturesUpdate:
    return FuturesUpdate(e, "UM", "ORDER", balances, positions)


def pos(
    symbol: str, amount: float, entry: float, pnl: float, side: str = "BOTH"
) -> FuturesPosition:
    return FuturesPosition(symbol, side, amount, entry, pnl, 0.0, entry)


def test_a_um_fill_moves_wallet_position_and_pnl() -> None:
    fill = um(
        2000,
        pos("BTCUSDT", 0.3, 60500.0, 150.0),
        balances=(FuturesBalance("USDT", 4990.0, 4990.0, 0.0),),  # 10 USDT commission
    )
    out = apply_events(snapshot(), [fill])
    s = out.snapshot
    assert not out.needs_resync and out.applied == 1
    usdt = balance(s, "USDT")
    assert usdt.um_wallet_qty == 4990.0
    assert usdt.um_unrealized_pnl_qty == pytest.approx(150.0)  # 100 + (150 − 100)
    assert usdt.equity_qty == pytest.approx(6140.0)  # 1,000 + 4,990 + 150
    (p,) = s.um_positions
    assert (p.position_amt_qty, p.entry_price, p.unrealized_pnl_qty) == (0.3, 60500.0, 150.0)
    assert p.mark_price == pytest.approx(61000.0)  # 60,500 + 150 / 0.3
    assert p.leverage == 10.0 and (p.base_asset, p.margin_asset) == ("BTC", "USDT")
    assert s.update_time_ms == 2000


def test_re_marking_after_a_fill_gives_binances_pnl() -> None:
    """The implied mark lets ``remark`` continue exactly: at 62,000 the 0.3 BTC from 60,500
    make 0.3 · (62,000 − 60,500) = 450 USDT."""
    s = apply_events(snapshot(), [um(2000, pos("BTCUSDT", 0.3, 60500.0, 150.0))]).snapshot
    market = MarketState(index_price_usd={"USDT": 1.0, "BTC": 61000.0})
    moved, _ = remark(s, market, MarkBasis({}), [MarkUpdate("BTCUSDT", 62000.0, 62000.0, 3000)])
    assert moved.um_positions[0].unrealized_pnl_qty == pytest.approx(450.0)
    assert balance(moved, "USDT").um_unrealized_pnl_qty == pytest.approx(450.0)


def test_a_closed_position_is_removed_with_its_pnl() -> None:
    s = apply_events(snapshot(), [um(2000, pos("BTCUSDT", 0.0, 0.0, 0.0))]).snapshot
    assert s.um_positions == ()
    assert balance(s, "USDT").um_unrealized_pnl_qty == pytest.approx(0.0)  # 100 − 100


def test_a_cm_fill_implies_its_inverse_mark() -> None:
    cm = FuturesUpdate(
        2000,
        "CM",
        "ORDER",
        (FuturesBalance("BTC", 0.999, 0.999, 0.0),),
        (pos("BTCUSD_PERP", 20.0, 50000.0, 0.006),),
    )
    s = apply_events(snapshot(), [cm]).snapshot
    btc = balance(s, "BTC")
    assert btc.cm_wallet_qty == 0.999
    assert btc.cm_unrealized_pnl_qty == pytest.approx(0.006)  # 0.004 + (0.006 − 0.004)
    (p,) = s.cm_positions
    # 1/mark = 1/50,000 − 0.006 / (20 · 100) = 0.00002 − 0.000003 = 0.000017
    assert p.mark_price == pytest.approx(1 / 0.000017)
    assert (p.position_amt_contracts, p.contract_size_usd, p.leverage) == (20.0, 100.0, 20.0)


def test_a_new_position_takes_its_assets_from_the_symbol_and_leverage_from_config() -> None:
    short = pos("ETHUSDT", -2.0, 3000.0, -20.0)
    out = apply_events(snapshot(), [um(2000, short)])
    eth = next(p for p in out.snapshot.um_positions if p.symbol == "ETHUSDT")
    assert (eth.base_asset, eth.margin_asset) == ("ETH", "USDT")
    assert eth.mark_price == pytest.approx(3010.0)  # 3,000 + (−20 / −2)
    assert math.isnan(eth.leverage)  # not known until ACCOUNT_CONFIG_UPDATE or REST
    assert balance(out.snapshot, "USDT").um_unrealized_pnl_qty == pytest.approx(80.0)  # 100 − 20
    configured = apply_events(
        snapshot(), [LeverageUpdate(1500, "UM", "ETHUSDT", 5.0), um(2000, short)]
    ).snapshot
    assert next(p for p in configured.um_positions if p.symbol == "ETHUSDT").leverage == 5.0


def test_a_symbol_the_model_cannot_place_asks_for_a_resync() -> None:
    out = apply_events(snapshot(), [um(2000, pos("FOOBAR", 1.0, 1.0, 0.0))])
    assert [r.kind for r in out.resync] == [NOT_IN_STREAM]
    assert out.snapshot.um_positions == snapshot().um_positions


def test_margin_balances_free_plus_locked_then_a_delta() -> None:
    events: list[AccountEvent] = [
        MarginPosition(2000, (MarginBalance("USDT", 900.0, 50.0), MarginBalance("ETH", 1.0, 0.0))),
        MarginDelta(2100, "USDT", 10.0),
    ]
    s = apply_events(snapshot(), events).snapshot
    assert balance(s, "USDT").cross_margin_asset_qty == pytest.approx(960.0)  # 900 + 50 + 10
    eth = balance(s, "ETH")
    assert (eth.cross_margin_asset_qty, eth.um_wallet_qty, eth.cross_margin_borrowed_qty) == (
        1.0,
        0.0,
        0.0,
    )


def test_a_liability_change_sets_the_total_owed() -> None:
    s = apply_events(snapshot(), [LiabilityUpdate(2000, "BTC", "BORROW", 0.1, 0.0, 0.2)]).snapshot
    btc = balance(s, "BTC")
    # interest kept as last known (0.001), principal the rest: 0.2 − 0.001 = 0.199
    assert btc.cross_margin_interest_qty == 0.001
    assert btc.cross_margin_borrowed_qty == pytest.approx(0.199)
    assert btc.equity_qty == pytest.approx(1.304)  # 0.5 − 0.2 + 1.0 + 0.004


def test_events_apply_in_event_time_order_within_the_tolerance() -> None:
    late = [
        um(3000, balances=(FuturesBalance("USDT", 10.0, 10.0, 0.0),)),
        um(2500, balances=(FuturesBalance("USDT", 20.0, 20.0, 0.0),)),  # 500 ms late: jitter
    ]
    out = apply_events(snapshot(), late)
    assert not out.needs_resync
    assert balance(out.snapshot, "USDT").um_wallet_qty == 10.0  # E 3000 applied last


def test_an_event_far_out_of_order_asks_for_a_resync() -> None:
    late = [
        um(5000, balances=(FuturesBalance("USDT", 10.0, 10.0, 0.0),)),
        um(3000, balances=(FuturesBalance("USDT", 20.0, 20.0, 0.0),)),  # 2 s late
    ]
    out = apply_events(snapshot(), late)
    assert [r.kind for r in out.resync] == [OUT_OF_ORDER]
    assert balance(out.snapshot, "USDT").um_wallet_qty == 10.0


def test_events_already_in_the_poll_are_ignored() -> None:
    old = um(900, balances=(FuturesBalance("USDT", 1.0, 1.0, 0.0),))
    out = apply_events(snapshot(), [old])
    assert (out.applied, out.ignored) == (0, 1)
    assert out.snapshot == snapshot()
    # The poll started at 800 on the exchange clock: the same event is news.
    assert apply_events(snapshot(), [old], since_ms=800).snapshot.balances[0].um_wallet_qty == 1.0


def test_unknown_events_and_an_expired_key_ask_for_a_resync() -> None:
    out = apply_events(
        snapshot(),
        [UnknownEvent(2000, "NEW_THING"), UnknownEvent(2001, "ALGO_UPDATE", True)],
    )
    assert [(r.kind, r.detail) for r in out.resync] == [(UNKNOWN_EVENT, "NEW_THING")]
    assert [r.kind for r in apply_events(snapshot(), [ListenKeyExpired(2000)]).resync] == [
        KEY_EXPIRED
    ]
    timeless = apply_events(snapshot(), [UnknownEvent(None, "X")])
    assert [r.kind for r in timeless.resync] == [UNKNOWN_EVENT]


def order(e: int, client_id: str) -> OrderUpdate:
    return OrderUpdate(
        e, "UM", "BTCUSDT", client_id, "SELL", "LIQUIDATION", "NEW", "NEW", 0, 0, 0, "BOTH"
    )


def test_binances_signals_are_handed_back_and_its_figures_kept() -> None:
    risk = RiskLevelChange(2000, 1.04, "FORCE_LIQUIDATION", 30.0, 31.0, 28.8)
    events: list[AccountEvent] = [
        risk,
        order(2001, "autoclose-1"),
        order(2002, "adl_autoclose"),
        order(2003, "mine"),
    ]
    out = apply_events(snapshot(), events)
    assert out.signals == (risk, events[1], events[2])
    reported = out.snapshot.reported
    assert reported is not None
    assert (reported.uni_mmr, reported.account_status, reported.update_time_ms) == (
        1.04,
        "FORCE_LIQUIDATION",
        2000,
    )
    assert (reported.account_equity_usd, reported.actual_equity_usd) == (30.0, 31.0)
    assert reported.account_maint_margin_usd == 28.8


def test_a_signal_already_in_the_poll_is_still_handed_back_but_not_applied() -> None:
    # A liquidation order and a riskLevelChange from before the poll's read began (since 2500),
    # delivered late: their effects are in the poll, but they are still Binance's word.
    risk = RiskLevelChange(2000, 1.04, "FORCE_LIQUIDATION", 30.0, 31.0, 28.8)
    events: list[AccountEvent] = [risk, order(2001, "autoclose-1"), order(2003, "mine")]
    out = apply_events(snapshot(), events, since_ms=2500)
    assert (out.applied, out.ignored) == (0, 3)
    assert out.signals == (risk, events[1])
    assert out.snapshot == snapshot()  # Binance's figures as the poll read them, not the push's


def test_open_order_loss_valued_at_index_prices_and_confirmed_over_rest() -> None:
    loss = OpenOrderLoss(2000, (("BUSD", -0.5), ("BNB", -12.0)))
    out = apply_events(snapshot(), [loss], index_price_usd={"BUSD": 1.0, "BNB": 600.0})
    assert out.snapshot.open_margin_order_loss_usd == pytest.approx(7200.5)  # 0.5 + 12 · 600
    assert [r.kind for r in out.resync] == [NOT_IN_STREAM]
    unpriced = apply_events(snapshot(), [loss], index_price_usd={"BUSD": 1.0})
    assert math.isnan(unpriced.snapshot.open_margin_order_loss_usd)


def test_the_input_snapshot_is_not_changed() -> None:
    before = snapshot()
    kept = dataclasses.replace(before)
    apply_events(before, [um(2000, pos("BTCUSDT", 0.0, 0.0, 0.0))])
    assert before == kept
