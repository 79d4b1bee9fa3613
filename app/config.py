"""Settings from (highest first) command-line flags, ``PMDESK_*`` environment variables, the
``--config`` TOML file, and defaults. A bad setting is one clear ``ConfigError`` line."""

from __future__ import annotations

import os
import re
import stat
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import URL, make_url

from app.alerts.rules import AlertRules, Level
from app.store.retention import Retention
from app.web.guard import DEFAULT_MAX_BODY_BYTES, normalize_host
from risk.model import Product, RiskRules


class ConfigError(Exception):
    """A configuration problem, phrased for the person who has to fix it."""


class AccountSettings(BaseModel):
    """One account of a desk (a sub-account): its name and where its read-only key lives —
    in files only its owner can read, or in environment variables named here."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

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
    # hide_input_in_errors: a ValidationError's text never carries a value (issue 17); the
    # one line a person sees is made by _describe, which masks every secret setting's value.
    model_config = SettingsConfigDict(
        env_prefix="PMDESK_", extra="forbid", hide_input_in_errors=True
    )

    db_url: str = Field(
        "sqlite:///var/pmdesk.db",
        description="SQLAlchemy URL of the store (may hold a password: never printed)",
        repr=False,
    )

    @field_validator("db_url")
    @classmethod
    def _db_url_parses(cls, value: str) -> str:
        try:
            make_url(value).get_dialect()
        except Exception:  # SQLAlchemy's own messages may quote the URL: say it without
            raise ValueError(
                "not a SQLAlchemy URL such as sqlite:///var/pmdesk.db or "
                "postgresql+psycopg://USER@HOST:5432/DB"
            ) from None
        return value

    # --- LAN security: secrets and files (issue 17) ---
    db_password_file: Path | None = Field(
        None,
        description="file (mode 0600) holding the store's database password, so that db_url "
        "need not (docker secrets: docker-compose.yml)",
    )
    # The key settings a keyless load (load_settings(read_keys=False)) found and ignored.
    _ignored_keys: list[str] = PrivateAttr(default_factory=list)

    def ignored_key_settings(self) -> list[str]:
        """The API key settings given to a command that reads no key (``serve``…): none of
        them was opened or kept."""
        return list(self._ignored_keys)

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
    # --- LAN security: sign-in (issue 17) ---
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
        "dashboard asks twice a second: only a closed or sleeping browser goes idle)",
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
    web_threads: int = Field(8, ge=1, le=64, description="waitress worker threads")
    # --- LAN security: edge (issue 17) ---
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
        "(PMDESK_ALLOWED_HOSTS: comma-separated)",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts_list(cls, value: Any) -> Any:
        return [h for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_names(cls, value: list[str]) -> list[str]:
        return [normalize_host(h) for h in value]  # ValueError: "not a host name …"

    kiosk_cycle_s: float = Field(
        15.0, ge=2, le=3600, description="kiosk mode (/?kiosk=1): seconds per account"
    )
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings.model_validate({}))
    notify_urls: list[SecretStr] = Field(
        default_factory=list,
        description="apprise URLs alerts are sent to (slack://…, tgram://…, mailto://…, "
        "ntfys://…, json://…); secrets: never logged or stored",
    )

    # --- LAN security: monitors (issue 17) ---
    metrics_token_file: Path | None = Field(
        None,
        description="file (mode 0600) holding the bearer token /metrics asks for; unset = "
        "/metrics is off (404)",
    )

    def metrics_token(self) -> SecretStr | None:
        """The /metrics bearer token, read from ``metrics_token_file`` like a key file (owner
        only, one clear line otherwise); None: /metrics is off."""
        if self.metrics_token_file is None:
            return None
        return read_secret_file(self.metrics_token_file, "metrics_token")

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


# --- LAN security: secrets and files (issue 17) ---
SECRET_FIELDS = frozenset({"api_key", "api_secret", "notify_urls", "db_url"})
"""Settings whose value can hold a token or password. Their values, whatever their type error,
never appear in a message; nor does the value of any setting whose name says it may hold one
(``_SECRET_NAME``: api_key_file, session_secret_file, metrics_token_file, tls_key_file, …)."""
_SECRET_NAME = re.compile(r"key|secret|token|passw|url", re.IGNORECASE)
_SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,4}")
SECRET_FILE_TIMEOUT_S = 5.0
"""A key file not read within this long (a hung network mount) is one clear error."""
SECRET_FILE_MAX_BYTES = 64 * 1024
KEY_SETTINGS = ("api_key", "api_secret", "api_key_file", "api_secret_file")
"""Settings that hand pmdesk an API key: read by ``collect``, ``run``, ``check-key`` and
``capture`` only — never by ``serve`` (see ``load_settings(read_keys=False)``)."""


def is_secret_setting(name: str) -> bool:
    return name in SECRET_FIELDS or bool(_SECRET_NAME.search(name))


def safe_db_url(url: str) -> str:
    """The store's URL as it may be printed: no password, nor any query value that may be one
    (``?password=…``, ``sslpassword``…). A URL that does not parse is not shown at all."""
    try:
        parsed: URL = make_url(url)
    except Exception:
        return "(store URL not shown: it does not parse)"
    hidden = {k: "***" for k in parsed.query if _SECRET_NAME.search(k) or "pass" in k.lower()}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


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


def _shown(path: Path) -> str:
    """A key file's path as a message may show it: a bare name (no ``/``) might be the secret
    itself, pasted where its file's path belongs, so it is not shown."""
    text = str(path)
    return text if os.sep in text else "(a name without '/', not shown: it may be the secret)"


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _read_owner_only(path: Path, what: str) -> str:
    """The text of ``path`` if it is a regular file with no group or other permission bits.
    Opened non-blocking, so a FIFO (or a device) is refused at once instead of waiting for a
    writer; checked on the opened descriptor (fstat), so a swap after the check is no way in."""
    shown = _shown(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ConfigError(f"config: {what} file not found: {shown}") from None
    except PermissionError:
        raise ConfigError(
            f"config: {what} file {shown} cannot be read by this user (uid {os.geteuid()})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config: {what} file {shown} cannot be opened: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(
                f"config: {what} file {shown} is {_file_kind(st.st_mode)}: give a regular file "
                "(mode 0600)"
            )
        mode = st.st_mode & 0o777
        if mode & 0o077:
            how = "read" if mode & 0o044 else "written or run"
            raise ConfigError(
                f"config: {what} file {shown} can be {how} by others (mode {mode:03o}); "
                f"run: chmod 600 {shown}"
            )
        if st.st_size > SECRET_FILE_MAX_BYTES:
            raise ConfigError(
                f"config: {what} file {shown} is {st.st_size:,} bytes: too large for a secret"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= SECRET_FILE_MAX_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError(f"config: {what} file {shown} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > SECRET_FILE_MAX_BYTES:
        raise ConfigError(f"config: {what} file {shown} grew too large for a secret")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config: {what} file {shown} is not UTF-8 text") from None


def read_secret_file(
    path: Path, what: str, *, timeout_s: float = SECRET_FILE_TIMEOUT_S
) -> SecretStr:
    """A secret (an API key, a token, a TLS key…) from a file only its owner can read: a
    regular file with no group or other permission bits, read within ``timeout_s``. Anything
    else — missing, a directory, a FIFO, a device, a looser mode, empty, unreadable, a hung
    mount — is one ``ConfigError`` line that never shows the contents. For every ``*_file``
    setting that holds a secret."""
    outcome: list[str | ConfigError] = []

    def read() -> None:
        try:
            outcome.append(_read_owner_only(path, what))
        except ConfigError as exc:
            outcome.append(exc)
        except Exception as exc:  # never a traceback (nor a value) for a key file
            outcome.append(
                ConfigError(
                    f"config: {what} file {_shown(path)} cannot be read: {type(exc).__name__}"
                )
            )

    # A daemon thread: a read stuck in the kernel (a dead NFS server) cannot hold pmdesk up.
    reader = threading.Thread(target=read, name=f"read {what} file", daemon=True)
    reader.start()
    reader.join(timeout_s)
    if not outcome:
        raise ConfigError(
            f"config: {what} file {_shown(path)} could not be read within {timeout_s:g} s "
            "(a hung network mount?)"
        )
    result = outcome[0]
    if isinstance(result, ConfigError):
        raise result
    value = result.strip()
    if not value:
        raise ConfigError(f"config: {what} file {_shown(path)} is empty")
    return SecretStr(value)


def _describe(err: ValidationError) -> str:
    """The first error as one line; a secret setting's value never appears, whatever its type
    error (a string for a list, a number, a table…), nor does an unknown name that does not
    look like a setting's."""
    first = err.errors()[0]
    parts = [str(p) for p in first["loc"]]
    where = ".".join(parts) or "<settings>"
    if first["type"] == "extra_forbidden":
        if not all(_SETTING_NAME.fullmatch(p) for p in parts):
            return "config: unknown setting (its name is not shown: it does not look like one)"
        return f"config: unknown setting {where!r}"
    if any(is_secret_setting(p) for p in parts):
        return f"config: {where}: {first['msg']} (value not shown: it may hold a secret)"
    return f"config: {where}: {first['msg']} (got {first.get('input')!r})"


def _settings_error(exc: SettingsError) -> ConfigError:
    """pydantic-settings' own error (a list or table setting in an environment variable that
    is not JSON) as one line, without the variable's value."""
    found = re.search(r'field "(\w+)"', str(exc))
    if found is None:
        return ConfigError("config: a setting from the environment cannot be read")
    name = found.group(1)
    return ConfigError(
        f"config: PMDESK_{name.upper()}: not valid JSON (a list or table setting in an "
        'environment variable is written as JSON, e.g. ["…"]; value not shown)'
    )


def key_settings_given(settings: Settings) -> list[str]:
    """The settings that hand this process an API key (values, files or variables)."""
    given = [name for name in KEY_SETTINGS if getattr(settings, name) is not None]
    for a in settings.accounts:
        given += [
            f"accounts[{a.name}].{field}"
            for field in ("api_key_file", "api_secret_file", "api_key_env", "api_secret_env")
            if getattr(a, field) is not None
        ]
    return given


def _with_password(db_url: str, password_file: Path) -> str:
    url = make_url(db_url)  # parsed already by the db_url validator
    if url.get_backend_name() == "sqlite":
        raise ConfigError("config: db_password_file is for a database server (PostgreSQL)")
    if url.password is not None:
        raise ConfigError(
            "config: db_url holds a password and db_password_file is set: give it in one place"
        )
    password = read_secret_file(password_file, "db_password").get_secret_value()
    return url.set(password=password).render_as_string(hide_password=False)


def load_settings(
    config_file: Path | None = None, *, read_keys: bool = True, **overrides: Any
) -> Settings:
    """Settings from flags (``overrides``; None values ignored), env, the TOML file, defaults.

    ``read_keys=False`` (``serve`` and every command that needs no exchange key): no key file
    is opened and ``api_key``/``api_secret`` are dropped — such a process never holds a key."""
    cls: type[Settings] = Settings
    if config_file is not None:
        if not config_file.is_file():
            if config_file.exists():
                raise ConfigError(f"config: {config_file} is not a regular file")
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
    except SettingsError as exc:
        raise _settings_error(exc) from None
    settings.risk_rules()
    if settings.db_password_file is not None:
        settings.db_url = _with_password(settings.db_url, settings.db_password_file)
    if not read_keys:
        settings._ignored_keys = key_settings_given(settings)
        settings.api_key = settings.api_secret = None
        return settings
    if settings.api_key_file is not None and settings.api_key is None:
        settings.api_key = read_secret_file(settings.api_key_file, "api_key")
    if settings.api_secret_file is not None and settings.api_secret is None:
        settings.api_secret = read_secret_file(settings.api_secret_file, "api_secret")
    return settings
