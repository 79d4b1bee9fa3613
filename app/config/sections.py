"""The settings' sections: ``[exchange]``, ``[store]``, ``[risk]``, ``[web]``, ``[alerts]`` and
``[[accounts]]`` (in the environment ``PMDESK_<SECTION>__<NAME>``). Every default is written
once: the risk ones come from ``RiskRules()`` (risk/model.py), the alert ones from
``AlertRules()`` (app/alerts/levels.py), the retention ones from ``Retention()``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import NoDecode
from sqlalchemy.engine import make_url

from app.alerts.levels import AlertRules, Level
from app.config.secrets import ConfigError
from app.store.retention import Retention
from app.web.guard import DEFAULT_MAX_BODY_BYTES, normalize_host
from risk.model import Product, RiskRules

RISK = RiskRules()
ALERTS = AlertRules()
KEEP = Retention()
# hide_input_in_errors: a ValidationError's text never carries a value (issue 17).
SECTION = ConfigDict(extra="forbid", hide_input_in_errors=True)


class ExchangeSettings(BaseModel):
    """``[exchange]``: where and how often the collector reads, and the single account's key."""

    model_config = SECTION

    account: str = Field("main", min_length=1, description="name of the monitored account")
    base_url: str | None = Field(
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
    poll_interval_s: float = Field(2.0, gt=0, le=3600, description="collector period")
    um_stream_url: str = Field(
        "wss://fstream.binance.com", description="USDⓈ-M market streams (mark prices)"
    )
    cm_stream_url: str = Field(
        "wss://dstream.binance.com", description="COIN-M market streams (mark prices)"
    )
    pm_stream_url: str = Field(
        "wss://fstream.binance.com/pm",
        description="Portfolio Margin user data stream (the account's own pushes)",
    )
    user_stream: bool = Field(
        True, description="follow each account's user data stream; polling then reconciles"
    )
    reconcile_interval_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="account poll period while the account's user data stream is healthy",
    )
    mark_fallback_interval_s: float = Field(
        2.0, gt=0, le=60, description="REST mark-price period while the streams are down"
    )
    frozen_after_s: float = Field(
        30.0, gt=0, description="no price change for this long raises a 'prices frozen' event"
    )


class StoreSettings(BaseModel):
    """``[store]``: the database, its size cap and what is kept how long."""

    model_config = SECTION

    url: str = Field(
        "sqlite:///var/pmdesk.db",
        description="SQLAlchemy URL of the store (may hold a password: never printed)",
        repr=False,
    )

    @field_validator("url")
    @classmethod
    def _url_parses(cls, value: str) -> str:
        try:
            make_url(value).get_dialect()
        except Exception:  # SQLAlchemy's own messages may quote the URL: say it without
            raise ValueError(
                "not a SQLAlchemy URL such as sqlite:///var/pmdesk.db or "
                "postgresql+psycopg://USER@HOST:5432/DB"
            ) from None
        return value

    password_file: Path | None = Field(
        None,
        description="file (mode 0600) holding the store's database password, so that url "
        "need not (docker secrets: docker-compose.yml)",
    )
    max_mb: float | None = Field(
        None,
        gt=0,
        description="cap on the SQLite store's size in MB: beyond it writes fail as on a full "
        "disk and the screen says so (unset = the disk is the limit)",
    )
    keep_raw_h: float = Field(KEEP.raw_h, gt=0, description="every report kept this many hours")
    keep_minute_days: float = Field(
        KEEP.minute_days, gt=0, description="1-minute history buckets kept"
    )
    keep_ten_minute_days: float = Field(
        KEEP.ten_minute_days, gt=0, description="10-minute buckets kept"
    )
    keep_hour_days: float = Field(KEEP.hour_days, gt=0, description="1-hour history buckets kept")
    keep_events_days: float = Field(KEEP.events_days, gt=0, description="collector events kept")
    prune_interval_s: float = Field(600.0, ge=10, description="how often retention runs")
    # ---- several collectors on one PostgreSQL (issue 19 item 6: app/collector/leases.py) ----
    lease_dead_after_s: float = Field(
        15.0,
        ge=6,
        le=600,
        description="PostgreSQL: a collector silent this long is dead, and its accounts are "
        "taken over by the others within it (heartbeats every 1/7.5 of it)",
    )

    def retention(self) -> Retention:
        return Retention(
            raw_h=self.keep_raw_h,
            minute_days=self.keep_minute_days,
            ten_minute_days=self.keep_ten_minute_days,
            hour_days=self.keep_hour_days,
            events_days=self.keep_events_days,
        )


class RiskSettings(BaseModel):
    """``[risk]``: the product's ladder and the model's assumptions (``RiskRules``)."""

    model_config = SECTION

    # PM, not RiskRules()'s PM_PRO: the papi endpoints pmdesk reads are Portfolio Margin's.
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
        RISK.margin_leverage,
        ge=2,
        le=20,
        description="cross-margin leverage for the loans' initial margin when Binance does not "
        "report the account's (margin-asset-leverage)",
    )
    default_loan_mmr: float = Field(
        RISK.default_loan_mmr,
        gt=0,
        lt=1,
        description="loan MMR when neither Binance's leverage nor its MM tells it (the "
        "conservative end)",
    )
    reconcile_tolerance: float = Field(
        RISK.reconcile_tolerance,
        gt=0,
        lt=1,
        description="pmdesk and Binance agree when their uniMMR, equity and MM are this close "
        "(relative); a wider gap is an alert",
    )
    top_up_target_uni_mmr: float = Field(
        RISK.top_up_target_uni_mmr, gt=1.0, description="uniMMR the top-up aims for"
    )
    liquidation_critical_pct: float = Field(
        5.0,
        ge=0,
        le=100,
        description="the screen shows an account CRITICAL when a uniform move (down or up) "
        "under this % liquidates it",
    )
    liquidation_warn_pct: float = Field(
        RISK.top_up_clear_move_pct,
        ge=0,
        le=100,
        description="… and a WARNING under this % (at least liquidation_critical_pct); the "
        "top-up also clears it",
    )

    @field_validator("liquidation_warn_pct")
    @classmethod
    def _warn_not_below_critical(cls, value: float, info: ValidationInfo) -> float:
        critical = info.data.get("liquidation_critical_pct")
        if critical is not None and value < critical:
            raise ValueError(f"must be at least liquidation_critical_pct ({critical:g})")
        return value


class WebSettings(BaseModel):
    """``[web]``: the web UI — address, staleness, sign-in, the edge, /metrics."""

    model_config = SECTION

    host: str = Field("127.0.0.1", description="address the web UI binds to")
    port: int = Field(8050, ge=0, le=65535, description="web UI port; 0 = any free port")
    stale_after_s: float = Field(
        ALERTS.stale_s.trigger, gt=0, description="data older than this is STALE"
    )
    kiosk_cycle_s: float = Field(
        15.0, ge=2, le=3600, description="kiosk mode (/?kiosk=1): seconds per account"
    )
    threads: int = Field(8, ge=1, le=64, description="waitress worker threads")
    users_file: Path | None = Field(
        None,
        description="users and hashed passwords for the web UI (pmdesk user add NAME); "
        "required to serve beyond loopback",
    )
    screens_file: Path | None = Field(
        None,
        description="wall screens' token hashes (pmdesk screen add NAME); default: 'screens' "
        "beside users_file",
    )
    session_secret_file: Path | None = Field(
        None,
        description="file (mode 0600, at least 32 characters) whose secret signs the session "
        "cookies; unset = a random one per process: sessions end at restart, and several web "
        "processes behind one address need this file",
    )
    session_idle_min: float = Field(
        60.0,
        gt=0,
        le=7 * 24 * 60,
        description="a session ends after this many minutes without a request (an open "
        "dashboard asks several times a second: only a closed or sleeping browser goes idle)",
    )
    session_max_h: float = Field(
        12.0,
        gt=0,
        le=7 * 24,
        description="a person's session ends this many hours after sign-in (one desk shift); "
        "wall screens signed in by their token have no such limit",
    )
    signin_failures_per_address: int = Field(
        10, ge=1, le=1000, description="failed sign-ins from one address before a lock-out"
    )
    signin_failures_per_name: int = Field(
        5, ge=1, le=1000, description="failed sign-ins for one user name before a lock-out"
    )
    signin_lockout_s: float = Field(
        30.0, gt=0, le=3600, description="the first lock-out; each further failure doubles it"
    )
    signin_lockout_max_s: float = Field(900.0, gt=0, le=86400, description="… up to this")
    max_request_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        le=64 * 1_048_576,
        description="a request with a larger body is refused (413) from its Content-Length "
        "alone, before sign-in or any parsing",
    )
    tls_cert_file: Path | None = Field(
        None, description="PEM certificate (chain) for HTTPS, served by pmdesk itself"
    )
    tls_key_file: Path | None = Field(
        None, description="PEM private key of tls_cert_file (mode 0600)"
    )
    insecure_http: bool = Field(
        False,
        description="serve beyond loopback over plain HTTP (--insecure-http); every screen "
        "then shows UNENCRYPTED",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="host names (or addresses) desks use to reach pmdesk, any port; besides "
        "localhost, 127.0.0.1, [::1] and host; any other Host header gets 400 "
        "(PMDESK_WEB__ALLOWED_HOSTS: comma-separated)",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts_list(cls, value: Any) -> Any:
        return [h for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_names(cls, value: list[str]) -> list[str]:
        return [normalize_host(h) for h in value]  # ValueError: "not a host name …"

    metrics_token_file: Path | None = Field(
        None,
        description="file (mode 0600) holding the bearer token /metrics asks for; unset = "
        "/metrics is off (404)",
    )


class AlertSettings(BaseModel):
    """The alert rules (app/alerts/levels.py ``AlertRules``, whose defaults these are); each has
    a trigger and a separate clear level (hysteresis). uniMMR's warn and critical levels are one
    alert that changes level. Any of them can be changed per account in ``[[accounts]]`` as
    ``alerts = { uni_mmr_warn = 1.8 }``."""

    model_config = ConfigDict(extra="forbid")

    uni_mmr_warn: float = Field(
        ALERTS.uni_mmr_warn.trigger, gt=1, description="warn when uniMMR falls below"
    )
    uni_mmr_warn_clear: float = Field(
        ALERTS.uni_mmr_warn.clear, gt=1, description="… and clear at or above"
    )
    uni_mmr_critical: float = Field(
        ALERTS.uni_mmr_critical.trigger, gt=1, description="critical when uniMMR falls below"
    )
    uni_mmr_critical_clear: float = Field(ALERTS.uni_mmr_critical.clear, gt=1)
    liquidation_move_pct: float = Field(
        ALERTS.liquidation_move_pct.trigger,
        ge=0,
        description="critical when a uniform move under this % liquidates; 0 = off",
    )
    liquidation_move_clear_pct: float = Field(ALERTS.liquidation_move_pct.clear, ge=0)
    asset_liquidation_pct: float = Field(
        ALERTS.asset_liquidation_pct.trigger,
        ge=0,
        description="critical when one asset is within this % of its liquidation",
    )
    asset_liquidation_clear_pct: float = Field(ALERTS.asset_liquidation_pct.clear, ge=0)
    usage_rise_pct_per_min: float = Field(
        ALERTS.usage_rise_pct_per_min.trigger,
        gt=0,
        description="warn when margin usage rises faster (points a minute)",
    )
    usage_rise_clear_pct_per_min: float = Field(ALERTS.usage_rise_pct_per_min.clear, ge=0)
    usage_rise_min_pct: float = Field(
        ALERTS.usage_rise_min_pct,
        ge=0,
        le=100,
        description="… only while margin usage (MM ÷ adjusted equity) is at least this %: "
        "50 % is uniMMR 2; falling or low usage never alarms",
    )
    stale_s: float | None = Field(
        None,
        gt=0,
        description="critical when the newest report is older; default web.stale_after_s",
    )
    error_after_s: float = Field(
        ALERTS.error_after_s, ge=0, description="critical when failing this long"
    )
    account_status: bool = Field(
        ALERTS.account_status,
        description="alert when Binance's accountStatus turns worse (never on a better one)",
    )
    reconcile_pct: float | None = Field(
        None,
        gt=0,
        description="alert when pmdesk's uniMMR differs from Binance's by more than this % "
        "(default: risk.reconcile_tolerance)",
    )
    reconcile_clear_pct: float | None = Field(
        None, gt=0, description="… and clear at or within (default: 0.8 × the trigger)"
    )
    cooldown_s: float = Field(
        ALERTS.cooldown_s, ge=0, le=3600, description="calm this long before an alert clears"
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


class AlertsSection(AlertSettings):
    """``[alerts]``: the rules for every account, and where alerts are sent."""

    notify_urls: list[SecretStr] = Field(
        default_factory=list,
        description="apprise URLs alerts are sent to (slack://…, tgram://…, mailto://…, "
        "ntfys://…, json://…); secrets: never logged or stored",
    )


class AccountSettings(BaseModel):
    """One of ``[[accounts]]`` (a sub-account): its name and where its read-only key lives —
    in files only its owner can read, or in environment variables named here."""

    model_config = SECTION

    name: str = Field(min_length=1, max_length=64)
    api_key_file: Path | None = None
    api_secret_file: Path | None = None
    api_key_env: str | None = Field(None, description="environment variable with the key")
    api_secret_env: str | None = Field(None, description="environment variable with the secret")
    alerts: dict[str, Any] = Field(
        default_factory=dict, description="this account's changes to the [alerts] rules"
    )
