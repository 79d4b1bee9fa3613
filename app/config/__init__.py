"""pmdesk's settings, in sections (``[exchange]``, ``[store]``, ``[risk]``, ``[web]``,
``[alerts]``, ``[[accounts]]``): ``sections.py`` (the fields and their one default each),
``settings.py`` (``Settings`` and its sources), ``legacy.py`` (the old flat names, accepted
for one release), ``loading.py`` (``load_settings``, the accounts' keys) and ``secrets.py``
(secret files, masked errors). Everything is imported from ``app.config``."""

from __future__ import annotations

from app.config.legacy import FLAT
from app.config.loading import (
    KEY_SETTINGS,
    AccountKey,
    account_keys,
    key_settings_given,
    load_settings,
)
from app.config.secrets import (
    SECRET_FIELDS,
    ConfigError,
    is_secret_setting,
    read_secret_file,
    safe_db_url,
)
from app.config.sections import (
    AccountSettings,
    AlertSettings,
    AlertsSection,
    ExchangeSettings,
    RiskSettings,
    StoreSettings,
    WebSettings,
)
from app.config.settings import Settings

__all__ = [
    "FLAT",
    "KEY_SETTINGS",
    "SECRET_FIELDS",
    "AccountKey",
    "AccountSettings",
    "AlertSettings",
    "AlertsSection",
    "ConfigError",
    "ExchangeSettings",
    "RiskSettings",
    "Settings",
    "StoreSettings",
    "WebSettings",
    "account_keys",
    "is_secret_setting",
    "key_settings_given",
    "load_settings",
    "read_secret_file",
    "safe_db_url",
]
