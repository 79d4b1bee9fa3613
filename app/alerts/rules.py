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
data stops), ``errors`` (collector failures, and their end at the next successful poll) and
``signal`` (Binance's liquidation and ADL orders from the user data stream, one alert per order,
held until done and acknowledged: ``signals.py``; its ``riskLevelChange`` steps Binance's
``account_status`` alert of the report family). An
active alert of a family that is not among that family's checks any more counts as calm (an
asset whose position was closed, an account status back to normal).

The parts: ``app/alerts/levels.py`` (levels and ``AlertRules``), ``checks.py`` (one pure check
per rule, ``FAMILY_OF``), ``signals.py`` (checks from Binance's pushed signals), ``alert.py``
(``Alert``, ``Transition``) and ``book.py`` (the state machine, ``AlertBook``). The names other
packages import stay importable from here.
"""

from __future__ import annotations

from app.alerts.alert import Alert, Transition
from app.alerts.book import AlertBook
from app.alerts.checks import (
    FAMILY_OF,
    LEGACY_KEYS,
    SIGNAL,
    STATUS_ORDER,
    adopted_check,
    current_key,
    margin_usage_pct,
    ratio_words,
)
from app.alerts.levels import SEVERITY_RANK, AlertRules, Check, Level, Severity, Tier
from app.alerts.signals import BinanceSignal, Signals

__all__ = [
    "FAMILY_OF",
    "LEGACY_KEYS",
    "SEVERITY_RANK",
    "SIGNAL",
    "STATUS_ORDER",
    "Alert",
    "AlertBook",
    "AlertRules",
    "BinanceSignal",
    "Check",
    "Level",
    "Severity",
    "Signals",
    "Tier",
    "Transition",
    "adopted_check",
    "current_key",
    "margin_usage_pct",
    "ratio_words",
]
