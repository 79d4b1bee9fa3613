"""A stored report's inputs, rebuilt from its snapshot: the poll's payloads parsed, and for a
between-polls snapshot what it holds applied to them the way the collector did
(``app.collector.between_polls.moved_since_poll``): the user data stream's events
(``"events"``), then the mark-price updates (``"marks"``). The what-if builder starts from them."""

from __future__ import annotations

from app.collector.between_polls import moved_since_poll
from app.collector.event_codec import EVENTS_KEY, decode_events
from app.store.store import Store
from connectors.binance.marks import mark_basis, updates_from_json
from connectors.binance.parse import snapshot_from_payloads
from risk.model import AccountSnapshot, MarketState


def report_inputs(store: Store, report_id: int) -> tuple[AccountSnapshot, MarketState]:
    snap = store.report_snapshot_id(report_id)
    base = store.snapshot_base(snap)
    if base is None:
        return snapshot_from_payloads(store.snapshot_payloads(snap))
    pushed = store.snapshot_payloads(snap)
    marks = pushed.get("marks", [])
    assert isinstance(marks, list)
    since, events = decode_events(pushed[EVENTS_KEY]) if EVENTS_KEY in pushed else (0, [])
    payloads = store.snapshot_payloads(base)
    snapshot, market = snapshot_from_payloads(payloads)
    snapshot, market, _ = moved_since_poll(
        snapshot, market, mark_basis(payloads), events, since, updates_from_json(marks)
    )
    return snapshot, market
