"""The alert watch: runs in the collector process, so alerts fire with no screen open.

The collectors tell it of every stored report (polls and mark-price re-evaluations), every
failure and every successful poll; a one-second timer covers what arrives by not arriving
(stale data) and the cooldowns that end. Transitions are stored (``alerts`` table: what every
screen shows) and sent to the team (``Notifier``). Nothing here raises into the collector.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from app.alerts.notify import Notice, Notifier
from app.alerts.rules import AlertBook, AlertRules, Check, Severity, Transition
from app.store.alerts import AlertStore
from risk.model import RiskReport

log = logging.getLogger(__name__)

UPDATE_EVERY_MS = 5_000  # an active alert's stored value follows the live one this often
TICK_S = 1.0


def _text(t: Transition) -> tuple[str, str]:
    c = t.check
    if t.kind == "trigger":
        title = f"[{c.severity.upper()}] {t.account}: {c.title}"
        return title, f"{c.message}. {c.action[:1].upper()}{c.action[1:]}."
    return f"[CLEARED] {t.account}: {c.title}", f"{c.message}: back within limits."


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
        self._adopt()

    def _adopt(self) -> None:
        """Alerts left open by the previous run stay the same alerts (no second trigger)."""
        try:
            stored = [a for a in self._store.active() if a.account in self.book.rules]
        except Exception as exc:
            log.error("open alerts could not be read (%s): they may fire again", exc)
            return
        for a in stored:
            if (a.account, a.key) in self._ids:  # two open for one key: keep the first
                self._store.close(a.id, self._now_ms())
                continue
            self._ids[(a.account, a.key)] = a.id
            self.book.adopt(
                a.account,
                Check(
                    key=a.key,
                    severity=Severity(a.severity),
                    breached=True,
                    calm=False,
                    title=a.title,
                    message=a.message,
                    action=a.action,
                    value=a.value,
                ),
                a.triggered_at_ms,
            )

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

    def tick(self) -> None:
        now = self._now_ms()
        self._guarded(lambda: self.book.tick(now))

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

    # ---- effects ------------------------------------------------------------------------------
    def _guarded(self, step: Callable[[], list[Transition]], report_id: int | None = None) -> None:
        try:
            with self._lock:
                for t in step():
                    self._apply(t, report_id)
                self._follow_values()
        except Exception:
            log.exception("alert evaluation failed; collection goes on")

    def _apply(self, t: Transition, report_id: int | None) -> None:
        key = (t.account, t.check.key)
        c = t.check
        alert_id: int | None = None
        try:
            if t.kind == "trigger":
                alert_id = self._store.open(
                    t.account,
                    c.key,
                    c.severity.value,
                    c.title,
                    c.message,
                    c.action,
                    c.value,
                    t.at_ms,
                    report_id,
                )
                self._ids[key] = alert_id
                self._updated_ms[alert_id] = t.at_ms
                self._stored[alert_id] = (c.message, c.action, c.value)
            else:
                alert_id = self._ids.pop(key, None)
                if alert_id is not None:
                    self._store.close(alert_id, t.at_ms)
                    self._updated_ms.pop(alert_id, None)
                    self._stored.pop(alert_id, None)
        except Exception as exc:  # e.g. the store is full: the team is still told
            log.error("alert %s of %s not stored: %s", c.key, t.account, exc)
        log.warning("alert %s: %s: %s — %s", t.kind, t.account, c.title, c.message)
        if self._notifier is not None:
            title, body = _text(t)
            self._notifier.send(Notice(alert_id, t.kind, t.account, c.severity.value, title, body))

    def _follow_values(self) -> None:
        now = self._now_ms()
        for (account, key), alert_id in self._ids.items():
            if now - self._updated_ms.get(alert_id, 0) < UPDATE_EVERY_MS:
                continue
            check: Check | None = next((c for c in self.book.active(account) if c.key == key), None)
            shown = (check.message, check.action, check.value) if check is not None else None
            if shown is None or shown == self._stored.get(alert_id):
                continue  # gone, or the row already says it: no write
            self._updated_ms[alert_id] = now
            try:
                self._store.update(alert_id, *shown)
                self._stored[alert_id] = shown
            except Exception as exc:  # the next one may go through
                log.debug("alert %s value not updated: %s", alert_id, exc)
