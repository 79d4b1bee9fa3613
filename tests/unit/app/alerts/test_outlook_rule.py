"""The Outlook's alert rule, "P(liquidation within 24 h) above 1 %": it fires above the level,
holds between the trigger and its clear level (hysteresis), clears only after a cool-down below
the clear level, and an unknown outlook never clears it (fail closed: "outlook unknown")."""

from __future__ import annotations

import dataclasses
from typing import Any

from app.alerts.outlook_check import KEY, outlook_check
from app.alerts.rules import AlertBook, AlertRules, Level, Transition
from app.config import Settings
from risk.outlook_result import Outlook
from tests.support.outlooks import outlook

T0 = 1_700_000_000_000
MIN = 60_000


def book(**rules: Any) -> AlertBook:
    return AlertBook({"a": dataclasses.replace(AlertRules(), **rules)}, T0)


def kinds(ts: list[Transition]) -> list[str]:
    return [t.kind for t in ts]


def at24(p: float, minute: int) -> tuple[int, Outlook]:
    at = T0 + minute * MIN
    return at, outlook(at, {1.0: p / 10, 8.0: p / 2, 24.0: p})


def test_defaults_are_24_hours_and_one_percent_with_a_lower_clear_level() -> None:
    rules = AlertRules()
    assert rules.outlook_horizon_h == 24.0
    assert rules.outlook_p_liquidation == Level(0.01, 0.005)
    s = Settings()
    assert (s.outlook.alert_horizon_h, s.outlook.alert_p, s.outlook.alert_p_clear) == (
        24.0,
        0.01,
        0.005,
    )
    assert s.alert_rules(["a"])["a"].outlook_p_liquidation == Level(0.01, 0.005)
    custom = Settings.model_validate({"outlook": {"alert_p": 0.05, "alert_p_clear": 0.02}})
    assert custom.alert_rules(["a"])["a"].outlook_p_liquidation == Level(0.05, 0.02)


def test_fires_above_the_level_holds_in_between_and_clears_only_below_the_clear_level() -> None:
    b = book(cooldown_s=60.0)
    out: list[str] = []
    # 0.9 % (below 1 %): nothing; 2.5 %: fires once; 0.8 % is below the trigger but above the
    # clear level (0.5 %): the alert stays; 0.4 %: calm, cleared after a minute of calm.
    for minute, p in enumerate((0.009, 0.025, 0.03, 0.008, 0.008, 0.004)):
        at, o = at24(p, minute)
        got = b.on_outlook("a", o, at)
        out.append(",".join(kinds(got)) or "-")
    assert out == ["-", "trigger", "-", "-", "-", "-"]
    alert = b.alert("a", KEY)
    assert alert is not None and alert.recovering_until_ms == T0 + 5 * MIN + MIN
    at, o = at24(0.004, 6)
    assert kinds(b.on_outlook("a", o, at)) == ["clear"]
    assert b.alert("a", KEY) is None


def test_the_message_says_the_odds_and_the_title_the_rule() -> None:
    b = book()
    at, o = at24(0.025, 0)
    (t,) = b.on_outlook("a", o, at)
    assert t.alert.title == "P(liquidation within 24 h) above 1 %"
    # 1 / 0.025 = 40; s.e. sqrt(0.025 × 0.975 / 10,000) = 0.00156 → 0.16 %
    assert t.alert.message == "liquidation 1 in 40 over the next 24 h (2.5 % ± 0.16 % (1 s.e.))"
    assert t.alert.severity == "critical"


def test_an_unknown_outlook_never_clears_the_alert_and_says_so() -> None:
    b = book(cooldown_s=60.0)
    at, o = at24(0.05, 0)
    assert kinds(b.on_outlook("a", o, at)) == ["trigger"]
    for minute in range(1, 6):  # five minutes of unknown outlooks: held, never cleared
        unknown = outlook(T0 + minute * MIN, unknown="no klines cached for BTCUSDT")
        assert b.on_outlook("a", unknown, T0 + minute * MIN) == []
    alert = b.alert("a", KEY)
    assert alert is not None
    assert alert.message == "outlook unknown: no klines cached for BTCUSDT"
    assert alert.recovering_until_ms is None  # not even recovering
    # Unknown with no alert active raises nothing.
    fresh = book()
    assert fresh.on_outlook("a", outlook(T0, unknown="no history"), T0) == []


def test_an_outlook_without_the_alert_horizon_is_unknown_not_calm() -> None:
    o = outlook(T0, {1.0: 0.5, 8.0: 0.5})  # no 24 h horizon at all
    check = outlook_check(o, AlertRules())
    assert (check.breach, check.hold) == (0, 1)
    assert check.message == "outlook unknown: no figure for 24 h"


def test_none_of_ten_thousand_paths_reads_less_than_one_in_ten_thousand() -> None:
    check = outlook_check(outlook(T0, {1.0: 0.0, 8.0: 0.0, 24.0: 0.0}), AlertRules())
    assert (check.breach, check.hold) == (0, 0)
    assert check.message.startswith("liquidation less than 1 in 10,000 over the next 24 h")
    assert "0 %" not in check.message
