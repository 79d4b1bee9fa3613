"""RiskReport → plain JSON-ready dict (strict JSON: ∞ and NaN become null).

Stable keys (``pmdesk risk DIR --json``, README): ``state`` ("OK" | "UNKNOWN") and
``unknown_reasons`` ([{path, field, item, problem, affects}]); ``reconciliation`` =
{binance: {uni_mmr, adjusted_equity_usd, maint_margin_usd}, pmdesk: {same}, rel_diff: {same},
agrees, explained_by, …} or null without ``/papi/v1/account``; ``assumptions`` = {product,
collateral_table, loan_mmr: {ASSET: rate}, loan_mmr_source, …}. A null uniMMR is read with
``no_risk`` (∞: no maintenance margin), ``uni_mmr_at_most_zero`` (adjusted equity ≤ 0 with no MM
to divide by) or ``state`` UNKNOWN.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from risk.model import Assumptions, Reconciliation, RiskReport

FIGURES = ("uni_mmr", "adjusted_equity_usd", "maint_margin_usd")


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def reconciliation_to_dict(rec: Reconciliation) -> dict[str, Any]:
    body = dataclasses.asdict(rec)

    def figures(*values: float | None) -> dict[str, float | None]:
        return dict(zip(FIGURES, values, strict=True))

    return {
        "binance": figures(rec.binance_uni_mmr, rec.binance_equity_usd, rec.binance_mm_usd),
        "pmdesk": figures(rec.pmdesk_uni_mmr, rec.pmdesk_equity_usd, rec.pmdesk_mm_usd),
        "rel_diff": figures(rec.rel_diff_uni_mmr, rec.rel_diff_equity, rec.rel_diff_mm),
        "binance_no_mm": rec.binance_uni_mmr == math.inf,
        "agrees": rec.agrees,
        "explained_by": rec.explained_by,
        "tolerance": rec.tolerance,
        "futures_mm_usd": {
            "binance": rec.binance_futures_mm_usd,
            "pmdesk": rec.pmdesk_futures_mm_usd,
        },
        "loan_mm_usd": {"binance": rec.binance_loan_mm_usd, "pmdesk": rec.pmdesk_loan_mm_usd},
        "positions": body["positions"],
    }


def assumptions_to_dict(a: Assumptions) -> dict[str, Any]:
    body = dataclasses.asdict(a)
    body["product"] = a.product.value
    return body


def report_to_dict(report: RiskReport) -> dict[str, Any]:
    body = dataclasses.asdict(report)
    body["status"] = report.status.value
    body["state"] = report.state
    body["no_risk"] = report.no_risk
    body["uni_mmr_at_most_zero"] = report.uni_mmr == -math.inf
    body["maint_margin"]["total_usd"] = report.maint_margin.total_usd
    body["reconciliation"] = (
        None if report.reconciliation is None else reconciliation_to_dict(report.reconciliation)
    )
    body["assumptions"] = (
        None if report.assumptions is None else assumptions_to_dict(report.assumptions)
    )
    result: dict[str, Any] = _finite_or_none(body)
    return result
