"""Monitors (issue 17): ``/metrics`` in Prometheus' text format, parsed with prometheus-client's
own parser, equals the newest stored report figure by figure (one poll collected from the
simulator over HTTP); it is off (404) without a token and 401 without the right one; and
``/healthz`` says ok or stale and nothing else."""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app.collector.collector import Collector
from app.config import ConfigError, Settings
from app.metrics import add_metrics_route
from app.server import add_health_route
from app.store.store import CycleRecord, Store, StoredReport
from app.web.app import create_app
from connectors.binance.limits import LIMITS_PER_MINUTE
from connectors.binance.parse import snapshot_from_payloads
from connectors.simulator.clock import ManualClock
from risk import evaluate
from risk.model import Product, RiskRules

STALE_AFTER_S = 10.0
TOKEN = "a-long-scrape-token-0123456789"
CALM, BROKEN, FLAT = "sim-basis", "sim-broken", "sim-flat"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _write(store: Store, account: str, payloads: dict[str, Any], at_ms: int) -> StoredReport:
    """Evaluate ``payloads`` as the collector does and store the report at ``at_ms``."""
    snapshot, market = snapshot_from_payloads(payloads)
    report = evaluate(snapshot, market, RiskRules.for_product(Product.PM))
    cycle = CycleRecord(account, at_ms, at_ms, True, payloads, report, snapshot.reported)
    store.write_cycle(cycle, computed_at_ms=at_ms)
    stored = store.latest_report(account)
    assert stored is not None
    return stored


def _without_mark(payloads: dict[str, Any], symbol: str) -> dict[str, Any]:
    out = copy.deepcopy(payloads)
    out["/fapi/v1/premiumIndex"] = [
        r for r in out["/fapi/v1/premiumIndex"] if r["symbol"] != symbol
    ]
    for row in out["/papi/v1/um/positionRisk"]:
        if row["symbol"] == symbol:
            row.pop("markPrice")
    return out


def _flat(payloads: dict[str, Any]) -> dict[str, Any]:
    """The basis book with no futures position and no loan: no maintenance margin."""
    out = copy.deepcopy(payloads)
    out["/papi/v1/um/positionRisk"] = []
    out["/papi/v1/cm/positionRisk"] = []
    return out


def _scrape(web: FlaskClient, token: str = TOKEN) -> Samples:
    answer = web.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    out: Samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        assert family.type == "gauge", family.name
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in out, key
            out[key] = s.value
    return out


def _same(got: float, want: float | None) -> bool:
    if want is None or math.isnan(want):
        return math.isnan(got)
    return got == want  # the text format keeps a float64 exactly (repr)


@pytest.fixture
def accounts(
    store: Store, collector: Collector, clock: ManualClock
) -> Iterator[dict[str, StoredReport]]:
    """sim-basis: one poll collected from the simulator over HTTP; sim-broken: its payloads with
    a mark price missing (UNKNOWN); sim-flat: no position, no loan (uniMMR +Inf)."""
    written = collector.run_once()
    assert written.report_id is not None
    payloads = store.snapshot_payloads(store.report_snapshot_id(written.report_id))
    now = clock.now_ms()
    newest = {
        BROKEN: _write(store, BROKEN, _without_mark(payloads, "BTCUSDT"), now - 1_000),
        FLAT: _write(store, FLAT, _flat(payloads), now - 2_000),
    }
    calm = store.latest_report(CALM)
    assert calm is not None
    yield newest | {CALM: calm}


def _web(store: Store, names: list[str], clock: ManualClock, token: str | None) -> FlaskClient:
    app = create_app(store, names, STALE_AFTER_S, clock=clock.now_ms)
    add_health_route(app.server, store, names, STALE_AFTER_S, clock=clock.now_ms)
    add_metrics_route(
        app.server,
        store,
        names,
        STALE_AFTER_S,
        None if token is None else SecretStr(token),
        clock=clock.now_ms,
    )
    server: Flask = app.server
    return server.test_client()


def test_metrics_equal_the_newest_stored_report(
    store: Store, accounts: dict[str, StoredReport], clock: ManualClock
) -> None:
    names = [CALM, BROKEN, FLAT, "sim-never"]
    now = clock.now_ms()
    store.alerts.open(CALM, "uni_mmr", "warn", "uniMMR low", "m", "a", 1.9, now)
    acked = store.alerts.open(CALM, "liq", "critical", "close", "m", "a", 4.0, now)
    store.alerts.acknowledge(acked, "desk", now)
    cleared = store.alerts.open(BROKEN, "stale", "critical", "stale", "m", "a", None, now)
    store.alerts.close(cleared, now)
    got = _scrape(_web(store, names, clock, TOKEN))

    def one(name: str, **labels: str) -> float:
        return got[(name, tuple(sorted(labels.items())))]

    assert one("pmdesk_store_up") == 1.0
    for account, r in accounts.items():
        assert _same(one("pmdesk_account_uni_mmr", account=account), r.uni_mmr), account
        assert _same(
            one("pmdesk_account_adjusted_equity_usd", account=account), r.adjusted_equity_usd
        )
        assert _same(one("pmdesk_account_maint_margin_usd", account=account), r.maint_margin_usd)
        for direction, want in (("down", r.liquidation_down_pct), ("up", r.liquidation_up_pct)):
            assert _same(
                one("pmdesk_account_liquidation_move_pct", account=account, direction=direction),
                want,
            ), (account, direction)
        assert one("pmdesk_account_data_age_seconds", account=account) == pytest.approx(
            (now - r.data_time_ms) / 1000
        )
        assert r.reported_uni_mmr is not None
        assert one("pmdesk_account_binance_uni_mmr", account=account) == r.reported_uni_mmr
        for source in ("stream", "rest", "poll"):
            want_on = 1.0 if source == r.marks_source else 0.0
            assert one("pmdesk_marks_source", account=account, source=source) == want_on

    # The figures the three books were made for, not only "equal to the store":
    calm, broken, flat = accounts[CALM], accounts[BROKEN], accounts[FLAT]
    assert math.isfinite(calm.uni_mmr) and calm.uni_mmr > 1
    assert math.isnan(one("pmdesk_account_uni_mmr", account=BROKEN)) and broken.unknown
    assert one("pmdesk_account_uni_mmr", account=FLAT) == math.inf == flat.uni_mmr
    assert flat.maint_margin_usd == 0.0

    states = {
        a: {
            s
            for s in ("OK", "UNKNOWN", "STALE", "NO_DATA")
            if one("pmdesk_account_state", account=a, state=s)
        }
        for a in names
    }
    assert states == {CALM: {"OK"}, BROKEN: {"UNKNOWN"}, FLAT: {"OK"}, "sim-never": {"NO_DATA"}}
    assert one("pmdesk_account_data_age_seconds", account="sim-never") == math.inf
    assert ("pmdesk_account_uni_mmr", (("account", "sim-never"),)) not in got

    weight = store.latest_weight()
    assert weight is not None and weight[1]
    for fam, used in weight[1].items():
        assert one("pmdesk_api_weight_used", family=fam) == used
    for fam, limit in LIMITS_PER_MINUTE.items():
        assert one("pmdesk_api_weight_limit", family=fam) == limit
    assert one("pmdesk_api_weight_age_seconds") == pytest.approx((now - weight[0]) / 1000)

    assert one("pmdesk_alerts_open", account=CALM, severity="warn") == 1
    assert one("pmdesk_alerts_open", account=CALM, severity="critical") == 1
    assert one("pmdesk_alerts_unacknowledged", account=CALM, severity="critical") == 0
    assert one("pmdesk_alerts_unacknowledged", account=CALM, severity="warn") == 1
    assert one("pmdesk_alerts_open", account=BROKEN, severity="critical") == 0  # cleared

    db = store.sqlite_file()
    assert db is not None
    on_disk = sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())
    assert one("pmdesk_store_size_bytes") == on_disk > 0
    assert one("pmdesk_store_ok") == 1.0
    newest_write = max(r.computed_at_ms for r in accounts.values())
    assert one("pmdesk_store_last_write_age_seconds") == pytest.approx((now - newest_write) / 1000)

    clock.advance(STALE_AFTER_S + 1)  # every account's data is now too old
    later = _scrape(_web(store, names, clock, TOKEN))
    for account in accounts:
        key = ("pmdesk_account_state", (("account", account), ("state", "STALE")))
        assert later[key] == 1.0, account


def test_metrics_need_the_token_and_are_off_without_one(
    store: Store, accounts: dict[str, StoredReport], clock: ManualClock
) -> None:
    web = _web(store, [CALM], clock, TOKEN)
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
        {"Authorization": TOKEN},
    ):
        answer = web.get("/metrics", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "pmdesk_" not in answer.get_data(as_text=True)
    assert web.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200

    off = _web(store, [CALM], clock, None)
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        answer = off.get("/metrics", headers=headers)
        assert answer.status_code == 404  # not the dashboard's catch-all page
        assert "pmdesk_" not in answer.get_data(as_text=True)


def test_metrics_of_a_store_that_cannot_answer(tmp_path: Path, clock: ManualClock) -> None:
    broken = Store(f"sqlite:///{tmp_path / 'no-schema.db'}")  # no tables: every read fails
    web = _web(broken, [CALM], clock, TOKEN)
    got = _scrape(web)
    assert got == {("pmdesk_store_up", ()): 0.0}
    health = web.get("/healthz")
    assert health.status_code == 503 and health.get_json() == {"status": "stale"}
    broken.close()


def test_healthz_says_ok_or_stale_and_nothing_else(
    store: Store, accounts: dict[str, StoredReport], clock: ManualClock
) -> None:
    web = _web(store, [CALM, BROKEN], clock, TOKEN)
    ok = web.get("/healthz")
    assert ok.status_code == 200 and ok.get_json() == {"status": "ok"}
    assert CALM not in ok.get_data(as_text=True)
    clock.advance(STALE_AFTER_S + 1)
    stale = web.get("/healthz")
    assert stale.status_code == 503 and stale.get_json() == {"status": "stale"}
    never = _web(store, [CALM, "sim-never"], clock, TOKEN).get("/healthz")
    assert never.status_code == 503 and never.get_json() == {"status": "stale"}


def test_metrics_token_file_is_read_like_a_key_file(tmp_path: Path) -> None:
    assert Settings.model_validate({}).metrics_token() is None
    token_file = tmp_path / "metrics.token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o644)
    with pytest.raises(ConfigError) as loose:
        Settings.model_validate({"web": {"metrics_token_file": token_file}}).metrics_token()
    assert TOKEN not in str(loose.value) and "600" in str(loose.value)
    os.chmod(token_file, 0o600)
    token = Settings.model_validate({"web": {"metrics_token_file": token_file}}).metrics_token()
    assert token is not None and token.get_secret_value() == TOKEN
