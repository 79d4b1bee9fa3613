"""A day on one user-data connection, over real HTTP/WS on 127.0.0.1 under the simulator's manual
clock: pmdesk keeps the listenKey alive every 30 minutes, the funding paid at 08:00, 16:00 and
00:00 moves the figures with no REST read, and at the connection's end — the simulator's cut at
24 hours (Binance: "expect to be disconnected at the 24 hour mark"), or pmdesk's own renewal at
23.5 hours — the collector reconnects, reads REST once, and goes on with the pushes. While that
read is outstanding nothing pushed is shown on the day-old poll: no figure looks fresh on stale
positions. Waits are on the store, the stream and the clock (bounded), never sleeps."""

from __future__ import annotations

from typing import Any

import pytest

from app.collector.event_codec import EVENTS_KEY, decode_events
from app.store.store import CycleRecord
from connectors.binance.endpoints import BALANCE, LISTEN_KEY
from connectors.binance.userstream import MAX_CONNECTION_MS
from connectors.simulator.listen_keys import CONNECTION_MS
from risk.account_events import FuturesUpdate
from tests.integration.test_user_stream_collect import (  # noqa: F401 (the fixture)
    Pushed,
    pushed,
)

HALF_HOUR_MS = 30 * 60_000


def funding_updates(cycles: list[CycleRecord]) -> int:
    """The FUNDING_FEE updates applied in the newest between-polls report (each stores every
    event since its poll)."""
    stored = [c for c in cycles if EVENTS_KEY in c.payloads]
    if not stored:
        return 0
    events = decode_events(stored[-1].payloads[EVENTS_KEY])[1]
    return sum(isinstance(e, FuturesUpdate) and e.reason == "FUNDING_FEE" for e in events)


@pytest.mark.parametrize("ends", ["simulator cuts at 24 h", "pmdesk renews at 23.5 h"])
def test_a_day_long_connection_is_renewed_resynced_once_and_goes_on(
    pushed: Pushed,  # noqa: F811 (the fixture imported above)
    ends: str,
) -> None:
    p = pushed
    p.stream.tick_s = 0.05  # the stream looks at its key and the clock this often (wall time)
    keep_alive = p.stream.keys.keep_alive

    def keeping_alive() -> str:  # each look at the key wakes the waits below
        try:
            return keep_alive()
        finally:
            with p.changed:
                p.changed.notify_all()

    p.stream.keys.keep_alive = keeping_alive  # type: ignore[method-assign]
    if ends.startswith("simulator"):
        p.stream.max_connection_ms = 2 * CONNECTION_MS  # pmdesk's renewal out of the way
        end_ms = CONNECTION_MS
    else:
        end_ms = MAX_CONNECTION_MS
    assert end_ms % HALF_HOUR_MS == 0
    opened = p.clock.now_ms()  # the fixture connected at T0 and the clock has not moved
    connects, polled = p.stream.connects, p.latest()
    assert polled is not None
    written: list[CycleRecord] = []
    write = p.store.write_cycle

    def recording(cycle: CycleRecord, *args: Any, **kwargs: Any) -> Any:
        written.append(cycle)
        return write(cycle, *args, **kwargs)

    p.store.write_cycle = recording  # type: ignore[method-assign]
    start = len(p.paths)

    # Half an hour at a time up to the last step before the end: pmdesk keeps the key alive.
    while p.clock.now_ms() + HALF_HOUR_MS < opened + end_ms:
        p.clock.advance(HALF_HOUR_MS / 1000)
        p.until(lambda: p.stream.keys.extended_ms == p.clock.now_ms(), "the listenKey kept alive")
    # T0 is 01:00 UTC: 08:00, 16:00 and 00:00 passed, each funding pushed and applied.
    p.until(lambda: funding_updates(written) == 3, "three fundings in the figures")
    day = p.latest()
    assert day is not None and day.adjusted_equity_usd != polled.adjusted_equity_usd
    assert p.stream.connects == connects  # one connection all day
    assert {path for path in p.paths[start:]} == {LISTEN_KEY}  # keep-alives only, no REST read

    # The end: REST answers held at the exchange, so the resync poll is outstanding a while.
    account = p.sim.accounts[0]
    account.released.clear()
    try:
        cut = len(p.paths)
        cut_cycles = len(written)
        p.clock.advance(HALF_HOUR_MS / 1000)
        p.until(
            lambda: p.stream.connects == connects + 1 and p.collector.polls_pending(),
            "reconnected, a REST read asked",
        )
        assert not p.collector.stream_in_sync()  # the day-old poll is not kept by this stream
        p.clock.advance(1)
        fill_ms = p.clock.now_ms()
        p.control("fill", symbol="BTCUSDT", side="BUY", quantity="2", price="94000")
        p.until(lambda: p.stream.last_message_ms == fill_ms, "the fill pushed meanwhile")
    finally:
        account.released.set()
    p.until(
        lambda: p.quiet() and (r := p.latest()) is not None and p.amount(r, "BTCUSDT") == -8.0,
        "resynced, the fill in the figures",
    )
    # Nothing stored on the day-old poll after the cut: the fill pushed while the REST read was
    # outstanding is not shown on positions the stream no longer vouches for.
    day_old = p.store.report_snapshot_id(polled.id)
    assert [c for c in written[cut_cycles:] if c.base_snapshot_id == day_old] == []
    assert [path for path in p.paths[cut:] if path == BALANCE] == [BALANCE]  # one REST read
    resynced = p.latest()
    assert resynced is not None and resynced.positions_at_ms >= fill_ms

    # And the pushes go on: a fill moves the figures with no REST request, as REST then reads.
    before = len(p.paths)  # same moment as the resync's REST answers: same prices
    sent = p.control("fill", symbol="BTCUSDT", side="BUY", quantity="1", price="94000")
    p.until(
        lambda: (r := p.between_polls()) is not None and p.amount(r, "BTCUSDT") == -7.0,
        "the next fill pushed and applied",
    )
    assert len(sent) == 3 and len(p.paths) == before
    streamed = p.latest()
    assert streamed is not None and streamed.uni_mmr != resynced.uni_mmr
    rest = p.full_poll()
    assert rest.uni_mmr == pytest.approx(streamed.uni_mmr, rel=1e-9)
    assert rest.adjusted_equity_usd == pytest.approx(streamed.adjusted_equity_usd, rel=1e-9)
