"""One account the simulator serves: its key and what the key may do, its book, its faults."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from connectors.simulator.book import AccountBook
from connectors.simulator.faults import Faults

READ_ONLY_KEY: dict[str, object] = {
    "ipRestrict": True,
    "createTime": 1_700_000_000_000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": False,
}
"""What the simulator's key may do unless a test says otherwise: read, from listed IPs."""

STALL_LIMIT_S = 60.0
"""The longest a stalled account's signed request hangs (``SimAccount.released`` cleared)."""


@dataclass
class SimAccount:
    """One account the simulator serves, found by the API key of a signed request."""

    name: str
    api_key: str
    api_secret: str
    book: AccountBook
    key_permissions: dict[str, object] = field(default_factory=lambda: dict(READ_ONLY_KEY))
    faults: Faults = field(default_factory=Faults)  # hit this account's signed requests only
    # Cleared: this account's signed requests hang (up to STALL_LIMIT_S) until it is set again —
    # one sub-account's requests stuck at the exchange while the others' go through.
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.released.set()
