"""Store cycles for the store suites: a report of the basis book at a chosen uniMMR, written as
one collector cycle of account "a"."""

from __future__ import annotations

import dataclasses

from app.store.store import CycleRecord
from risk.evaluate import evaluate
from risk.model import RiskReport, RiskRules
from tests.support.books import basis, market

T0 = 1_700_000_040_000  # a whole minute, 14 minutes into its hour (1 700 000 040 mod 3600 = 840)


def report_at(uni_mmr: float) -> RiskReport:
    base = evaluate(basis(), market(), RiskRules())
    rules = RiskRules()
    return dataclasses.replace(base, uni_mmr=uni_mmr, status=rules.band(uni_mmr))


def cycle_at(at_ms: int, uni_mmr: float) -> CycleRecord:
    return CycleRecord("a", at_ms, at_ms, True, {}, report_at(uni_mmr), None)
