"""Settings from (highest first) command-line flags, ``PMDESK_*`` environment variables, the
``--config`` TOML file, and defaults. A bad setting is one clear ``ConfigError`` line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from risk.model import RiskRules


class ConfigError(Exception):
    """A configuration problem, phrased for the person who has to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PMDESK_", extra="forbid")

    db_url: str = Field("sqlite:///var/pmdesk.db", description="SQLAlchemy URL of the store")
    host: str = Field("127.0.0.1", description="address the web UI binds to")
    port: int = Field(8050, ge=0, le=65535, description="web UI port; 0 = any free port")
    account: str = Field("main", min_length=1, description="name of the monitored account")
    poll_interval_s: float = Field(2.0, gt=0, le=3600, description="collector period")
    stale_after_s: float = Field(10.0, gt=0, description="data older than this is STALE")
    exchange_base_url: str | None = Field(
        None, description="base URL of a Binance-compatible server; unset = Binance itself"
    )
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    api_key_file: Path | None = Field(None, description="file holding the API key (mode 0600)")
    api_secret_file: Path | None = Field(
        None, description="file holding the API secret (mode 0600)"
    )
    allow_key_that_can_trade: bool = Field(
        False, description="use a key that can trade, withdraw or transfer (not recommended)"
    )
    margin_call_uni_mmr: float = Field(1.5, gt=0)
    reduce_only_uni_mmr: float = Field(1.2, gt=0)
    liquidation_uni_mmr: float = Field(1.05, gt=0)
    loss_uni_mmr: float = Field(1.0, gt=0)
    margin_leverage: Literal[3, 5, 10] = Field(
        10, description="cross-margin leverage; sets the loans' MMR: 3x 10 %, 5x 8 %, 10x 5 %"
    )
    top_up_target_uni_mmr: float = Field(2.0, gt=1.0, description="uniMMR the top-up aims for")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def risk_rules(self) -> RiskRules:
        rules = RiskRules(
            margin_call_uni_mmr=self.margin_call_uni_mmr,
            reduce_only_uni_mmr=self.reduce_only_uni_mmr,
            liquidation_uni_mmr=self.liquidation_uni_mmr,
            loss_uni_mmr=self.loss_uni_mmr,
            margin_leverage=self.margin_leverage,
            top_up_target_uni_mmr=self.top_up_target_uni_mmr,
        )
        ladder = [
            rules.margin_call_uni_mmr,
            rules.reduce_only_uni_mmr,
            rules.liquidation_uni_mmr,
            rules.loss_uni_mmr,
        ]
        if ladder != sorted(ladder, reverse=True) or len(set(ladder)) != len(ladder):
            raise ConfigError(
                "config: uniMMR thresholds must fall strictly: margin_call > reduce_only > "
                f"liquidation > loss (got {ladder})"
            )
        return rules


SECRET_FIELDS = frozenset({"api_key", "api_secret"})


def read_secret_file(path: Path, what: str) -> SecretStr:
    """A secret from a file only its owner can read; anything looser is refused."""
    try:
        mode = path.stat().st_mode
    except OSError:
        raise ConfigError(f"config: {what} file not found: {path}") from None
    if mode & 0o077:
        raise ConfigError(
            f"config: {what} file {path} can be read by others (mode {mode & 0o777:03o}); "
            f"run: chmod 600 {path}"
        )
    value = path.read_text().strip()
    if not value:
        raise ConfigError(f"config: {what} file {path} is empty")
    return SecretStr(value)


def _describe(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "<settings>"
    if first["type"] == "extra_forbidden":
        return f"config: unknown setting {where!r}"
    if where in SECRET_FIELDS:
        return f"config: {where}: {first['msg']}"
    return f"config: {where}: {first['msg']} (got {first.get('input')!r})"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from flags (``overrides``; None values ignored), env, the TOML file, defaults."""
    cls: type[Settings] = Settings
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config: file not found: {config_file}")
        try:
            tomllib.loads(config_file.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config: {config_file} is not valid TOML: {exc}") from None
        cls = type(
            "FileSettings",
            (Settings,),
            {"model_config": {**Settings.model_config, "toml_file": config_file}},
        )
    try:
        settings = cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    settings.risk_rules()
    if settings.api_key_file is not None and settings.api_key is None:
        settings.api_key = read_secret_file(settings.api_key_file, "api_key")
    if settings.api_secret_file is not None and settings.api_secret is None:
        settings.api_secret = read_secret_file(settings.api_secret_file, "api_secret")
    return settings
