"""Alert rules and their state machine: pure, no I/O, time passed in.

A rule looks at what is known of one account (a new report, the age of its newest report, the
collector's failures) and says, per alert key, whether the value is *breached* (past the trigger
level) or *calm* (back past the separate clear level). Between the two levels an alert stays as
it is: that is the hysteresis. An active alert clears only once it has been calm for
``cooldown_s`` without a break, so a value hovering at a level raises one alert and one clear,
never a flood; a trigger is never delayed.

Rules come in families evaluated at different moments: ``report`` (every stored report,
including the per-second mark-price re-evaluations), ``stale`` (a timer: no report arrives when
data stops) and ``errors`` (collector failures, and their end at the next successful poll). An
active alert of a family that is not among that family's checks any more counts as calm (an
asset whose position was closed, an account status back to normal).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from risk.model import RiskReport


class Severity(StrEnum):
    WARN = "warn"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Level:
    """Hysteresis: the alert triggers past ``trigger`` and clears only back past ``clear``."""

    trigger: float
    clear: float


@dataclass(frozen=True)
class AlertRules:
    """One account's rules (``[alerts]`` in the config, overridable per account)."""

    uni_mmr_warn: Level = Level(2.0, 2.2)  # uniMMR below
    uni_mmr_critical: Level = Level(1.6, 1.75)  # uniMMR below (Binance's margin call is 1.5)
    liquidation_move_pct: Level = Level(15.0, 18.0)  # uniform move to liquidation, % below
    asset_liquidation_pct: Level = Level(10.0, 12.0)  # one asset within % of its liquidation
    usage_rise_pct_per_min: Level = Level(10.0, 5.0)  # margin usage rising faster than
    stale_s: Level = Level(10.0, 10.0)  # newest report older than, seconds
    error_after_s: float = 30.0  # collector failing for this long (a refused key: at once)
    account_status: bool = True  # Binance's accountStatus other than NORMAL
    # pmdesk's uniMMR differs from Binance's by more than (%, relative): the figures are suspect.
    reconcile_pct: Level = Level(0.5, 0.4)
    cooldown_s: float = 60.0  # calm this long before an alert clears

    def check(self) -> AlertRules:
        """The same rules, or ValueError naming a level whose clear is on the wrong side."""
        below = (
            "uni_mmr_warn",
            "uni_mmr_critical",
            "liquidation_move_pct",
            "asset_liquidation_pct",
        )
        for name in below:
            level: Level = getattr(self, name)
            if level.clear < level.trigger:
                raise ValueError(f"alerts.{name}: clear level must be ≥ the trigger level")
        for name in ("usage_rise_pct_per_min", "stale_s", "reconcile_pct"):
            level = getattr(self, name)
            if level.clear > level.trigger:
                raise ValueError(f"alerts.{name}: clear level must be ≤ the trigger level")
        return self


@dataclass(frozen=True)
class Check:
    """One alert key's state as a rule sees it now."""

    key: str  # e.g. "uni_mmr_warn", "asset_liquidation:BTC"
    severity: Severity
    breached: bool
    calm: bool
    title: str  # the rule in words
    message: str  # the value, in words
    action: str  # what to do about it
    value: float | None = None


@dataclass(frozen=True)
class Transition:
    """An alert fired or cleared (``kind``), as it is stored, shown and sent."""

    kind: str  # "trigger" | "clear"
    account: str
    check: Check
    at_ms: int


REPORT, STALE, ERRORS = "report", "stale", "errors"
FAMILY_OF = {
    "uni_mmr_warn": REPORT,
    "uni_mmr_critical": REPORT,
    "liquidation_move": REPORT,
    "asset_liquidation": REPORT,
    "usage_rise": REPORT,
    "account_status": REPORT,
    "figures_unavailable": REPORT,
    "reconciliation": REPORT,
    "stale": STALE,
    "collector_error": ERRORS,
}
USAGE_WINDOW_MS = 60_000
USAGE_MIN_SPAN_MS = 20_000  # a rate needs at least this much history


def _usd(x: float) -> str:
    return f"{x:,.0f} USD"


def _top_up(report: RiskReport, target: float) -> str:
    """The suggested top-up aims at the warn level's clear level (or the alert's own, if higher):
    reaching it ends the alert."""
    need = report.top_up_to(target)
    if need <= 0:
        return "no top-up needed"
    return f"add {_usd(need)} of stablecoin to reach uniMMR {target:g}, or cut size"


def _uni_mmr_check(
    key: str, severity: Severity, level: Level, report: RiskReport, rules: AlertRules
) -> Check:
    u = report.uni_mmr
    return Check(
        key=key,
        severity=severity,
        breached=u < level.trigger,
        calm=u >= level.clear,
        title=f"uniMMR below {level.trigger:g}",
        message=f"uniMMR {u:.3f}",
        action=_top_up(report, max(rules.uni_mmr_warn.clear, level.clear)),
        value=u,
    )


def _liquidation_move_check(report: RiskReport, rules: AlertRules) -> Check | None:
    shock = report.liquidation_shock
    moves = [abs(m) for m in (shock.down_pct, shock.up_pct) if m is not None]
    if not moves:
        return None
    nearest = min(moves)
    side = "fall" if shock.down_pct is not None and abs(shock.down_pct) == nearest else "rise"
    level = rules.liquidation_move_pct
    return Check(
        key="liquidation_move",
        severity=Severity.CRITICAL,
        breached=nearest < level.trigger,
        calm=nearest >= level.clear,
        title=f"liquidation within a {level.trigger:g} % move",
        message=f"a {nearest:.1f} % {side} of every coin liquidates the account",
        action="cut size or hedge the losing side, or add stablecoin",
        value=nearest,
    )


def _asset_checks(report: RiskReport, rules: AlertRules) -> list[Check]:
    level = rules.asset_liquidation_pct
    out = []
    for a in report.asset_liquidations:
        moves = [(abs(m), m) for m in (a.down_pct, a.up_pct) if m is not None]
        if not moves:
            continue
        distance, signed = min(moves)
        at = a.down_price_usd if signed < 0 else a.up_price_usd
        out.append(
            Check(
                key=f"asset_liquidation:{a.asset}",
                severity=Severity.CRITICAL,
                breached=distance < level.trigger,
                calm=distance >= level.clear,
                title=f"{a.asset} within {level.trigger:g} % of its liquidation price",
                message=(
                    f"{a.asset} {a.price_usd:,.2f} USD; the account liquidates at "
                    f"{at:,.2f} ({signed:+.1f} %), all else equal"
                ),
                action=f"hedge or reduce {a.asset}, or add stablecoin",
                value=distance,
            )
        )
    return out


MAX_REASONS_SHOWN = 3


def _unavailable_check(account: str, report: RiskReport) -> Check:
    """Fail closed, loudly: a figure that cannot be computed is an alert of its own."""
    reasons = [str(r) for r in report.unknown_reasons]
    more = len(reasons) - MAX_REASONS_SHOWN
    listed = "; ".join(reasons[:MAX_REASONS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
    return Check(
        key="figures_unavailable",
        severity=Severity.CRITICAL,
        breached=report.state == "UNKNOWN",
        calm=report.state == "OK",
        title="figures unavailable",
        message=f"figures unavailable for {account}: {listed}" if reasons else "figures known",
        action="do not trust this account's figures until the named input is back: "
        "check Binance's own uniMMR",
    )


def _reconcile_check(report: RiskReport, rules: AlertRules) -> Check | None:
    """pmdesk's uniMMR against Binance's for the same poll. Critical when pmdesk is the calmer
    one (the screen looks safer than Binance says), a warning when it is the stricter."""
    rec = report.reconciliation
    if rec is None or rec.rel_diff_uni_mmr is None:
        return None
    diff_pct = 100.0 * rec.rel_diff_uni_mmr
    level = rules.reconcile_pct
    calmer = diff_pct > 0
    return Check(
        key="reconciliation",
        severity=Severity.CRITICAL if calmer else Severity.WARN,
        breached=abs(diff_pct) > level.trigger,
        calm=abs(diff_pct) <= level.clear,
        title=f"pmdesk and Binance differ by more than {level.trigger:g} %",
        message=(
            f"pmdesk's uniMMR {_ratio(rec.pmdesk_uni_mmr)} vs Binance's "
            f"{_ratio(rec.binance_uni_mmr)} ({diff_pct:+.2f} %): {rec.explained_by}"
        ),
        action=("trust Binance's figure, not pmdesk's: " if calmer else "pmdesk is the stricter; ")
        + "see the Binance vs pmdesk view for the part that differs",
        value=abs(diff_pct),
    )


def _ratio(u: float | None) -> str:
    if u is None:
        return "unavailable"
    if u == math.inf:
        return "∞ (no MM)"
    if u == -math.inf:
        return "≤ 0"
    return f"{u:.3f}"


def _status_check(report_status: str | None) -> Check | None:
    if report_status is None:
        return None
    normal = report_status == "NORMAL"
    return Check(
        key=f"account_status:{report_status}" if not normal else "account_status",
        severity=Severity.WARN if report_status in ("NORMAL", "MARGIN_CALL") else Severity.CRITICAL,
        breached=not normal,
        calm=normal,
        title="Binance account status changed",
        message=f"Binance says {report_status}",
        action="read Binance's notice; add stablecoin or reduce positions",
    )


@dataclass
class _Alert:
    check: Check
    since_ms: int
    calm_since_ms: int | None = None


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

    def adopt(self, account: str, check: Check, since_ms: int) -> None:
        """An alert still open from before a restart: active, as if it had just been seen."""
        if account in self._accounts and _family(check.key) is not None:
            self._accounts[account].alerts.setdefault(check.key, _Alert(check, since_ms))

    def active(self, account: str) -> list[Check]:
        return [a.check for a in self._accounts[account].alerts.values()]

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
        checks = [_unavailable_check(account, report)]
        if not math.isnan(report.uni_mmr):  # known, or ≤ 0 (liquidation) though others aren't
            checks += [
                _uni_mmr_check("uni_mmr_warn", Severity.WARN, rules.uni_mmr_warn, report, rules),
                _uni_mmr_check(
                    "uni_mmr_critical", Severity.CRITICAL, rules.uni_mmr_critical, report, rules
                ),
            ]
        if not unknown:
            checks += _asset_checks(report, rules)
            move = _liquidation_move_check(report, rules)
            if move is not None:
                checks.append(move)
            rise = self._usage_rise(state, report, at_ms, rules)
            if rise is not None:
                checks.append(rise)
        reconcile = _reconcile_check(report, rules)
        if reconcile is not None:
            checks.append(reconcile)
        if rules.account_status:
            status = _status_check(reported_status)
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

    def tick(self, now_ms: int) -> list[Transition]:
        """The timer: data age, failures that have lasted, calm periods that have run out."""
        out: list[Transition] = []
        for account, state in self._accounts.items():
            rules = self.rules[account]
            age_s = (now_ms - (state.last_report_ms or self.started_ms)) / 1000
            stale = Check(
                key="stale",
                severity=Severity.CRITICAL,
                breached=age_s > rules.stale_s.trigger,
                calm=age_s <= rules.stale_s.clear,
                title=f"data older than {rules.stale_s.trigger:g} s",
                message=(
                    f"newest report {age_s:,.0f} s old"
                    if state.last_report_ms is not None
                    else f"no report in the {age_s:,.0f} s since start"
                ),
                action="the figures on screen are not current: check the collector and network",
                value=age_s,
            )
            out += self._step(account, STALE, [stale], now_ms)
            out += self._errors(account, now_ms)
        return out

    # ---- rules with history -------------------------------------------------------------------
    @staticmethod
    def _usage_rise(
        state: _Account, report: RiskReport, at_ms: int, rules: AlertRules
    ) -> Check | None:
        """Margin usage (MM / adjusted equity, %) per minute, over the last minute."""
        if report.no_risk or report.adjusted_equity_usd <= 0:
            usage = 0.0 if report.no_risk else 100.0
        else:
            usage = 100.0 * report.maint_margin.total_usd / report.adjusted_equity_usd
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
        return Check(
            key="usage_rise",
            severity=Severity.WARN,
            breached=rate > level.trigger,
            calm=rate <= level.clear,
            title=f"margin usage rising faster than {level.trigger:g} points a minute",
            message=f"margin usage {usage:.1f} %, {rate:+.1f} points a minute",
            action="find the leg that is losing; be ready to add stablecoin or cut size",
            value=rate,
        )

    def _errors(self, account: str, now_ms: int) -> list[Transition]:
        state = self._accounts[account]
        checks = []
        if state.failing_since_ms is not None:
            lasted_s = (now_ms - state.failing_since_ms) / 1000
            checks.append(
                Check(
                    key="collector_error",
                    severity=Severity.CRITICAL,
                    breached=state.key_refused or lasted_s >= self.rules[account].error_after_s,
                    calm=False,
                    title="API key refused" if state.key_refused else "collector failing",
                    message=f"{state.failure} (for {lasted_s:,.0f} s)",
                    action=(
                        "create a read-only key and restart"
                        if state.key_refused
                        else "check the network, the exchange's status and the API key"
                    ),
                )
            )
        return self._step(account, ERRORS, checks, now_ms)

    # ---- the state machine --------------------------------------------------------------------
    def _step(
        self,
        account: str,
        family: str,
        checks: list[Check],
        now_ms: int,
        hold_unseen: bool = False,
    ) -> list[Transition]:
        rules = self.rules[account]
        alerts = self._accounts[account].alerts
        out = []
        seen = set()
        for c in checks:
            seen.add(c.key)
            alert = alerts.get(c.key)
            if alert is None:
                if c.breached:
                    alerts[c.key] = _Alert(c, now_ms)
                    out.append(Transition("trigger", account, c, now_ms))
                continue
            alert.check = c  # the banner shows the live value
            if not c.calm:
                alert.calm_since_ms = None
            elif self._calm_long_enough(alert, now_ms, rules):
                del alerts[c.key]
                out.append(Transition("clear", account, c, now_ms))
        for key in [k for k in alerts if _family(k) == family and k not in seen]:
            if hold_unseen:
                alerts[key].calm_since_ms = None  # not seen calm: the cooldown starts again
                continue
            if self._calm_long_enough(alerts[key], now_ms, rules):
                out.append(Transition("clear", account, alerts.pop(key).check, now_ms))
        return out

    @staticmethod
    def _calm_long_enough(alert: _Alert, now_ms: int, rules: AlertRules) -> bool:
        if alert.calm_since_ms is None:
            alert.calm_since_ms = now_ms
        return now_ms - alert.calm_since_ms >= rules.cooldown_s * 1000


def _family(key: str) -> str | None:
    return FAMILY_OF.get(key.split(":", 1)[0])
