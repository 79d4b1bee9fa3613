"""Alert rules and their state machine: pure, no I/O, time passed in.

A rule looks at what is known of one account (a new report, the age of its newest report, the
collector's failures) and says, per alert key, how bad the value is: ``breach``, the highest
*level* whose trigger it is past, and ``hold``, the highest level whose separate clear level it
is not back past (hysteresis). A rule may have several levels: uniMMR has two (1 warn below 2.0,
2 critical below 1.6) and Binance's account status one per status, in Binance's order. One key
is one alert, whatever its level:

- it **triggers** at the level breached, at once;
- it **escalates** at once when a higher level is breached (one row, its severity raised, one
  notification) — never a second alert for the same rule;
- it **eases** to a lower level, or **clears**, only once the value has been at or below that
  level for ``cooldown_s`` without a break, so a value hovering at a level raises one alert and
  one clear, never a flood. While that cool-down runs the alert is *recovering*: the screen says
  so with the current value, in the calmer colour.

Rules are direction-aware: margin usage alarms only when it rises *and* is already at a
meaningful level (an account climbing out of a hole is not "rising"), and Binance's status alarms
only on a move to a worse status (a better one eases or clears the same alert).

Rules come in families evaluated at different moments: ``report`` (every stored report,
including the per-second mark-price re-evaluations), ``stale`` (a timer: no report arrives when
data stops) and ``errors`` (collector failures, and their end at the next successful poll). An
active alert of a family that is not among that family's checks any more counts as calm (an
asset whose position was closed, an account status back to normal).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from app.web.view import top_up_advice_for
from risk.model import RiskReport


class Severity(StrEnum):
    WARN = "warn"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.WARN: 1, Severity.CRITICAL: 2}


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
    usage_rise_pct_per_min: Level = Level(10.0, 5.0)  # margin usage rising faster than …
    usage_rise_min_pct: float = 50.0  # … while usage is at least this (% of adjusted equity)
    stale_s: Level = Level(10.0, 10.0)  # newest report older than, seconds
    error_after_s: float = 30.0  # collector failing for this long (a refused key: at once)
    account_status: bool = True  # Binance's accountStatus worse than NORMAL
    # pmdesk's uniMMR differs from Binance's by more than (%, relative): the figures are suspect.
    reconcile_pct: Level = Level(0.5, 0.4)
    cooldown_s: float = 60.0  # calm this long before an alert eases or clears

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
        if self.uni_mmr_critical.trigger > self.uni_mmr_warn.trigger:
            raise ValueError("alerts.uni_mmr_critical: must be at or below uni_mmr_warn")
        return self


@dataclass(frozen=True)
class Tier:
    """What an alert is called at one of its levels."""

    severity: Severity
    title: str  # the rule in words, e.g. "uniMMR below 1.6"


@dataclass(frozen=True)
class Check:
    """One alert key's state as a rule sees it now."""

    key: str  # e.g. "uni_mmr", "asset_liquidation:BTC"
    tiers: tuple[Tier, ...]  # level 1, 2, …
    breach: int  # the highest level whose trigger the value is past (0: none)
    hold: int  # the highest level whose clear level it is not back past (≥ breach; 0: calm)
    message: str  # the value, in words
    action: str  # what to do about it
    value: float | None = None
    cleared: str = "back within limits"  # what its clear says after the value

    def tier(self, level: int) -> Tier:
        return self.tiers[min(max(level, 1), len(self.tiers)) - 1]

    @property
    def breached(self) -> bool:
        return self.breach > 0

    @property
    def calm(self) -> bool:
        return self.hold == 0


@dataclass(frozen=True)
class Alert:
    """An active alert: its rule's level now, the worst it reached, and the newest check."""

    account: str
    level: int
    peak: int
    since_ms: int
    check: Check
    recovering_to: int | None = None  # cooling down towards this level (0: clear) …
    recovering_until_ms: int | None = None  # … which it reaches then if the calm holds

    @property
    def key(self) -> str:
        return self.check.key

    @property
    def severity(self) -> Severity:
        return self.check.tier(self.level).severity

    @property
    def title(self) -> str:
        return self.check.tier(self.level).title

    @property
    def peak_severity(self) -> Severity:
        return self.check.tier(self.peak).severity

    @property
    def message(self) -> str:
        return self.check.message

    @property
    def action(self) -> str:
        return self.check.action

    @property
    def value(self) -> float | None:
        return self.check.value

    @property
    def recovering_severity(self) -> Severity | None:
        """The severity it eases to (None: it clears), while recovering."""
        if not self.recovering_to:
            return None
        return self.check.tier(self.recovering_to).severity


@dataclass(frozen=True)
class Transition:
    """An alert fired, changed level or cleared (``kind``), as it is stored, shown and sent."""

    kind: str  # "trigger" | "escalate" | "ease" | "clear"
    alert: Alert  # after the change (a clear: as it was)
    at_ms: int
    was: int = 0  # the level before (escalate, ease)

    @property
    def account(self) -> str:
        return self.alert.account

    @property
    def check(self) -> Check:
        return self.alert.check

    @property
    def key(self) -> str:
        return self.alert.key

    @property
    def severity(self) -> Severity:
        return self.alert.severity

    @property
    def title(self) -> str:
        return self.alert.title


REPORT, STALE, ERRORS = "report", "stale", "errors"
FAMILY_OF = {
    "uni_mmr": REPORT,
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

# Binance's accountStatus values, from the best to the worst.
STATUS_ORDER = (
    "NORMAL",
    "MARGIN_CALL",
    "SUPPLY_MARGIN",
    "REDUCE_ONLY",
    "ACTIVE_LIQUIDATION",
    "FORCE_LIQUIDATION",
    "BANKRUPTED",
)
STATUS_TIERS = tuple(
    Tier(Severity.WARN if s == "MARGIN_CALL" else Severity.CRITICAL, f"Binance status {s}")
    for s in STATUS_ORDER[1:]
)

# Keys an older pmdesk stored (a separate alert per uniMMR level, per Binance status): the key
# and level the same alert has now. Rows left open under them are adopted at start.
LEGACY_KEYS = {"uni_mmr_warn": ("uni_mmr", 1), "uni_mmr_critical": ("uni_mmr", 2)}


def current_key(key: str, severity: str) -> tuple[str, int]:
    """A stored alert's key and level in today's terms (older keys mapped)."""
    if key in LEGACY_KEYS:
        return LEGACY_KEYS[key]
    if key.startswith("account_status:"):
        return "account_status", status_level(key.split(":", 1)[1])
    return key, (2 if severity == Severity.CRITICAL and key == "reconciliation" else 1)


def adopted_check(
    key: str,
    rules: AlertRules,
    level: int,
    severity: str,
    title: str,
    message: str,
    action: str,
    value: float | None,
) -> Check:
    """An alert left open by a previous run, as a check at its level until the next real one
    (its rule's levels named as today's rules name them)."""
    tiers: tuple[Tier, ...]
    if key == "uni_mmr":
        warn, critical = rules.uni_mmr_warn.trigger, rules.uni_mmr_critical.trigger
        tiers = (
            Tier(Severity.WARN, f"uniMMR below {warn:g}"),
            Tier(Severity.CRITICAL, f"uniMMR below {critical:g}"),
        )
    elif key == "account_status":
        tiers = STATUS_TIERS
    elif key == "reconciliation":
        tiers = (Tier(Severity.WARN, title), Tier(Severity.CRITICAL, title))
    else:
        tiers = (Tier(Severity(severity), title),)
    return Check(key, tiers, level, level, message, action, value)  # cleared: the default


def status_level(status: str) -> int:
    """Binance's status as a level (0: NORMAL); a status pmdesk does not know counts as a
    margin call: worse than normal, the mildest of the bad ones."""
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else 1


def _below(value: float, levels: Sequence[Level]) -> tuple[int, int]:
    """(breach, hold) of a value that is bad when low, against levels from mild to severe."""
    breach = max((i + 1 for i, lv in enumerate(levels) if value < lv.trigger), default=0)
    hold = max((i + 1 for i, lv in enumerate(levels) if value < lv.clear), default=0)
    return breach, max(hold, breach)


def _above(value: float, level: Level) -> tuple[int, int]:
    breach = int(value > level.trigger)
    return breach, max(breach, int(value > level.clear))


def ratio_words(u: float | None) -> str:
    """A uniMMR as the screen writes it: two decimals, "≤ 0" once adjusted equity is gone."""
    if u is None or math.isnan(u):
        return "unavailable"
    if u == math.inf:
        return "∞ (no MM)"
    if u <= 0:
        return "≤ 0"
    return f"{u:,.2f}"


def _uni_mmr_check(report: RiskReport, rules: AlertRules) -> Check:
    u = report.uni_mmr
    warn, critical = rules.uni_mmr_warn, rules.uni_mmr_critical
    breach, hold = _below(u, (warn, critical))
    return Check(
        key="uni_mmr",
        tiers=(
            Tier(Severity.WARN, f"uniMMR below {warn.trigger:g}"),
            Tier(Severity.CRITICAL, f"uniMMR below {critical.trigger:g}"),
        ),
        breach=breach,
        hold=hold,
        message=f"uniMMR {ratio_words(u)}",
        # The top-up the overview shows: to the configured target, in its words.
        action=top_up_advice_for(report),
        value=u,
    )


def liquidation_move_words(down_pct: float | None, up_pct: float | None) -> tuple[float, str]:
    """The nearer of the two uniform moves that liquidate, and that move in words."""
    nearest = min(abs(m) for m in (down_pct, up_pct) if m is not None)
    if nearest == 0:
        return nearest, "the account is at or past its liquidation level now"
    side = "fall" if down_pct is not None and abs(down_pct) == nearest else "rise"
    return nearest, f"a {nearest:.1f} % {side} of every coin liquidates the account"


CUT_OR_HEDGE = "cut size or hedge the losing side, or add stablecoin"
"""What to do about a near liquidation when no stablecoin top-up figure says more."""


def _liquidation_move_check(report: RiskReport, rules: AlertRules) -> Check | None:
    shock = report.liquidation_shock
    if shock.down_pct is None and shock.up_pct is None:
        return None
    nearest, words = liquidation_move_words(shock.down_pct, shock.up_pct)
    level = rules.liquidation_move_pct
    breach, hold = _below(nearest, (level,))
    return Check(
        key="liquidation_move",
        tiers=(Tier(Severity.CRITICAL, f"liquidation within a {level.trigger:g} % move"),),
        breach=breach,
        hold=hold,
        message=words,
        # The overview's one top-up when it clears this distance (and the uniMMR target).
        action=top_up_advice_for(report) if report.top_up_move_usd > 0 else CUT_OR_HEDGE,
        value=nearest,
    )


def _asset_checks(report: RiskReport, rules: AlertRules) -> list[Check]:
    """One asset alone near the price that liquidates the account, all else equal. Raised only
    for an asset nearer to it than the uniform move of every coin is: otherwise the account-wide
    alert already says it, and nearer (a long-only book at the edge has every asset "within
    10 %" at once). An alert already raised stays until its own clear level."""
    level = rules.asset_liquidation_pct
    shock = report.liquidation_shock
    uniform = [abs(m) for m in (shock.down_pct, shock.up_pct) if m is not None]
    account_wide = min(uniform) if uniform else math.inf
    out = []
    for a in report.asset_liquidations:
        moves = [(abs(m), m) for m in (a.down_pct, a.up_pct) if m is not None]
        if not moves:
            continue
        distance, signed = min(moves)
        at = a.down_price_usd if signed < 0 else a.up_price_usd
        breach, hold = _below(distance, (level,))
        if distance >= account_wide:
            breach = 0  # the account-wide move is at least as near: no new alert for it
        out.append(
            Check(
                key=f"asset_liquidation:{a.asset}",
                tiers=(
                    Tier(
                        Severity.CRITICAL,
                        f"{a.asset} within {level.trigger:g} % of its liquidation price",
                    ),
                ),
                breach=breach,
                hold=hold,
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
    unknown = report.state == "UNKNOWN"
    return Check(
        key="figures_unavailable",
        tiers=(Tier(Severity.CRITICAL, "figures unavailable"),),
        breach=int(unknown),
        hold=int(report.state != "OK"),
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
    if rec.both_liquidating:  # both say liquidation: near zero the relative gap says nothing
        return None
    diff_pct = 100.0 * rec.rel_diff_uni_mmr
    level = rules.reconcile_pct
    calmer = diff_pct > 0
    breach, hold = _above(abs(diff_pct), level)
    title = f"pmdesk and Binance differ by more than {level.trigger:g} %"
    return Check(
        key="reconciliation",
        tiers=(Tier(Severity.WARN, title), Tier(Severity.CRITICAL, title)),
        breach=breach * (2 if calmer else 1),
        hold=hold * (2 if calmer else 1),
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
    """Binance's accountStatus as levels in Binance's order: a worse status escalates the one
    alert, a better one lets it ease and clear — never a new alarm."""
    if report_status is None:
        return None
    level = status_level(report_status)
    return Check(
        key="account_status",
        tiers=STATUS_TIERS,
        breach=level,
        hold=level,
        message=f"Binance says {report_status}",
        action="read Binance's notice; add stablecoin or reduce positions",
        value=float(level),
        cleared="back to NORMAL",
    )


def margin_usage_pct(report: RiskReport) -> float:
    """MM as a share of adjusted equity (1 / uniMMR), capped at 100 %: past it the account is
    insolvent and a larger figure only says how little equity is left, not that risk grew (an
    account climbing back from equity ≤ 0 goes 100 → 100, never "up")."""
    if report.no_risk:
        return 0.0
    if report.adjusted_equity_usd <= 0:
        return 100.0
    return min(100.0, 100.0 * report.maint_margin.total_usd / report.adjusted_equity_usd)


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
        checks = [_unavailable_check(account, report)]
        if not math.isnan(report.uni_mmr):  # known, or ≤ 0 (liquidation) though others aren't
            checks.append(_uni_mmr_check(report, rules))
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
            breach, hold = _above(age_s, rules.stale_s)
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
        breach, hold = _above(rate, level)
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
        family: str,
        checks: list[Check],
        now_ms: int,
        hold_unseen: bool = False,
    ) -> list[Transition]:
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
        for key in [k for k in alerts if _family(k) == family and k not in seen]:
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
