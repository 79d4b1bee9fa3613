"""The collector's account-push pieces, pure: what a reconciliation compares, Binance's signals
handed on once, the stored events read back, resync polls one at a time."""

from __future__ import annotations

import threading

import pytest

from app.collector.account_push import PollRequests, SignalLedger, differences
from app.collector.between_polls import moved_since_poll
from app.collector.event_codec import decode_events, encode_events
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
    MarginOrderUpdate,
    MarginPosition,
    OpenOrderLoss,
    OrderUpdate,
    RiskLevelChange,
    UnknownEvent,
)
from risk.model import AccountSnapshot
from risk.remark import MarkBasis
from tests.support.books import bal, market, perp


def _book(amount: float, wallet: float, margin: float = 5_000.0) -> AccountSnapshot:
    return AccountSnapshot(
        balances=(bal("USDT", um_wallet_qty=wallet, cross_margin_asset_qty=margin),),
        um_positions=(perp("BTCUSDT", amount, 95_000.0),),
    )


def test_no_difference_within_one_part_in_a_billion() -> None:
    # 17,000 · 1e-9 = 1.7e-5: a difference of 1e-6 is inside it, one of 1e-3 is not.
    assert differences(_book(-8.0, 17_000.0), _book(-8.0, 17_000.000001)) == []
    found = differences(_book(-10.0, 15_000.0), _book(-8.0, 17_000.001, margin=4_000.0))
    assert found == [
        "UM position BTCUSDT BOTH: stream -10, REST -8",
        "UM wallet USDT: stream 15000, REST 17000.001",
        "margin asset USDT: stream 5000, REST 4000",
    ]


def test_a_position_on_one_side_only_is_a_difference() -> None:
    closed = AccountSnapshot(balances=_book(0, 15_000.0).balances, um_positions=())
    assert differences(closed, _book(-10.0, 15_000.0)) == [
        "UM position BTCUSDT BOTH: stream 0, REST -10"
    ]


def _order(status: str, when: int = 5) -> OrderUpdate:
    return OrderUpdate(
        when, "UM", "BTCUSDT", "autoclose-1", "BUY", "LIMIT", "TRADE", status, 1.0, 1.0, 9.0, "BOTH"
    )


def test_each_signal_is_handed_on_once() -> None:
    ledger = SignalLedger()
    level = RiskLevelChange(5, 1.09, "MARGIN_CALL", 100.0, 100.0, 91.0)
    assert ledger.fresh([level, _order("NEW")]) == [level, _order("NEW")]
    # Re-applied with a later event: only the new one (an order's FILLED is its own signal).
    assert ledger.fresh([level, _order("NEW"), _order("FILLED")]) == [_order("FILLED")]
    ledger.forget_until(5)  # a poll took them in: never re-applied, the keys can go
    assert ledger.fresh([_order("FILLED", when=6)]) == [_order("FILLED", when=6)]


EVERY_EVENT: list[AccountEvent] = [
    FuturesUpdate(
        1,
        "UM",
        "ORDER",
        (FuturesBalance("USDT", 17_000.0, 17_000.0, 0.0),),
        (FuturesPosition("BTCUSDT", "BOTH", -8.0, 95_000.0, 8_000.0, 2_000.0, 95_000.0),),
    ),
    MarginPosition(2, (MarginBalance("USDT", 4_000.0, 0.0),)),
    MarginDelta(3, "USDT", -1_000.0),
    LiabilityUpdate(4, "USDT", "BORROW", 500.0, 0.0, 500.0),
    OpenOrderLoss(5, (("USDT", -12.5),)),
    _order("NEW"),
    MarginOrderUpdate(6, "BTCUSDT", "x", "BUY", "TRADE", "FILLED", 0.1, 95_000.0),
    RiskLevelChange(7, 1.09, "MARGIN_CALL", 100.0, 100.0, 91.0),
    LeverageUpdate(8, "UM", "BTCUSDT", 20.0),
    ListenKeyExpired(9),
    UnknownEvent(None, "SOMETHING_NEW"),
]


def test_every_event_type_reads_back_as_stored() -> None:
    since, back = decode_events(encode_events(42, EVERY_EVENT))
    assert since == 42 and back == EVERY_EVENT
    with pytest.raises(ValueError, match="does not read back"):
        decode_events({"since_ms": 0, "list": [{"type": "MarginDelta", "asset": "USDT"}]})


def test_events_then_marks_on_the_poll() -> None:
    # Short 10 BTCUSDT marked 95,000; the fill leaves −8 with PnL 0 at 95,000 and the wallet
    # at 17,000: equity 5,000 margin + 17,000 wallet + 0 PnL = 22,000 USDT.
    snapshot = _book(-10.0, 15_000.0)
    fill = EVERY_EVENT[0]
    assert isinstance(fill, FuturesUpdate)
    fill = FuturesUpdate(
        1,
        "UM",
        "ORDER",
        fill.balances,
        (FuturesPosition("BTCUSDT", "BOTH", -8.0, 95_000.0, 0.0, 2_000.0, 95_000.0),),
    )
    moved, _, applied = moved_since_poll(
        snapshot, market({"BTC": 95_000.0}), MarkBasis({}), [fill], 0, []
    )
    assert applied is not None and applied.applied == 1 and not applied.needs_resync
    (usdt,) = moved.balances
    assert usdt.equity_qty == 5_000.0 + 17_000.0 + 0.0
    assert [p.position_amt_qty for p in moved.um_positions] == [-8.0]
    # An event at or before ``since`` is in the poll already.
    _, _, none = moved_since_poll(snapshot, market({"BTC": 95_000.0}), MarkBasis({}), [fill], 1, [])
    assert none is not None and none.applied == 0 and none.ignored == 1


def test_resync_polls_run_one_at_a_time_and_none_is_lost() -> None:
    running, release, second = threading.Event(), threading.Event(), threading.Event()
    ran: list[str] = []

    def poll() -> None:
        ran.append(threading.current_thread().name)
        if len(ran) == 1:
            running.set()
            assert release.wait(30)  # held open until the test has asked again
        else:
            second.set()

    requests = PollRequests("a", poll)
    requests.ask()
    assert running.wait(30)
    requests.ask()  # during the poll: one more after it, on the same worker
    requests.ask()  # ... coalesced with the one before
    assert requests.pending()
    release.set()
    assert second.wait(30)
    requests.stop()  # joins the worker
    assert ran == ["resync-a", "resync-a"] and not requests.pending()


def test_resync_polls_after_stop_are_not_run() -> None:
    ran: list[int] = []
    requests = PollRequests("a", lambda: ran.append(1))
    requests.stop()
    requests.ask()
    assert ran == [] and not any(t.name == "resync-a" for t in threading.enumerate())
