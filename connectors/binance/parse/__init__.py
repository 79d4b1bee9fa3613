"""Raw Binance JSON → ``risk.model`` dataclasses. Pure: no I/O, no clock.

Keys of ``payloads`` are Binance paths (docs/architecture.md, "Stable interfaces"); values are the
JSON exactly as Binance returns it, decimals as strings. The paths are the registry's
(``connectors/binance/endpoints.py``).

Fail closed, tolerant where Binance is loose. A value the figures depend on that is missing,
empty, not a number, not finite, implausibly large, of the wrong sign, or in a duplicated row is
never guessed: its row is left out and an ``UnknownReason`` names the path, the row and the field,
so the evaluation shows the figures it feeds as UNKNOWN (``risk/evaluate.py``). Fields that only
feed what is displayed (``uniMMR``, ``accountStatus``, ``leverage``, ``entryPrice``, …) may be
empty, null or absent: that figure is unavailable (None / NaN), nothing else. Zero-quantity rows
are skipped whatever their symbol. Only a payload that is not JSON of the expected shape where a
caller insists on it (mark streams, key permissions) raises ``BadPayload``.

One module per concern: ``fields`` (reading a field; the reasons), ``positions``, ``account``
(balances and what Binance reports), ``market`` (brackets, collateral tables, prices), ``carry``
(interest and funding), ``keys`` (API-key permissions), ``snapshot`` (all of it together). The
names other packages import are re-exported here.
"""

from connectors.binance.endpoints import (
    ACCOUNT,
    API_RESTRICTIONS,
    ASSET_INDEX_PRICE,
    BALANCE,
    CM_ACCOUNT,
    CM_INCOME,
    CM_LEVERAGE_BRACKET,
    CM_POSITION_RISK,
    CM_PREMIUM_INDEX,
    COLLATERAL_RATE_FLAT,
    COLLATERAL_RATE_TIERED,
    MARGIN_ASSET_LEVERAGE,
    MARGIN_INTEREST_HISTORY,
    TICKER_PRICE,
    UM_ACCOUNT,
    UM_INCOME,
    UM_LEVERAGE_BRACKET,
    UM_POSITION_RISK,
    UM_PREMIUM_INDEX,
)
from connectors.binance.errors import BadPayload
from connectors.binance.parse.account import parse_reported, parse_reported_position_margins
from connectors.binance.parse.carry import FUNDING_FEE, parse_funding, parse_interest_history
from connectors.binance.parse.fields import ROOT_FIELD, rows_of
from connectors.binance.parse.keys import KeyPermissions, parse_key_permissions
from connectors.binance.parse.market import parse_ticker_prices
from connectors.binance.parse.positions import unbracketed_symbols
from connectors.binance.parse.snapshot import snapshot_from_payloads

"""The old name of ``errors.BadPayload``, kept while other packages import it from here."""

__all__ = [
    "ACCOUNT",
    "API_RESTRICTIONS",
    "ASSET_INDEX_PRICE",
    "BALANCE",
    "CM_ACCOUNT",
    "CM_INCOME",
    "CM_LEVERAGE_BRACKET",
    "CM_POSITION_RISK",
    "CM_PREMIUM_INDEX",
    "COLLATERAL_RATE_FLAT",
    "COLLATERAL_RATE_TIERED",
    "FUNDING_FEE",
    "MARGIN_ASSET_LEVERAGE",
    "MARGIN_INTEREST_HISTORY",
    "ROOT_FIELD",
    "TICKER_PRICE",
    "UM_ACCOUNT",
    "UM_INCOME",
    "UM_LEVERAGE_BRACKET",
    "UM_POSITION_RISK",
    "UM_PREMIUM_INDEX",
    "BadPayload",
    "KeyPermissions",
    "parse_funding",
    "parse_interest_history",
    "parse_key_permissions",
    "parse_reported",
    "parse_reported_position_margins",
    "parse_ticker_prices",
    "rows_of",
    "snapshot_from_payloads",
    "unbracketed_symbols",
]
