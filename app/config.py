"""Settings from (highest first) command-line flags, ``PMDESK_*`` environment variables, the
``--config`` TOML file, and defaults. A bad setting is one clear ``ConfigError`` line."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from app.alerts.rules import AlertRules, Level
from app.store.retention import Retention
from risk.model import Product, RiskRules


class ConfigError(Exception):
    """A configuration problem, phrased for the person who has to fix it."""


class AccountSettings(BaseModel):
    """One account of a desk (a sub-account): its name and where its read-only key lives —
    in files only its owner can read, or in environment variables named here."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    api_key_file: Path | None = None
    api_secret_file: Path | None = None
    api_key_env: str | None = Field(None, description="environment variable with the key")
    api_secret_env: str | None = Field(None, description="environment variable with the secret")
    alerts: dict[str, Any] = Field(
        default_factory=dict, description="this account's changes to the [alerts] rules"
    )


class AlertSettings(BaseModel):
    """``[alerts]``: the alert rules (app/alerts/rules.py); each has a trigger and a separate
    clear level (hysteresis). uniMMR's warn and critical levels are one alert that changes
    level. Any of them can be changed per account in ``[[accounts]]`` as
    ``alerts = { uni_mmr_warn = 1.8 }``."""

    model_config = ConfigDict(extra="forbid")

    uni_mmr_warn: float = Field(2.0, gt=1, description="warn when uniMMR falls below")
    uni_mmr_warn_clear: float = Field(2.2, gt=1, description="… and clear at or above")
    uni_mmr_critical: float = Field(1.6, gt=1, description="critical when uniMMR falls below")
    uni_mmr_critical_clear: float = Field(1.75, gt=1)
    liquidation_move_pct: float = Field(
        15.0, ge=0, description="critical when a uniform move under this % liquidates; 0 = off"
    )
    liquidation_move_clear_pct: float = Field(18.0, ge=0)
    asset_liquidation_pct: float = Field(
        10.0, ge=0, description="critical when one asset is within this % of its liquidation"
    )
    asset_liquidation_clear_pct: float = Field(12.0, ge=0)
    usage_rise_pct_per_min: float = Field(
        10.0, gt=0, description="warn when margin usage rises faster (points a minute)"
    )
    usage_rise_clear_pct_per_min: float = Field(5.0, ge=0)
    usage_rise_min_pct: float = Field(
        50.0,
        ge=0,
        le=100,
        description="… only while margin usage (MM ÷ adjusted equity) is at least this %: "
        "50 % is uniMMR 2; falling or low usage never alarms",
    )
    stale_s: float | None = Field(
        None, gt=0, description="critical when the newest report is older; default stale_after_s"
    )
    error_after_s: float = Field(30.0, ge=0, description="critical when failing this long")
    account_status: bool = Field(
        True, description="alert when Binance's accountStatus turns worse (never on a better one)"
    )
    reconcile_pct: float | None = Field(
        None,
        gt=0,
        description="alert when pmdesk's uniMMR differs from Binance's by more than this % "
        "(default: reconcile_tolerance)",
    )
    reconcile_clear_pct: float | None = Field(
        None, gt=0, description="… and clear at or within (default: 0.8 × the trigger)"
    )
    cooldown_s: float = Field(
        60.0, ge=0, le=3600, description="calm this long before an alert clears"
    )

    def rules(self, stale_after_s: float, reconcile_tolerance: float) -> AlertRules:
        stale = self.stale_s or stale_after_s
        reconcile = self.reconcile_pct or 100.0 * reconcile_tolerance
        reconcile_clear = self.reconcile_clear_pct or 0.8 * reconcile
        try:
            return AlertRules(
                uni_mmr_warn=Level(self.uni_mmr_warn, self.uni_mmr_warn_clear),
                uni_mmr_critical=Level(self.uni_mmr_critical, self.uni_mmr_critical_clear),
                liquidation_move_pct=Level(
                    self.liquidation_move_pct, self.liquidation_move_clear_pct
                ),
                asset_liquidation_pct=Level(
                    self.asset_liquidation_pct, self.asset_liquidation_clear_pct
                ),
                usage_rise_pct_per_min=Level(
                    self.usage_rise_pct_per_min, self.usage_rise_clear_pct_per_min
                ),
                usage_rise_min_pct=self.usage_rise_min_pct,
                stale_s=Level(stale, stale),
                error_after_s=self.error_after_s,
                account_status=self.account_status,
                reconcile_pct=Level(reconcile, reconcile_clear),
                cooldown_s=self.cooldown_s,
            ).check()
        except ValueError as exc:
            raise ConfigError(f"config: {exc}") from None


@dataclass(frozen=True)
class AccountKey:
    name: str
    api_key: SecretStr
    api_secret: SecretStr


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
    accounts: list[AccountSettings] = Field(
        default_factory=list,
        description="several accounts ([[accounts]] tables); unset = the one account above",
    )
    um_stream_url: str = Field(
        "wss://fstream.binance.com", description="USDⓈ-M market streams (mark prices)"
    )
    cm_stream_url: str = Field(
        "wss://dstream.binance.com", description="COIN-M market streams (mark prices)"
    )
    mark_fallback_interval_s: float = Field(
        2.0, gt=0, le=60, description="REST mark-price period while the streams are down"
    )
    frozen_after_s: float = Field(
        30.0, gt=0, description="no price change for this long raises a 'prices frozen' event"
    )
    product: Product = Field(
        Product.PM,
        description="PM (Portfolio Margin, the papi endpoints: liquidation below uniMMR 1.05 "
        "and at adjusted equity < 0) or PM_PRO (ladder 1.5 / 1.2 / 1.05 / 1.0)",
    )
    margin_call_uni_mmr: float | None = Field(
        None, gt=0, description="override the product's margin-call level (PM publishes none)"
    )
    reduce_only_uni_mmr: float | None = Field(
        None, gt=0, description="override the product's reduce-only level (PM publishes none)"
    )
    liquidation_uni_mmr: float | None = Field(
        None, gt=0, description="override the product's liquidation level (1.05 for both)"
    )
    loss_uni_mmr: float | None = Field(
        None, gt=0, description="override the product's loss-claim level (PM publishes none)"
    )
    margin_leverage: float = Field(
        3.0,
        ge=2,
        le=20,
        description="cross-margin leverage for the loans' initial margin when Binance does not "
        "report the account's (margin-asset-leverage)",
    )
    default_loan_mmr: float = Field(
        0.10,
        gt=0,
        lt=1,
        description="loan MMR when neither Binance's leverage nor its MM tells it (the "
        "conservative 10 %, 3x)",
    )
    reconcile_tolerance: float = Field(
        0.005,
        gt=0,
        lt=1,
        description="pmdesk and Binance agree when their uniMMR, equity and MM are this close "
        "(relative); a wider gap is an alert",
    )
    top_up_target_uni_mmr: float = Field(2.0, gt=1.0, description="uniMMR the top-up aims for")
    liquidation_critical_pct: float = Field(
        5.0,
        ge=0,
        le=100,
        description="the screen shows an account CRITICAL when a uniform move (down or up) "
        "under this % liquidates it",
    )
    liquidation_warn_pct: float = Field(
        15.0,
        ge=0,
        le=100,
        description="… and a WARNING under this % (at least liquidation_critical_pct)",
    )

    @field_validator("liquidation_warn_pct")
    @classmethod
    def _warn_not_below_critical(cls, value: float, info: ValidationInfo) -> float:
        critical = info.data.get("liquidation_critical_pct")
        if critical is not None and value < critical:
            raise ValueError(f"must be at least liquidation_critical_pct ({critical:g})")
        return value

    store_max_mb: float | None = Field(
        None,
        gt=0,
        description="cap on the SQLite store's size in MB: beyond it writes fail as on a full "
        "disk and the screen says so (unset = the disk is the limit)",
    )
    keep_raw_h: float = Field(48.0, gt=0, description="every report kept this many hours")
    keep_minute_days: float = Field(90.0, gt=0, description="1-minute history buckets kept")
    keep_ten_minute_days: float = Field(365.0, gt=0, description="10-minute buckets kept")
    keep_hour_days: float = Field(730.0, gt=0, description="1-hour history buckets kept")
    keep_events_days: float = Field(730.0, gt=0, description="collector events kept")
    prune_interval_s: float = Field(600.0, ge=10, description="how often retention runs")
    users_file: Path | None = Field(
        None,
        description="users and hashed passwords for the web UI (pmdesk user add NAME); "
        "required to serve beyond loopback",
    )
    web_threads: int = Field(8, ge=1, le=64, description="waitress worker threads")
    kiosk_cycle_s: float = Field(
        15.0, ge=2, le=3600, description="kiosk mode (/?kiosk=1): seconds per account"
    )
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings.model_validate({}))
    notify_urls: list[SecretStr] = Field(
        default_factory=list,
        description="apprise URLs alerts are sent to (slack://…, tgram://…, mailto://…, "
        "ntfys://…, json://…); secrets: never logged or stored",
    )

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

    def retention(self) -> Retention:
        return Retention(
            raw_h=self.keep_raw_h,
            minute_days=self.keep_minute_days,
            ten_minute_days=self.keep_ten_minute_days,
            hour_days=self.keep_hour_days,
            events_days=self.keep_events_days,
        )

    def alert_rules(self, names: list[str]) -> dict[str, AlertRules]:
        """The alert rules of each named account: ``[alerts]`` with the account's changes."""
        base = self.alerts.model_dump()
        changes = {a.name: a.alerts for a in self.accounts}
        out = {}
        for name in names:
            try:
                merged = AlertSettings.model_validate(base | changes.get(name, {}))
            except ValidationError as err:
                where = f"config: accounts[{name}].alerts."
                raise ConfigError(_describe(err).replace("config: ", where, 1)) from None
            out[name] = merged.rules(self.stale_after_s, self.reconcile_tolerance)
        return out

    def risk_rules(self) -> RiskRules:
        """The product's ladder with any level this config overrides."""
        levels = {
            name: getattr(self, name)
            for name in (
                "margin_call_uni_mmr",
                "reduce_only_uni_mmr",
                "liquidation_uni_mmr",
                "loss_uni_mmr",
            )
            if getattr(self, name) is not None
        }
        rules = RiskRules.for_product(
            self.product,
            margin_leverage=self.margin_leverage,
            default_loan_mmr=self.default_loan_mmr,
            reconcile_tolerance=self.reconcile_tolerance,
            top_up_target_uni_mmr=self.top_up_target_uni_mmr,
            # The top-up also clears the desk's warning distance: one target for the screen.
            top_up_clear_move_pct=self.liquidation_warn_pct,
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


SECRET_FIELDS = frozenset({"api_key", "api_secret"})


def _account_secret(name: str, what: str, file: Path | None, env: str | None) -> SecretStr:
    if file is not None:
        return read_secret_file(file, f"accounts[{name}].{what}")
    if env is not None:
        value = os.environ.get(env, "").strip()
        if not value:
            raise ConfigError(
                f"config: accounts[{name}].{what}: environment variable {env} is unset"
            )
        return SecretStr(value)
    raise ConfigError(f"config: accounts[{name}]: give {what}_file (mode 0600) or {what}_env")


def account_keys(settings: Settings) -> list[AccountKey]:
    """Every account to collect, with its key pair. Without ``accounts``: the single
    ``account`` with ``api_key``/``api_secret`` (env or files)."""
    if not settings.accounts:
        if settings.api_key is None or settings.api_secret is None:
            raise ConfigError(
                "config: api_key and api_secret are required for a real account (set "
                "PMDESK_API_KEY and PMDESK_API_SECRET, or api_key_file and api_secret_file "
                "pointing at mode-0600 files, or list [[accounts]], or run `pmdesk demo`)"
            )
        return [AccountKey(settings.account, settings.api_key, settings.api_secret)]
    names = [a.name for a in settings.accounts]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"config: account names must differ: {', '.join(duplicates)} repeated")
    return [
        AccountKey(
            a.name,
            _account_secret(a.name, "api_key", a.api_key_file, a.api_key_env),
            _account_secret(a.name, "api_secret", a.api_secret_file, a.api_secret_env),
        )
        for a in settings.accounts
    ]


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
