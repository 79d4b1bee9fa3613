"""The overview's server-side decisions: fail closed on stale, missing or unknown data; the
words name the configured product's levels; pmdesk against Binance's own figures."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from app.store.store import StoredEvent, StoredReport
from app.web.figures import agreement, calibration_words, reason_text
from app.web.format import (
    fmt_num,
    fmt_pct,
    fmt_share,
    fmt_signed,
    fmt_uni_mmr,
    fmt_usd,
    grid_formatter,
)
from app.web.ladder import band_text, ladder_hint
from app.web.view import build_view
from risk.model import Product, RiskRules
from risk.serialize import report_from_dict

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
    # uniMMR 3.21 is above every level, but a 9.62 % fall liquidates: under 15 %, a warning.
    v = build_view(report(1), None, NOW, stale_after_s=10)
    assert v.liquidation == "↓ −9.62 %   ↑ never"  # format.NO_LIQUIDATION, on every view
    assert v.liquidation_note == "BTC at 45,189.80 / never"
    assert (v.uni_mmr, v.band_class, v.stale) == ("3.21", "band-warning", False)
    assert v.feed_status == "OK"
    assert v.status_text == "WARNING: 9.6 % from liquidation ↓"
    far = build_view(replace(report(1), liquidation_down_pct=-40.0), None, NOW, stale_after_s=10)
    assert far.band_class == "band-normal" and far.status_text.startswith("NORMAL")
    assert far.also == ("40.0 % from liquidation ↓",)
    assert v.simulated


def test_stale_report_turns_grey_never_green() -> None:
    v = build_view(report(10.5), None, NOW, stale_after_s=10)
    assert v.stale and v.band_class == "band-stale"
    assert v.status_text == "STALE — last WARNING: 9.6 % from liquidation ↓"
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


def test_a_stream_down_stays_on_the_header_for_as_long_as_it_is() -> None:
    """Polls every 2 s after the stream went down 60 s ago: each is newer than the event, yet the
    header keeps saying so until the stream's newest event says it is back."""
    down = StoredEvent(
        NOW - 60_000, "DEGRADED", "user data stream", None, "account stream down: polling every 2 s"
    )
    v = build_view(report(1), None, NOW, stale_after_s=10, stream_event=down)
    assert v.feed_status == "DEGRADED"
    assert v.feed_message.startswith("account stream down: polling every 2 s (since ")
    back = replace(down, at_ms=NOW - 5_000, kind="OK", message="account stream back")
    assert build_view(report(1), None, NOW, 10, stream_event=back).feed_status == "OK"
    # A newer failure of the poll says more: it is shown instead.
    failed = StoredEvent(NOW, "DOWN", "/papi/v1/account", None, "exchange timed out")
    v = build_view(report(3), failed, NOW, 10, stream_event=down)
    assert v.feed_status == "DOWN" and "timed out" in v.feed_message


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


# ---- Fail closed: UNKNOWN, ≤ 0, Binance's figures --------------------------------------------


PM = RiskRules.for_product(Product.PM)
PM_PRO = RiskRules.for_product(Product.PM_PRO)
NAN = math.nan
MARK_MISSING = {
    "path": "/papi/v1/um/positionRisk",
    "field": "markPrice",
    "item": "BTCUSDT",
    "problem": "no mark price",
    "affects": ["mm"],
}


def unknown_report(age_s: float = 1, **changes: object) -> StoredReport:
    """What the store reads back for an UNKNOWN report: NULL figures are NaN; the stress
    figures and liquidation prices are NULL (None)."""
    fields: dict[str, object] = {
        "uni_mmr": NAN,
        "adjusted_equity_usd": NAN,
        "maint_margin_usd": NAN,
        "status": "UNKNOWN",
        "liquidation_down_pct": None,
        "btc_liquidation_down_usd": None,
        "top_up_usd": NAN,
        "state": "UNKNOWN",
        "unknown_reasons": ("/papi/v1/um/positionRisk BTCUSDT: markPrice: no mark price",),
        "recon_agrees": None,
        "recon_uni_mmr_rel_diff": None,
        "calibrated": False,
    }
    return replace(report(age_s), **(fields | changes))  # type: ignore[arg-type]


def _ours(v: object) -> list[str]:
    """Every text of pmdesk's own (Binance's reported uniMMR and accountStatus are verbatim)."""
    theirs = ("reported_uni_mmr", "reported_status")
    return [x for k, x in vars(v).items() if isinstance(x, str) and k not in theirs]


def test_unknown_shows_words_and_reasons_never_a_number() -> None:
    v = build_view(unknown_report(), None, NOW, stale_after_s=10, rules=PM)
    assert (v.uni_mmr, v.band_class, v.status_icon) == ("unknown", "band-unknown", "⊘")
    assert v.status_text == "UNKNOWN — figures unavailable"
    assert v.unknown and v.reasons == (
        "/papi/v1/um/positionRisk BTCUSDT: markPrice: no mark price",
    )
    assert (v.adjusted_equity, v.maint_margin, v.margin_usage) == ("unknown",) * 3
    assert (v.liquidation, v.top_up) == ("unknown", "unknown")
    assert v.summary.startswith("⊘ UNKNOWN — figures unavailable · 1 s")
    for text in _ours(v):  # never a number that looks safe, never green words
        for bad in ("nan", "$nan", "0.00", "∞", "NORMAL", "never", "> +"):
            assert bad not in text, (bad, text)
    assert v.recon_mark == "— cannot compare: pmdesk's figures unknown"


def test_unknown_reasons_in_plain_words_from_the_detail() -> None:
    detail = report_from_dict(
        {"unknown_reasons": [MARK_MISSING, MARK_MISSING | {"item": "", "affects": []}]}
    )
    v = build_view(unknown_report(), None, NOW, 10, rules=PM, detail=detail)
    assert v.reasons == (
        "/papi/v1/um/positionRisk, row BTCUSDT, field markPrice: no mark price "
        "→ maintenance margin unknown",
        "/papi/v1/um/positionRisk, field markPrice: no mark price",
    )
    assert reason_text("as stored") == "as stored"
    # A reason stored by an older pmdesk ("mark nan is not a price"): "nan" never reaches the
    # screen.
    stored = "/papi/v1/um/positionRisk BTCUSDT: markPrice: mark nan is not a price"
    assert reason_text(stored).endswith("markPrice: mark missing is not a price")
    (nan_problem,) = report_from_dict(
        {"unknown_reasons": [MARK_MISSING | {"problem": "mark -NaN"}]}
    ).unknown_reasons
    assert reason_text(nan_problem).endswith("mark missing → maintenance margin unknown")


def test_a_figure_still_known_stays_shown() -> None:
    # The mark of a position is missing: MM (and so uniMMR) unknown, adjusted equity known.
    r = unknown_report(adjusted_equity_usd=875_000.0)
    v = build_view(r, None, NOW, stale_after_s=10, rules=PM)
    assert (v.adjusted_equity, v.maint_margin, v.uni_mmr) == ("$875,000.00", "unknown", "unknown")
    assert v.margin_usage == "unknown"


def test_stale_unknown_is_grey_and_says_both() -> None:
    v = build_view(unknown_report(age_s=30), None, NOW, stale_after_s=10, rules=PM)
    assert v.band_class == "band-stale" and v.status_text == "STALE — last UNKNOWN"
    assert v.uni_mmr == "unknown"


def test_negative_equity_with_no_mm_reads_at_most_zero_and_liquidation() -> None:
    # Adjusted equity −100 and no MM: uniMMR −∞, liquidation whatever the MM.
    r = replace(report(1), uni_mmr=-math.inf, adjusted_equity_usd=-100.0, maint_margin_usd=0.0,
                status="LIQUIDATION")  # fmt: skip
    v = build_view(r, None, NOW, stale_after_s=10, rules=PM)
    assert (v.uni_mmr, v.band_class) == ("≤ 0", "band-liquidation")
    assert v.status_text == "IN LIQUIDATION: adjusted equity ≤ 0"
    assert v.margin_usage == "> 100 %"
    assert v.liquidation == "IN LIQUIDATION: adjusted equity ≤ 0"
    assert v.liquidation_note == "uniMMR ≤ 0; Binance liquidates at 1.05"
    assert v.summary.startswith("☠ IN LIQUIDATION: adjusted equity ≤ 0 · uniMMR ≤ 0 · 1 s")
    # Equity ≤ 0 with MM unknown: still liquidation (state UNKNOWN, the reasons listed).
    u = unknown_report(uni_mmr=-math.inf, adjusted_equity_usd=-100.0, status="LIQUIDATION")
    v = build_view(u, None, NOW, stale_after_s=10, rules=PM)
    assert (v.uni_mmr, v.band_class) == ("≤ 0", "band-liquidation")
    assert v.liquidation == "IN LIQUIDATION: adjusted equity ≤ 0"
    assert v.reasons and v.margin_usage == "> 100 %"
    assert fmt_uni_mmr(-8.0) == "≤ 0" and fmt_uni_mmr(0.0) == "≤ 0"


def test_nan_never_renders_as_a_number() -> None:
    for f in (fmt_num, fmt_signed, fmt_usd, fmt_share, fmt_uni_mmr):
        assert f(NAN) == "unknown"
    assert fmt_pct(NAN) == "unknown" and fmt_pct(None, none="never") == "never"
    assert fmt_usd(None) == fmt_num(None) == fmt_uni_mmr(None) == "—"
    # The grids' formatter is assets/grids.js's pmdeskNum (its words: tests/browser).
    assert grid_formatter(",.2f", " %") == "pmdeskNum(params, ',.2f', ' %')"


def test_band_words_name_the_configured_levels() -> None:
    # PM publishes only liquidation (1.05) and equity < 0: never "trade freely", never 1.5.
    assert band_text("NORMAL", PM)[1] == "NORMAL — above 1.05 (Binance's liquidation level)"
    assert band_text("LIQUIDATION", PM, 1.02)[1] == "LIQUIDATION — at or below 1.05"
    hint = ladder_hint(PM)
    assert "1.5" not in hint and "trade freely" not in hint and "1.05" in hint
    assert "publishes no margin-call or reduce-only level" in hint
    # PM Pro: 1.5 trade freely / 1.2 reduce only / 1.05 liquidation / 1.0 claim for loss.
    assert band_text("NORMAL", PM_PRO)[1] == "NORMAL — above 1.5: trade freely"
    assert (
        band_text("REDUCE_ONLY", PM_PRO)[1] == "REDUCE ONLY — at or below 1.2: new orders refused"
    )
    assert band_text("LIQUIDATION_WITH_LOSS", PM_PRO, 0.9)[1] == (
        "LIQUIDATION — at or below 1.0: loss claim possible"
    )
    assert all(x in ladder_hint(PM_PRO) for x in ("1.5 trade freely", "1.2", "1.05", "1.0"))
    # A level the config sets for PM is named as such, not as Binance's.
    own = RiskRules.for_product(Product.PM, margin_call_uni_mmr=1.3)
    assert band_text("NORMAL", own)[1] == "NORMAL — above 1.3 (margin-call level)"
    calm = replace(report(1), liquidation_down_pct=-40.0)
    v = build_view(calm, None, NOW, stale_after_s=10, rules=PM)
    assert v.status_text == "NORMAL — above 1.05 (Binance's liquidation level)"


def _recon(agrees: bool | None, uni: float | None, **rel: float | None) -> dict[str, object]:
    diffs = {"uni_mmr": uni, "adjusted_equity_usd": None, "maint_margin_usd": None} | rel
    return {
        "binance": {"uni_mmr": 25.0, "adjusted_equity_usd": 250_000.0, "maint_margin_usd": 1e4},
        "rel_diff": diffs,
        "agrees": agrees,
        "tolerance": 0.005,
        "binance_no_mm": False,
        "explained_by": "",
    }


def test_agreement_mark() -> None:
    r = report(1)
    ok = report_from_dict({"reconciliation": _recon(True, 0.001)})
    assert agreement(r, ok, 0.005) == ("✔ matches Binance (±0.5 %)", "recon-ok")
    # uniMMR 3.21 against Binance's 3.11: (3.21 − 3.11) / 3.11 = +3.2 %.
    off = report_from_dict({"reconciliation": _recon(False, (3.21 - 3.11) / 3.11)})
    assert agreement(r, off, 0.005) == ("✖ differs from Binance by 3.2 %", "recon-differs")
    # uniMMR within tolerance but equity and MM both 10 % low: the largest, named.
    both = report_from_dict(
        {"reconciliation": _recon(False, 0.0, adjusted_equity_usd=-0.1, maint_margin_usd=-0.09)}
    )
    assert agreement(r, both, 0.005)[0] == "✖ differs from Binance by 10.0 % (adjusted equity)"
    none = report_from_dict({"reconciliation": _recon(None, None)})
    assert agreement(r, none, 0.005) == ("— Binance's figures unavailable", "recon-na")
    # Without a detail, the stored columns.
    stored = replace(r, recon_agrees=False, recon_uni_mmr_rel_diff=-0.25)
    assert agreement(stored, None, 0.005)[0] == "✖ differs from Binance by 25.0 %"


def test_uncalibrated_says_by_how_much_the_base_uni_mmr_differs() -> None:
    # pmdesk 53.00 against Binance's 25.00: (53 − 25) / 25 = +112 %.
    stored: dict[str, Any] = {
        "uni_mmr": 53.0,
        "reconciliation": _recon(False, 1.12),
        "assumptions": {"product": "PM", "calibrated": False},
    }
    detail = report_from_dict(stored)
    word, sentence = calibration_words(report(1), detail)
    assert word == "uncalibrated"
    assert sentence.startswith("UNCALIBRATED — stress figures and liquidation distance")
    assert "pmdesk's base uniMMR 53.00 is 112.0 % above Binance's 25.00" in sentence
    assert "(pmdesk is the more optimistic)" in sentence
    v = build_view(report(1), None, NOW, 10, rules=PM, detail=detail)
    assert v.calibration == "uncalibrated" and v.liquidation_note.endswith("· uncalibrated")
    calibrated = report_from_dict(stored | {"assumptions": {"product": "PM", "calibrated": True}})
    assert calibration_words(report(1), calibrated) == ("calibrated", "")
