"""RiskReport to and from a plain JSON-ready dict: the stored form (``detail_zjson``) and
``pmdesk risk --json``.

Versioned by ``FORMAT_KEY``:

- version 2 (``FORMAT_VERSION``, written today): every float is kept; a non-finite one is the
  string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (strict JSON, and PostgreSQL's JSON, have
  no NaN / ∞ literals), so unknown and ∞ stay apart.
- version 1 (rows written before the key existed, no ``FORMAT_KEY``): NaN and ±∞ were both JSON
  null. ``report_from_dict`` reads such a null as unknown (NaN), except where the stored flags
  make it unambiguous: the report's ``uni_mmr`` (``no_risk`` → ∞, ``uni_mmr_at_most_zero`` →
  −∞), Binance's uniMMR in the reconciliation (``binance_no_mm`` → ∞), pmdesk's uniMMR there
  (the report's own) and a collateral tier's ``cap_usd`` (the last tier's open cap, ∞). A field
  a row was written without (older rows lack later figures) reads as unknown when it is a float
  (NaN: never a calm default 0), else as its dataclass default, or empty / None when none.

Stable keys (``pmdesk risk DIR --json``, README): ``state`` ("OK" | "UNKNOWN") and
``unknown_reasons`` ([{path, field, item, problem, affects}]); ``reconciliation`` =
{binance: {uni_mmr, adjusted_equity_usd, maint_margin_usd}, pmdesk: {same}, rel_diff: {same},
agrees, explained_by, …} or null without ``/papi/v1/account``; ``assumptions`` = {product,
collateral_table, loan_mmr: {ASSET: rate}, loan_mmr_source, …}; ``no_risk`` (uniMMR ∞: no
maintenance margin) and ``uni_mmr_at_most_zero`` (adjusted equity ≤ 0 with no MM to divide by).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from enum import Enum
from typing import Any

from risk.model import (
    Assumptions,
    CollateralTier,
    PositionReconciliation,
    Reconciliation,
    RiskReport,
)

FORMAT_KEY = "format_version"
FORMAT_VERSION = 2
FIGURES = ("uni_mmr", "adjusted_equity_usd", "maint_margin_usd")
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class UnknownFormatError(ValueError):
    """A stored report written by a newer pmdesk than this one (or not a report at all)."""


def _encode(value: Any) -> Any:
    """JSON-ready, version 2: non-finite floats as strings, sets sorted, tuples as lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
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
        "liquidation_uni_mmr": rec.liquidation_uni_mmr,
        "futures_mm_usd": {
            "binance": rec.binance_futures_mm_usd,
            "pmdesk": rec.pmdesk_futures_mm_usd,
        },
        "loan_mm_usd": {"binance": rec.binance_loan_mm_usd, "pmdesk": rec.pmdesk_loan_mm_usd},
        "positions": body["positions"],
        "binance_at_ms": rec.binance_at_ms,
    }


def assumptions_to_dict(a: Assumptions) -> dict[str, Any]:
    body = dataclasses.asdict(a)
    body["product"] = a.product.value
    return body


def report_to_dict(report: RiskReport) -> dict[str, Any]:
    """The stored form, version ``FORMAT_VERSION`` (see the module docstring)."""
    body = dataclasses.asdict(report)
    body[FORMAT_KEY] = FORMAT_VERSION
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
    result: dict[str, Any] = _encode(body)
    return result


# ---- back: dict → RiskReport ---------------------------------------------------------------

# Version 1 stored ∞ as null; in these fields null can only have been ∞.
_V1_NULL_IS_INF = {(CollateralTier, "cap_usd")}


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The field types of a report's dataclass, names resolved in its own module and, for a name
    that module imports only for type checking, in ``risk.model`` / ``risk.classic``."""
    import risk.classic
    import risk.model

    names = {**vars(risk.classic), **vars(risk.model)}
    return typing.get_type_hints(cls, localns=names)


def _float(value: Any, where: str) -> float:
    if value is None:
        return math.nan  # version 1's null, or a figure a row lacks: unknown
    if isinstance(value, str):
        if value in NON_FINITE:
            return NON_FINITE[value]
        raise UnknownFormatError(f"{where}: {value!r} is not a number")
    return float(value)


def _missing(tp: Any) -> Any:
    """A value for a field a stored row lacks and that has no default: unknown / empty."""
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union) and type(None) in typing.get_args(tp):
        return None
    if tp is float:
        return math.nan
    if tp is int:
        return 0
    if tp is str:
        return ""
    if tp is bool:
        return False
    if origin is tuple:
        return ()
    if origin is dict:
        return {}
    if origin is frozenset:
        return frozenset()
    if isinstance(tp, type) and issubclass(tp, Enum) and "UNKNOWN" in tp.__members__:
        return tp["UNKNOWN"]  # a band the row lacks: unknown, never NORMAL
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass(tp, {}, tp.__name__)
    raise UnknownFormatError(f"no stored value for a field of type {tp}")


def _decode(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value, where)
    if tp is float:
        return _float(value, where)
    if tp in (int, str, bool):
        return tp(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        return tuple(_decode(a, v, where) for a, v in zip(args, value, strict=True))
    if origin is dict:
        return {k: _decode(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin is frozenset:
        return frozenset(_decode(args[0], v, where) for v in value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise UnknownFormatError(f"{where}: expected an object, got {type(value).__name__}")
        return _dataclass(tp, value, where)
    raise UnknownFormatError(f"{where}: cannot read a value of type {tp}")


def _dataclass(cls: type, body: dict[str, Any], where: str) -> Any:
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        here = f"{where}.{f.name}"
        if f.name not in body:
            tp = hints[f.name]
            no_default = f.default is dataclasses.MISSING
            if tp is float or (no_default and f.default_factory is dataclasses.MISSING):
                values[f.name] = _missing(tp)  # a figure the row lacks is unknown, never 0
            continue  # the dataclass default
        value = body[f.name]
        if value is None and (cls, f.name) in _V1_NULL_IS_INF:
            values[f.name] = math.inf
        else:
            values[f.name] = _decode(hints[f.name], value, here)
    return cls(**values)


def reconciliation_from_dict(body: dict[str, Any], uni_mmr: float) -> Reconciliation:
    """The inverse of ``reconciliation_to_dict``; ``uni_mmr`` is the report's own (pmdesk's)."""
    b, p, d = (body.get(side) or {} for side in ("binance", "pmdesk", "rel_diff"))

    def opt(value: Any, where: str) -> float | None:
        return None if value is None else _float(value, where)

    binance_uni = opt(b.get("uni_mmr"), "reconciliation.binance.uni_mmr")
    if binance_uni is None and body.get("binance_no_mm"):
        binance_uni = math.inf  # version 1: Binance's "no MM" sentinel was stored as null
    futures, loan = body.get("futures_mm_usd") or {}, body.get("loan_mm_usd") or {}
    extra: dict[str, Any] = {}
    if "liquidation_uni_mmr" in body:
        extra["liquidation_uni_mmr"] = _float(body["liquidation_uni_mmr"], "reconciliation")
    at = body.get("binance_at_ms")
    if at is not None:
        if isinstance(at, bool) or not isinstance(at, int):
            raise UnknownFormatError(f"reconciliation.binance_at_ms: {at!r} is not a time in ms")
        extra["binance_at_ms"] = at
    return Reconciliation(
        binance_uni_mmr=binance_uni,
        binance_equity_usd=opt(b.get("adjusted_equity_usd"), "reconciliation.binance"),
        binance_mm_usd=opt(b.get("maint_margin_usd"), "reconciliation.binance"),
        pmdesk_uni_mmr=uni_mmr if p.get("uni_mmr") is None else _float(p["uni_mmr"], "pmdesk"),
        pmdesk_equity_usd=_float(p.get("adjusted_equity_usd"), "reconciliation.pmdesk"),
        pmdesk_mm_usd=_float(p.get("maint_margin_usd"), "reconciliation.pmdesk"),
        rel_diff_uni_mmr=opt(d.get("uni_mmr"), "reconciliation.rel_diff"),
        rel_diff_equity=opt(d.get("adjusted_equity_usd"), "reconciliation.rel_diff"),
        rel_diff_mm=opt(d.get("maint_margin_usd"), "reconciliation.rel_diff"),
        binance_futures_mm_usd=opt(futures.get("binance"), "reconciliation.futures_mm_usd"),
        binance_loan_mm_usd=opt(loan.get("binance"), "reconciliation.loan_mm_usd"),
        pmdesk_futures_mm_usd=_float(futures.get("pmdesk"), "reconciliation.futures_mm_usd"),
        pmdesk_loan_mm_usd=_float(loan.get("pmdesk"), "reconciliation.loan_mm_usd"),
        positions=_decode(
            tuple[PositionReconciliation, ...], body.get("positions") or [], "positions"
        ),
        agrees=body.get("agrees"),
        explained_by=str(body.get("explained_by") or ""),
        tolerance=_float(body.get("tolerance"), "reconciliation.tolerance"),
        **extra,
    )


def format_version(body: dict[str, Any]) -> int:
    """The stored form's version: 1 for a row written before the key existed."""
    version = body.get(FORMAT_KEY, 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UnknownFormatError(f"stored report: {FORMAT_KEY} {version!r} is not a version")
    if version > FORMAT_VERSION:
        raise UnknownFormatError(
            f"stored report format version {version} is newer than this pmdesk reads "
            f"(up to {FORMAT_VERSION}): upgrade pmdesk"
        )
    return version


def report_from_dict(body: dict[str, Any]) -> RiskReport:
    """The inverse of ``report_to_dict``, for every stored version (module docstring);
    ``UnknownFormatError`` names a version newer than this code reads."""
    format_version(body)
    plain = {k: v for k, v in body.items() if k not in ("reconciliation",)}
    report: RiskReport = _dataclass(RiskReport, plain, "report")
    if body.get("uni_mmr") is None:  # version 1: null was ∞, ≤ 0 or unknown, by the flags
        if body.get("no_risk"):
            report = dataclasses.replace(report, uni_mmr=math.inf)
        elif body.get("uni_mmr_at_most_zero"):
            report = dataclasses.replace(report, uni_mmr=-math.inf)
    rec = body.get("reconciliation")
    if rec is not None:
        report = dataclasses.replace(
            report, reconciliation=reconciliation_from_dict(rec, report.uni_mmr)
        )
    return report
