"""Loading the settings: ``load_settings`` (flags, environment, file, defaults → one clear
``ConfigError`` line when something is wrong), the accounts to collect with their keys, and
the store's password from its file."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url

from app.config.legacy import FLAT, env_name, sectioned
from app.config.secrets import ConfigError, describe, read_secret_file
from app.config.settings import Settings

KEY_SETTINGS = ("api_key", "api_secret", "api_key_file", "api_secret_file")
"""``[exchange]`` settings that hand pmdesk an API key: read by ``collect``, ``run``,
``check-key`` and ``capture`` only — never by ``serve`` (see ``load_settings(read_keys=False)``)."""


@dataclass(frozen=True)
class AccountKey:
    name: str
    api_key: SecretStr
    api_secret: SecretStr


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
    ``exchange.account`` with ``exchange.api_key``/``api_secret`` (env or files)."""
    exchange = settings.exchange
    if not settings.accounts:
        if exchange.api_key is None or exchange.api_secret is None:
            raise ConfigError(
                "config: exchange.api_key and exchange.api_secret are required for a real "
                "account (set PMDESK_EXCHANGE__API_KEY and PMDESK_EXCHANGE__API_SECRET, or "
                "api_key_file and api_secret_file under [exchange] pointing at mode-0600 files, "
                "or list [[accounts]], or run `pmdesk demo`)"
            )
        return [AccountKey(exchange.account, exchange.api_key, exchange.api_secret)]
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


def _settings_error(exc: SettingsError) -> ConfigError:
    """pydantic-settings' own error (a list or table setting in an environment variable that
    is not JSON) as one line, without the variable's value."""
    found = re.search(r'field "(\w+)"', str(exc))
    if found is None:
        return ConfigError("config: a setting from the environment cannot be read")
    name = found.group(1)
    variable = env_name(*FLAT[name]) if name in FLAT else f"PMDESK_{name.upper()}"
    return ConfigError(
        f"config: {variable}: not valid JSON (a list or table setting in an "
        'environment variable is written as JSON, e.g. ["…"]; value not shown)'
    )


def key_settings_given(settings: Settings) -> list[str]:
    """The settings that hand this process an API key (values, files or variables)."""
    given = [
        f"exchange.{name}" for name in KEY_SETTINGS if getattr(settings.exchange, name) is not None
    ]
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
        raise ConfigError("config: store.password_file is for a database server (PostgreSQL)")
    if url.password is not None:
        raise ConfigError(
            "config: store.url holds a password and store.password_file is set: give it in "
            "one place"
        )
    password = read_secret_file(password_file, "db_password").get_secret_value()
    return url.set(password=password).render_as_string(hide_password=False)


def load_settings(
    config_file: Path | None = None, *, read_keys: bool = True, **overrides: Any
) -> Settings:
    """Settings from flags (``overrides``; None values ignored), env, the TOML file, defaults.
    ``overrides`` are the command-line flags' mapping: by their flat names (``port=…``, put in
    their section: flags keep their names) or by section (``web={"port": …}``).

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
        settings = cls(**sectioned({k: v for k, v in overrides.items() if v is not None}))
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from None
    except SettingsError as exc:
        raise _settings_error(exc) from None
    settings.risk_rules()
    store, exchange = settings.store, settings.exchange
    if store.password_file is not None:
        store.url = _with_password(store.url, store.password_file)
    if not read_keys:
        settings._ignored_keys = key_settings_given(settings)
        exchange.api_key = exchange.api_secret = None
        return settings
    if exchange.api_key_file is not None and exchange.api_key is None:
        exchange.api_key = read_secret_file(exchange.api_key_file, "api_key")
    if exchange.api_secret_file is not None and exchange.api_secret is None:
        exchange.api_secret = read_secret_file(exchange.api_secret_file, "api_secret")
    return settings
