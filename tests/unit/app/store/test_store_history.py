"""History: buckets keep the worst sample; status changes are stored with the report."""

from __future__ import annotations

import dataclasses
import math

import pytest

from app.store.rollup import HOUR_S, MINUTE_S, Sample, fold, merge, open_bucket
from app.store.store import CycleRecord, Store
from risk.evaluate import evaluate
from risk.model import MarginBand, RiskReport, RiskRules, UnknownReason
from tests.support.books import basis, market
from tests.support.store_cycles import T0, cycle_at


def _s(at_s: float, uni: float, liq: float | None = -30.0, rid: int = 0) -> Sample:
    return Sample(T0 + int(at_s * 1000), rid, uni, 1000.0 * uni, 1000.0, liq, "NORMAL")


def test_bucket_keeps_worst_sample_and_last() -> None:
    b = open_bucket(_s(0, 3.0, rid=1), MINUTE_S)
    for sample in (_s(10, 1.4, -5.0, rid=2), _s(20, 2.5, None, rid=3), _s(30, 2.0, -12.0, rid=4)):
        b = fold(b, sample)
    assert (b.n, b.uni_mmr_min, b.uni_mmr_max, b.uni_mmr_last) == (4, 1.4, 3.0, 2.0)
    assert (b.worst_report_id, b.worst_at_ms) == (2, T0 + 10_000)
    # The nearest liquidation (−5 %) survives; None (no liquidation in range) is the farthest.
    assert (b.liq_down_worst_pct, b.liq_down_last_pct) == (-5.0, -12.0)
    assert (b.equity_min_usd, b.equity_max_usd, b.equity_last_usd) == (1400.0, 3000.0, 2000.0)


def test_late_sample_does_not_become_last() -> None:
    b = fold(open_bucket(_s(30, 2.0), MINUTE_S), _s(5, 1.9))
    assert (b.uni_mmr_last, b.uni_mmr_min, b.last_at_ms) == (2.0, 1.9, T0 + 30_000)


def test_sample_outside_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="outside bucket"):
        fold(open_bucket(_s(0, 2.0), MINUTE_S), _s(60, 2.0))


def test_merge_to_coarser_buckets_keeps_worst_of_each() -> None:
    minutes = [open_bucket(_s(60 * i, 3.0 - 0.1 * (i % 7), rid=i), MINUTE_S) for i in range(120)]
    hours = merge(minutes, HOUR_S)
    # T0 is 14 min into its hour: the first hour bucket holds 46 minutes, the next 60, then 14.
    assert [h.n for h in hours] == [46, 60, 14]
    # The worst is 3.0 − 0.6 at the first i with i % 7 == 6: i = 6 in 0..45, i = 48 in 46..105.
    assert [h.worst_report_id for h in hours[:2]] == [6, 48]
    assert hours[0].uni_mmr_min == pytest.approx(2.4)
    assert hours[-1].uni_mmr_last == minutes[-1].uni_mmr_last


def test_store_records_status_changes_and_buckets(db_url: str) -> None:
    store = Store(db_url)
    store.create_schema()
    # uniMMR 3 (NORMAL) → 1.4 (MARGIN_CALL: below 1.5) → 1.45 (still) → 1.6 (NORMAL) over 3 s.
    for i, uni in enumerate((3.0, 1.4, 1.45, 1.6)):
        store.write_cycle(cycle_at(T0 + 1000 * i, uni), computed_at_ms=T0 + 1000 * i)
    changes = store.status_changes("a", 0)
    assert [(c.from_status, c.to_status) for c in changes] == [
        (None, MarginBand.NORMAL),
        (MarginBand.NORMAL, MarginBand.MARGIN_CALL),
        (MarginBand.MARGIN_CALL, MarginBand.NORMAL),
    ]
    assert [c.at_ms for c in changes] == [T0, T0 + 1000, T0 + 3000]
    (minute,) = store.history_buckets("a", MINUTE_S, T0)
    assert (minute.n, minute.uni_mmr_min, minute.uni_mmr_last) == (4, 1.4, 1.6)
    assert minute.worst_status == MarginBand.MARGIN_CALL
    # A rebuild from the reports gives the very same buckets as the per-cycle folding.
    hour = store.history_buckets("a", HOUR_S, T0)
    assert store.rebuild_rollups("a") == 3  # one bucket of each period
    assert store.history_buckets("a", MINUTE_S, T0) == [minute]
    assert store.history_buckets("a", HOUR_S, T0) == hour
    assert [s.uni_mmr for s in store.history_samples("a", T0 + 1000)] == [1.4, 1.45, 1.6]
    store.close()


def test_unknown_reports_are_stored_as_unknown_and_left_out_of_the_buckets(
    db_url: str,
) -> None:
    # A report whose figures are unknown: NULL in the store, NaN read back, state and reasons
    # kept; the history buckets skip it (a gap, not a low point) and the status change is there.
    store = Store(db_url)
    store.create_schema()
    known = evaluate(basis(), market(), RiskRules())
    nan = float("nan")
    unknown = dataclasses.replace(
        known,
        uni_mmr=nan,
        adjusted_equity_usd=nan,
        status=MarginBand.UNKNOWN,
        unknown_reasons=(UnknownReason("/papi/v1/balance", "asset", "duplicated row", "BTC"),),
    )
    first = store.write_cycle(_cycle_of(known, T0), computed_at_ms=T0)
    store.write_cycle(_cycle_of(unknown, T0 + 2_000), computed_at_ms=T0 + 2_000)
    latest = store.latest_report("a")
    assert latest is not None and latest.unknown and latest.status == "UNKNOWN"
    assert math.isnan(latest.uni_mmr) and math.isnan(latest.adjusted_equity_usd)
    assert latest.unknown_reasons == ("/papi/v1/balance BTC: asset: duplicated row",)
    (bucket,) = store.history_buckets("a", MINUTE_S, T0)
    assert (bucket.n, bucket.worst_report_id) == (1, first.report_id)
    assert [c.to_status for c in store.status_changes("a", T0)] == ["NORMAL", "UNKNOWN"]
    # Binance's figure beside pmdesk's, for account polls only (a mark re-evaluation isn't one).
    between = dataclasses.replace(_cycle_of(known, T0 + 3_000), base_snapshot_id=first.snapshot_id)
    store.write_cycle(between, computed_at_ms=T0 + 3_000)
    points = store.reported_points("a", T0)
    assert [p.at_ms for p in points] == [T0, T0 + 2_000]
    assert points[0].uni_mmr == pytest.approx(known.uni_mmr) and points[1].uni_mmr is None
    store.close()


def _cycle_of(report: RiskReport, at_ms: int) -> CycleRecord:
    return CycleRecord("a", at_ms, at_ms, False, {}, report, None)
