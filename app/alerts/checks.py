"""The alert rules' checks: pure functions of a report (or Binance's status) and the rules,
each giving one key's ``Check`` — breach and hold levels, the value in words, the action.
``FAMILY_OF`` says when each key is evaluated (every report, the stale timer, failures)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.alerts.levels import AlertRules, Check, Level, Severity, Tier
from app.web.view import top_up_advice_for
from risk.model import RiskReport

REPORT, STALE, ERRORS, SIGNAL = "report", "stale", "errors", "signal"
OUTLOOK = "outlook"  # each newly stored Outlook (app/alerts/outlook_check.py)
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
    # Binance's liquidation and ADL orders (app/alerts/signals.py): stepped only by the stream's
    # order updates and by acknowledgements, never settled by another family's evaluation.
    "binance_liquidation": SIGNAL,
    "binance_adl": SIGNAL,
    "outlook_liquidation": OUTLOOK,
}

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


def status_level(status: str) -> int:
    """Binance's status as a level (0: NORMAL); a status pmdesk does not know counts as a
    margin call: worse than normal, the mildest of the bad ones."""
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else 1


def below(value: float, levels: Sequence[Level]) -> tuple[int, int]:
    """(breach, hold) of a value that is bad when low, against levels from mild to severe."""
    breach = max((i + 1 for i, lv in enumerate(levels) if value < lv.trigger), default=0)
    hold = max((i + 1 for i, lv in enumerate(levels) if value < lv.clear), default=0)
    return breach, max(hold, breach)


def above(value: float, level: Level) -> tuple[int, int]:
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


def uni_mmr_check(report: RiskReport, rules: AlertRules) -> Check:
    u = report.uni_mmr
    warn, critical = rules.uni_mmr_warn, rules.uni_mmr_critical
    breach, hold = below(u, (warn, critical))
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


def liquidation_move_check(report: RiskReport, rules: AlertRules) -> Check | None:
    shock = report.liquidation_shock
    if shock.down_pct is None and shock.up_pct is None:
        return None
    nearest, words = liquidation_move_words(shock.down_pct, shock.up_pct)
    level = rules.liquidation_move_pct
    breach, hold = below(nearest, (level,))
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


def asset_checks(report: RiskReport, rules: AlertRules) -> list[Check]:
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
        breach, hold = below(distance, (level,))
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


def unavailable_check(account: str, report: RiskReport) -> Check:
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


def reconcile_check(report: RiskReport, rules: AlertRules) -> Check | None:
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
    breach, hold = above(abs(diff_pct), level)
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


def status_check(
    account: str, report_status: str | None, uni_mmr: float | None = None
) -> Check | None:
    """Binance's accountStatus (polled, or pushed by ``riskLevelChange``: app/alerts/signals.py)
    as levels in Binance's order: a worse status escalates the one alert, a better one lets it
    ease and clear — never a new alarm. ``uni_mmr``: Binance's own figure beside it, if known."""
    if report_status is None:
        return None
    level = status_level(report_status)
    figure = "" if uni_mmr is None else f": uniMMR {ratio_words(uni_mmr)}"
    return Check(
        key="account_status",
        tiers=STATUS_TIERS,
        breach=level,
        hold=level,
        message=f"Binance says {account} is {report_status}{figure}",
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
