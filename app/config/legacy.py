"""The settings' old flat names (before issue 18 they were all top level), still accepted for one
release: a top-level key in the TOML file or a ``PMDESK_<NAME>`` variable is moved into its
section with one warning line naming the new name. Given both, the new name wins."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource, SettingsError, TomlConfigSettingsSource

log = logging.getLogger("pmdesk.config")

FLAT: dict[str, tuple[str, str]] = {
    # [exchange]
    "account": ("exchange", "account"),
    "exchange_base_url": ("exchange", "base_url"),
    "api_key": ("exchange", "api_key"),
    "api_secret": ("exchange", "api_secret"),
    "api_key_file": ("exchange", "api_key_file"),
    "api_secret_file": ("exchange", "api_secret_file"),
    "allow_key_that_can_trade": ("exchange", "allow_key_that_can_trade"),
    "poll_interval_s": ("exchange", "poll_interval_s"),
    "um_stream_url": ("exchange", "um_stream_url"),
    "cm_stream_url": ("exchange", "cm_stream_url"),
    "mark_fallback_interval_s": ("exchange", "mark_fallback_interval_s"),
    "frozen_after_s": ("exchange", "frozen_after_s"),
    # [store]
    "db_url": ("store", "url"),
    "db_password_file": ("store", "password_file"),
    "store_max_mb": ("store", "max_mb"),
    "keep_raw_h": ("store", "keep_raw_h"),
    "keep_minute_days": ("store", "keep_minute_days"),
    "keep_ten_minute_days": ("store", "keep_ten_minute_days"),
    "keep_hour_days": ("store", "keep_hour_days"),
    "keep_events_days": ("store", "keep_events_days"),
    "prune_interval_s": ("store", "prune_interval_s"),
    # [risk]
    "product": ("risk", "product"),
    "margin_call_uni_mmr": ("risk", "margin_call_uni_mmr"),
    "reduce_only_uni_mmr": ("risk", "reduce_only_uni_mmr"),
    "liquidation_uni_mmr": ("risk", "liquidation_uni_mmr"),
    "loss_uni_mmr": ("risk", "loss_uni_mmr"),
    "margin_leverage": ("risk", "margin_leverage"),
    "default_loan_mmr": ("risk", "default_loan_mmr"),
    "reconcile_tolerance": ("risk", "reconcile_tolerance"),
    "top_up_target_uni_mmr": ("risk", "top_up_target_uni_mmr"),
    "liquidation_critical_pct": ("risk", "liquidation_critical_pct"),
    "liquidation_warn_pct": ("risk", "liquidation_warn_pct"),
    # [web]
    "host": ("web", "host"),
    "port": ("web", "port"),
    "stale_after_s": ("web", "stale_after_s"),
    "kiosk_cycle_s": ("web", "kiosk_cycle_s"),
    "web_threads": ("web", "threads"),
    "users_file": ("web", "users_file"),
    "screens_file": ("web", "screens_file"),
    "session_secret_file": ("web", "session_secret_file"),
    "session_idle_min": ("web", "session_idle_min"),
    "session_max_h": ("web", "session_max_h"),
    "signin_failures_per_address": ("web", "signin_failures_per_address"),
    "signin_failures_per_name": ("web", "signin_failures_per_name"),
    "signin_lockout_s": ("web", "signin_lockout_s"),
    "signin_lockout_max_s": ("web", "signin_lockout_max_s"),
    "max_request_body_bytes": ("web", "max_request_body_bytes"),
    "tls_cert_file": ("web", "tls_cert_file"),
    "tls_key_file": ("web", "tls_key_file"),
    "insecure_http": ("web", "insecure_http"),
    "allowed_hosts": ("web", "allowed_hosts"),
    "metrics_token_file": ("web", "metrics_token_file"),
    # [alerts]
    "notify_urls": ("alerts", "notify_urls"),
}
"""Old flat name → (section, name in it). ``accounts`` and ``alerts`` kept their names."""

JSON_VALUED = frozenset({"notify_urls"})
"""Old variables whose value is JSON (a list), as the environment source decodes it."""


def env_name(section: str, name: str) -> str:
    return f"PMDESK_{section.upper()}__{name.upper()}"


def sectioned(flat: dict[str, Any]) -> dict[str, Any]:
    """Keyword settings (the command-line flags' mapping) by their flat names, into sections;
    names that are not old flat names (a section's dict, ``accounts``) pass unchanged."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if key in FLAT:
            section, name = FLAT[key]
            out.setdefault(section, {})[name] = value
        else:
            out[key] = value
    return out


class LegacyEnvSource(PydanticBaseSettingsSource):
    """``PMDESK_<OLD_NAME>`` variables, each moved into its section with one warning. Below the
    new names' environment source, so ``PMDESK_WEB__PORT`` wins over ``PMDESK_PORT``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the old names itself

    def __call__(self) -> dict[str, Any]:
        env = {key.upper(): value for key, value in os.environ.items()}
        out: dict[str, dict[str, Any]] = {}
        for flat, (section, name) in FLAT.items():
            old = f"PMDESK_{flat.upper()}"
            if old not in env:
                continue
            new = env_name(section, name)
            both = f" — both are set: {new} wins" if new in env else ""
            log.warning(
                "config: %s is an old name (accepted for one release): use %s%s", old, new, both
            )
            value: Any = env[old]
            if flat in JSON_VALUED:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise SettingsError(
                        f'error parsing value for field "{flat}" from source "LegacyEnvSource"'
                    ) from None
            out.setdefault(section, {})[name] = value
        return out


class SectionedTomlSource(TomlConfigSettingsSource):
    """The ``--config`` TOML file; a top-level old name is moved into its section with one
    warning (the section's own key wins when both are written)."""

    def __call__(self) -> dict[str, Any]:
        data = dict(super().__call__())
        for flat, (section, name) in FLAT.items():
            if flat not in data:
                continue
            table = data.setdefault(section, {})
            if not isinstance(table, dict):
                continue  # [section] is not a table: validation says so
            value = data.pop(flat)
            both = name in table
            log.warning(
                "config: top-level %r is an old name (accepted for one release): write %s "
                "under [%s]%s",
                flat,
                name,
                section,
                f" — [{section}] {name} is given too: it wins" if both else "",
            )
            if not both:
                data[section] = {**table, name: value}
        return data
