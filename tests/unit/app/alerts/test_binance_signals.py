"""Alerts from Binance's own signals (app/alerts/signals.py), scripted on the pure book.

``riskLevelChange`` (Event-riskLevelChange: ``u`` uniMMR, ``s`` MARGIN_CALL | REDUCE_ONLY |
FORCE_LIQUIDATION) steps Binance's ``account_status`` alert; ``ORDER_TRADE_UPDATE`` with a client
id beginning ``autoclose-`` (liquidation) or equal to ``adl_autoclose`` (ADL) raises one CRITICAL
alert per order (Event-Futures-Order-update). Times are seconds after T0; the cooldown is 60 s.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.alerts.rules import AlertBook, AlertRules, Check, Severity, Tier, Transition
from app.alerts.signals import order_words
from risk.account_events import ADL_ID, OrderUpdate, RiskLevelChange
from tests.support.alert_reports import report

T0 = 1_700_000_000_000
ACCOUNT = "SIM-X"


def at(seconds: float) -> int:
    return T0 + int(seconds * 1000)


def book(**rules: Any) -> AlertBook:
    return AlertBook({ACCOUNT: dataclasses.replace(AlertRules(cooldown_s=60.0), **rules)}, T0)


def risk(status: str, uni: float, at_s: float = 0) -> RiskLevelChange:
    # eq, ae, m as in Binance's sample; the alert reads only s and u.
    return RiskLevelChange(at(at_s), uni, status, 30.23416728, 30.23416728, 15.11708371)


def order(
    status: str,
    filled: float,
    last: float = 0.0,
    price: float = 0.0,
    client_id: str = "autoclose-1596107620040000020",
    symbol: str = "BTCUSDT",
    at_s: float = 0,
) -> OrderUpdate:
    execution = "NEW" if status == "NEW" else "TRADE"
    return OrderUpdate(
        at(at_s), "UM", symbol, client_id, "SELL", "LIQUIDATION", execution, status,
        last, filled, price, "BOTH",
    )  # fmt: skip


def kinds(ts: list[Transition]) -> list[tuple[str, str, str]]:
    return [(t.kind, t.key, t.severity) for t in ts]


# ---- riskLevelChange --------------------------------------------------------------------------
def test_risk_level_change_raises_binance_s_status_in_words_at_once() -> None:
    b = book()
    out = b.on_signal(ACCOUNT, risk("REDUCE_ONLY", 1.18), at(0))
    assert kinds(out) == [("trigger", "account_status", "critical")]
    a = out[0].alert
    assert a.title == "Binance status REDUCE_ONLY"
    assert a.message == "Binance says SIM-X is REDUCE_ONLY: uniMMR 1.18"
    # REDUCE_ONLY is the 4th of Binance's statuses (NORMAL 0, MARGIN_CALL 1, SUPPLY_MARGIN 2).
    assert a.level == 3


def test_margin_call_warns_and_a_worse_push_escalates_the_same_alert() -> None:
    b = book()
    assert kinds(b.on_signal(ACCOUNT, risk("MARGIN_CALL", 1.45, 0), at(0))) == [
        ("trigger", "account_status", "warn")
    ]
    assert kinds(b.on_signal(ACCOUNT, risk("REDUCE_ONLY", 1.15, 5), at(5))) == [
        ("escalate", "account_status", "critical")
    ]
    out = b.on_signal(ACCOUNT, risk("FORCE_LIQUIDATION", 1.04, 9), at(9))
    assert kinds(out) == [("escalate", "account_status", "critical")]
    assert out[0].alert.title == "Binance status FORCE_LIQUIDATION"
    assert [a.key for a in b.active(ACCOUNT)] == ["account_status"]  # one alert all along


def test_the_poll_saying_the_same_status_is_the_same_alert_and_normal_clears_it() -> None:
    b = book()
    assert len(b.on_signal(ACCOUNT, risk("REDUCE_ONLY", 1.18), at(0))) == 1
    # The next report carries Binance's status (the stream's): no second alarm for it (pmdesk's
    # own uniMMR alert, below 1.6, is another rule).
    out = b.on_report(ACCOUNT, report(1.25), at(1), "REDUCE_ONLY")
    assert kinds(out) == [("trigger", "uni_mmr", "critical")]
    assert [a.key for a in b.active(ACCOUNT)] == ["account_status", "uni_mmr"]
    # Binance pushes no return to NORMAL: the reconciliation poll's accountStatus brings it,
    # and the alert clears after 60 s of it without a break (t = 10 → 70).
    assert b.on_report(ACCOUNT, report(2.5), at(10), "NORMAL") == []
    assert b.on_report(ACCOUNT, report(2.5), at(69.9), "NORMAL") == []
    out = b.on_report(ACCOUNT, report(2.5), at(70), "NORMAL")
    assert ("clear", "account_status", "critical") in kinds(out)
    assert b.active(ACCOUNT) == []  # pmdesk's uniMMR alert cleared with it (≥ 2.2 since t = 10)


def test_status_alerts_switched_off_ignore_the_push_too() -> None:
    b = book(account_status=False)
    assert b.on_signal(ACCOUNT, risk("FORCE_LIQUIDATION", 1.01), at(0)) == []
    assert b.active(ACCOUNT) == []


def test_a_signal_for_an_unknown_account_is_ignored() -> None:
    b = book()
    assert b.on_signal("ELSEWHERE", risk("REDUCE_ONLY", 1.1), at(0)) == []
    assert b.on_signal("ELSEWHERE", order("NEW", 0.0), at(0)) == []
    assert b.on_acknowledged("ELSEWHERE", {"binance_liquidation:x"}, at(0)) == []
    assert b.active(ACCOUNT) == []


# ---- liquidation and ADL orders -----------------------------------------------------------------
def test_one_alert_per_liquidation_order_its_quantity_following_the_updates() -> None:
    b = book()
    out = b.on_signal(ACCOUNT, order("NEW", 0.0), at(0))
    key = "binance_liquidation:autoclose-1596107620040000020"
    assert kinds(out) == [("trigger", key, "critical")]
    assert (
        out[0].alert.message
        == "Binance is liquidating SIM-X: BTCUSDT SELL, nothing filled yet (NEW)"
    )
    assert out[0].alert.title == "Binance liquidation order on BTCUSDT"
    # 0.3 fills at 41,000, then 0.2 at 40,950: z, the cumulative quantity, is 0.3 then 0.5.
    assert b.on_signal(ACCOUNT, order("PARTIALLY_FILLED", 0.3, 0.3, 41_000.0), at(0.2)) == []
    a = b.alert(ACCOUNT, key)
    assert a is not None and a.message == (
        "Binance is liquidating SIM-X: BTCUSDT SELL 0.3 (PARTIALLY_FILLED, last 0.3 at 41,000.00)"
    )
    assert b.on_signal(ACCOUNT, order("FILLED", 0.5, 0.2, 40_950.0), at(0.4)) == []
    a = b.alert(ACCOUNT, key)
    assert a is not None and a.value == 0.5 and a.severity == Severity.CRITICAL
    assert a.message.endswith("BTCUSDT SELL 0.5 (FILLED, last 0.2 at 40,950.00)")
    # With the order's quantity "q" the words say how much of it has been filled.
    whole = dataclasses.replace(order("PARTIALLY_FILLED", 0.3, 0.3, 41_000.0), orig_qty=1.25)
    assert order_words(ACCOUNT, whole) == (
        "Binance is liquidating SIM-X: BTCUSDT SELL 0.3 of 1.25 "
        "(PARTIALLY_FILLED, last 0.3 at 41,000.00)"
    )
    assert order_words(ACCOUNT, dataclasses.replace(whole, filled_qty=0.0)).endswith(
        "SELL, nothing filled yet of 1.25 (PARTIALLY_FILLED)"
    )
    # Another liquidation order is another alert.
    other = order("NEW", 0.0, client_id="autoclose-1596107620040000021", symbol="ETHUSDT")
    assert kinds(b.on_signal(ACCOUNT, other, at(1))) == [
        ("trigger", "binance_liquidation:autoclose-1596107620040000021", "critical")
    ]
    assert len(b.active(ACCOUNT)) == 2


def test_adl_orders_share_a_client_id_and_are_told_apart_by_symbol_and_time() -> None:
    b = book()
    first = b.on_signal(ACCOUNT, order("NEW", 0.0, client_id=ADL_ID, symbol="ETHUSDT"), at(0))
    assert kinds(first) == [("trigger", f"binance_adl:ETHUSDT:{at(0)}", "critical")]
    assert first[0].alert.message.startswith("Binance is auto-deleveraging SIM-X: ETHUSDT")
    filled = order("FILLED", 2.0, 2.0, 2_500.0, client_id=ADL_ID, symbol="ETHUSDT", at_s=0.1)
    assert b.on_signal(ACCOUNT, filled, at(0.1)) == []
    assert b.on_signal(ACCOUNT, filled, at(0.2)) == []  # the same update again: no new order
    # The first ADL order is done: the next update with that client id is a new order.
    again = order("NEW", 0.0, client_id=ADL_ID, symbol="ETHUSDT", at_s=30)
    assert kinds(b.on_signal(ACCOUNT, again, at(30))) == [
        ("trigger", f"binance_adl:ETHUSDT:{at(30)}", "critical")
    ]
    first_alert = b.alert(ACCOUNT, f"binance_adl:ETHUSDT:{at(0)}")
    assert first_alert is not None and first_alert.value == 2.0


def test_a_trader_s_own_order_raises_nothing() -> None:
    b = book()
    assert b.on_signal(ACCOUNT, order("FILLED", 1.0, 1.0, 100.0, client_id="my-order"), at(0)) == []


def test_an_order_alert_clears_only_once_done_and_acknowledged() -> None:
    b = book()
    key = "binance_liquidation:autoclose-1596107620040000020"
    b.on_signal(ACCOUNT, order("NEW", 0.0), at(0))
    # Acknowledged while the order is still working: it holds, however long.
    assert b.on_acknowledged(ACCOUNT, {key}, at(1)) == []
    assert b.on_acknowledged(ACCOUNT, {key}, at(100)) == []
    # Reports (the report family's evaluation) never settle it either.
    assert b.on_report(ACCOUNT, report(3.0), at(101), "NORMAL") == []
    assert b.alert(ACCOUNT, key) is not None
    # Done at t = 110 (acknowledged before): calm from then, cleared 60 s later (t = 170).
    b.on_signal(ACCOUNT, order("FILLED", 0.5, 0.5, 41_000.0), at(110))
    a = b.alert(ACCOUNT, key)
    assert a is not None and a.recovering_to == 0 and a.recovering_until_ms == at(170)
    assert b.on_acknowledged(ACCOUNT, {key}, at(169.9)) == []
    out = b.on_acknowledged(ACCOUNT, {key}, at(170))
    assert kinds(out) == [("clear", key, "critical")]
    assert out[0].check.cleared == "acknowledged, the order FILLED"
    assert b.active(ACCOUNT) == []


def test_an_order_alert_done_but_not_acknowledged_stays() -> None:
    b = book()
    b.on_signal(ACCOUNT, order("FILLED", 0.5, 0.5, 41_000.0), at(0))
    for t in (60, 600, 3600):
        assert b.on_report(ACCOUNT, report(3.0), at(t), "NORMAL") == []
        assert not [x for x in b.tick(at(t)) if x.key.startswith("binance_liquidation")]
    assert [a.key for a in b.active(ACCOUNT)] == [
        "binance_liquidation:autoclose-1596107620040000020"
    ]


def test_an_order_alert_adopted_after_a_restart_clears_once_acknowledged() -> None:
    b = book()
    key = "binance_liquidation:autoclose-7"
    tiers = (Tier(Severity.CRITICAL, "Binance liquidation order on BTCUSDT"),)
    words = "Binance is liquidating SIM-X: BTCUSDT SELL 0.5 (FILLED)"
    adopted = Check(key, tiers, 1, 1, words, "check the account", 0.5)
    assert b.adopt(ACCOUNT, adopted, 1, at(-300))
    assert b.on_acknowledged(ACCOUNT, {key}, at(0)) == []  # its order's state is unknown: done
    assert kinds(b.on_acknowledged(ACCOUNT, {key}, at(60))) == [("clear", key, "critical")]
