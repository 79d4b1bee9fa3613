"""What every page's callbacks share: the store, the accounts, the limits, the clock, each
account's newest report — typed: the stored detail read back once per row as a ``RiskReport``
(``risk.serialize.report_from_dict``) and cached with it — and each account's one severity
(``app.web.severity``) for worst-first order."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dash
from dash import Input, Output
from sqlalchemy.exc import SQLAlchemyError

from app.feed_status import USER_STREAM
from app.store.store import Store, StoredEvent, StoredReport, describe_lock
from app.web.severity import Severity, SeverityBands, severity, worst_first
from risk.model import RiskReport, RiskRules
from risk.serialize import report_from_dict

DETAIL_CACHE = 64  # parsed reports kept per process (a few per account and viewer)

Latest = tuple[StoredReport, RiskReport]
"""A stored report's row and its full report."""


@dataclass(frozen=True)
class Newest:
    """What the overview reads each second: every account's newest report, the shown account's
    newest event, the newest API weight — or, when the store cannot be read (locked by another
    process past the busy timeout), the reports last read and why (``unreadable``)."""

    reports: dict[str, Latest | None]
    event: StoredEvent | None
    weight: tuple[int, dict[str, int]] | None
    unreadable: str | None = None
    stream: StoredEvent | None = None  # the newest about the account's user data stream


@dataclass
class WebContext:
    store: Store
    accounts: list[str]
    stale_after_s: float
    clock: Callable[[], int]
    rules: RiskRules = field(default_factory=RiskRules)
    kiosk_cycle_s: float = 15.0
    bands: SeverityBands = field(default_factory=SeverityBands)

    def __post_init__(self) -> None:
        # One decompress-and-parse per report however many viewers look at it; every account's
        # newest is read each second (tiles, worst-first order), so room for a few of each.
        size = max(DETAIL_CACHE, 4 * len(self.accounts))
        self.detail = functools.lru_cache(maxsize=size)(self._read_detail)
        self._last_read: dict[str, Latest] = {}

    def _read_detail(self, report_id: int) -> RiskReport:
        return report_from_dict(self.store.report_detail(report_id))

    def account(self, value: str | None) -> str:
        """The picked account, or the first one for anything unknown."""
        return value if value in self.accounts else self.accounts[0]

    def latest(self, account: str) -> Latest | None:
        report = self.store.latest_report(account)
        if report is None:
            return None
        found = report, self.detail(report.id)
        self._last_read[account] = found
        return found

    def last_read(self, account: str) -> Latest | None:
        """The account's newest report as last read (``latest``): what the screen keeps showing,
        and ageing, while the store cannot be read."""
        return self._last_read.get(account)

    def newest(self, account: str) -> Newest:
        """The overview's reads (``Newest``). A store locked past the busy timeout is no
        crash: the reports last read stay (and age), the cause is in ``unreadable``."""
        try:
            return Newest(
                {a: self.latest(a) for a in self.accounts},
                self.store.latest_event(account),
                self.store.latest_weight(),
                stream=self.store.latest_event(account, endpoint=USER_STREAM),
            )
        except SQLAlchemyError as exc:
            unreadable = describe_lock(exc, "the screen cannot read new data")
            if unreadable is None:
                raise
            return Newest({a: self.last_read(a) for a in self.accounts}, None, None, unreadable)

    def is_stale(self, report: StoredReport) -> bool:
        return (self.clock() - report.data_time_ms) / 1000 > self.stale_after_s

    def severity(self, latest: Latest | None, now_ms: int | None = None) -> Severity:
        return severity(
            None if latest is None else latest[0],
            self.clock() if now_ms is None else now_ms,
            stale_after_s=self.stale_after_s,
            rules=self.rules,
            bands=self.bands,
        )

    def severities(self, now_ms: int | None = None) -> dict[str, Severity]:
        """Every account's severity from its newest report (one indexed query each; the
        parsed details are cached)."""
        now = self.clock() if now_ms is None else now_ms
        return {a: self.severity(self.latest(a), now) for a in self.accounts}

    def worst_first(self, now_ms: int | None = None) -> list[str]:
        """The accounts, worst first: the one the screen opens on, the kiosk's cycle."""
        return worst_first(self.severities(now_ms))


def redraw_on_new_report(
    app: dash.Dash,
    ctx: WebContext,
    view: str,
    outputs: list[Output],
    build: Callable[[str, RiskReport], tuple[Any, ...]],
    empty: Callable[[str], tuple[Any, ...]],
) -> None:
    """The callback of a view drawn from the newest report: it runs when a newer report exists
    (``report-key``), the account changes or the view is picked — and only while shown.
    ``build(account, detail)`` and ``empty(account)`` give the outputs' values."""

    @app.callback(
        *outputs,
        Input("report-key", "data"),
        Input("view", "value"),
        Input("account", "value"),
    )
    def refresh(_key: object, shown: str, picked: str | None) -> Any:
        if shown != view:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        latest = ctx.latest(account)
        values = empty(account) if latest is None else build(account, latest[1])
        return values[0] if len(outputs) == 1 else values  # one output: Dash wants its value
