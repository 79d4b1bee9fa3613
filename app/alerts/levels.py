"""Alert levels and rules: severities, a level with its separate clear (hysteresis), one
account's ``AlertRules`` (the single source of their defaults: the ``[alerts]`` settings derive
from it), and what a check says about one alert key (``Check``, ``Tier``). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
    # The Outlook (issue 20; app/alerts/outlook_check.py): P(liquidation within the horizon)
    # above, from the newest stored outlook (as a fraction: 0.01 = 1 %).
    outlook_p_liquidation: Level = Level(0.01, 0.005)
    outlook_horizon_h: float = 24.0

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
        for name in ("usage_rise_pct_per_min", "stale_s", "reconcile_pct", "outlook_p_liquidation"):
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
