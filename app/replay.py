"""A stored report's inputs, rebuilt from its snapshot: the poll's payloads parsed, and for a
between-polls snapshot the mark-price updates it holds applied to them the way the collector
did (``risk.remark.remark``). The what-if builder starts from them."""

from __future__ import annotations

from app.store.store import Store
from connectors.binance.marks import mark_basis, updates_from_json
from connectors.binance.parse import snapshot_from_payloads
from risk.model import AccountSnapshot, MarketState
from risk.remark import remark


def report_inputs(store: Store, report_id: int) -> tuple[AccountSnapshot, MarketState]:
    snap = store.report_snapshot_id(report_id)
    base = store.snapshot_base(snap)
    if base is None:
        return snapshot_from_payloads(store.snapshot_payloads(snap))
    marks = store.snapshot_payloads(snap)["marks"]
    assert isinstance(marks, list)
    payloads = store.snapshot_payloads(base)
    snapshot, market = snapshot_from_payloads(payloads)
    return remark(snapshot, market, mark_basis(payloads), updates_from_json(marks))
