"""One severity per account, decided from hand-built reports: each source winning, ties,
unknown, stale; the words past the liquidation level; margin usage, top-up, net stablecoin
buffer and gross leverage spelled one way; account tiles and worst-first order; the URL and
the UTC/local clock."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from app.store.store import StoredReport
from app.web.app import next_account, url_state, with_state
from app.web.figures import (
    buffer_words,
    gross_leverage,
    leverage_text,
    margin_usage,
    top_up_advice,
    top_up_advice_for,
    top_up_advice_of,
)
from app.web.format import fmt_clock, fmt_distance
from app.web.pages.overview_tiles import account_tiles, others_note, tile_reason
from app.web.severity import (
    CRITICAL,
    LIQUIDATION,
    OK,
    RANK,
    STALE,
    UNKNOWN,
    WARNING,
    Severity,
    SeverityBands,
    liquidation_words,
    past_level_words,
    severity,
    worst_first,
)
from app.web.times import clock_text
from app.web.view import build_view
from risk.evaluate import evaluate
from risk.model import PositionMargin, Product, ReduceAdvice, RiskRules
from risk.serialize import report_from_dict, report_to_dict
from tests.support.books import directional_long, market

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
PM = RiskRules.for_product(Product.PM)
PM_PRO = RiskRules.for_product(Product.PM_PRO)
BANDS = SeverityBands(critical_pct=5.0, warn_pct=15.0)


def stored(
    uni: float = 8.0,
    status: str = "NORMAL",
    down: float | None = -40.0,
    up: float | None = None,
    reported: str | None = "NORMAL",
    age_s: float = 1.0,
    account: str = "a",
    **changes: object,
) -> StoredReport:
    t = NOW - int(age_s * 1000)
    r = StoredReport(
        id=1,
        account=account,
        data_time_ms=t,
        computed_at_ms=t,
        positions_at_ms=t,
        marks_source="stream",
        simulated=False,
        uni_mmr=uni,
        adjusted_equity_usd=15_000.0,
        maint_margin_usd=15_000.0 / uni if uni > 0 and math.isfinite(uni) else 100.0,
        status=status,
        reported_uni_mmr=uni,
        reported_status=reported,
        liquidation_down_pct=down,
        liquidation_up_pct=up,
        btc_liquidation_down_usd=None,
        btc_liquidation_up_usd=None,
        top_up_target_uni_mmr=2.0,
        top_up_usd=0.0,
    )
    return replace(r, **changes)  # type: ignore[arg-type]


def sev(r: StoredReport | None, rules: RiskRules = PM) -> Severity:
    return severity(r, NOW, stale_after_s=10, rules=rules, bands=BANDS)


# ---- Each source winning ----------------------------------------------------------------------


def test_calm_is_normal_with_the_distance_in_words() -> None:
    s = sev(stored())
    assert (s.level, s.css, s.icon, s.word) == (OK, "band-normal", "✔", "NORMAL")
    assert s.headline == "NORMAL — above 1.05 (Binance's liquidation level)"
    assert s.reasons == (
        "40.0 % from liquidation ↓",
        "uniMMR 8.00 — above 1.05 (Binance's liquidation level)",
    )


def test_the_directional_book_is_critical_though_its_uni_mmr_is_high() -> None:
    # The book: uniMMR 4.41, far above every level, yet a 1.43 % fall liquidates it.
    s = sev(stored(uni=4.41, down=-1.43))
    assert (s.level, s.source, s.css, s.icon) == (CRITICAL, "distance", "band-critical", "✖")
    assert s.reasons == ("1.4 % from liquidation ↓",)
    assert s.headline == "CRITICAL: 1.4 % from liquidation ↓"
    # Under 15 % but not 5 %: a warning; the nearer side counts, up as well as down.
    up = sev(stored(uni=4.41, down=-30.0, up=12.0))
    assert (up.level, up.reasons) == (WARNING, ("12.0 % from liquidation ↑",))
    # The bands are settings: 1.43 % is only a warning when critical is 1 %.
    loose = severity(stored(uni=4.41, down=-1.43), NOW, stale_after_s=10, rules=PM,
                     bands=SeverityBands(1.0, 15.0))  # fmt: skip
    assert loose.level == WARNING


def test_the_uni_mmr_band_of_the_configured_product() -> None:
    # PM Pro: 1.30 is at or below the 1.5 margin call (a warning), 1.15 below reduce only 1.2.
    call = sev(stored(uni=1.3, status="MARGIN_CALL"), PM_PRO)
    assert (call.level, call.source) == (WARNING, "uni_mmr")
    assert call.headline == "WARNING: uniMMR 1.30 — below 1.5 margin call"
    reduce = sev(stored(uni=1.15, status="REDUCE_ONLY"), PM_PRO)
    assert reduce.level == CRITICAL
    assert reduce.reasons == ("uniMMR 1.15 — below 1.2 reduce only",)
    # A uniMMR shown as the level itself is "at" it, not "below".
    at = sev(stored(uni=1.1996, status="REDUCE_ONLY"), PM_PRO)
    assert at.reasons == ("uniMMR 1.20 — at 1.2 reduce only",)
    v = build_view(stored(uni=1.3, status="MARGIN_CALL"), None, NOW, 10, rules=PM_PRO)
    assert v.summary == "⚠ WARNING: uniMMR 1.30 — below 1.5 margin call · 1 s"  # said once
    # Under PM (liquidation 1.05 only) 1.30 is NORMAL by band; no margin-call words at all.
    pm = sev(stored(uni=1.3, status="NORMAL"), PM)
    assert pm.level == OK and "margin call" not in " ".join(pm.reasons)


def test_binance_s_own_account_status() -> None:
    s = sev(stored(reported="MARGIN_CALL"))
    assert (s.level, s.source, s.headline) == (
        WARNING,
        "binance",
        "WARNING: Binance says MARGIN_CALL",
    )
    for status in ("REDUCE_ONLY", "ACTIVE_LIQUIDATION", "FORCE_LIQUIDATION", "BANKRUPTED"):
        assert sev(stored(reported=status)).level == CRITICAL, status
    assert sev(stored(reported="SUPPLY_MARGIN")).level == WARNING
    assert sev(stored(reported=None)).level == sev(stored(reported="")).level == OK


def test_in_liquidation_says_how_far_past_the_level() -> None:
    # uniMMR 1.02 under PM: (1.05 − 1.02) / 1.05 = 2.857 % past the level.
    s = sev(stored(uni=1.02, status="LIQUIDATION", down=0.0, up=0.0, reported="NORMAL"))
    assert (s.level, s.css, s.icon, s.word) == (LIQUIDATION, "band-liquidation", "☠", "LIQUIDATION")
    assert s.headline == "IN LIQUIDATION: 2.9 % past Binance's level"
    assert s.reasons == ("IN LIQUIDATION: 2.9 % past Binance's level",)  # no "0 %" distance
    broke = sev(stored(uni=-math.inf, status="LIQUIDATION", adjusted_equity_usd=-100.0))
    assert broke.headline == "IN LIQUIDATION: adjusted equity ≤ 0"


def test_unknown_figures_keep_their_own_look() -> None:
    u = stored(uni=math.nan, status="UNKNOWN", down=None, state="UNKNOWN", unknown_reasons=("x",))
    s = sev(u)
    assert (s.level, s.css, s.icon, s.headline) == (
        UNKNOWN,
        "band-unknown",
        "⊘",
        "UNKNOWN — figures unavailable",
    )
    # Binance's critical word is still listed, but UNKNOWN stays the look (fail closed).
    both = sev(replace(u, reported_status="FORCE_LIQUIDATION"))
    assert both.level == UNKNOWN and both.reasons[1:] == ("Binance says FORCE_LIQUIDATION",)
    # Adjusted equity ≤ 0 is liquidation whatever else is unknown.
    broke = replace(u, uni_mmr=-math.inf, status="LIQUIDATION")
    assert sev(broke).level == LIQUIDATION


def test_stale_is_grey_says_what_it_last_showed_and_ranks_no_lower() -> None:
    s = sev(stored(uni=4.41, down=-1.43, age_s=35))
    assert (s.level, s.css, s.icon) == (STALE, "band-stale", "◷")
    assert s.headline == "STALE — last CRITICAL: 1.4 % from liquidation ↓"
    assert s.reasons[0] == "data 35 s old (limit 10 s)" and s.rank == RANK[CRITICAL]
    assert s.short == "STALE — CRITICAL"
    calm = sev(stored(age_s=35))
    assert calm.headline == "STALE — last NORMAL" and calm.rank == RANK[STALE]
    assert RANK[WARNING] < calm.rank < RANK[CRITICAL]
    none = sev(None)
    assert (none.level, none.icon, none.headline, none.short) == (
        STALE,
        "…",
        "NO DATA YET",
        "NO DATA",
    )


# ---- Ties and mixes ---------------------------------------------------------------------------


def test_ties_list_every_reason_distance_first() -> None:
    # Margin call by band and by Binance: both warnings; the band's first.
    s = sev(stored(uni=1.3, status="MARGIN_CALL", reported="MARGIN_CALL"), PM_PRO)
    assert s.level == WARNING and s.sources == ("uni_mmr", "binance")
    assert s.reasons == ("uniMMR 1.30 — below 1.5 margin call", "Binance says MARGIN_CALL")
    # Critical by distance and by Binance: distance first, then Binance.
    c = sev(stored(uni=4.41, down=-1.43, reported="REDUCE_ONLY"))
    assert c.reasons == ("1.4 % from liquidation ↓", "Binance says REDUCE_ONLY")
    # Critical by band and by distance: the distance leads (it says how near liquidation is).
    t = sev(stored(uni=1.15, status="REDUCE_ONLY", down=-0.07, reported="REDUCE_ONLY"), PM_PRO)
    assert t.sources == ("distance", "uni_mmr", "binance")
    assert t.headline == "CRITICAL: 0.07 % from liquidation ↓"
    # A mix: the worse wins and leads; the lesser follows; calm reasons are dropped.
    m = sev(stored(uni=1.3, status="MARGIN_CALL", down=-2.0), PM_PRO)
    assert m.level == CRITICAL
    assert m.reasons == ("2.0 % from liquidation ↓", "uniMMR 1.30 — below 1.5 margin call")


# ---- Worst first ------------------------------------------------------------------------------


def test_worst_first_order() -> None:
    sevs = {
        "calm": sev(stored(uni=187.0, account="calm")),
        "borrower": sev(stored(uni=8.0, account="borrower")),
        "edge": sev(stored(uni=3.0, down=-12.0)),
        "dir": sev(stored(uni=4.41, down=-1.43)),
        "near": sev(stored(uni=1.2, down=-0.07)),
        "broke": sev(stored(uni=1.02, status="LIQUIDATION")),
        "old": sev(stored(uni=50.0, age_s=60)),
        "u": sev(stored(uni=math.nan, status="UNKNOWN", state="UNKNOWN")),
        "new": sev(None),
    }
    assert worst_first(sevs) == [
        "new", "u", "broke", "near", "dir", "old", "edge", "borrower", "calm"
    ]  # fmt: skip
    # The kiosk steps through that order and wraps around.
    order = worst_first(sevs)
    assert next_account(order, "calm") == "new" and next_account(order, "dir") == "old"


# ---- Words and figures spelled one way ----------------------------------------------------------


def test_never_plus_zero_percent() -> None:
    liq = stored(uni=1.02, status="LIQUIDATION", down=0.0, up=0.0)
    v = build_view(liq, None, NOW, 10, rules=PM, bands=BANDS)
    texts = [x for x in vars(v).values() if isinstance(x, str)]
    assert not any("0.00 %" in t or "+0.0 %" in t for t in texts), texts
    assert v.liquidation == "IN LIQUIDATION: 2.9 % past Binance's level" and v.in_liquidation
    assert liquidation_words("NORMAL", 1.2, -0.001, None, PM) == "↓ < 0.01 %   ↑ never"
    assert liquidation_words("NORMAL", 9.0, -9.6204, None, PM, beyond="never") == (
        "↓ −9.62 %   ↑ never"
    )
    assert liquidation_words("UNKNOWN", math.nan, None, None, PM) == "unknown"
    # Exactly at the level, and just past it.
    assert past_level_words(1.05, PM) == "IN LIQUIDATION: at Binance's level (1.05)"
    assert past_level_words(1.0499, PM) == "IN LIQUIDATION: < 0.01 % past Binance's level"
    assert past_level_words(0.0, PM) == "IN LIQUIDATION: adjusted equity ≤ 0"
    assert (fmt_distance(0.073), fmt_distance(1.4321), fmt_distance(836.03)) == (
        "0.07 %",
        "1.4 %",
        "836 %",
    )


def test_margin_usage_shows_the_real_figure_over_100_percent() -> None:
    # uniMMR 0.58: MM 17,200 on adjusted equity 10,000 → 172 %, never capped at 100 %.
    assert margin_usage(17_200.0, 10_000.0) == "172.0 %"
    assert margin_usage(100.0, 0.0) == margin_usage(100.0, -5.0) == "> 100 %"
    assert margin_usage(0.0, 10_000.0) == "0.0 %"
    assert margin_usage(math.nan, 10_000.0) == "unknown"


def test_top_up_words_with_the_reduce_suggestion() -> None:
    reduce = ReduceAdvice("UM", "BTCUSDT", 0.34736842)
    assert top_up_advice(3_750.0, 2.0, reduce) == (
        "to reach uniMMR 2.0: add 3,750 USDT, or close 35 % of BTCUSDT"
    )
    assert top_up_advice(3_750.2, 2.0, None) == "to reach uniMMR 2.0: add 3,751 USDT"
    assert top_up_advice(0.0, 2.0, replace(reduce, fraction=0.0)) == (
        "uniMMR above 2.0: no top-up needed"
    )
    assert top_up_advice(9_000.0, 2.2, replace(reduce, fraction=None)) == (
        "to reach uniMMR 2.2: add 9,000 USDT (closing all of BTCUSDT is not enough)"
    )
    assert top_up_advice(math.nan, 2.0) == "to reach uniMMR 2.0: unknown"
    assert top_up_advice(99.5, 2.0, asset="USDC", price_usd=0.995) == (
        "to reach uniMMR 2.0: add 100 USDC"
    )


def test_the_banner_and_the_overview_say_the_same_top_up() -> None:
    # 1 BTC long at 50,000 (MM 200 at 0.4 %), 5,000 USDT: uniMMR 25. Target 30:
    # top-up = 30 · 200 − 5,000 = 1,000 USDT (collateral rate 1);
    # or close: MM may be 5,000 / 30 = 166.67 → notional 166.67 / 0.004 = 41,666.67 →
    # close 1 − 41,666.67 / 50,000 = 16.67 % → "17 %" (rounded up).
    rules = replace(PM, top_up_target_uni_mmr=30.0, top_up_clear_move_pct=0.0)
    report = evaluate(directional_long(), market(), rules)
    assert report.top_up_usd == pytest.approx(1_000.0)
    expected = "to reach uniMMR 30.0: add 1,000 USDT, or close 17 % of BTCUSDT"
    assert top_up_advice_for(report) == expected
    detail = report
    row = stored(uni=report.uni_mmr, top_up_usd=report.top_up_usd, top_up_target_uni_mmr=30.0)
    assert top_up_advice_of(row, detail) == expected
    assert build_view(row, None, NOW, 10, rules=rules, detail=detail).top_up_note == expected


def test_one_top_up_for_the_target_and_the_warning_distance() -> None:
    # The words: the larger amount meets both; the goal says which one needs it.
    assert top_up_advice(0.0, 2.0, move_usd=2_678.5, move_pct=15.0) == (
        "to be 15 % from liquidation: add 2,679 USDT"
    )
    reduce = ReduceAdvice("UM", "BTCUSDT", 0.2)
    assert top_up_advice(1_000.0, 2.0, reduce, move_usd=2_678.5, move_pct=15.0) == (
        "to reach uniMMR 2.0 and be 15 % from liquidation: add 2,679 USDT"
    )  # closing 20 % is for the uniMMR target only: left out
    assert top_up_advice(3_000.0, 2.0, reduce, move_usd=2_678.5, move_pct=15.0) == (
        "to reach uniMMR 2.0: add 3,000 USDT, or close 20 % of BTCUSDT"
    )
    assert top_up_advice(0.0, 2.0, move_usd=0.0, move_pct=15.0) == (
        "uniMMR above 2.0 and 15 % from liquidation: no top-up needed"
    )
    assert top_up_advice(0.0, 2.0, move_usd=math.nan, move_pct=15.0) == (
        "to reach uniMMR 2.0: unknown"
    )
    # 1 BTC long at 50,000 on 5,000 USDT: uniMMR 25, above the target 2.0, but −9.62 %
    # liquidates it. Staying clear of 1.05 down to −15 % (BTC 42,500: equity −2,500, MM 170)
    # takes 1.05 · 170 + 2,500 = 2,678.5 USDT (test_risk_engine works the distance through).
    report = evaluate(directional_long(), market(), PM)
    assert (report.top_up_usd, report.top_up_move_usd) == pytest.approx((0.0, 2_678.5))
    expected = "to be 15 % from liquidation: add 2,679 USDT"
    assert top_up_advice_for(report) == expected
    detail = report
    row = stored(uni=report.uni_mmr, top_up_usd=0.0, top_up_target_uni_mmr=2.0)
    view = build_view(row, None, NOW, 10, rules=PM, detail=detail)
    assert (view.top_up, view.top_up_note) == ("$2,678.50", expected)
    # A report stored before the distance figure existed, or as version 1's null (∞ or
    # unknown: the stored form could not tell): unknown, never a calm $0.00 or a made-up ∞.
    body = report_to_dict(report)
    old = {k: v for k, v in body.items() if k not in ("top_up_move_usd", "format_version")}
    v1_null = old | {"top_up_move_usd": None}
    for stored_form in (old, v1_null):
        unknown = build_view(row, None, NOW, 10, rules=PM, detail=report_from_dict(stored_form))
        assert (unknown.top_up, unknown.top_up_note) == ("unknown", "to reach uniMMR 2.0: unknown")
    # No stablecoin can get there (∞, kept as such by the stored form): said so.
    never = report_from_dict(body | {"top_up_move_usd": "Infinity"})
    never_view = build_view(row, None, NOW, 10, rules=PM, detail=never)
    assert (never_view.top_up, never_view.top_up_note) == (
        "∞",
        "to be 15 % from liquidation: no USDT top-up gets there",
    )


def test_net_stablecoin_buffer_says_owes() -> None:
    # A basis book that borrowed its USDT: 0 held, 52,767 owed → net −52,767.
    assert buffer_words(-52_767.0, 0.0) == (
        "owes $52,767",
        "stablecoin debts $52,767 exceed the $0 held",
        True,
    )
    assert buffer_words(15_000.0, 15_000.0) == (
        "$15,000.00",
        "net: $15,000 held, no stablecoin debt",
        False,
    )
    assert buffer_words(5_000.0, 20_000.0)[1] == "net: $20,000 held − $15,000 owed"
    detail = report_from_dict(
        {"net_stablecoin_buffer_usd": -52_767.0, "stablecoin_buffer_usd": 0.0}
    )
    v = build_view(stored(), None, NOW, 10, rules=PM, detail=detail)
    assert (v.buffer, v.buffer_owes) == ("owes $52,767", True)


def _positions(*notionals_usd: float) -> tuple[PositionMargin, ...]:
    """Positions with only these notionals (every other figure unknown)."""
    body = {"positions": [{"notional_usd": n} for n in notionals_usd]}
    return report_from_dict(body).positions


def test_gross_leverage() -> None:
    # |50,000| + |−30,000| over 5,000 adjusted equity = 16×.
    book = _positions(50_000.0, -30_000.0)
    assert gross_leverage(book, 5_000.0) == pytest.approx(16.0)
    assert leverage_text(gross_leverage(book, 5_000.0)) == "16.0×"
    assert leverage_text(gross_leverage((), 5_000.0)) == "n/a"
    assert leverage_text(gross_leverage(book, -1.0)) == "∞ (equity ≤ 0)"
    assert leverage_text(gross_leverage(_positions(math.nan), 1.0)) == "unknown"
    assert leverage_text(250.4) == "250×"


# ---- Tiles and the header -----------------------------------------------------------------------


def test_tiles_show_uni_mmr_distance_leverage_coloured_by_severity() -> None:
    dir_detail = report_from_dict({"positions": [{"notional_usd": 685_000.0}]})
    tiles = account_tiles(
        {
            "calm": stored(uni=187.19, down=None, up=835.84),
            "dir": stored(uni=4.41, down=-1.43, reported="MARGIN_CALL"),
            "broke": stored(uni=1.02, status="LIQUIDATION", down=0.0, up=0.0),
        },
        NOW,
        10,
        PM,
        BANDS,
        {"dir": dir_detail, "calm": report_from_dict({"positions": []})},
    )
    assert [t.account for t in tiles] == ["broke", "dir", "calm"]
    broke, d, calm = tiles
    assert (broke.status, broke.band_class, broke.icon) == ("LIQUIDATION", "band-liquidation", "☠")
    assert broke.distance == "IN LIQUIDATION: 2.9 % past Binance's level" and broke.reason == ""
    assert (d.uni_mmr, d.status, d.band_class) == ("4.41", "CRITICAL", "band-critical")
    assert d.distance == "↓ −1.43 %   ↑ never"
    assert d.reason == "Binance says MARGIN_CALL"  # the distance is on its own line
    assert d.leverage == "45.7×"  # 685,000 / 15,000
    assert d.brief == "CRITICAL: 1.4 % from liquidation ↓"
    assert (calm.status, calm.distance, calm.leverage) == ("NORMAL", "↓ never   ↑ +835.84 %", "n/a")


def test_tile_reason_and_the_header_s_other_accounts() -> None:
    assert tile_reason(sev(stored(uni=1.3, status="MARGIN_CALL"), PM_PRO)) == (
        "uniMMR 1.30 — below 1.5 margin call"
    )
    assert tile_reason(sev(stored())) == ""
    sevs = {
        "calm": sev(stored()),
        "dir": sev(stored(uni=4.41, down=-1.43)),
        "call": sev(stored(reported="MARGIN_CALL")),
    }
    assert others_note(sevs, "calm") == (
        "✖ dir: CRITICAL +1 more",
        "top-others band-critical",
        "dir",
    )
    assert others_note(sevs, "dir")[0] == "⚠ call: WARNING"
    assert others_note({"calm": sevs["calm"]}, "calm") == ("", "top-others", None)


def test_header_summary_from_the_severity() -> None:
    v = build_view(stored(uni=4.41, down=-1.43), None, NOW, 10, rules=PM, bands=BANDS)
    assert v.summary == "✖ CRITICAL: 1.4 % from liquidation ↓ · uniMMR 4.41 · 1 s"
    assert (v.band_class, v.status_icon) == ("band-critical", "✖")


# ---- URL and time ------------------------------------------------------------------------------


def test_url_state_round_trip() -> None:
    assert url_state("?account=b&view=stress") == ("b", "stress")
    assert url_state("") == (None, None)
    assert with_state("?kiosk=1", "b", "stress") == "?kiosk=1&account=b&view=stress"
    assert with_state("?account=a&view=overview", "a b", "history") == ("?account=a+b&view=history")
    assert url_state(with_state(None, "sim-a&b", "hedges")) == ("sim-a&b", "hedges")


def test_times_in_utc_by_default_and_local_on_request() -> None:
    assert clock_text(NOW) == "00:00:00 UTC"
    assert clock_text(NOW, {"local": False, "zone": "Europe/Paris"}) == "00:00:00 UTC"
    assert clock_text(NOW, {"local": True, "zone": "Europe/Paris", "offset_min": 60}) == (
        "01:00:00 CET"
    )
    assert clock_text(NOW, {"local": True, "zone": "Nowhere/Else", "offset_min": 330}) == (
        "05:30:00 UTC+05:30"
    )
    assert fmt_clock(NOW, "America/New_York") == "19:00:00 EST"
    v = build_view(stored(), None, NOW, 10, time_pref={"local": True, "zone": "Asia/Tokyo"})
    assert v.as_of == "as of 08:59:59 JST"  # the report is 1 s old
