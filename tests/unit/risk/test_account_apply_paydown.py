"""A loan paid down while interest is owed (a repayment, or Binance's liquidation covering it):
the stream's ``liabilityChange`` gives only the total owed after it, so which part went to the
interest — hence the principal behind the loan's MM — is a REST figure: a resync, fail closed."""

from __future__ import annotations

from risk.account_apply import NOT_IN_STREAM, apply_events
from risk.account_events import LiabilityUpdate
from risk.model import AccountSnapshot, AssetBalance


def owing(borrowed: float, interest: float) -> AccountSnapshot:
    return AccountSnapshot(
        balances=(AssetBalance("USDT", 5_000.0, borrowed, interest, 0.0, 0.0, 0.0, 0.0),),
        um_positions=(),
        cm_positions=(),
        update_time_ms=1_000,
    )


def test_paid_down_with_interest_owed_asks_for_rest() -> None:
    # 1,000 borrowed + 2 interest = 1,002 owed; 502 owed after: 500 paid, split unknown.
    applied = apply_events(
        owing(1_000.0, 2.0), [LiabilityUpdate(2_000, "USDT", "REPAY", 0, 0, 502)]
    )
    assert [r.kind for r in applied.resync] == [NOT_IN_STREAM]
    assert "USDT loan paid down" in applied.resync[0].detail


def test_paid_down_with_no_interest_or_borrowing_more_is_kept_by_the_stream() -> None:
    no_interest = apply_events(
        owing(1_000.0, 0.0), [LiabilityUpdate(2_000, "USDT", "REPAY", 0, 0, 400)]
    )
    assert not no_interest.needs_resync
    assert no_interest.snapshot.balances[0].cross_margin_borrowed_qty == 400.0
    more = apply_events(
        owing(1_000.0, 2.0), [LiabilityUpdate(2_000, "USDT", "BORROW", 0, 0, 1_502)]
    )
    assert not more.needs_resync  # interest as it was (2), principal the rest: 1,500
    assert more.snapshot.balances[0].cross_margin_borrowed_qty == 1_500.0
