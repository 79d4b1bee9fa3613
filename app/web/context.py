"""What every page's callbacks share: the store, the accounts, the limits, the clock."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dash
from dash import Input, Output

from app.store.store import Store, StoredReport
from risk.model import RiskRules

DETAIL_CACHE = 64  # parsed reports kept per process (a few per account and viewer)


@dataclass
class WebContext:
    store: Store
    accounts: list[str]
    stale_after_s: float
    clock: Callable[[], int]
    rules: RiskRules = field(default_factory=RiskRules)
    kiosk_cycle_s: float = 15.0

    def __post_init__(self) -> None:
        # One decompress-and-parse per report however many viewers look at it.
        self.detail = functools.lru_cache(maxsize=DETAIL_CACHE)(self.store.report_detail)

    def account(self, value: str | None) -> str:
        """The picked account, or the first one for anything unknown."""
        return value if value in self.accounts else self.accounts[0]

    def latest(self, account: str) -> tuple[StoredReport, dict[str, Any]] | None:
        report = self.store.latest_report(account)
        if report is None:
            return None
        return report, self.detail(report.id)

    def is_stale(self, report: StoredReport) -> bool:
        return (self.clock() - report.data_time_ms) / 1000 > self.stale_after_s


def redraw_on_new_report(
    app: dash.Dash,
    ctx: WebContext,
    view: str,
    outputs: list[Output],
    build: Callable[[str, dict[str, Any]], tuple[Any, ...]],
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
    def refresh(_key: object, shown: str, picked: str | None) -> tuple[Any, ...]:
        if shown != view:
            raise dash.exceptions.PreventUpdate
        account = ctx.account(picked)
        latest = ctx.latest(account)
        return empty(account) if latest is None else build(account, latest[1])
