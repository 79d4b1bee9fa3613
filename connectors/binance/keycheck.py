"""Is this API key safe for a monitor? pmdesk only reads; a key that can trade, withdraw or move
funds is refused unless the user overrides that explicitly (docs/binance-pm-notes.md, "Key
permissions"). Pure: judges a parsed ``KeyPermissions``."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.binance.endpoints import API_RESTRICTIONS
from connectors.binance.errors import AuthRejected
from connectors.binance.parse import KeyPermissions

OVERRIDE_FLAG = "--allow-key-that-can-trade"


class KeyRefusedError(AuthRejected):
    """The API key can do more than read (or cannot read); pmdesk will not use it."""

    def __init__(self, message: str) -> None:
        super().__init__(API_RESTRICTIONS, message)


@dataclass(frozen=True)
class KeyVerdict:
    acceptable: bool
    problems: tuple[str, ...]  # why it is refused (empty when read-only)
    warnings: tuple[str, ...]  # accepted, but worth fixing

    def describe(self) -> str:
        return "; ".join(self.problems + self.warnings) or "read-only key"


def judge(perms: KeyPermissions, *, allow_unsafe: bool = False) -> KeyVerdict:
    problems: list[str] = []
    if not perms.can_read:
        problems.append("the key cannot read (enable 'Enable Reading')")
    if perms.trading:
        problems.append(f"the key can trade ({', '.join(perms.trading)})")
    if perms.can_withdraw:
        problems.append("the key can withdraw (enableWithdrawals)")
    if perms.transfer:
        problems.append(f"the key can move funds ({', '.join(perms.transfer)})")
    warnings: list[str] = []
    if not perms.ip_restricted:
        warnings.append("the key has no IP restriction: restrict it to this machine's address")
    unsafe = [p for p in problems if not p.startswith("the key cannot read")]
    acceptable = perms.can_read and (not unsafe or allow_unsafe)
    if unsafe and allow_unsafe:
        warnings.insert(0, f"ACCEPTED ANYWAY ({OVERRIDE_FLAG}): " + "; ".join(unsafe))
        problems = [p for p in problems if p not in unsafe]
    return KeyVerdict(acceptable, tuple(problems), tuple(warnings))
