"""Alert rules with scripted report sequences: each rule, its hysteresis and its cooldown.

Reports are the basis book (tests/unit/risk_books.py) with uniMMR, equity and the liquidation
figures set by hand; USDT counts at a collateral rate of 1 (its flat tier), so the top-up to a
target is exactly ``target × MM − adjusted equity``.
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
from tests.unit.risk_books import basis, market

T0 = 1_700_000_000_000
BASE = evaluate(basis(), market(), RiskRules())
MM = BASE.maint_margin.total_usd


def report(
    uni: float,
    down_pct: float | None = -50.0,
    up_pct: float | None = None,
    assets: tuple[AssetLiquidation, ...] = (),
) -> RiskReport:
    return dataclasses.replace(
        BASE,
        uni_mmr=uni,
        adjusted_equity_usd=uni * MM,
        liquidation_shock=LiquidationShock(down_pct, up_pct, None, None),
        asset_liquidations=assets,
    )


def btc(down_pct: float) -> AssetLiquidation:
    return AssetLiquidation("BTC", 50_000.0, 50_000.0 * (1 + down_pct / 100), None, down_pct, None)


def book(**rules: Any) -> AlertBook:
    return AlertBook({"a": dataclasses.replace(AlertRules(), **rules)}, T0)


def feed(b: AlertBook, script: Sequence[tuple[float, float]], **kw: Any) -> list[tuple[str, str]]:
    """(seconds, uniMMR) → the (kind, key) transitions, in order."""
    out: list[Transition] = []
    for at_s, uni in script:
        out += b.on_report("a", report(uni, **kw), T0 + int(at_s * 1000))
    return [(t.kind, t.check.key) for t in out]


def test_uni_mmr_warn_triggers_once_while_hovering_and_clears_past_its_clear_level() -> None:
    b = book(cooldown_s=60.0)
    # warn: below 2.0, clears at ≥ 2.2. Hovering 1.99 ↔ 2.01 ↔ 2.19 is one alert, no clear.
    script = [(0, 2.5), (1, 1.99), (2, 2.01), (3, 1.99), (4, 2.19), (5, 1.98)]
    assert feed(b, script) == [("trigger", "uni_mmr_warn")]
    # Calm (≥ 2.2) from t = 10 s: the alert clears only once calm for the full 60 s cooldown.
    assert feed(b, [(10, 2.25), (40, 2.3), (69.9, 2.3)]) == []
    assert feed(b, [(70, 2.3)]) == [("clear", "uni_mmr_warn")]
    assert b.active("a") == []


def test_a_break_in_the_calm_restarts_the_cooldown() -> None:
    b = book(cooldown_s=60.0)
    assert feed(b, [(0, 1.9)]) == [("trigger", "uni_mmr_warn")]
    assert feed(b, [(10, 2.3), (40, 2.1), (50, 2.3), (109, 2.3)]) == []  # 2.1 broke the calm
    assert feed(b, [(110, 2.3)]) == [("clear", "uni_mmr_warn")]  # 60 s after 50 s


def test_critical_fires_on_its_own_level_with_the_top_up_to_the_target() -> None:
    b = book(cooldown_s=0.0)  # the top-up aims at the warn level's clear level, 2.2
    out = b.on_report("a", report(1.9), T0) + b.on_report("a", report(1.55), T0 + 1000)
    assert [(t.kind, t.check.key) for t in out] == [
        ("trigger", "uni_mmr_warn"),
        ("trigger", "uni_mmr_critical"),  # below 1.6
    ]
    # Top-up at uniMMR 1.55: (2.2 − 1.55) × MM of stablecoin, collateral rate 1.
    need = (2.2 - 1.55) * MM
    assert out[1].check.action.startswith(f"add {need:,.0f} USD of stablecoin to reach uniMMR 2.2")
    assert out[1].check.message == "uniMMR 1.550" and out[1].check.severity == "critical"
    # Back to 1.7: critical is not calm (clear ≥ 1.75) even with no cooldown; 1.8 clears it.
    assert feed(b, [(2, 1.7)]) == []
    assert feed(b, [(3, 1.8)]) == [("clear", "uni_mmr_critical")]


def test_liquidation_move_takes_the_nearer_side() -> None:
    b = book(cooldown_s=0.0)  # 15 % trigger, 18 % clear
    assert feed(b, [(0, 3.0)], down_pct=-20.0, up_pct=40.0) == []
    assert feed(b, [(1, 3.0)], down_pct=-30.0, up_pct=12.0) == [("trigger", "liquidation_move")]
    assert "a 12.0 % rise of every coin" in b.active("a")[0].message
    assert b.active("a")[0].action == "cut size or hedge the losing side, or add stablecoin"
    assert feed(b, [(2, 3.0)], down_pct=-16.0, up_pct=None) == []  # between 15 and 18
    assert feed(b, [(3, 3.0)], down_pct=-18.5, up_pct=None) == [("clear", "liquidation_move")]


def test_asset_near_its_liquidation_price_one_alert_per_asset() -> None:
    b = book(cooldown_s=30.0)  # within 10 % triggers, 12 % clears
    assert feed(b, [(0, 3.0)], assets=(btc(-11.0),)) == []
    assert feed(b, [(1, 3.0)], assets=(btc(-9.0),)) == [("trigger", "asset_liquidation:BTC")]
    (alert,) = b.active("a")
    assert "liquidates at 45,500.00 (-9.0 %)" in alert.message  # 50,000 × (1 − 0.09)
    # The position is closed: no BTC row any more, which counts as calm — cleared 30 s later.
    assert feed(b, [(2, 3.0), (31, 3.0)]) == []
    assert feed(b, [(32, 3.0)]) == [("clear", "asset_liquidation:BTC")]


def test_margin_usage_rising_per_minute() -> None:
    b = book(cooldown_s=0.0)  # > 10 points a minute triggers, ≤ 5 clears
    # usage = 100 / uniMMR: 2.5 → 40 %; 2.0 → 50 %: +10 points in 60 s is not above 10.
    assert feed(b, [(0, 2.5), (10, 2.4), (60, 2.0)]) == []
    # 15 s later, uniMMR 1.9 (52.63 %): the oldest kept sample is t = 10 s (41.67 %):
    # (52.63 − 41.67) × 60 / 65 = 10.1 points a minute → trigger.
    out = feed(b, [(75, 1.9)])
    assert ("trigger", "usage_rise") in out
    rise = next(c for c in b.active("a") if c.key == "usage_rise")
    assert rise.value == pytest.approx((100 / 1.9 - 100 / 2.4) * 60 / 65)
    # Flat for a minute: rate 0 → calm → cleared (cooldown 0).
    assert ("clear", "usage_rise") in feed(b, [(100, 1.9), (140, 1.9)])


def test_usage_rate_needs_twenty_seconds_of_history() -> None:
    b = book(cooldown_s=0.0)
    assert feed(b, [(0, 3.0), (19, 1.0 + 1e-9)]) == [
        ("trigger", "uni_mmr_warn"),
        ("trigger", "uni_mmr_critical"),
    ]  # and no usage_rise from 19 s of data however steep


def test_stale_data_is_found_by_the_timer() -> None:
    b = book(cooldown_s=5.0, stale_s=Level(10.0, 10.0))
    assert b.tick(T0 + 10_000) == []  # 10 s since start: not older than 10 s
    (t,) = b.tick(T0 + 10_001)
    assert (t.kind, t.check.key) == ("trigger", "stale")
    assert t.check.message == "no report in the 10 s since start"
    b.on_report("a", report(3.0), T0 + 12_000)
    assert b.tick(T0 + 12_000) == []  # fresh: calm from now
    assert [x.kind for x in b.tick(T0 + 17_000)] == ["clear"]


def test_collector_errors_after_a_while_a_refused_key_at_once() -> None:
    b = book(cooldown_s=10.0, error_after_s=30.0, stale_s=Level(1e9, 1e9))  # errors alone
    assert b.on_failure("a", T0, "exchange unreachable") == []
    assert b.tick(T0 + 29_000) == []
    out = b.tick(T0 + 30_000)
    assert [(x.kind, x.check.key) for x in out] == [("trigger", "collector_error")]
    assert out[0].check.message == "exchange unreachable (for 30 s)"
    assert b.on_poll_ok("a", T0 + 40_000) == []  # calm from 40 s
    assert [x.kind for x in b.tick(T0 + 50_000) if x.check.key == "collector_error"] == ["clear"]
    refused = b.on_failure("a", T0 + 60_000, "key refused: can trade", key_refused=True)
    assert [(x.kind, x.check.title) for x in refused] == [("trigger", "API key refused")]


def test_binance_account_status_change() -> None:
    b = book(cooldown_s=0.0)
    assert b.on_report("a", report(3.0), T0, "NORMAL") == []
    (t,) = b.on_report("a", report(3.0), T0 + 1, "MARGIN_CALL")
    assert (t.check.key, t.check.severity) == ("account_status:MARGIN_CALL", "warn")
    out = b.on_report("a", report(3.0), T0 + 2, "REDUCE_ONLY")
    assert [(x.kind, x.check.key, x.check.severity) for x in out] == [
        ("trigger", "account_status:REDUCE_ONLY", "critical"),
        ("clear", "account_status:MARGIN_CALL", "warn"),
    ]
    assert [x.kind for x in b.on_report("a", report(3.0), T0 + 3, "NORMAL")] == ["clear"]


def test_levels_on_the_wrong_side_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"alerts\.uni_mmr_warn: clear level must be ≥"):
        AlertRules(uni_mmr_warn=Level(2.0, 1.9)).check()
    with pytest.raises(ValueError, match=r"alerts\.usage_rise_pct_per_min: clear level must be ≤"):
        AlertRules(usage_rise_pct_per_min=Level(10.0, 12.0)).check()


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
    assert feed(b, [(0, 1.9)]) == [("trigger", "uni_mmr_warn")]
    # The mark becomes unreadable: "figures unavailable" fires at once and names the input.
    out = b.on_report("a", unknown_report(), T0 + 1_000)
    ((kind, check),) = [(t.kind, t.check) for t in out]
    assert (kind, check.key, check.severity) == ("trigger", "figures_unavailable", "critical")
    assert check.message == (
        "figures unavailable for a: /fapi/v1/premiumIndex BTCUSDT: markPrice: not a finite "
        "number: 'NaN'"
    )
    # Unknown for two minutes: the uniMMR warning is not "calm" (it cannot be checked), so it
    # stays, however long the cooldown has run.
    for s in range(2, 120, 5):
        assert b.on_report("a", unknown_report(), T0 + s * 1_000) == []
    assert {c.key for c in b.active("a")} == {"uni_mmr_warn", "figures_unavailable"}
    # Figures back and calm (2.3 ≥ 2.2): both clear only after 60 s of calm.
    assert feed(b, [(130, 2.3), (189, 2.3)]) == []
    assert sorted(feed(b, [(190, 2.3)])) == [
        ("clear", "figures_unavailable"),
        ("clear", "uni_mmr_warn"),
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
    ((t,),) = [[t for t in out if t.check.key == "reconciliation"]]
    assert (t.kind, t.check.severity) == ("trigger", "critical")
    assert t.check.value == pytest.approx(3.0)
    assert "10.300 vs Binance's 10.000 (+3.00 %)" in t.check.message
    # 0.45 %: between the levels, nothing changes; 0.3 %: clears.
    assert b.on_report("a", reconciled(10.045, 10.0), T0 + 1_000) == []
    out = b.on_report("a", reconciled(10.03, 10.0), T0 + 2_000)
    assert [(t.kind, t.check.key) for t in out] == [("clear", "reconciliation")]
    # pmdesk the stricter (−2 %): a warning, not critical.
    out = b.on_report("a", reconciled(9.8, 10.0), T0 + 3_000)
    assert [(t.kind, t.check.severity) for t in out] == [("trigger", "warn")]
