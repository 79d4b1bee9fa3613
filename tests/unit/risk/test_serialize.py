"""risk.serialize: report_from_dict(report_to_dict(r)) == r, NaN and ∞ kept apart; version 1."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from risk import evaluate
from risk.model import (
    AccountSnapshot,
    MarginBand,
    Product,
    ReportedAccount,
    RiskReport,
    RiskRules,
    UnknownReason,
)
from risk.serialize import (
    FORMAT_KEY,
    FORMAT_VERSION,
    UnknownFormatError,
    report_from_dict,
    report_to_dict,
)
from tests.support.books import bal, basis, basis10, borrower, directional_long, hedged, market
from tests.support.same import differences

PM = RiskRules.for_product(Product.PM)


def _reported(uni: float | None, equity: float | None, mm: float | None) -> ReportedAccount:
    return ReportedAccount(uni, equity, equity, mm, None, "NORMAL", 0.0, 0)


def _with_reconciliation() -> RiskReport:
    # Binance's own figures beside the book: a reconciliation and calibrated assumptions.
    snap = dataclasses.replace(basis(), reported=_reported(9.9, 104_000.0, 400.0))
    return evaluate(snap, market(), PM)


def _unknown() -> RiskReport:
    # BTC's index price missing: equity and MM unknown, the figures NaN, the reasons named.
    snap = dataclasses.replace(
        directional_long(),
        balances=(*directional_long().balances, bal("BTC", cross_margin_asset_qty=1.0)),
        problems=(UnknownReason("/papi/v1/balance", "crossMarginAsset", "not a number", "BTC"),),
    )
    return evaluate(snap, market(), PM)


def _no_mm() -> RiskReport:
    snap = AccountSnapshot(balances=(bal("USDT", cross_margin_asset_qty=100.0),), um_positions=())
    return evaluate(snap, market(), PM)


def _at_most_zero() -> RiskReport:
    snap = AccountSnapshot(
        balances=(bal("BTC", cross_margin_asset_qty=0.5), bal("USDT", um_wallet_qty=-24_750.0)),
        um_positions=(),
    )
    return evaluate(snap, market(), PM)


REPORTS = {
    "directional_long": lambda: evaluate(directional_long(), market(), PM),
    "basis": lambda: evaluate(basis(), market(), RiskRules()),
    "basis10": lambda: evaluate(basis10(), market(), PM),
    "borrower": lambda: evaluate(borrower(), market(), PM),
    "hedged": lambda: evaluate(hedged(), market(), PM),
    "reconciled": _with_reconciliation,
    "unknown": _unknown,
    "no_mm": _no_mm,
    "at_most_zero": _at_most_zero,
}


def _through_json(body: dict[str, Any]) -> dict[str, Any]:
    """As the store keeps it: strict JSON (no NaN literals) there and back."""
    back: dict[str, Any] = json.loads(json.dumps(body, allow_nan=False))
    return back


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_round_trip_is_the_same_report(name: str) -> None:
    report = REPORTS[name]()
    body = _through_json(report_to_dict(report))
    assert body[FORMAT_KEY] == FORMAT_VERSION
    assert differences(report_from_dict(body), report) == []


def test_the_books_cover_what_the_format_must_carry() -> None:
    unknown, rec = _unknown(), _with_reconciliation()
    assert unknown.state == "UNKNOWN" and math.isnan(unknown.uni_mmr)
    assert unknown.unknown_reasons and unknown.status is MarginBand.UNKNOWN
    assert rec.reconciliation is not None and rec.assumptions is not None
    assert _no_mm().uni_mmr == math.inf and _at_most_zero().uni_mmr == -math.inf


def test_nan_and_infinity_stay_apart_in_the_stored_form() -> None:
    known = dataclasses.replace(REPORTS["directional_long"](), top_up_move_usd=math.inf)
    unknown = dataclasses.replace(known, top_up_move_usd=math.nan)
    assert report_to_dict(known)["top_up_move_usd"] == "Infinity"
    assert report_to_dict(unknown)["top_up_move_usd"] == "NaN"
    assert report_from_dict(_through_json(report_to_dict(known))).top_up_move_usd == math.inf
    assert math.isnan(report_from_dict(_through_json(report_to_dict(unknown))).top_up_move_usd)


def test_the_differences_helper_can_fail() -> None:
    r = REPORTS["basis"]()
    assert differences(r, dataclasses.replace(r, uni_mmr=r.uni_mmr + 1e-9)) != []
    assert differences(r, dataclasses.replace(r, top_up_move_usd=math.nan)) != []


# A report as pmdesk stored it before the format was versioned (version 1: no version key, NaN
# and ±∞ both null), trimmed to the fields that matter here: absent ones read as their default
# or as unknown.
V1_ROW: dict[str, Any] = {
    "uni_mmr": None,
    "no_risk": True,
    "uni_mmr_at_most_zero": False,
    "state": "OK",
    "status": "NORMAL",
    "adjusted_equity_usd": 100.0,
    "actual_equity_usd": 100.0,
    "maint_margin": {"um_usd": 0.0, "cm_usd": 0.0, "margin_usd": 0.0, "total_usd": 0.0},
    "initial_margin_usd": 0.0,
    "withdrawable_usd": 100.0,
    "stablecoin_buffer_usd": 100.0,
    "top_up_target_uni_mmr": 2.0,
    "top_up_usd": 0.0,
    "top_up_move_usd": None,
    "top_up_clear_move_pct": 15.0,
    "top_up_basis": {
        "asset": "USDT",
        "value_usd": 100.0,
        "tiers": [{"floor_usd": 0.0, "cap_usd": None, "collateral_rate": 1.0, "cum_usd": 0.0}],
    },
    "reduce": None,
    "assets": [
        {
            "asset": "USDT",
            "equity_qty": 100.0,
            "index_price_usd": 1.0,
            "actual_equity_usd": 100.0,
            "adjusted_equity_usd": 100.0,
            "stable": True,
        }
    ],
    "positions": [],
    "hedges": [],
    "stress": {
        "shock_pct": [-10, 0],
        "uni_mmr": [None, None],
        "equity_usd": [90.0, 100.0],
        "maint_margin_usd": [0.0, 0.0],
    },
    "liquidation_shock": {
        "down_pct": None,
        "up_pct": None,
        "btc_down_price_usd": None,
        "btc_up_price_usd": None,
    },
    "warnings": ["a warning"],
    "unknown_reasons": [],
    "reconciliation": {
        "binance": {"uni_mmr": None, "adjusted_equity_usd": 100.0, "maint_margin_usd": 0.0},
        "pmdesk": {"uni_mmr": None, "adjusted_equity_usd": 100.0, "maint_margin_usd": 0.0},
        "rel_diff": {"uni_mmr": None, "adjusted_equity_usd": 0.0, "maint_margin_usd": None},
        "binance_no_mm": True,
        "agrees": True,
        "explained_by": "",
        "tolerance": 0.005,
        "futures_mm_usd": {"binance": 0.0, "pmdesk": 0.0},
        "loan_mm_usd": {"binance": 0.0, "pmdesk": 0.0},
        "positions": [],
    },
    "assumptions": {
        "product": "PM",
        "collateral_table": "tiered",
        "collateral_source": "from Binance",
        "equity_rel_diff": {"tiered": 0.0},
        "loan_mmr": {},
        "loan_mmr_source": "assumed",
        "loan_leverage": {},
        "calibrated": True,
        "notes": [],
    },
}


def test_a_version_1_row_reads_null_as_unknown_unless_the_flags_say_infinity() -> None:
    r = report_from_dict(V1_ROW)
    assert r.uni_mmr == math.inf and r.no_risk  # no_risk: null was ∞
    assert math.isnan(r.top_up_move_usd)  # null in a known report: unknown, never ∞
    assert math.isnan(r.top_up_needed_usd)
    assert r.top_up_basis.tiers[0].cap_usd == math.inf  # a tier's open cap
    assert all(math.isnan(u) for u in r.stress.uni_mmr)  # ∞ or unknown: cannot tell
    assert r.liquidation_shock.down_pct is None  # None: no move liquidates (as stored)
    assert r.reconciliation is not None
    assert r.reconciliation.binance_uni_mmr == math.inf  # binance_no_mm
    assert r.reconciliation.pmdesk_uni_mmr == math.inf  # the report's own
    assert r.reconciliation.rel_diff_uni_mmr is None and r.reconciliation.agrees is True
    assert r.assumptions is not None and r.assumptions.product is Product.PM
    assert r.status is MarginBand.NORMAL and r.warnings == ("a warning",)
    # Fields the row was written without: defaults, or unknown when there is none.
    assert r.liabilities == () and r.funding is None
    assert math.isnan(r.net_stablecoin_buffer_usd)  # a float default (0.0) is no answer
    assert math.isnan(r.classic.um_maint_usd) and r.classic.holdings == ()
    assert r.single_asset.assets == ()


def test_a_version_1_null_uni_mmr_reads_by_its_flags() -> None:
    at_most_zero = V1_ROW | {"no_risk": False, "uni_mmr_at_most_zero": True}
    unknown = V1_ROW | {"no_risk": False, "state": "UNKNOWN"}
    assert report_from_dict(at_most_zero).uni_mmr == -math.inf
    assert math.isnan(report_from_dict(unknown).uni_mmr)
    assert report_from_dict(V1_ROW | {"uni_mmr": 3.5}).uni_mmr == 3.5


def test_version_1_of_a_real_report_reads_back_but_for_what_null_hid() -> None:
    # The old writer: the same body with every non-finite float as null and no version key.
    report = REPORTS["reconciled"]()

    def v1(value: Any) -> Any:
        if value in ("NaN", "Infinity", "-Infinity"):
            return None
        if isinstance(value, dict):
            return {k: v1(v) for k, v in value.items() if k != FORMAT_KEY}
        if isinstance(value, list):
            return [v1(v) for v in value]
        return value

    old = v1(report_to_dict(report))
    assert FORMAT_KEY not in old
    assert differences(report_from_dict(old), report) == []  # this book has no NaN / ∞ in it


def test_a_newer_version_is_refused_by_name() -> None:
    body = report_to_dict(REPORTS["basis"]()) | {FORMAT_KEY: FORMAT_VERSION + 1}
    with pytest.raises(UnknownFormatError, match=f"version {FORMAT_VERSION + 1}"):
        report_from_dict(body)
    with pytest.raises(UnknownFormatError):
        report_from_dict({FORMAT_KEY: "two"})
