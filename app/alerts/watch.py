"""The alert watch: runs in the collector process, so alerts fire with no screen open.

The collectors tell it of every stored report (polls and mark-price re-evaluations), every
failure and every successful poll; a one-second timer covers what arrives by not arriving
(stale data) and the cooldowns that end. Transitions are stored (``alerts`` table: what every
screen shows) and sent to the team (``Notifier``): a trigger, an escalation of the same alert
(its row's severity raised, the acknowledgement re-armed) and a clear are each one message; an
alert easing to a lower level updates its row and sends nothing. Nothing here raises into the
collector.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from app.alerts.notify import Notice, Notifier
from app.alerts.rules import (
    FAMILY_OF,
    SEVERITY_RANK,
    SIGNAL,
    Alert,
    AlertBook,
    AlertRules,
    BinanceSignal,
    Severity,
    Transition,
    adopted_check,
    current_key,
)
from app.store.alerts import AlertStore, StoredAlert
from risk.model import RiskReport
from risk.outlook_result import Outlook

log = logging.getLogger(__name__)

UPDATE_EVERY_MS = 5_000  # an active alert's stored value follows the live one this often
TICK_S = 1.0


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


def _text(t: Transition) -> tuple[str, str]:
    a = t.alert
    if t.kind == "clear":  # named as it was at its worst: the alarm the team remembers
        return (
            f"[CLEARED] {a.account}: {a.check.tier(a.peak).title}",
            f"{a.message}: {a.check.cleared}.",
        )
    title = f"[{a.severity.upper()}] {a.account}: {a.title}"
    was = ""
    if t.kind == "escalate":
        before = a.check.tier(t.was)
        was = f" (was {before.severity.upper()}: {before.title})"
    return title, f"{a.message}{was}. {_sentence(a.action)}"


class AlertWatch:
    def __init__(
        self,
        store: AlertStore,
        rules: dict[str, AlertRules],
        now_ms: Callable[[], int],
        notifier: Notifier | None = None,
    ) -> None:
        self._store = store
        self._now_ms = now_ms
        self._notifier = notifier
        self._lock = threading.Lock()
        self.book = AlertBook(rules, now_ms())
        self._ids: dict[tuple[str, str], int] = {}
        self._updated_ms: dict[int, int] = {}
        self._stored: dict[int, tuple[str, str, float | None]] = {}  # what the row says now
        self._recovering: dict[int, tuple[int | None, str | None]] = {}
        self._adopt()

    def _adopt(self) -> None:
        """Alerts left open by the previous run stay the same alerts (no second trigger). Rows
        open under an older key (``uni_mmr_warn`` and ``uni_mmr_critical``, or one per Binance
        status) become one alert: the oldest row, at the highest level among them, the others
        closed."""
        try:
            stored = [a for a in self._store.active() if a.account in self.book.rules]
        # Broad on purpose: whatever the store raises, the watch starts (a lost adoption only
        # means an alert may fire again), never the collector's start-up failing with it.
        except Exception as exc:
            log.error("open alerts could not be read (%s): they may fire again", exc)
            return
        groups: dict[tuple[str, str], list[tuple[StoredAlert, int]]] = defaultdict(list)
        for a in stored:
            key, level = current_key(a.key, a.severity)
            if a.key == key:
                level = max(level, a.level)
            groups[(a.account, key)].append((a, level))
        for (account, key), rows in groups.items():
            rows.sort(key=lambda r: (r[0].triggered_at_ms, r[0].id))
            keep = rows[0][0]
            level = max(lv for _a, lv in rows)
            peak = max((SEVERITY_RANK.get(Severity(a.peak), 1) for a, _lv in rows), default=1)
            check = adopted_check(
                key,
                self.book.rules[account],
                level,
                keep.severity,
                keep.title,
                keep.message,
                keep.action,
                keep.value,
            )
            tier = check.tier(level)
            peak = max(peak, SEVERITY_RANK[tier.severity])
            peak_level = level  # the lowest level as severe as the worst it reached
            while (
                peak_level < len(check.tiers)
                and SEVERITY_RANK[check.tier(peak_level).severity] < peak
            ):
                peak_level += 1
            if not self.book.adopt(account, check, level, keep.triggered_at_ms, peak_level):
                continue
            self._ids[(account, key)] = keep.id
            self._stored[keep.id] = (keep.message, keep.action, keep.value)
            self._recovering[keep.id] = (keep.recovering_until_ms, keep.recovering_to)
            peak_severity = Severity.CRITICAL if peak >= 2 else Severity.WARN
            try:
                for other, _lv in rows[1:]:
                    self._store.close(other.id, self._now_ms())
                changed = (keep.key, keep.severity, keep.level, keep.title) != (
                    key,
                    tier.severity.value,
                    level,
                    tier.title,
                )
                unacked = any(a.acked_by is None for a, _lv in rows)
                if changed or (unacked and keep.acked_by is not None):
                    self._store.change_level(
                        keep.id,
                        key,
                        tier.severity.value,
                        level,
                        tier.title,
                        peak_severity.value,
                        rearm=unacked,
                    )
            # Broad on purpose: one group that cannot be merged must not stop the others'.
            except Exception as exc:
                log.error("alert %s of %s not adopted in the store: %s", key, account, exc)

    # ---- what the collectors say --------------------------------------------------------------
    def on_report(
        self,
        account: str,
        report: RiskReport,
        at_ms: int,
        reported_status: str | None,
        report_id: int | None,
    ) -> None:
        self._guarded(
            lambda: self.book.on_report(account, report, at_ms, reported_status), report_id
        )

    def on_failure(self, account: str, message: str, key_refused: bool = False) -> None:
        now = self._now_ms()
        self._guarded(lambda: self.book.on_failure(account, now, message, key_refused))

    def on_poll_ok(self, account: str) -> None:
        now = self._now_ms()
        self._guarded(lambda: self.book.on_poll_ok(account, now))

    def on_outlook(self, account: str, outlook: Outlook) -> None:
        """A newly stored Outlook (the collector's outlook job): its alert stepped."""
        now = self._now_ms()
        self._guarded(lambda: self.book.on_outlook(account, outlook, now))

    def on_binance_signal(self, account: str, signal: BinanceSignal, at_ms: int) -> None:
        """Binance's own signal from the user data stream (``riskLevelChange``, a liquidation or
        ADL order update; app/alerts/signals.py): stored and sent at once — no batching, the
        notifier only enqueues — and a changed quantity written to its row at once."""

        def step() -> list[Transition]:
            out = self.book.on_signal(account, signal, at_ms)
            for (a, _key), alert_id in self._ids.items():
                if a == account:
                    self._updated_ms[alert_id] = 0  # its new words now, not in 5 s
            return out

        self._guarded(step)

    def tick(self) -> None:
        now = self._now_ms()
        self._guarded(lambda: self.book.tick(now) + self._acknowledged(now))

    def schedule(self, scheduler: BackgroundScheduler) -> None:
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=TICK_S,
            id="alerts",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )

    def _acknowledged(self, now: int) -> list[Transition]:
        """Order alerts (Binance's liquidations) calm down only once someone acknowledged them
        on a screen: the store says which (read only while such alerts are open)."""
        ids = {
            alert_id: key
            for key, alert_id in self._ids.items()
            if FAMILY_OF.get(key[1].split(":", 1)[0]) == SIGNAL
        }
        if not ids:
            return []
        try:
            acked = [a.id for a in self._store.active() if a.id in ids and a.acked_by]
        # Broad on purpose: a store that cannot be read now only delays the clear to a later
        # tick; the timer's other transitions (computed before) must still be applied.
        except Exception as exc:
            log.debug("acknowledgements not read: %s", exc)
            return []
        keys: dict[str, set[str]] = defaultdict(set)
        for alert_id in acked:
            account, key = ids[alert_id]
            keys[account].add(key)
        out: list[Transition] = []
        for account, those in keys.items():
            out += self.book.on_acknowledged(account, those, now)
        return out

    # ---- effects ------------------------------------------------------------------------------
    def _guarded(self, step: Callable[[], list[Transition]], report_id: int | None = None) -> None:
        try:
            with self._lock:
                for t in step():
                    self._apply(t, report_id)
                self._follow_values()
        # Broad on purpose: a bug in a rule or a store error is logged with its traceback, and
        # the collector that called in keeps collecting (its own cycle must never die of it).
        except Exception:
            log.exception("alert evaluation failed; collection goes on")

    def _apply(self, t: Transition, report_id: int | None) -> None:
        a = t.alert
        key = (a.account, a.key)
        alert_id: int | None = self._ids.get(key)
        try:
            if t.kind == "trigger":
                alert_id = self._store.open(
                    a.account,
                    a.key,
                    a.severity.value,
                    a.title,
                    a.message,
                    a.action,
                    a.value,
                    t.at_ms,
                    report_id,
                    level=a.level,
                    peak_severity=a.peak_severity.value,
                )
                self._ids[key] = alert_id
                self._remember(alert_id, a, t.at_ms)
            elif t.kind in ("escalate", "ease") and alert_id is not None:
                self._store.change_level(
                    alert_id,
                    a.key,
                    a.severity.value,
                    a.level,
                    a.title,
                    a.peak_severity.value,
                    rearm=t.kind == "escalate",
                )
                self._store.update(alert_id, a.message, a.action, a.value)
                self._store.set_recovering(alert_id, None, None)
                self._remember(alert_id, a, t.at_ms)
            elif t.kind == "clear":
                alert_id = self._ids.pop(key, None)
                if alert_id is not None:
                    self._store.close(alert_id, t.at_ms)
                    self._updated_ms.pop(alert_id, None)
                    self._stored.pop(alert_id, None)
                    self._recovering.pop(alert_id, None)
        except Exception as exc:  # e.g. the store is full: the team is still told
            log.error("alert %s of %s not stored: %s", a.key, a.account, exc)
        log.warning("alert %s: %s: [%s] %s — %s", t.kind, a.account, a.severity, a.title, a.message)
        if self._notifier is not None and t.kind != "ease":
            title, body = _text(t)
            self._notifier.send(Notice(alert_id, t.kind, a.account, a.severity.value, title, body))

    def _remember(self, alert_id: int, a: Alert, at_ms: int) -> None:
        self._updated_ms[alert_id] = at_ms
        self._stored[alert_id] = (a.message, a.action, a.value)
        self._recovering[alert_id] = (None, None)

    def _follow_values(self) -> None:
        """Each active row follows its alert: whether it is recovering (at once: the screen must
        never show a calm value under an alarm's words), and its value (every few seconds)."""
        now = self._now_ms()
        for (account, key), alert_id in self._ids.items():
            alert = self.book.alert(account, key)
            if alert is None:
                continue
            recovering = (
                alert.recovering_until_ms,
                None if alert.recovering_severity is None else alert.recovering_severity.value,
            )
            try:
                if recovering != self._recovering.get(alert_id):
                    self._store.set_recovering(alert_id, *recovering)
                    self._recovering[alert_id] = recovering
                    self._updated_ms[alert_id] = 0  # the value with it
                if now - self._updated_ms.get(alert_id, 0) < UPDATE_EVERY_MS:
                    continue
                shown = (alert.message, alert.action, alert.value)
                if shown == self._stored.get(alert_id):
                    continue  # the row already says it: no write
                self._updated_ms[alert_id] = now
                self._store.update(alert_id, *shown)
                self._stored[alert_id] = shown
            except Exception as exc:  # the next one may go through
                log.debug("alert %s value not updated: %s", alert_id, exc)
