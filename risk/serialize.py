"""RiskReport → plain JSON-ready dict (strict JSON: ∞ becomes null with ``no_risk: true``)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from risk.model import RiskReport


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_none(v) for v in value]
    return value


def report_to_dict(report: RiskReport) -> dict[str, Any]:
    body = dataclasses.asdict(report)
    body["status"] = report.status.value
    body["no_risk"] = report.no_risk
    body["maint_margin"]["total_usd"] = report.maint_margin.total_usd
    result: dict[str, Any] = _finite_or_none(body)
    return result
