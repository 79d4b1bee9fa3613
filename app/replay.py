"""A stored report's inputs, rebuilt from its snapshot: the poll's payloads, plus the mark-price
updates a between-polls snapshot holds. The what-if builder starts from them."""

from __future__ import annotations

from app.store.store import Store
from connectors.binance.marks import apply_marks, updates_from_json
from connectors.binance.parse import snapshot_from_payloads
from risk.model import AccountSnapshot, MarketState


def report_payloads(store: Store, report_id: int) -> dict[str, object]:
    snap = store.report_snapshot_id(report_id)
    base = store.snapshot_base(snap)
    if base is None:
        return store.snapshot_payloads(snap)
    marks = store.snapshot_payloads(snap)["marks"]
    assert isinstance(marks, list)
    return apply_marks(store.snapshot_payloads(base), updates_from_json(marks))


def report_inputs(store: Store, report_id: int) -> tuple[AccountSnapshot, MarketState]:
    return snapshot_from_payloads(report_payloads(store, report_id))
