"""One account's REST reads for a poll: the key check and clock sync first, then every endpoint —
the fast ones each poll, the slow tables hourly, the carry history every few minutes (cached).

Split from ``collector.py``; it sees only the connector's typed errors (the collector classifies
them) and records each read's used weight with the IP gate.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from app.collector.gate import IpGate
from connectors.binance.client import (
    BRACKET_PATHS,
    ENDPOINTS,
    SLOW_PATHS,
    Client,
    Fetched,
    RetryPolicy,
    fetch_payloads,
    read_key_permissions,
    sync_clock,
)
from connectors.binance.errors import ClockSkew
from connectors.binance.keycheck import KeyRefusedError, judge
from connectors.binance.limits import CARRY_PATHS, CARRY_REFRESH_S, weight_by_family
from connectors.binance.parse import unbracketed_symbols

log = logging.getLogger(__name__)

SLOW_REFRESH_MS = 3_600_000  # brackets and collateral tiers: hourly
CARRY_REFRESH_MS = int(CARRY_REFRESH_S * 1000)  # interest charges and funding: every 5 minutes
CARRY_KEEP_MS = 3 * CARRY_REFRESH_MS  # a carry payload a refresh missed is kept this long
FUNDING_EVERY_MS = 28_800_000  # Binance pays funding at 00:00, 08:00 and 16:00 UTC
FUNDING_SETTLED_AFTER_MS = 60_000  # read again this long after each funding time
CARRY_SLOT_MS = 60_000  # one carry slot (limits.CARRY_SLOTS): a minute
START_PATHS = frozenset({"/api/v3/time", "/sapi/v1/account/apiRestrictions"})


class Fetcher:
    def __init__(
        self,
        client: Client,
        account: str,
        gate: IpGate,
        policy: RetryPolicy,
        now_ms: Callable[[], int],
        allow_unsafe_key: bool = False,
    ) -> None:
        self.client = client
        client.use_clock(now_ms)  # it signs on the collector's clock (a test's manual one too)
        self.account = account
        self.gate = gate
        self.policy = policy
        self._now_ms = now_ms
        self.allow_unsafe_key = allow_unsafe_key
        self.key_checked = False
        self.key_refused = False
        self.clock_synced = False
        self._offset_ms = 0  # the exchange's clock minus now_ms, measured at each clock sync
        self._uncertainty_ms = 0
        self._slow: dict[str, object] = {}
        self._slow_at_ms: int | None = None
        self._unlisted_tried: frozenset[str] = frozenset()  # symbols a bracket read missed
        self._carry: dict[str, object] = {}  # interest charges and funding, by path
        self._carry_read_ms: dict[str, int] = {}  # when each was last read
        self._carry_at_ms: int | None = None  # the last carry refresh
        # This account's turn among a collector's accounts (limits.CARRY_SLOTS): its carry
        # reads come carry_slot minutes after slot 0's — at start, and after each funding time.
        self.carry_slot = 0
        self._first_fetch_ms: int | None = None

    @property
    def clock_offset_ms(self) -> int:
        """The exchange's clock minus the collector's (``now_ms``), as last measured (0 before):
        python-binance's offset is against this machine's wall clock, which the collector's
        clock is in production (a test's manual clock is not)."""
        return self._offset_ms

    @property
    def clock_uncertainty_ms(self) -> int:
        """How far off ``clock_offset_ms`` may be: half the sync's round trip, and a
        millisecond of rounding."""
        return self._uncertainty_ms

    def prepare(self) -> None:
        """Before any account data: the clock offset, then (once) the key's permissions."""
        if not self.clock_synced:
            self.sync_clock()
        if not self.key_checked:
            self.check_key()

    def fetch(self, reserved: dict[str, int] | None = None) -> Fetched:
        """-1021 (timestamp outside recvWindow): resync the clock offset and retry once.
        ``reserved``: the weight the IP gate reserved for this poll, settled when its headers
        come back."""
        try:
            return self._fetch(reserved)
        except ClockSkew:
            log.info("account %s: clock skew (-1021): resyncing and retrying once", self.account)
            self.sync_clock()
            return self._fetch(reserved)

    def _fetch(self, reserved: dict[str, int] | None) -> Fetched:
        """Fast-changing endpoints every cycle; brackets, collateral tables and the margin-asset
        leverage hourly (cached) — the brackets at once when a position in a symbol they do not
        list appears (that account's figures are UNKNOWN only until then); interest charges and
        funding income every 5 minutes and just after each funding time (cached). Every stored
        snapshot still carries all payloads, so each one can be replayed alone."""
        now = self._now_ms()
        if self._first_fetch_ms is None:
            self._first_fetch_ms = now
        fast = fetch_payloads(self.client, frozenset(ENDPOINTS) - SLOW_PATHS, self.policy)
        used = dict(fast.used_weight)
        refresh: frozenset[str] = frozenset()
        if self._slow_due(now):
            refresh = SLOW_PATHS
        else:
            unlisted = unbracketed_symbols({**fast.payloads, **self._slow})
            if unlisted - self._unlisted_tried:
                log.info(
                    "account %s: new symbol(s) %s: reading the leverage brackets now",
                    self.account,
                    ", ".join(sorted(unlisted - self._unlisted_tried)),
                )
                refresh = BRACKET_PATHS
        if refresh:
            slow = fetch_payloads(self.client, refresh, self.policy)
            self._slow = {**self._slow, **slow.payloads}
            if refresh == SLOW_PATHS:
                self._slow_at_ms = now
                # An optional endpoint the account refused this time is not kept from before.
                for path in SLOW_PATHS - slow.payloads.keys():
                    self._slow.pop(path, None)
            for fam, value in slow.used_weight.items():
                used[fam] = max(used.get(fam, 0), value)
        # Symbols the brackets still do not list: read again only when another one appears.
        self._unlisted_tried = unbracketed_symbols({**fast.payloads, **self._slow})
        if self._carry_due(now):
            carry = fetch_payloads(self.client, CARRY_PATHS, self.policy)
            self._carry_at_ms = now
            for path, body in carry.payloads.items():
                self._carry[path] = body
                self._carry_read_ms[path] = now
            for path in CARRY_PATHS - carry.payloads.keys():
                # Missed this time: the last read stands a while, then it is unavailable.
                if now - self._carry_read_ms.get(path, now - CARRY_KEEP_MS) >= CARRY_KEEP_MS:
                    self._carry.pop(path, None)
            for fam, value in carry.used_weight.items():
                used[fam] = max(used.get(fam, 0), value)
        self.gate.record_weight(used, self._now_ms(), settled=reserved)
        return Fetched({**fast.payloads, **self._slow, **self._carry}, fast.simulated, used)

    def planned_weight(self, now: int) -> dict[str, int]:
        """What the next poll at ``now`` will read, by family (the IP gate reserves it before a
        request is sent): the fast endpoints, the hourly tables and the carry when due, and the
        clock and key checks before the first."""
        paths = set(ENDPOINTS) - SLOW_PATHS
        if self._slow_due(now):
            paths |= SLOW_PATHS
        if self._carry_due(now):
            paths |= CARRY_PATHS
        if not (self.clock_synced and self.key_checked):
            paths |= START_PATHS
        return weight_by_family(paths)

    def _slow_due(self, now: int) -> bool:
        return self._slow_at_ms is None or now - self._slow_at_ms >= SLOW_REFRESH_MS

    def _carry_due(self, now: int) -> bool:
        """At ``carry_slot`` minutes after the first poll, then every ``CARRY_REFRESH_MS``, and
        once ``carry_slot`` minutes after just after each funding time (so a payment shows within
        a few minutes, and the accounts' reads of 61 papi weight each do not all fall in the
        same minute: ``limits.carry_reads_in_minute``)."""
        offset = self.carry_slot * CARRY_SLOT_MS
        last = self._carry_at_ms
        if last is None:
            first = now if self._first_fetch_ms is None else self._first_fetch_ms
            return now - first >= offset
        if now - last >= CARRY_REFRESH_MS:
            return True
        after = FUNDING_SETTLED_AFTER_MS + offset
        settled = (now - after) // FUNDING_EVERY_MS * FUNDING_EVERY_MS
        return last < settled + after <= now

    def sync_clock(self) -> None:
        wall_before = time.time()
        sync_clock(self.client, self.policy)
        wall_after = time.time()
        self._offset_ms = round(self.client.exchange_minus_clock_ms)
        self._uncertainty_ms = math.ceil((wall_after - wall_before) * 500) + 1
        self.clock_synced = True

    def check_key(self) -> None:
        """Once, before any account data is read: refuse a key that can trade, withdraw or
        transfer (unless overridden), warn when it has no IP restriction."""
        perms = read_key_permissions(self.client, self.policy)
        verdict = judge(perms, allow_unsafe=self.allow_unsafe_key)
        for warning in verdict.warnings:
            log.warning("account %s: API key: %s", self.account, warning)
        if not verdict.acceptable:
            self.key_refused = True
            raise KeyRefusedError(
                "key refused: " + "; ".join(verdict.problems) + ". Create a read-only key "
                "('Enable Reading' only), restricted to this machine's IP."
            )
        self.key_checked = True
