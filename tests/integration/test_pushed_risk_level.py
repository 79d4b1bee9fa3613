"""Binance's pushed ``riskLevelChange`` while pmdesk's own figures are calm: the between-polls
report compares pmdesk with the pushed figures at once (pmdesk calmer than Binance shows, not the
last poll's agreement), carries Binance's status, and a full REST poll follows by itself (at most
one a poll interval, however often Binance pushes) — over
real HTTP/WS on 127.0.0.1, with the collector fed the event as its user stream feeds it."""

from __future__ import annotations

from typing import Any

from app.collector.event_codec import EVENTS_KEY
from app.store.store import CycleRecord, StoredReport
from risk.account_events import RiskLevelChange
from risk.serialize import report_from_dict
from tests.integration.test_user_stream_collect import (  # noqa: F401 (the fixture)
    INTERVAL_S,
    Pushed,
    pushed,
)


def _reconciled(p: Pushed, report: StoredReport) -> tuple[float | None, bool | None]:
    rec = report_from_dict(p.store.report_detail(report.id)).reconciliation
    assert rec is not None
    return rec.binance_uni_mmr, rec.agrees


def test_a_pushed_reduce_only_is_compared_at_once_and_read_over_rest(
    pushed: Pushed,  # noqa: F811 (the fixture imported above)
) -> None:
    p = pushed
    polled = p.latest()
    assert polled is not None
    # The basis preset is far from any level: pmdesk and Binance agree at the poll.
    assert polled.uni_mmr > 1.5
    assert polled.reported_status == "NORMAL"
    assert _reconciled(p, polled)[1] is True
    # Stamped with when Binance's figures were read: the poll's read (its positions time).
    polled_rec = report_from_dict(p.store.report_detail(polled.id)).reconciliation
    assert polled_rec is not None and polled_rec.binance_at_ms == polled.positions_at_ms
    requests_before = len(p.paths)
    written: list[CycleRecord] = []
    write = p.store.write_cycle

    def recording(cycle: CycleRecord, *args: Any, **kwargs: Any) -> Any:
        written.append(cycle)
        return write(cycle, *args, **kwargs)

    p.store.write_cycle = recording  # type: ignore[method-assign]

    # Binance pushes REDUCE_ONLY at uniMMR 1.15 (its sample's fields: u, s, eq, ae, m).
    pushed_at = p.clock.now_ms()
    p.collector.on_account_event(
        RiskLevelChange(pushed_at, 1.15, "REDUCE_ONLY", 30_000.0, 30_000.0, 26_086.9)
    )

    def pushed_cycle() -> CycleRecord | None:
        return next((c for c in written if c.reported and c.reported.uni_mmr == 1.15), None)

    p.until(lambda: pushed_cycle() is not None, "the pushed figures in a stored report")
    cycle = pushed_cycle()
    assert cycle is not None
    assert cycle.reported is not None and cycle.reported.account_status == "REDUCE_ONLY"
    assert EVENTS_KEY in cycle.payloads  # a between-polls report: the event, no REST read
    rec = cycle.report.reconciliation
    assert rec is not None
    # Compared with the pushed figure, not the poll's: pmdesk (> 1.5) is calmer than 1.15.
    assert rec.binance_uni_mmr == 1.15
    assert rec.agrees is False
    assert rec.binance_at_ms == pushed_at  # compared at the push (its E), not at the poll
    assert cycle.report.uni_mmr > 1.5  # pmdesk's own figure is unchanged by Binance's push

    # And Binance's full figures are read at once, with no poll asked for by the test.
    p.until(lambda: len(p.paths) > requests_before, "a REST poll after the push")
    assert any(path.endswith("/papi/v1/account") for path in p.paths[requests_before:])
    p.until(lambda: not p.collector.polls_pending(), "the REST poll done")

    # Binance pushes again within the poll interval (the status holds; here the simulator's
    # REST still says NORMAL, so the status differs from REST's): figures move, no new poll.
    requests_before = len(p.paths)
    again = RiskLevelChange(pushed_at + 500, 1.14, "REDUCE_ONLY", 30_000.0, 30_000.0, 26_315.8)
    p.collector.on_account_event(again)

    def again_cycle() -> CycleRecord | None:
        return next((c for c in written if c.reported and c.reported.uni_mmr == 1.14), None)

    p.until(lambda: again_cycle() is not None, "the second push in a stored report")
    assert not p.collector.polls_pending()
    assert len(p.paths) == requests_before  # at most one such poll a poll interval

    # A poll interval later the next push that differs from REST reads it again.
    p.clock.advance(INTERVAL_S)
    later = RiskLevelChange(p.clock.now_ms(), 1.13, "REDUCE_ONLY", 30_000.0, 30_000.0, 26_548.7)
    p.collector.on_account_event(later)
    p.until(lambda: len(p.paths) > requests_before, "a REST poll a poll interval later")
