"""The overview's account tiles with many accounts: a compact grid from ``MANY_ACCOUNTS`` on,
the tiles worst first whatever the names' order."""

from __future__ import annotations

from app.store.store import StoredReport
from app.web.pages.overview_tiles import MANY_ACCOUNTS, account_tiles, tiles_class
from risk.model import RiskRules

NOW = 1_000_000


def stored(account: str, uni: float) -> StoredReport:
    """A fresh report (1 s old) at ``uni``, in the band Binance's ladder puts it."""
    t = NOW - 1_000
    status = RiskRules().band(uni).value
    return StoredReport(
        1, account, t, t, t, "poll", False, uni, 1.0, 1.0, status, None, None, None, None, None,
        None, 2.0, 0.0,
    )  # fmt: skip


def test_a_compact_grid_from_nine_accounts_on() -> None:
    assert MANY_ACCOUNTS == 9
    assert tiles_class(0) == "account-tiles"
    assert tiles_class(8) == "account-tiles"
    assert tiles_class(9) == "account-tiles account-tiles-compact"
    assert tiles_class(25) == "account-tiles account-tiles-compact"


def test_25_accounts_worst_first() -> None:
    # Account i at uniMMR 1.03 + 0.1 k, k = 7 i mod 25 (7 and 25 share no factor: each k once),
    # so the names' order is not the uniMMR's. All fresh; a lower uniMMR is never in a better
    # band and one level sorts by the lower uniMMR: worst first is the lowest uniMMR first.
    uni = {f"acct-{i:02d}": round(1.03 + 0.1 * ((7 * i) % 25), 2) for i in range(25)}
    latest: dict[str, StoredReport | None] = {name: stored(name, u) for name, u in uni.items()}
    tiles = account_tiles(latest, NOW, 3600.0)
    assert [t.account for t in tiles] == sorted(uni, key=lambda n: uni[n])
    # k = 0 for i = 0 only: acct-00 at 1.03, in liquidation (at or below 1.05), is first;
    # k = 24 when 7 i = 24 mod 25: i = 7 (49 = 25 + 24), acct-07 at 1.03 + 2.4 = 3.43, is last.
    assert tiles[0].account == "acct-00" and tiles[0].uni_mmr == "1.03"
    assert tiles[-1].account == "acct-07" and tiles[-1].uni_mmr == "3.43"
    assert tiles_class(len(tiles)) == "account-tiles account-tiles-compact"
