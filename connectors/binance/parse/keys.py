"""An API key's permissions (``GET /sapi/v1/account/apiRestrictions``), parsed (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connectors.binance.endpoints import (
    API_RESTRICTIONS,
)
from connectors.binance.errors import BadPayload
from connectors.binance.parse.fields import (
    ROOT_FIELD,
)


@dataclass(frozen=True)
class KeyPermissions:
    """What an API key may do (``GET /sapi/v1/account/apiRestrictions``)."""

    can_read: bool
    trading: tuple[str, ...]  # the enabled trading permissions, by Binance's field name
    can_withdraw: bool
    transfer: tuple[str, ...]  # the enabled transfer permissions
    ip_restricted: bool

    @property
    def read_only(self) -> bool:
        return self.can_read and not self.trading and not self.can_withdraw and not self.transfer


TRADING_FIELDS = ("enableSpotAndMarginTrading", "enableMargin", "enableFutures")
NEWER_TRADING_FIELDS = ("enablePortfolioMarginTrading", "enableVanillaOptions", "enableFixApiTrade")
TRANSFER_FIELDS = ("enableInternalTransfer", "permitsUniversalTransfer")


def parse_key_permissions(payloads: Mapping[str, object]) -> KeyPermissions:
    """A missing long-standing permission field counts as granted (pmdesk refuses what it
    cannot rule out); the newer ones (options, FIX, PM trading) count as absent when missing."""
    p = API_RESTRICTIONS
    raw = payloads.get(p)
    if not isinstance(raw, Mapping):
        raise BadPayload(p, ROOT_FIELD, "missing or not a JSON object")

    def flag(field: str, *, missing: bool) -> bool:
        value = raw.get(field, missing)
        if not isinstance(value, bool):
            raise BadPayload(p, field, f"expected true or false, got {value!r}")
        return value

    if "enableReading" not in raw or "ipRestrict" not in raw:
        missing = "enableReading" if "enableReading" not in raw else "ipRestrict"
        raise BadPayload(p, missing, "missing")
    return KeyPermissions(
        can_read=flag("enableReading", missing=False),
        trading=tuple(
            [f for f in TRADING_FIELDS if flag(f, missing=True)]
            + [f for f in NEWER_TRADING_FIELDS if flag(f, missing=False)]
        ),
        can_withdraw=flag("enableWithdrawals", missing=True),
        transfer=tuple(f for f in TRANSFER_FIELDS if flag(f, missing=True)),
        ip_restricted=flag("ipRestrict", missing=False),
    )
