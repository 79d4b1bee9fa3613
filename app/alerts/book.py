"""The alert state machine (``AlertBook``): per account and key, trigger at once, escalate at
once, ease or clear only after ``cooldown_s`` of calm; alerts left open by a previous run are
adopted. Pure: observations and time are passed in, transitions come back."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from app.alerts.alert import Alert, Transition
from app.alerts.checks import (
    ERRORS,
    FAMILY_OF,
    OUTLOOK,
    REPORT,
    SIGNAL,
    STALE,
    above,
    asset_checks,
    liquidation_move_check,
    margin_usage_pct,
    reconcile_check,
    status_check,
    unavailable_check,
    uni_mmr_check,
)
from app.alerts.levels import AlertRules, Check, Severity, Tier
from app.alerts.outlook_check import outlook_check
from app.alerts.signals import BinanceSignal, Signals
from risk.model import RiskReport
from risk.outlook_result import Outlook

USAGE_WINDOW_MS = 60_000
USAGE_MIN_SPAN_MS = 20_000  # a rate needs at least this much history


@dataclass
class _Alert:
    check: Check
    level: int
    peak: int
    since_ms: int
    eased_since: dict[int, int] = field(default_factory=dict)  # lower level → at or below since

    def view(self, account: str, cooldown_ms: int) -> Alert:
        to = min(self.eased_since) if self.eased_since else None
        return Alert(
            account,
            self.level,
            self.peak,
            self.since_ms,
            self.check,
            to,
            None if to is None else self.eased_since[to] + cooldown_ms,
        )


@dataclass
class _Account:
    alerts: dict[str, _Alert] = field(default_factory=dict)
    usage: deque[tuple[int, float]] = field(default_factory=deque)  # (at, margin usage %)
    last_report_ms: int | None = None
    failing_since_ms: int | None = None
    failure: str = ""
    key_refused: bool = False


class AlertBook:
    """Every account's alert state; feed it observations, get the transitions back."""

    def __init__(self, rules: dict[str, AlertRules], started_ms: int) -> None:
        self.rules = rules
        self.started_ms = started_ms
        self._accounts: dict[str, _Account] = {name: _Account() for name in rules}
        self.signals = Signals()

    def adopt(
        self, account: str, check: Check, level: int, since_ms: int, peak: int | None = None
    ) -> bool:
        """An alert still open from before a restart: active at its level, as if just seen.
        False when it is not adopted (unknown account or key, or that key is active already)."""
        if account not in self._accounts or _family(check.key) is None:
            return False
        alerts = self._accounts[account].alerts
        if check.key in alerts:
            return False
        alerts[check.key] = _Alert(check, level, max(level, peak or level), since_ms)
        return True

    def active(self, account: str) -> list[Alert]:
        cooldown_ms = self._cooldown_ms(account)
        return [a.view(account, cooldown_ms) for a in self._accounts[account].alerts.values()]

    def alert(self, account: str, key: str) -> Alert | None:
        found = self._accounts[account].alerts.get(key)
        return None if found is None else found.view(account, self._cooldown_ms(account))

    def _cooldown_ms(self, account: str) -> int:
        return int(self.rules[account].cooldown_s * 1000)

    # ---- observations -------------------------------------------------------------------------
    def on_report(
        self, account: str, report: RiskReport, at_ms: int, reported_status: str | None = None
    ) -> list[Transition]:
        """A new report (``at_ms``: its data time). Evaluates the report family."""
        rules = self.rules[account]
        state = self._accounts[account]
        state.last_report_ms = (
            at_ms if state.last_report_ms is None else max(state.last_report_ms, at_ms)
        )
        unknown = report.state == "UNKNOWN"
        checks = [unavailable_check(account, report)]
        if not math.isnan(report.uni_mmr):  # known, or ≤ 0 (liquidation) though others aren't
            checks.append(uni_mmr_check(report, rules))
        if not unknown:
            checks += asset_checks(report, rules)
            move = liquidation_move_check(report, rules)
            if move is not None:
                checks.append(move)
            rise = self._usage_rise(state, report, at_ms, rules)
            if rise is not None:
                checks.append(rise)
        reconcile = reconcile_check(report, rules)
        if reconcile is not None:
            checks.append(reconcile)
        if rules.account_status:
            rec = report.reconciliation
            binance_uni = None if rec is None else rec.binance_uni_mmr
            status = status_check(account, reported_status, binance_uni)
            if status is not None:
                checks.append(status)
        # Unknown figures are not calm ones: alerts they would have checked stay as they are.
        return self._step(account, REPORT, checks, at_ms, hold_unseen=unknown)

    def on_failure(
        self, account: str, at_ms: int, message: str, key_refused: bool = False
    ) -> list[Transition]:
        state = self._accounts[account]
        if state.failing_since_ms is None:
            state.failing_since_ms = at_ms
        state.failure, state.key_refused = message, state.key_refused or key_refused
        return self._errors(account, at_ms)

    def on_poll_ok(self, account: str, at_ms: int) -> list[Transition]:
        state = self._accounts[account]
        state.failing_since_ms, state.failure, state.key_refused = None, "", False
        return self._errors(account, at_ms)

    def on_outlook(self, account: str, outlook: Outlook, at_ms: int) -> list[Transition]:
        """A newly stored Outlook (app/alerts/outlook_check.py): P(liquidation within the
        horizon) against its level; an unknown one holds the alert as it is."""
        if account not in self._accounts:
            return []
        return self._step(account, OUTLOOK, [outlook_check(outlook, self.rules[account])], at_ms)

    def on_signal(self, account: str, signal: BinanceSignal, at_ms: int) -> list[Transition]:
        """Binance's own word, pushed (app/alerts/signals.py): its status, or an order closing
        positions. Only the key it names is stepped; an unknown account's is ignored."""
        if account not in self._accounts:
            return []
        check = self.signals.check(account, signal, self.rules[account].account_status)
        return [] if check is None else self._signal_step(account, [check], at_ms)

    def on_acknowledged(self, account: str, keys: set[str], at_ms: int) -> list[Transition]:
        """Order alerts someone acknowledged (the watch reads the store): each calm once its
        order is done too, cleared after ``cooldown_s`` of that (called again by the timer)."""
        alerts = self._accounts[account].alerts if account in self._accounts else {}
        checks = [
            self.signals.acknowledged(account, a.check)
            for key, a in alerts.items()
            if key in keys and _family(key) == SIGNAL
        ]
        return self._signal_step(account, checks, at_ms) if checks else []

    def _signal_step(self, account: str, checks: list[Check], at_ms: int) -> list[Transition]:
        out = self._step(account, None, checks, at_ms)
        for t in out:
            if t.kind == "clear":
                self.signals.forget(account, t.key)
        return out

    def tick(self, now_ms: int) -> list[Transition]:
        """The timer: data age, failures that have lasted, calm periods that have run out."""
        out: list[Transition] = []
        for account, state in self._accounts.items():
            rules = self.rules[account]
            age_s = (now_ms - (state.last_report_ms or self.started_ms)) / 1000
            breach, hold = above(age_s, rules.stale_s)
            stale = Check(
                key="stale",
                tiers=(Tier(Severity.CRITICAL, f"data older than {rules.stale_s.trigger:g} s"),),
                breach=breach,
                hold=hold,
                message=(
                    f"newest report {age_s:,.0f} s old"
                    if state.last_report_ms is not None
                    else f"no report in the {age_s:,.0f} s since start"
                ),
                action="the figures on screen are not current: check the collector and network",
                value=age_s,
                cleared="data current again",
            )
            out += self._step(account, STALE, [stale], now_ms)
            out += self._errors(account, now_ms)
        return out

    # ---- rules with history -------------------------------------------------------------------
    @staticmethod
    def _usage_rise(
        state: _Account, report: RiskReport, at_ms: int, rules: AlertRules
    ) -> Check | None:
        """Margin usage (MM / adjusted equity, %, capped at 100) per minute, over the last
        minute — an alarm only when it rises *and* is at ``usage_rise_min_pct`` or more."""
        usage = margin_usage_pct(report)
        history = state.usage
        history.append((at_ms, usage))
        while len(history) > 2 and history[1][0] <= at_ms - USAGE_WINDOW_MS:
            history.popleft()
        then_ms, then = history[0]
        span = at_ms - then_ms
        if span < USAGE_MIN_SPAN_MS:
            return None
        rate = (usage - then) * 60_000 / span
        level = rules.usage_rise_pct_per_min
        breach, hold = above(rate, level)
        meaningful = usage >= rules.usage_rise_min_pct
        return Check(
            key="usage_rise",
            tiers=(
                Tier(
                    Severity.WARN,
                    f"margin usage above {rules.usage_rise_min_pct:g} % and rising faster "
                    f"than {level.trigger:g} points a minute",
                ),
            ),
            breach=breach if meaningful else 0,
            hold=hold if meaningful else 0,
            # The rate alone: the usage figure itself is the overview's tile.
            message=f"margin usage rising {rate:+.1f} points a minute",
            action="find the leg that is losing; be ready to add stablecoin or cut size",
            value=rate,
            # Not "within limits": usage may have stopped rising at 100 % (insolvent).
            cleared="no longer rising that fast",
        )

    def _errors(self, account: str, now_ms: int) -> list[Transition]:
        state = self._accounts[account]
        checks = []
        if state.failing_since_ms is not None:
            lasted_s = (now_ms - state.failing_since_ms) / 1000
            checks.append(
                Check(
                    key="collector_error",
                    tiers=(
                        Tier(
                            Severity.CRITICAL,
                            "API key refused" if state.key_refused else "collector failing",
                        ),
                    ),
                    breach=int(state.key_refused or lasted_s >= self.rules[account].error_after_s),
                    hold=1,  # failing is never calm
                    message=f"{state.failure} (for {lasted_s:,.0f} s)",
                    action=(
                        "create a read-only key and restart"
                        if state.key_refused
                        else "check the network, the exchange's status and the API key"
                    ),
                    cleared="polls succeed again",
                )
            )
        return self._step(account, ERRORS, checks, now_ms)

    # ---- the state machine --------------------------------------------------------------------
    def _step(
        self,
        account: str,
        family: str | None,
        checks: list[Check],
        now_ms: int,
        hold_unseen: bool = False,
    ) -> list[Transition]:
        """Step the checked keys; with a ``family`` (a full evaluation of it), its active keys
        not checked count as calm (or, ``hold_unseen``, as unknown); None: only those checked."""
        cooldown_ms = self._cooldown_ms(account)
        alerts = self._accounts[account].alerts
        out: list[Transition] = []
        seen = set()
        for c in checks:
            seen.add(c.key)
            alert = alerts.get(c.key)
            if alert is None:
                if c.breach:
                    alerts[c.key] = _Alert(c, c.breach, c.breach, now_ms)
                    out.append(
                        Transition("trigger", alerts[c.key].view(account, cooldown_ms), now_ms)
                    )
                continue
            alert.check = c  # the screen shows the live value
            if c.breach > alert.level:
                was, alert.level = alert.level, c.breach
                alert.peak = max(alert.peak, alert.level)
                alert.eased_since.clear()
                out.append(Transition("escalate", alert.view(account, cooldown_ms), now_ms, was))
                continue
            out += self._settle(account, alert, c.hold, now_ms, cooldown_ms)
        for key in [k for k in alerts if family and _family(k) == family and k not in seen]:
            if hold_unseen:
                alerts[key].eased_since.clear()  # not seen calm: the cooldown starts again
                continue
            out += self._settle(account, alerts[key], 0, now_ms, cooldown_ms)
        return out

    def _settle(
        self, account: str, alert: _Alert, hold: int, now_ms: int, cooldown_ms: int
    ) -> list[Transition]:
        """Ease or clear once the value has been at or below a lower level for the cooldown:
        to the lowest level for which that is true."""
        for lower in range(alert.level):
            if hold <= lower:
                alert.eased_since.setdefault(lower, now_ms)
            else:
                alert.eased_since.pop(lower, None)
        done = [lv for lv, since in alert.eased_since.items() if now_ms - since >= cooldown_ms]
        if not done:
            return []
        to = min(done)
        if to == 0:
            del self._accounts[account].alerts[alert.check.key]
            alert.eased_since.clear()
            return [Transition("clear", alert.view(account, cooldown_ms), now_ms)]
        was, alert.level = alert.level, to
        alert.eased_since = {lv: t for lv, t in alert.eased_since.items() if lv < to}
        return [Transition("ease", alert.view(account, cooldown_ms), now_ms, was)]


def _family(key: str) -> str | None:
    return FAMILY_OF.get(key.split(":", 1)[0])
