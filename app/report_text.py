"""A risk report as lines of text for the terminal (``pmdesk risk DIR``): the same words the
screen uses for unknown figures, the reconciliation with Binance and the assumptions."""

from __future__ import annotations

import math

from risk.model import RiskReport


def _num(value: float | None, fmt: str = ",.2f") -> str:
    if value is None or math.isnan(value):
        return "UNKNOWN"
    if value == math.inf:
        return "∞ (no maintenance margin)"
    if value == -math.inf:
        return "≤ 0"
    return format(value, fmt)


def _pct(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:+.3f} %"


def describe_report(report: RiskReport) -> str:
    lines = [
        f"state               {report.state}",
        f"uniMMR              {_num(report.uni_mmr, ',.4f')}",
        f"status              {report.status.value}",
        f"adjusted equity USD {_num(report.adjusted_equity_usd)}",
        f"maint margin USD    {_num(report.maint_margin.total_usd)}",
    ]
    for reason in report.unknown_reasons:
        lines.append(f"  unknown: {reason}")
    rec = report.reconciliation
    if rec is not None:
        lines.append(
            "Binance reports     uniMMR "
            f"{_num(rec.binance_uni_mmr, ',.4f')}, equity {_num(rec.binance_equity_usd)}, "
            f"MM {_num(rec.binance_mm_usd)}"
        )
        agrees = {True: "agrees", False: "DISAGREES", None: "cannot compare"}[rec.agrees]
        lines.append(
            f"reconciliation      {agrees}: uniMMR {_pct(rec.rel_diff_uni_mmr)}, equity "
            f"{_pct(rec.rel_diff_equity)}, MM {_pct(rec.rel_diff_mm)} — {rec.explained_by}"
        )
    a = report.assumptions
    if a is not None:
        loans = ", ".join(f"{k} {v:.2%}" for k, v in sorted(a.loan_mmr.items())) or "no loans"
        lines.append(
            f"assumptions         {a.product.value}; collateral {a.collateral_table} table "
            f"({a.collateral_source}); loan MMR {loans} ({a.loan_mmr_source}); "
            f"{'calibrated' if a.calibrated else 'UNCALIBRATED'}"
        )
    lines += [f"  note: {w}" for w in report.warnings]
    return "\n".join(lines)
