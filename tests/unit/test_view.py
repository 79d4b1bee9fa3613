"""The overview's server-side decisions: fail closed on stale or missing data."""

from __future__ import annotations

import math
from dataclasses import replace

from app.store.store import StoredEvent, StoredReport
from app.web.format import fmt_uni_mmr, fmt_usd
from app.web.view import build_view

NOW = 1_767_225_600_000


def report(age_s: float, uni_mmr: float = 3.21, status: str = "NORMAL") -> StoredReport:
    t = NOW - int(age_s * 1000)
    return StoredReport(
        id=1,
        account="a",
        data_time_ms=t,
        computed_at_ms=t,
        positions_at_ms=t,
        marks_source="stream",
        simulated=True,
        uni_mmr=uni_mmr,
        adjusted_equity_usd=1_234_567.891,
        maint_margin_usd=-5.0,
        status=status,
        reported_uni_mmr=3.2,
        reported_status="NORMAL",
        liquidation_down_pct=-9.6204,
        liquidation_up_pct=None,
        btc_liquidation_down_usd=45_189.797,
        btc_liquidation_up_usd=None,
        top_up_target_uni_mmr=2.0,
        top_up_usd=0.0,
    )


def test_fresh_report_shows_its_band() -> None:
    v = build_view(report(1), None, NOW, stale_after_s=10)
    assert v.liquidation == "↓ −9.62 %   ↑ > +1,000 %"
    assert v.liquidation_note == "BTC at 45,189.80 / —"
    assert (v.uni_mmr, v.band_class, v.stale, v.feed_status) == ("3.21", "band-normal", False, "OK")
    assert v.status_text.startswith("NORMAL")
    assert v.simulated


def test_stale_report_turns_grey_never_green() -> None:
    v = build_view(report(10.5), None, NOW, stale_after_s=10)
    assert v.stale and v.band_class == "band-stale"
    assert v.status_text == "STALE — last NORMAL"
    assert v.feed_status == "DOWN"
    assert v.uni_mmr == "3.21"  # the last figure stays visible, marked
    assert v.as_of.startswith("as of ")


def test_no_data_yet_is_stale_and_down() -> None:
    v = build_view(None, None, NOW, stale_after_s=10)
    assert v.stale and v.band_class == "band-stale" and v.feed_status == "DOWN"


def test_newer_failure_sets_feed_status() -> None:
    ev = StoredEvent(NOW, "AUTH_ERROR", "/papi/v1/account", -2015, "invalid key")
    v = build_view(report(3), ev, NOW, stale_after_s=10)
    assert v.feed_status == "AUTH_ERROR"
    assert "invalid key (/papi/v1/account)" in v.feed_message
    older = StoredEvent(NOW - 60_000, "DOWN", None, None, "unreachable")
    assert build_view(report(3), older, NOW, stale_after_s=10).feed_status == "OK"


def test_liquidation_band_class() -> None:
    v = build_view(report(0, 1.03, "LIQUIDATION"), None, NOW, stale_after_s=10)
    assert v.band_class == "band-liquidation"


def test_formats() -> None:
    assert fmt_uni_mmr(math.inf) == "∞"
    assert fmt_uni_mmr(1234.567) == "1,234.57"
    assert fmt_usd(1_234_567.891) == "$1,234,567.89"
    assert fmt_usd(-5) == "−$5.00"


def test_a_failing_poll_shows_even_while_marks_keep_coming() -> None:
    """Reports between polls (streamed marks) do not clear a failure of the account poll."""
    poll_at = NOW - 4_000
    streamed = replace(report(0), positions_at_ms=poll_at)  # marks from now, positions 4 s old
    ev = StoredEvent(NOW - 2_000, "DOWN", "/papi/v1/account", None, "exchange timed out")
    v = build_view(streamed, ev, NOW, stale_after_s=10)
    assert v.feed_status == "DOWN" and not v.stale
    assert v.marks_note == "marks: live stream · positions 4 s old"


def test_weight_note_is_the_share_of_each_family_budget() -> None:
    # papi 1,680 of 6,000 = 28 %; fapi 120 of 2,400 = 5 %.
    v = build_view(report(1), None, NOW, 10, weight=(NOW - 5_000, {"papi": 1_680, "fapi": 120}))
    assert v.weight_note == "API weight (1 min): fapi 5 % · papi 28 %"
    old = build_view(report(1), None, NOW, 10, weight=(NOW - 180_000, {"papi": 1_680}))
    assert old.weight_note == "API weight: —"


def test_rest_fallback_is_named() -> None:
    v = build_view(replace(report(1), marks_source="rest"), None, NOW, stale_after_s=10)
    assert v.marks_note.startswith("marks: REST fallback (stream down)")
