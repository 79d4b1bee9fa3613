"""``/metrics``: what the desk screen shows, for Prometheus — read from the store at each scrape.

A custom collector (``StoreMetrics``) in its own ``CollectorRegistry`` (never the global one:
no process or interpreter figures, nothing another module registers), served as Prometheus'
text format by ``generate_latest``. Off (404) unless a bearer token is configured
(``metrics_token_file``); a missing or wrong ``Authorization: Bearer …`` is 401. The sign-in
gate lets ``/metrics`` through: this token is its protection.

Every series, with its labels (figures follow the store's conventions: NaN unknown, +Inf for
uniMMR with no maintenance margin):

- ``pmdesk_account_uni_mmr{account}`` — pmdesk's uniMMR of the newest report
- ``pmdesk_account_binance_uni_mmr{account}`` — the uniMMR Binance reported at the last poll
  (absent when not read)
- ``pmdesk_account_adjusted_equity_usd{account}``, ``pmdesk_account_maint_margin_usd{account}``
- ``pmdesk_account_liquidation_move_pct{account, direction="down"|"up"}`` — the uniform move of
  all non-stable assets that liquidates (NaN: none within reach)
- ``pmdesk_account_data_age_seconds{account}`` — age of the newest data (+Inf: none yet)
- ``pmdesk_account_state{account, state="OK"|"UNKNOWN"|"STALE"|"NO_DATA"}`` — 1 for the one
  that holds (NO_DATA, then STALE, then UNKNOWN win), 0 for the others
- ``pmdesk_marks_source{account, source="stream"|"rest"|"poll"}`` — what fed the newest report's
  mark prices: the live stream, the REST fallback (stream down), or account polls only
- ``pmdesk_api_weight_used{family}`` — API weight used in the current minute, as the exchange
  last reported it (families api, fapi, dapi, papi, sapi); ``pmdesk_api_weight_limit{family}``
  the minute's budget; ``pmdesk_api_weight_age_seconds`` the report's age
- ``pmdesk_alerts_open{account, severity="warn"|"critical"}`` — alerts not cleared;
  ``pmdesk_alerts_unacknowledged{account, severity}`` — of those, not acknowledged
- ``pmdesk_store_up`` — 1 when the store answered this scrape (0: nothing else is given);
  ``pmdesk_store_ok`` — 1 when the store has no trouble (full, read-only, locked: the
  screen's store banner); ``pmdesk_store_size_bytes`` — the SQLite file with its WAL (absent on
  PostgreSQL); ``pmdesk_store_last_write_age_seconds`` — since the newest report was written
"""

from __future__ import annotations

import hmac
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from pydantic import SecretStr

from app.clock import now_ms
from app.store.alerts import StoredAlert
from app.store.store import Store, StoredReport
from connectors.binance.limits import LIMITS_PER_MINUTE

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
STATES = ("OK", "UNKNOWN", "STALE", "NO_DATA")
MARKS_SOURCES = ("stream", "rest", "poll")
SEVERITIES = ("warn", "critical")


def account_state(report: StoredReport | None, now_ms: int, stale_after_s: float) -> str:
    """The account's one state: NO_DATA, else STALE (older than the limit), else UNKNOWN
    (figures the payloads did not give), else OK."""
    if report is None:
        return "NO_DATA"
    if (now_ms - report.data_time_ms) / 1000 > stale_after_s:
        return "STALE"
    return "UNKNOWN" if report.unknown else "OK"


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _file_bytes(path: Path | None) -> float | None:
    """The SQLite file and its write-ahead log, in bytes; None when not SQLite."""
    if path is None:
        return None
    total = 0
    for part in (path, path.with_name(path.name + "-wal")):
        try:
            total += part.stat().st_size
        except OSError:
            continue
    return float(total)


@dataclass(frozen=True)
class _Read:
    reports: dict[str, StoredReport | None]
    weight: tuple[int, dict[str, int]] | None
    alerts: list[StoredAlert]
    trouble: str | None


class StoreMetrics:
    """A prometheus_client collector: every scrape reads the newest of everything (one indexed
    query per account, one for the weight, one for the alerts) and the store's health."""

    def __init__(
        self,
        store: Store,
        accounts: list[str],
        stale_after_s: float,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.accounts = list(accounts)
        self.stale_after_s = stale_after_s
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        return ()  # registering reads nothing; every series is made at scrape time

    def _read(self) -> _Read:
        return _Read(
            {a: self.store.latest_report(a) for a in self.accounts},
            self.store.latest_weight(),
            self.store.alerts.active(),
            self.store.health(),
        )

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        up = GaugeMetricFamily("pmdesk_store_up", "1 when the store answered this scrape")
        try:
            read = self._read()
        except Exception as exc:  # a scrape never fails: it says the store did not answer
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""]
            log.warning("/metrics: the store cannot be read: %s", cause[0][:200])
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield from self._accounts(read.reports, now)
        yield from self._weight(read.weight, now)
        yield from self._alerts(read.alerts)
        yield from self._store(read, now)

    def _accounts(self, reports: dict[str, StoredReport | None], now: int) -> Iterator[Metric]:
        label = ["account"]
        uni = GaugeMetricFamily(
            "pmdesk_account_uni_mmr",
            "pmdesk's uniMMR (adjusted equity / maintenance margin); NaN unknown, +Inf no MM",
            labels=label,
        )
        binance = GaugeMetricFamily(
            "pmdesk_account_binance_uni_mmr",
            "the uniMMR Binance reported at the last account poll",
            labels=label,
        )
        equity = GaugeMetricFamily(
            "pmdesk_account_adjusted_equity_usd", "adjusted equity, USD", labels=label
        )
        mm = GaugeMetricFamily(
            "pmdesk_account_maint_margin_usd", "maintenance margin, USD", labels=label
        )
        liq = GaugeMetricFamily(
            "pmdesk_account_liquidation_move_pct",
            "uniform move (%) of all non-stable assets that liquidates; NaN none",
            labels=["account", "direction"],
        )
        age = GaugeMetricFamily(
            "pmdesk_account_data_age_seconds",
            "age of the account's newest data; +Inf none yet",
            labels=label,
        )
        state = GaugeMetricFamily(
            "pmdesk_account_state",
            "the account's state: 1 for the one that holds",
            labels=["account", "state"],
        )
        marks = GaugeMetricFamily(
            "pmdesk_marks_source",
            "what fed the newest report's mark prices: stream (live), rest (stream down), poll",
            labels=["account", "source"],
        )
        for account, r in reports.items():
            held = account_state(r, now, self.stale_after_s)
            for name in STATES:
                state.add_metric([account, name], 1.0 if name == held else 0.0)
            if r is None:
                age.add_metric([account], math.inf)
                continue
            age.add_metric([account], (now - r.data_time_ms) / 1000)
            uni.add_metric([account], r.uni_mmr)
            if r.reported_uni_mmr is not None:
                binance.add_metric([account], r.reported_uni_mmr)
            equity.add_metric([account], r.adjusted_equity_usd)
            mm.add_metric([account], r.maint_margin_usd)
            liq.add_metric([account, "down"], _number(r.liquidation_down_pct))
            liq.add_metric([account, "up"], _number(r.liquidation_up_pct))
            for source in sorted({*MARKS_SOURCES, r.marks_source}):
                marks.add_metric([account, source], 1.0 if source == r.marks_source else 0.0)
        yield from (uni, binance, equity, mm, liq, age, state, marks)

    def _weight(self, weight: tuple[int, dict[str, int]] | None, now: int) -> Iterator[Metric]:
        limit = GaugeMetricFamily(
            "pmdesk_api_weight_limit",
            "the exchange's API weight budget a minute",
            labels=["family"],
        )
        for fam, per_minute in sorted(LIMITS_PER_MINUTE.items()):
            limit.add_metric([fam], float(per_minute))
        yield limit
        used = GaugeMetricFamily(
            "pmdesk_api_weight_used",
            "API weight used in the current minute, as the exchange last reported it",
            labels=["family"],
        )
        if weight is not None:
            for fam, value in sorted(weight[1].items()):
                used.add_metric([fam], float(value))
            yield GaugeMetricFamily(
                "pmdesk_api_weight_age_seconds",
                "age of the last API weight report",
                value=(now - weight[0]) / 1000,
            )
        yield used

    def _alerts(self, alerts: list[StoredAlert]) -> Iterator[Metric]:
        labels = ["account", "severity"]
        counts = {(a, s): [0, 0] for a in self.accounts for s in SEVERITIES}
        for alert in alerts:
            pair = counts.setdefault((alert.account, alert.severity), [0, 0])
            pair[0] += 1
            pair[1] += int(alert.acked_at_ms is None)
        opened = GaugeMetricFamily("pmdesk_alerts_open", "alerts not cleared", labels=labels)
        unacked = GaugeMetricFamily(
            "pmdesk_alerts_unacknowledged", "alerts not cleared nor acknowledged", labels=labels
        )
        for (account, severity), (n_open, n_unacked) in sorted(counts.items()):
            opened.add_metric([account, severity], float(n_open))
            unacked.add_metric([account, severity], float(n_unacked))
        yield from (opened, unacked)

    def _store(self, read: _Read, now: int) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "pmdesk_store_ok",
            "1 when the store has no trouble (full, read-only, locked: the screen's banner)",
            value=0.0 if read.trouble else 1.0,
        )
        size = _file_bytes(self.store.sqlite_file())
        if size is not None:
            yield GaugeMetricFamily(
                "pmdesk_store_size_bytes", "the SQLite store's file and its WAL", value=size
            )
        written = [r.computed_at_ms for r in read.reports.values() if r is not None]
        if written:
            yield GaugeMetricFamily(
                "pmdesk_store_last_write_age_seconds",
                "since the newest report was written",
                value=(now - max(written)) / 1000,
            )


def _bearer(header: str) -> bytes | None:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    # WSGI headers are latin-1 strings: back to the bytes the client sent.
    return token.strip().encode("latin-1", errors="replace")


def add_metrics_route(
    server: Flask,
    store: Store,
    accounts: list[str],
    stale_after_s: float,
    token: SecretStr | None,
    clock: Callable[[], int] = now_ms,
) -> CollectorRegistry:
    """``/metrics`` on ``server``: 404 without a token (off), 401 without the right
    ``Authorization: Bearer <token>``, else the registry's text. Returns the registry."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreMetrics(store, accounts, stale_after_s, clock))
    expected = None if token is None else token.get_secret_value().encode()

    def metrics() -> Response:
        if expected is None:
            return Response("not found\n", 404, mimetype="text/plain")
        given = _bearer(request.headers.get("Authorization", ""))
        if given is None or not hmac.compare_digest(given, expected):
            return Response(
                "a bearer token is needed\n",
                401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="pmdesk metrics"'},
            )
        return Response(
            generate_latest(registry), 200, headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    server.add_url_rule(METRICS_PATH, "metrics", metrics)
    return registry
