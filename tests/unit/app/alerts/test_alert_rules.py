"""Alert rules with scripted report sequences: each rule, its hysteresis and its cooldown.

Reports are the basis book with uniMMR, equity and the liquidation figures set by hand
(tests/support/alert_reports.py); USDT counts at a collateral rate of 1 (its flat tier), so the
top-up to a target is exactly ``target × MM − adjusted equity``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import pytest

from app.alerts.rules import AlertBook, AlertRules, Level, Transition
from risk.evaluate import evaluate
from risk.model import (
    AssetLiquidation,
    LiquidationShock,
    MaintMargin,
    MarginBand,
    Reconciliation,
    RiskReport,
    RiskRules,
    UnknownReason,
)
from tests.support.alert_reports import BASE, MM, report
from tests.support.books import directional_long, market

T0 = 1_700_000_000_000


def btc(down_pct: float) -> AssetLiquidation:
    return AssetLiquidation("BTC", 50_000.0, 50_000.0 * (1 + down_pct / 100), None, down_pct, None)


def book(**rules: Any) -> AlertBook:
    return AlertBook({"a": dataclasses.replace(AlertRules(), **rules)}, T0)


def feed(b: AlertBook, script: Sequence[tuple[float, float]], **kw: Any) -> list[tuple[str, str]]:
    """(seconds, uniMMR) → the (kind, key) transitions, in order."""
    return [(t.kind, t.key) for t in feed_t(b, script, **kw)]


def feed_t(b: AlertBook, script: Sequence[tuple[float, float]], **kw: Any) -> list[Transition]:
    out: list[Transition] = []
    for at_s, uni in script:
        out += b.on_report("a", report(uni, **kw), T0 + int(at_s * 1000))
    return out


def levels(ts: list[Transition]) -> list[tuple[str, str, str]]:
    return [(t.kind, t.key, t.severity) for t in ts]


def test_uni_mmr_warn_triggers_once_while_hovering_and_clears_past_its_clear_level() -> None:
    b = book(cooldown_s=60.0)
    # warn: below 2.0, clears at ≥ 2.2. Hovering 1.99 ↔ 2.01 ↔ 2.19 is one alert, no clear.
    script = [(0, 2.5), (1, 1.99), (2, 2.01), (3, 1.99), (4, 2.19), (5, 1.98)]
    assert feed(b, script) == [("trigger", "uni_mmr")]
    # Calm (≥ 2.2) from t = 10 s: the alert clears only once calm for the full 60 s cooldown.
    assert feed(b, [(10, 2.25), (40, 2.3), (69.9, 2.3)]) == []
    assert feed(b, [(70, 2.3)]) == [("clear", "uni_mmr")]
    assert b.active("a") == []


def test_a_break_in_the_calm_restarts_the_cooldown() -> None:
    b = book(cooldown_s=60.0)
    assert feed(b, [(0, 1.9)]) == [("trigger", "uni_mmr")]
    assert feed(b, [(10, 2.3), (40, 2.1), (50, 2.3), (109, 2.3)]) == []  # 2.1 broke the calm
    assert feed(b, [(110, 2.3)]) == [("clear", "uni_mmr")]  # 60 s after 50 s


def test_warn_and_critical_are_one_alert_that_changes_level() -> None:
    b = book(cooldown_s=60.0)
    out = feed_t(b, [(0, 1.9), (1, 1.55)])
    # One key: it triggers as a warning and escalates at once below 1.6 — no second alert.
    assert levels(out) == [("trigger", "uni_mmr", "warn"), ("escalate", "uni_mmr", "critical")]
    assert out[1].title == "uniMMR below 1.6" and out[1].was == 1
    (alert,) = b.active("a")
    assert (alert.level, alert.peak, alert.severity) == (2, 2, "critical")
    # Top-up at uniMMR 1.55 aims at the configured target (2.0), in the overview tile's words:
    # (2.0 − 1.55) × MM of stablecoin, collateral rate 1, rounded up.
    need = math.ceil((2.0 - 1.55) * MM)
    assert alert.action == f"to reach uniMMR 2.0: add {need:,} USDT"
    assert alert.message == "uniMMR 1.55"
    # Back to 1.8 (≥ 1.75, the critical clear level; < 2.2): easing to warn, after the cooldown.
    assert feed(b, [(10, 1.8)]) == []
    (alert,) = b.active("a")
    assert (alert.recovering_to, alert.recovering_until_ms) == (1, T0 + 70_000)
    assert alert.recovering_severity == "warn" and alert.severity == "critical"
    out = feed_t(b, [(70, 1.8)])
    assert levels(out) == [("ease", "uni_mmr", "warn")] and out[0].was == 2
    (alert,) = b.active("a")
    assert (alert.level, alert.peak, alert.peak_severity) == (1, 2, "critical")
    # Calm (2.3 ≥ 2.2) from 80 s: recovering towards a clear, which comes 60 s later.
    assert feed(b, [(80, 2.3)]) == []
    (alert,) = b.active("a")
    assert (alert.recovering_to, alert.recovering_until_ms) == (0, T0 + 140_000)
    assert alert.recovering_severity is None
    assert levels(feed_t(b, [(140, 2.3)])) == [("clear", "uni_mmr", "warn")]


def test_a_fall_straight_through_both_levels_is_one_critical_alert() -> None:
    b = book(cooldown_s=0.0)
    assert levels(feed_t(b, [(0, 3.0), (5, 1.4)])) == [("trigger", "uni_mmr", "critical")]
    # Straight back to calm: one clear, no easing through warn on the way (cooldown 0).
    assert levels(feed_t(b, [(10, 3.0)])) == [("clear", "uni_mmr", "critical")]


def test_calm_straight_from_critical_clears_once_calm_for_the_cooldown() -> None:
    b = book(cooldown_s=60.0)
    feed(b, [(0, 1.5)])
    # 1.8 (warn band) at 10 s, calm 2.5 at 40 s: at 70 s it has been at or below warn for
    # 60 s — it eases; at 100 s calm for 60 s — it clears. Never a second trigger.
    assert feed(b, [(10, 1.8), (40, 2.5), (69, 2.5)]) == []
    assert feed(b, [(70, 2.5)]) == [("ease", "uni_mmr")]
    assert feed(b, [(99, 2.5)]) == []
    assert feed(b, [(100, 2.5)]) == [("clear", "uni_mmr")]


def test_liquidation_move_says_the_top_up_that_clears_it() -> None:
    # 1 BTC long at 50,000 on 5,000 USDT: −9.62 % liquidates it (4,790 / 49,790). Clear of
    # 1.05 down to −15 % (BTC 42,500: equity −2,500, MM 170): 1.05 · 170 + 2,500 = 2,678.5.
    b = book(cooldown_s=0.0)
    r = evaluate(directional_long(), market(), RiskRules())
    assert [(t.kind, t.key) for t in b.on_report("a", r, T0)] == [("trigger", "liquidation_move")]
    (alert,) = b.active("a")
    assert alert.message == "a 9.6 % fall of every coin liquidates the account"
    assert alert.action == "to be 15 % from liquidation: add 2,679 USDT"


def test_liquidation_move_takes_the_nearer_side() -> None:
    b = book(cooldown_s=0.0)  # 15 % trigger, 18 % clear
    assert feed(b, [(0, 3.0)], down_pct=-20.0, up_pct=40.0) == []
    assert feed(b, [(1, 3.0)], down_pct=-30.0, up_pct=12.0) == [("trigger", "liquidation_move")]
    assert "a 12.0 % rise of every coin" in b.active("a")[0].message
    # The synthetic report has no stablecoin figure for the distance: the plain advice.
    assert b.active("a")[0].action == "cut size or hedge the losing side, or add stablecoin"
    assert feed(b, [(2, 3.0)], down_pct=-16.0, up_pct=None) == []  # between 15 and 18
    assert feed(b, [(3, 3.0)], down_pct=-18.5, up_pct=None) == [("clear", "liquidation_move")]
    # Already at the liquidation level: said so, not "a 0.0 % fall".
    feed(b, [(4, 3.0)], down_pct=0.0, up_pct=0.0)
    assert b.active("a")[0].message == "the account is at or past its liquidation level now"


def test_asset_near_its_liquidation_price_one_alert_per_asset() -> None:
    b = book(cooldown_s=30.0)  # within 10 % triggers, 12 % clears
    assert feed(b, [(0, 3.0)], assets=(btc(-11.0),)) == []
    assert feed(b, [(1, 3.0)], assets=(btc(-9.0),)) == [("trigger", "asset_liquidation:BTC")]
    (alert,) = b.active("a")
    assert "liquidates at 45,500.00 (-9.0 %)" in alert.message  # 50,000 × (1 − 0.09)
    # The position is closed: no BTC row any more, which counts as calm — cleared 30 s later.
    assert feed(b, [(2, 3.0), (31, 3.0)]) == []
    assert feed(b, [(32, 3.0)]) == [("clear", "asset_liquidation:BTC")]


def test_an_asset_no_nearer_than_the_uniform_move_adds_no_alert() -> None:
    b = book(cooldown_s=0.0)
    # Every coin falling 8 % liquidates (the account-wide alert, critical); BTC alone needs 9 %:
    # the account-wide alert says it already, and nearer — no BTC alert.
    assert feed(b, [(0, 3.0)], down_pct=-8.0, assets=(btc(-9.0),)) == [
        ("trigger", "liquidation_move")
    ]
    # BTC alone nearer (5 %) than the uniform move: that is news — a concentrated position.
    assert feed(b, [(1, 3.0)], down_pct=-8.0, assets=(btc(-5.0),)) == [
        ("trigger", "asset_liquidation:BTC")
    ]
    # Back to 9 % (covered again, but not past its 12 % clear level): it stays.
    assert feed(b, [(2, 3.0)], down_pct=-8.0, assets=(btc(-9.0),)) == []


def test_margin_usage_rising_per_minute() -> None:
    b = book(cooldown_s=0.0)  # > 10 points a minute triggers, ≤ 5 clears; at ≥ 50 % usage
    # usage = 100 / uniMMR: 2.5 → 40 %; 2.0 → 50 %: +10 points in 60 s is not above 10.
    assert [k for k in feed(b, [(0, 2.5), (10, 2.4), (60, 2.0)]) if k[1] == "usage_rise"] == []
    # 15 s later, uniMMR 1.9 (52.63 %): the oldest kept sample is t = 10 s (41.67 %):
    # (52.63 − 41.67) × 60 / 65 = 10.1 points a minute → trigger.
    out = feed(b, [(75, 1.9)])
    assert ("trigger", "usage_rise") in out
    rise = next(c for c in b.active("a") if c.key == "usage_rise")
    assert rise.value == pytest.approx((100 / 1.9 - 100 / 2.4) * 60 / 65)
    # Flat for a minute: rate 0 → calm → cleared (cooldown 0).
    assert ("clear", "usage_rise") in feed(b, [(100, 1.9), (140, 1.9)])


def test_usage_rising_below_the_meaningful_level_is_no_alarm() -> None:
    b = book(cooldown_s=0.0, usage_rise_min_pct=50.0)
    # uniMMR 10 → 2.5: usage 10 % → 40 %, +30 points a minute, but under 50 %: nothing.
    assert feed(b, [(0, 10.0), (30, 4.0), (60, 2.5)]) == []


def test_an_account_climbing_out_of_a_hole_raises_no_usage_alarm() -> None:
    b = book(cooldown_s=0.0)
    # Adjusted equity ≤ 0 (uniMMR −5), then recovering through 0.08 (MM 12× the equity) to
    # 0.5 and 1.5: MM ÷ equity went 12.5, 2 and 0.67 — but past 100 % it only says how little
    # equity is left. Capped at 100 % the usage is 100, 100, 100, 66.7: never rising.
    out = feed(b, [(0, -5.0), (20, 0.08), (40, 0.5), (60, 1.5)])
    assert [k for k in out if k[1] == "usage_rise"] == []


def test_usage_rate_needs_twenty_seconds_of_history() -> None:
    b = book(cooldown_s=0.0)
    # No usage_rise from 19 s of data however steep; uniMMR straight to critical: one alert.
    assert feed(b, [(0, 3.0), (19, 1.0 + 1e-9)]) == [("trigger", "uni_mmr")]


def test_stale_data_is_found_by_the_timer() -> None:
    b = book(cooldown_s=5.0, stale_s=Level(10.0, 10.0))
    assert b.tick(T0 + 10_000) == []  # 10 s since start: not older than 10 s
    (t,) = b.tick(T0 + 10_001)
    assert (t.kind, t.key) == ("trigger", "stale")
    assert t.check.message == "no report in the 10 s since start"
    b.on_report("a", report(3.0), T0 + 12_000)
    assert b.tick(T0 + 12_000) == []  # fresh: calm from now
    assert [x.kind for x in b.tick(T0 + 17_000)] == ["clear"]


def test_collector_errors_after_a_while_a_refused_key_at_once() -> None:
    b = book(cooldown_s=10.0, error_after_s=30.0, stale_s=Level(1e9, 1e9))  # errors alone
    assert b.on_failure("a", T0, "exchange unreachable") == []
    assert b.tick(T0 + 29_000) == []
    out = b.tick(T0 + 30_000)
    assert [(x.kind, x.key) for x in out] == [("trigger", "collector_error")]
    assert out[0].check.message == "exchange unreachable (for 30 s)"
    assert b.on_poll_ok("a", T0 + 40_000) == []  # calm from 40 s
    assert [x.kind for x in b.tick(T0 + 50_000) if x.key == "collector_error"] == ["clear"]
    refused = b.on_failure("a", T0 + 60_000, "key refused: can trade", key_refused=True)
    assert [(x.kind, x.title) for x in refused] == [("trigger", "API key refused")]


def status(b: AlertBook, at_s: float, s: str) -> list[tuple[str, str, str]]:
    return [
        (t.kind, t.title, t.severity)
        for t in b.on_report("a", report(3.0), T0 + int(at_s * 1000), s)
    ]


def test_binance_status_alarms_only_on_a_worse_status() -> None:
    b = book(cooldown_s=0.0)
    assert status(b, 0, "NORMAL") == []
    assert status(b, 1, "MARGIN_CALL") == [("trigger", "Binance status MARGIN_CALL", "warn")]
    # Worse: the same alert escalates (one row, one notice) — not a second alert.
    assert status(b, 2, "REDUCE_ONLY") == [("escalate", "Binance status REDUCE_ONLY", "critical")]
    # Better: it eases (no alarm; the row follows), then clears.
    assert status(b, 3, "MARGIN_CALL") == [("ease", "Binance status MARGIN_CALL", "warn")]
    assert status(b, 4, "NORMAL") == [("clear", "Binance status MARGIN_CALL", "warn")]


def test_an_account_recovering_from_bankrupt_gets_no_status_alarm() -> None:
    b = book(cooldown_s=60.0)
    assert status(b, 0, "BANKRUPTED") == [("trigger", "Binance status BANKRUPTED", "critical")]
    # Climbing back: ACTIVE_LIQUIDATION, REDUCE_ONLY, MARGIN_CALL, NORMAL — each better than
    # the alert's level: no alarm, only a cool-down towards the status now.
    for at_s, s in ((5, "ACTIVE_LIQUIDATION"), (10, "REDUCE_ONLY"), (15, "MARGIN_CALL")):
        assert status(b, at_s, s) == []
    (alert,) = b.active("a")
    assert (alert.level, alert.recovering_severity) == (6, "warn")  # BANKRUPTED → MARGIN_CALL
    assert status(b, 20, "NORMAL") == []
    # A relapse to REDUCE_ONLY is still better than BANKRUPTED: no alarm either.
    assert status(b, 25, "REDUCE_ONLY") == []
    # Eases through the levels it has held for 60 s, clears 60 s after NORMAL for good.
    kinds = [k for at_s in range(30, 200, 5) for k, _t, _s in status(b, at_s, "NORMAL")]
    assert kinds[-1] == "clear" and "trigger" not in kinds and "escalate" not in kinds


def test_levels_on_the_wrong_side_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"alerts\.uni_mmr_warn: clear level must be ≥"):
        AlertRules(uni_mmr_warn=Level(2.0, 1.9)).check()
    with pytest.raises(ValueError, match=r"alerts\.usage_rise_pct_per_min: clear level must be ≤"):
        AlertRules(usage_rise_pct_per_min=Level(10.0, 12.0)).check()
    with pytest.raises(ValueError, match=r"alerts\.uni_mmr_critical: must be at or below"):
        AlertRules(uni_mmr_critical=Level(2.5, 2.6)).check()


def unknown_report() -> RiskReport:
    """The basis book with its BTCUSDT mark unreadable: MM unknown (as risk.evaluate says it)."""
    reason = UnknownReason(
        "/fapi/v1/premiumIndex", "markPrice", "not a finite number: 'NaN'", "BTCUSDT"
    )
    nan = math.nan
    return dataclasses.replace(
        BASE,
        uni_mmr=nan,
        status=MarginBand.UNKNOWN,
        maint_margin=MaintMargin(nan, nan, nan),
        liquidation_shock=LiquidationShock(nan, nan, None, None),
        unknown_reasons=(reason,),
    )


def test_unknown_figures_are_an_alert_and_hold_every_other_alert() -> None:
    b = book(cooldown_s=60.0)
    assert feed(b, [(0, 1.9)]) == [("trigger", "uni_mmr")]
    # The mark becomes unreadable: "figures unavailable" fires at once and names the input.
    out = b.on_report("a", unknown_report(), T0 + 1_000)
    (t,) = out
    check = t.check
    assert (t.kind, t.key, t.severity) == ("trigger", "figures_unavailable", "critical")
    assert check.message == (
        "figures unavailable for a: /fapi/v1/premiumIndex BTCUSDT: markPrice: not a finite "
        "number: 'NaN'"
    )
    # Unknown for two minutes: the uniMMR warning is not "calm" (it cannot be checked), so it
    # stays, however long the cooldown has run.
    for s in range(2, 120, 5):
        assert b.on_report("a", unknown_report(), T0 + s * 1_000) == []
    assert {c.key for c in b.active("a")} == {"uni_mmr", "figures_unavailable"}
    # Figures back and calm (2.3 ≥ 2.2): both clear only after 60 s of calm.
    assert feed(b, [(130, 2.3), (189, 2.3)]) == []
    assert sorted(feed(b, [(190, 2.3)])) == [
        ("clear", "figures_unavailable"),
        ("clear", "uni_mmr"),
    ]


def reconciled(pmdesk_uni: float, binance_uni: float) -> RiskReport:
    rec = Reconciliation(
        binance_uni_mmr=binance_uni,
        binance_equity_usd=None,
        binance_mm_usd=None,
        pmdesk_uni_mmr=pmdesk_uni,
        pmdesk_equity_usd=pmdesk_uni * MM,
        pmdesk_mm_usd=MM,
        rel_diff_uni_mmr=(pmdesk_uni - binance_uni) / binance_uni,
        rel_diff_equity=None,
        rel_diff_mm=None,
        binance_futures_mm_usd=None,
        binance_loan_mm_usd=None,
        pmdesk_futures_mm_usd=MM,
        pmdesk_loan_mm_usd=0.0,
        positions=(),
        agrees=False,
        explained_by="adjusted equity: pmdesk +1,000.00 USD",
        tolerance=0.005,
    )
    return dataclasses.replace(report(pmdesk_uni), reconciliation=rec)


def test_disagreeing_with_binance_is_an_alert_critical_when_pmdesk_is_the_calmer() -> None:
    b = book(cooldown_s=0.0)  # trigger above 0.5 %, clear at or within 0.4 %
    # 10.3 vs 10.0: pmdesk 3 % calmer than Binance — the screen looks safer than the truth.
    out = b.on_report("a", reconciled(10.3, 10.0), T0)
    ((t,),) = [[t for t in out if t.key == "reconciliation"]]
    assert (t.kind, t.severity) == ("trigger", "critical")
    assert t.check.value == pytest.approx(3.0)
    assert "10.300 vs Binance's 10.000 (+3.00 %)" in t.check.message
    # 0.45 %: between the levels, nothing changes; 0.3 %: clears.
    assert b.on_report("a", reconciled(10.045, 10.0), T0 + 1_000) == []
    out = b.on_report("a", reconciled(10.03, 10.0), T0 + 2_000)
    assert [(t.kind, t.key) for t in out] == [("clear", "reconciliation")]
    # pmdesk the stricter (−2 %): a warning, not critical.
    out = b.on_report("a", reconciled(9.8, 10.0), T0 + 3_000)
    assert [(t.kind, t.severity) for t in out] == [("trigger", "warn")]


def test_no_disagreement_alarm_when_both_say_liquidation() -> None:
    # uniMMR −0.5 (pmdesk) vs −0.6 (Binance): both at or below the liquidation level 1.05 —
    # the same verdict; near zero the relative gap (+16.7 %) says nothing.
    b = book(cooldown_s=0.0)
    out = b.on_report("a", reconciled(-0.5, -0.6), T0)
    assert [t for t in out if t.key == "reconciliation"] == []
    # One side above the level is a real disagreement (1.2 vs 0.9: +33 %).
    out = b.on_report("a", reconciled(1.2, 0.9), T0 + 1_000)
    assert [(t.kind, t.severity) for t in out if t.key == "reconciliation"] == [
        ("trigger", "critical")
    ]


def test_the_meaningful_usage_level_is_a_setting() -> None:
    from app.config import AlertSettings

    assert AlertSettings.model_validate({}).rules(10.0, 0.005).usage_rise_min_pct == 50.0
    rules = AlertSettings.model_validate({"usage_rise_min_pct": 40.0}).rules(10.0, 0.005)
    b = AlertBook({"a": dataclasses.replace(rules, cooldown_s=0.0)}, T0)
    # uniMMR 10 → 2.4: usage 10 % → 41.7 %: at 40 % that is meaningful, and rising 31.7 a minute.
    out = [(t.kind, t.key) for t in b.on_report("a", report(10.0), T0)]
    out += [(t.kind, t.key) for t in b.on_report("a", report(2.4), T0 + 60_000)]
    assert out == [("trigger", "usage_rise")]
