"""The Outlook's alert rule (issue 20): "P(liquidation within H) above X", from the newest
stored outlook (``app/store/outlooks.py``), with a separate clear level (hysteresis:
``AlertRules.outlook_p_liquidation``). Pure.

Fail closed: an outlook that could not be computed (``unknown``), or one without the alert's
horizon or with a NaN probability, never calms the alert: it stays as it is and says "outlook
unknown" with the reason; it does not raise a new one (the figures' own alerts say when the
account's figures are unknown)."""

from __future__ import annotations

import math

from app.alerts.levels import AlertRules, Check, Severity, Tier
from app.web.pages.outlook_words import horizon_words, odds_words, pct_words, unknown_words
from risk.outlook_result import Outlook

KEY = "outlook_liquidation"
ACTION = "see the Outlook view; cut size or hedge, or add stablecoin"


def _tier(rules: AlertRules) -> Tier:
    level = rules.outlook_p_liquidation
    return Tier(
        Severity.CRITICAL,
        f"P(liquidation within {rules.outlook_horizon_h:g} h) above {100 * level.trigger:g} %",
    )


def outlook_check(outlook: Outlook, rules: AlertRules) -> Check:
    level = rules.outlook_p_liquidation
    h = outlook.horizon(rules.outlook_horizon_h)
    why = unknown_words(outlook)
    if why is None and (h is None or not math.isfinite(h.p_liquidation)):
        why = f"outlook unknown: no figure for {rules.outlook_horizon_h:g} h"
    if why is not None or h is None:
        return Check(
            key=KEY,
            tiers=(_tier(rules),),
            breach=0,
            hold=1,  # unknown is not calm: an active alert stays, its cool-down starts again
            message=why or "outlook unknown",
            action="do not read the account as safe: check the Outlook view for the reason",
            value=None,
            cleared="below the level again",
        )
    p = h.p_liquidation
    breach = int(p > level.trigger)
    hold = max(breach, int(p > level.clear))
    return Check(
        key=KEY,
        tiers=(_tier(rules),),
        breach=breach,
        hold=hold,
        message=(
            f"liquidation {odds_words(p, outlook.n_paths)} over {horizon_words(h.horizon_h)} "
            f"({pct_words(p, h.stderr)})"
        ),
        action=ACTION,
        value=p,
        cleared=f"at or below {100 * level.clear:g} % again",
    )
