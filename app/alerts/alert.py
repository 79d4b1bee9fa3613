"""What the alert state machine gives back: an active ``Alert`` (its rule's level now, the worst
it reached, its newest check, whether it is cooling down) and a ``Transition`` (it fired,
changed level or cleared), as it is stored, shown and sent. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from app.alerts.levels import Check, Severity


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
