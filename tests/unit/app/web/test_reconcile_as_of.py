"""When the "Binance vs pmdesk" view says the two sides were compared: at the moment the
collector stamped on the comparison (the account poll's read, or a pushed riskLevelChange's E)
— not the report's positions time, which the user stream moves with every event."""

from __future__ import annotations

from dataclasses import replace

from app.web.pages.reconcile import as_of_words
from risk.model import Reconciliation
from risk.serialize import reconciliation_from_dict, reconciliation_to_dict
from tests.unit.app.web.test_view import NOW, report

UTC = None  # the default: UTC


def _rec(at_ms: int | None) -> Reconciliation:
    return Reconciliation(
        binance_uni_mmr=3.2, binance_equity_usd=1.0, binance_mm_usd=1.0, pmdesk_uni_mmr=3.21,
        pmdesk_equity_usd=1.0, pmdesk_mm_usd=1.0, rel_diff_uni_mmr=0.003, rel_diff_equity=0.0,
        rel_diff_mm=0.0, binance_futures_mm_usd=None, binance_loan_mm_usd=None,
        pmdesk_futures_mm_usd=1.0, pmdesk_loan_mm_usd=0.0, positions=(), agrees=True,
        explained_by="agrees within 0.5%", tolerance=0.005, binance_at_ms=at_ms,
    )  # fmt: skip


def test_the_comparison_time_is_the_stamped_one_not_the_positions_time() -> None:
    # Positions kept by the stream up to now; Binance's figures read by the poll 20 s ago.
    r = replace(report(0), positions_at_ms=NOW)
    words = as_of_words(r, _rec(NOW - 20_000), UTC)
    assert words.startswith("Compared at 23:59:40 UTC: Binance's figures then")
    # Not stamped (a capture, or stored before the stamp): the old words, from the positions.
    assert as_of_words(r, _rec(None), UTC).startswith(
        "Binance's figures from the account poll of 00:00:00 UTC"
    )


def test_the_stamp_is_stored_and_read_back() -> None:
    body = reconciliation_to_dict(_rec(NOW - 20_000))
    assert body["binance_at_ms"] == NOW - 20_000
    assert reconciliation_from_dict(body, 3.21).binance_at_ms == NOW - 20_000
    del body["binance_at_ms"]  # a row written before the stamp existed
    assert reconciliation_from_dict(body, 3.21).binance_at_ms is None
