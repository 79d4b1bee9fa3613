"""The Outlook in the collector (issue 20): per held account, at most once every
``[outlook] every_s``, on a worker of its own (the scheduler's ``outlook`` executor, one thread)
so the one-second mark-driven figures never wait for it:

1. the account's inputs: its newest stored report's snapshot and market, rebuilt as the
   collector evaluated them (``app.replay.report_inputs``: the poll, then the events and marks
   pushed since);
2. the kline series they need (``risk.market_history.needed_series``) refreshed in the klines
   cache and read back (``KlineFeed``: hourly bars over ``history_days``);
3. the outlook computed (``Compute``: the model in ``risk/outlook.py``), stored
   (``app/store/outlooks.py``) and handed to the account's alert watch.

An account's outlook is also due at once, whatever its age, when its newest report's band is
worse than the band of the report the last outlook was computed from (``BAND_RANK``; UNKNOWN
is the worst: the outlook then says unknown too): a book that slid from NORMAL to MARGIN_CALL
does not show a calm outlook for up to ``every_s`` more (seen: 82 % odds on screen while the
header said IN LIQUIDATION). A band that flaps recomputes at most once per worse rank between
two regular computations.

Its CPU is capped at ``core_share`` of one core on average (``[outlook] core_share``, 0.5): an
outlook that took d seconds of this thread's CPU is followed by a rest of d (1 / share - 1)
seconds before the next regular one (a worse band does not wait). With many accounts the round
then takes longer than ``every_s`` (25 accounts at 1.3 s each: about 65 s at half a core)
instead of taking a core from the dashboard and the kiosk's browser. Due accounts go worst
band first, then the longest waiting.

Fail closed: whatever keeps an outlook from being computed (no bars, a bad payload, the model
refusing) is stored as an Outlook whose ``unknown`` says why, so the screen and the alert say
"outlook unknown" instead of showing the last calm figure as if it were current. Progress and
failures are logged once each (again only when they change)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from app.collector.outlook_model import Histories
from app.replay import report_inputs
from app.store.outlooks import OutlookStore
from app.store.store import Store
from risk.episodes import Episode
from risk.market_history import INTERVAL_MS, KlineKey, KlineSeries, needed_series
from risk.model import AccountSnapshot, MarketState, RiskRules
from risk.outlook_result import FHS, Outlook
from risk.rules import MarginBand

if TYPE_CHECKING:
    from app.alerts.watch import AlertWatch

log = logging.getLogger("pmdesk.outlook")

TICK_S = 5.0  # how often the job looks for an account whose outlook is due
BAND_RANK = {
    MarginBand.NORMAL: 0,
    MarginBand.MARGIN_CALL: 1,
    MarginBand.REDUCE_ONLY: 2,
    MarginBand.LIQUIDATION: 3,
    MarginBand.LIQUIDATION_WITH_LOSS: 4,
    MarginBand.UNKNOWN: 5,
}


def band_rank(status: str) -> int:
    """How bad a report's band is; a status pmdesk does not know counts as UNKNOWN."""
    try:
        return BAND_RANK[MarginBand(status)]
    except ValueError:
        return BAND_RANK[MarginBand.UNKNOWN]


DAY_MS = 86_400_000


class KlineFeed(Protocol):
    """The klines cache as the job uses it (``app/store/klines.py`` behind an adapter)."""

    def refresh(self, keys: Sequence[KlineKey], now_ms: int) -> None: ...

    def read(self, keys: Sequence[KlineKey], start_ms: int, end_ms: int) -> list[KlineSeries]: ...


Compute = Callable[[AccountSnapshot, MarketState, Histories, int], Outlook]
"""(snapshot, market, what was read from the klines cache, now) → the account's Outlook: the
model with its settings, rules and episodes bound (``app/collector/outlook_model.py``)."""


@dataclass(frozen=True)
class JobSettings:
    every_s: float = 60.0
    history_days: float = 180.0
    keep_h: float = 48.0  # outlooks older than this are pruned (the store's raw_h)
    n_paths: int = 10_000
    half_life_h: float = 0.0  # only for an unknown outlook's record; 0: the model's own
    core_share: float = 1.0  # of one core, on average; 1: no rest between outlooks


def series_for(snapshot: AccountSnapshot, interval: str) -> tuple[KlineKey, ...]:
    """The kline series the model needs for what the account holds, owes or trades."""
    assets = {
        b.asset
        for b in snapshot.balances
        if any(
            abs(q) > 0
            for q in (
                b.cross_margin_asset_qty,
                b.cross_margin_borrowed_qty,
                b.cross_margin_interest_qty,
                b.um_wallet_qty,
                b.um_unrealized_pnl_qty,
                b.cm_wallet_qty,
                b.cm_unrealized_pnl_qty,
            )
        )
    }
    um = [p for p in snapshot.um_positions if p.position_amt_qty != 0]
    cm = [p for p in snapshot.cm_positions if p.position_amt_contracts != 0]
    assets |= {p.base_asset for p in um} | {p.margin_asset for p in um}
    assets |= {p.margin_asset for p in cm}
    return needed_series(
        sorted(assets), sorted({p.symbol for p in um}), sorted({p.symbol for p in cm}), interval
    )


def unknown_outlook(now_ms: int, rules: RiskRules, settings: JobSettings, why: str) -> Outlook:
    """Fail closed: no figure, and why."""
    liquidation = rules.liquidation_uni_mmr
    warning = rules.margin_call_uni_mmr or liquidation * 1.2
    return Outlook(
        computed_at_ms=now_ms,
        model=FHS,
        n_paths=settings.n_paths,
        half_life_h=settings.half_life_h,
        data_words="",
        liquidation_uni_mmr=liquidation,
        warning_uni_mmr=warning,
        unknown=why,
    )


class OutlookJob:
    """Every held account's outlook, each at most once every ``every_s``."""

    def __init__(
        self,
        store: Store,
        outlooks: OutlookStore,
        klines: KlineFeed | None,
        compute: Compute,
        rules: RiskRules,
        settings: JobSettings,
        now_ms: Callable[[], int],
        episodes: Sequence[Episode] = (),
        cpu_s: Callable[[], float] = time.thread_time,
    ) -> None:
        self.store = store
        self.outlooks = outlooks
        self.klines = klines
        self.compute = compute
        self.rules = rules
        self.settings = settings
        self._now_ms = now_ms
        self._cpu_s = cpu_s  # this thread's CPU seconds (the core share's measure)
        self._rest_until_ms = 0  # no regular outlook before this (the core share's rest)
        self.episodes = tuple(episodes)  # their minute bars are read for the replays
        self._last_ms: dict[str, int] = {}  # when each account's last outlook was computed
        self._basis_rank: dict[str, int] = {}  # the band rank of the report it was computed from
        self._said: dict[str, str] = {}  # the last line logged per account (logged once)
        self._lock = threading.Lock()  # one run at a time (the job, a test, the bench)
        self.computed = 0  # outlooks stored since start (tests and the bench read it)
        self.klines_s = 0.0  # the last refresh and read of klines, seconds

    def due(self, account: str, now_ms: int, status: str | None = None) -> bool:
        """Time for the account's outlook: ``every_s`` since the last, or the newest report's
        band (``status``) worse than the last outlook's."""
        return self._worse(account, status) or self._aged(account, now_ms)

    def _aged(self, account: str, now_ms: int) -> bool:
        last = self._last_ms.get(account)
        return last is None or now_ms - last >= self.settings.every_s * 1000

    def _worse(self, account: str, status: str | None) -> bool:
        basis = self._basis_rank.get(account)
        return status is not None and basis is not None and band_rank(status) > basis

    def run(self, accounts: Mapping[str, AlertWatch | None]) -> int:
        """The accounts whose outlook is due, worst band first then the longest waiting, one
        after another within the core share; returns how many were done."""
        done = 0
        with self._lock:
            for account, watch, worse in self._queue(accounts):
                if not worse and self._now_ms() < self._rest_until_ms:
                    continue  # resting: a worse band still goes ahead
                try:
                    done += self.once(account, watch) is not None
                # Broad on purpose: a store that cannot be read now (locked, gone) is retried
                # at the next tick; one account's trouble never stops the others'.
                except Exception as exc:
                    self._say(account, f"outlook of {account} not computed: {_reason(exc)}", exc)
        return done

    def _queue(
        self, accounts: Mapping[str, AlertWatch | None]
    ) -> list[tuple[str, AlertWatch | None, bool]]:
        """(account, watch, band worse?) of the due accounts, in the order they go."""
        now = self._now_ms()
        due: list[tuple[bool, int, str, AlertWatch | None]] = []
        for account, watch in accounts.items():
            try:
                newest = self.store.latest_report_status(account)
            # Broad on purpose, as in run(): tried again at the next tick.
            except Exception as exc:
                self._say(account, f"outlook of {account} not computed: {_reason(exc)}", exc)
                continue
            worse = self._worse(account, None if newest is None else newest[1])
            if worse or self._aged(account, now):
                due.append((not worse, self._last_ms.get(account, -1), account, watch))
        due.sort(key=lambda d: (d[0], d[1]))
        return [(account, watch, not regular) for regular, _, account, watch in due]

    def once(self, account: str, watch: AlertWatch | None = None) -> Outlook | None:
        """The account's outlook now, stored and told to its watch; None when the account has
        no stored report yet (nothing to compute from: tried again at the next tick)."""
        newest = self.store.latest_report_status(account)
        if newest is None:
            return None
        report_id, status = newest
        now = self._now_ms()
        started, cpu = time.perf_counter(), self._cpu_s()
        try:
            outlook = self._compute(report_id, now)
        # Broad on purpose: whatever fails (klines, parse, the model), the outlook is stored
        # as unknown with the reason, and the collector's other jobs go on.
        except Exception as exc:
            outlook = unknown_outlook(now, self.rules, self.settings, _reason(exc))
            self._say(account, f"outlook of {account} unknown: {outlook.unknown}", exc)
        else:
            if outlook.unknown:
                self._say(account, f"outlook of {account} unknown: {outlook.unknown}")
            else:
                self._say(
                    account,
                    f"outlook of {account} computed ({outlook.n_paths:,} paths, "
                    f"{len(outlook.horizons)} horizons) in {time.perf_counter() - started:.2f} s "
                    f"(klines {self.klines_s:.2f} s); next every {self.settings.every_s:g} s",
                    level=logging.INFO,
                )
        self._last_ms[account] = now
        self._basis_rank[account] = band_rank(status)
        share = self.settings.core_share
        rest_s = max(self._cpu_s() - cpu, 0.0) * (1.0 / share - 1.0) if share < 1.0 else 0.0
        self._rest_until_ms = self._now_ms() + int(rest_s * 1000)
        try:
            self.outlooks.write(account, outlook)
            self.outlooks.prune(account, now - int(self.settings.keep_h * 3_600_000))
        # Broad on purpose: a store that cannot be written (full, locked) is the store's own
        # alarm; the outlook is still handed to the alert watch below.
        except Exception as exc:
            self._say(account, f"outlook of {account} not stored: {exc}")
        self.computed += 1
        if watch is not None:
            watch.on_outlook(account, outlook)
        return outlook

    def _compute(self, report_id: int, now: int) -> Outlook:
        snapshot, market = report_inputs(self.store, report_id)
        return self.compute(snapshot, market, self._histories(snapshot, now), now)

    def _histories(self, snapshot: AccountSnapshot, now: int) -> Histories:
        """Refresh the series the account needs (hourly; minutes for the episodes), read the
        hourly ones over ``history_days`` and each episode's minute bars over its window."""
        self.klines_s = 0.0
        if self.klines is None:
            return Histories()
        started = time.perf_counter()
        hourly, minutes = series_for(snapshot, "1h"), series_for(snapshot, "1m")
        if not hourly:
            return Histories()
        self.klines.refresh(hourly + (minutes if self.episodes else ()), now)
        start = now - int(self.settings.history_days * DAY_MS)
        read = Histories(
            self.klines.read(hourly, start - start % INTERVAL_MS["1h"], now),
            {
                e.name: self.klines.read(minutes, e.start_ms - INTERVAL_MS["1m"], e.end_ms)
                for e in self.episodes
            },
        )
        self.klines_s = time.perf_counter() - started
        return read

    def _say(
        self, account: str, line: str, exc: Exception | None = None, level: int = logging.WARNING
    ) -> None:
        """Each line once: logged when it differs from the account's last (a repeat is debug)."""
        key = line.split(" in ", 1)[0] if level == logging.INFO else line
        if self._said.get(account) == key:
            log.debug(line)
            return
        self._said[account] = key
        log.log(level, line)
        if exc is not None:
            log.debug("outlook of %s: the failure in full", account, exc_info=exc)


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
