"""``Settings``: the sections (app/config/sections.py) from (highest first) command-line flags,
``PMDESK_<SECTION>__<NAME>`` variables, the old ``PMDESK_<NAME>`` ones, the ``--config`` TOML
file, and defaults; and what the rest of pmdesk asks of them (risk and alert rules,
retention, the /metrics token)."""

from __future__ import annotations

import dataclasses

from pydantic import Field, PrivateAttr, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from app.alerts.levels import AlertRules, Level
from app.config.legacy import LegacyEnvSource, SectionedTomlSource
from app.config.outlook_section import OutlookSection
from app.config.secrets import ConfigError, describe, read_secret_file
from app.config.sections import (
    AccountSettings,
    AlertSettings,
    AlertsSection,
    ExchangeSettings,
    RiskSettings,
    StoreSettings,
    WebSettings,
)
from app.store.retention import Retention
from risk.model import RiskRules


class Settings(BaseSettings):
    # hide_input_in_errors: a ValidationError's text never carries a value (issue 17); the
    # one line a person sees is made by describe(), which masks every secret setting's value.
    # env_nested_delimiter: PMDESK_WEB__PORT is [web] port (pydantic-settings' "Parsing
    # environment variable values", https://docs.pydantic.dev/latest/concepts/pydantic_settings/).
    model_config = SettingsConfigDict(
        env_prefix="PMDESK_",
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,
    )

    exchange: ExchangeSettings = Field(default_factory=lambda: ExchangeSettings.model_validate({}))
    store: StoreSettings = Field(default_factory=lambda: StoreSettings.model_validate({}))
    risk: RiskSettings = Field(default_factory=lambda: RiskSettings.model_validate({}))
    web: WebSettings = Field(default_factory=lambda: WebSettings.model_validate({}))
    alerts: AlertsSection = Field(default_factory=lambda: AlertsSection.model_validate({}))
    outlook: OutlookSection = Field(default_factory=lambda: OutlookSection.model_validate({}))
    accounts: list[AccountSettings] = Field(
        default_factory=list,
        description="several accounts ([[accounts]] tables); unset = exchange.account",
    )
    # The key settings a keyless load (load_settings(read_keys=False)) found and ignored.
    _ignored_keys: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            LegacyEnvSource(settings_cls),
            SectionedTomlSource(settings_cls),
        )

    def ignored_key_settings(self) -> list[str]:
        """The API key settings given to a command that reads no key (``serve``…): none of
        them was opened or kept."""
        return list(self._ignored_keys)

    def metrics_token(self) -> SecretStr | None:
        """The /metrics bearer token, read from ``web.metrics_token_file`` like a key file
        (owner only, one clear line otherwise); None: /metrics is off."""
        if self.web.metrics_token_file is None:
            return None
        return read_secret_file(self.web.metrics_token_file, "metrics_token")

    def retention(self) -> Retention:
        return self.store.retention()

    def alert_rules(self, names: list[str]) -> dict[str, AlertRules]:
        """The alert rules of each named account: ``[alerts]`` with the account's changes."""
        base = self.alerts.model_dump(exclude={"notify_urls"})
        changes = {a.name: a.alerts for a in self.accounts}
        out = {}
        for name in names:
            try:
                merged = AlertSettings.model_validate(base | changes.get(name, {}))
            except ValidationError as err:
                where = f"config: accounts[{name}].alerts."
                raise ConfigError(describe(err).replace("config: ", where, 1)) from None
            out[name] = dataclasses.replace(  # the Outlook's alert: [outlook] alert_*
                merged.rules(self.web.stale_after_s, self.risk.reconcile_tolerance),
                outlook_p_liquidation=Level(self.outlook.alert_p, self.outlook.alert_p_clear),
                outlook_horizon_h=self.outlook.alert_horizon_h,
            )
        return out

    def risk_rules(self) -> RiskRules:
        """The product's ladder with any level this config overrides."""
        risk = self.risk
        levels = {
            name: getattr(risk, name)
            for name in (
                "margin_call_uni_mmr",
                "reduce_only_uni_mmr",
                "liquidation_uni_mmr",
                "loss_uni_mmr",
            )
            if getattr(risk, name) is not None
        }
        rules = RiskRules.for_product(
            risk.product,
            margin_leverage=risk.margin_leverage,
            default_loan_mmr=risk.default_loan_mmr,
            reconcile_tolerance=risk.reconcile_tolerance,
            top_up_target_uni_mmr=risk.top_up_target_uni_mmr,
            # The top-up also clears the desk's warning distance: one target for the screen.
            top_up_clear_move_pct=risk.liquidation_warn_pct,
            **levels,
        )
        ladder = [
            level
            for level in (
                rules.margin_call_uni_mmr,
                rules.reduce_only_uni_mmr,
                rules.liquidation_uni_mmr,
                rules.loss_uni_mmr,
            )
            if level is not None
        ]
        if ladder != sorted(ladder, reverse=True) or len(set(ladder)) != len(ladder):
            raise ConfigError(
                "config: uniMMR levels must fall strictly: margin_call > reduce_only > "
                f"liquidation > loss (got {ladder})"
            )
        return rules
