"""``[outlook]``: the Outlook the collector computes per account (issue 20: the probability of
touching Binance's liquidation level within 1 h / 8 h / 24 h from market history, the
correlation-break variant, replays of named episodes) and its alert, "P(liquidation within
``alert_horizon_h``) above ``alert_p``" with the separate clear level ``alert_p_clear``."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from app.alerts.levels import AlertRules
from app.config.sections import SECTION

ALERTS = AlertRules()


class OutlookSection(BaseModel):
    """``[outlook]`` (``PMDESK_OUTLOOK__<NAME>``)."""

    model_config = SECTION

    enabled: bool = Field(True, description="compute each account's Outlook in the collector")
    every_s: float = Field(
        60.0,
        ge=5,
        le=240,
        description="at most one Outlook per account this often (the screen calls one older "
        "than 5 min stale)",
    )
    n_paths: int = Field(10_000, ge=100, le=1_000_000, description="Monte-Carlo paths per horizon")
    core_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="of one core the outlooks may use on average: after one that took d s of "
        "CPU the next waits d (1/share - 1) s (a worse band does not wait)",
    )
    horizons: tuple[float, ...] = Field(
        (1.0, 8.0, 24.0), min_length=1, description="horizons, hours (JSON list in the env)"
    )
    half_life_h: float | None = Field(
        None,
        gt=0,
        description="EWMA half-life of volatilities and correlations, hours; "
        "unset = the model's default",
    )
    history_days: float = Field(
        180.0, gt=1, le=3650, description="hourly bars the model reads, days back"
    )
    alert_horizon_h: float = Field(
        ALERTS.outlook_horizon_h, gt=0, description="the alert's horizon, hours"
    )
    alert_p: float = Field(
        ALERTS.outlook_p_liquidation.trigger,
        gt=0,
        lt=1,
        description="alert when P(liquidation within alert_horizon_h) is above (0.01 = 1 %)",
    )
    alert_p_clear: float = Field(
        ALERTS.outlook_p_liquidation.clear,
        gt=0,
        lt=1,
        description="… and clear only at or below (hysteresis)",
    )

    @model_validator(mode="after")
    def _levels(self) -> OutlookSection:
        if self.alert_p_clear > self.alert_p:
            raise ValueError("outlook.alert_p_clear must be at or below outlook.alert_p")
        if not any(abs(h - self.alert_horizon_h) < 1e-9 for h in self.horizons):
            raise ValueError("outlook.alert_horizon_h must be one of outlook.horizons")
        return self
