"""Fail closed, field by field: every field of every payload of a realistic capture is mutated
to ``""``, ``null``, ``"0"``, ``"-1"``, ``"NaN"``, a huge number, a large but plausible number,
or left out, and every row is duplicated. Each outcome must be either

- the correct figure: what an independent, plain-Python reading of Binance's published rules
  (``oracle`` below — no numpy, no pmdesk code) makes of the mutated payloads, or
- UNKNOWN, with a reason that names the mutated field (or the row it is in, when the value makes
  another field of its row unusable),

never a changed figure shown as known, never a traceback.

The capture: a PM account with USDT and ETH loans, BTC spot and a COIN-M wallet, a BTCUSDT short
and an ETHUSDT long (one-way), a BTCUSD_PERP short, a zero SOLUSDT row as Binance lists them,
Binance's own account figures, its per-position MM, both collateral tables (equal where this book
sits, so the table choice cannot change the figure) and the brackets. Its figures by hand:

    marks (premium index): BTCUSDT 50,010; ETHUSDT 2,501; BTCUSD_PERP 49,990
    USDT: x = 5,000 − 2,000 − 1.5 + 20,000 − 520 = 22,478.5 at 100 %            = 22,478.5
    BTC:  x = 2.5 + 0.2 + 0.00012 = 2.70012 · 50,000 = 135,006 at 95 %         = 128,255.7
    ETH:  x = 10 − 1 − 0.001 = 8.999 · 2,500 = 22,497.5 at 90 %                 = 20,247.75
    adjusted equity = 170,981.95
    BTCUSDT: |−2 · 50,010| = 100,020 in [0, 300k) at 0.4 %                     = 400.08
    ETHUSDT: 30 · 2,501 = 75,030 in [50k, 250k) at 1 %, cum 250                 = 500.30
    BTCUSD_PERP: 50 · 100 / 49,990 = 0.100020004 BTC at 0.4 % · 50,000          = 20.0040008
    loans: (2,000 · 1 + 1 · 2,500) · 10 %  (Binance's MM implies it: see below)  = 450
    MM = 1,370.3840008; uniMMR = 170,981.95 / 1,370.3840008 = 124.7695…
    Binance's accountMaintMargin 1,370.3840008 − its positions' MM 920.3840008 = 450 over
    4,500 USD of loans → 10 %.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.binance.parse import snapshot_from_payloads
from risk import RiskRules, evaluate
from risk.model import MarginBand, RiskReport

ACCOUNT = "/papi/v1/account"
BALANCE = "/papi/v1/balance"
UM_RISK = "/papi/v1/um/positionRisk"
CM_RISK = "/papi/v1/cm/positionRisk"
UM_ACCOUNT = "/papi/v1/um/account"
CM_ACCOUNT = "/papi/v1/cm/account"
UM_BRACKETS = "/papi/v1/um/leverageBracket"
CM_BRACKETS = "/papi/v1/cm/leverageBracket"
TIERED = "/sapi/v2/portfolio/collateralRate"
FLAT = "/sapi/v1/portfolio/collateralRate"
INDEX = "/sapi/v1/portfolio/asset-index-price"
FAPI = "/fapi/v1/premiumIndex"
DAPI = "/dapi/v1/premiumIndex"


def _balance(asset: str, **fields: str) -> dict[str, Any]:
    row = {
        "asset": asset,
        "totalWalletBalance": "0",
        "crossMarginAsset": "0",
        "crossMarginBorrowed": "0",
        "crossMarginFree": "0",
        "crossMarginInterest": "0",
        "crossMarginLocked": "0",
        "umWalletBalance": "0",
        "umUnrealizedPNL": "0",
        "cmWalletBalance": "0",
        "cmUnrealizedPNL": "",
        "updateTime": 1_700_000_000_000,
        "negativeBalance": "0",
    }
    return row | fields


def _bracket(floor: float, cap: float, ratio: float, cum: float, n: int, coin: bool = False) -> Any:
    floor_f, cap_f = ("qtyFloor", "qtyCap") if coin else ("notionalFloor", "notionalCap")
    return {
        "bracket": n,
        "initialLeverage": 50,
        cap_f: cap,
        floor_f: floor,
        "maintMarginRatio": ratio,
        "cum": cum,
    }


def _position(symbol: str, amt: str, mark: str, **more: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "positionAmt": amt,
        "entryPrice": mark,
        "markPrice": mark,
        "unRealizedProfit": "0.00000000",
        "liquidationPrice": "0",
        "leverage": "20",
        "positionSide": "BOTH",
        "updateTime": 1_700_000_000_000,
        **more,
    }


def _tier(floor: str, cap: str, rate: str, cum: str) -> dict[str, str]:
    return {"tierFloor": floor, "tierCap": cap, "collateralRate": rate, "cum": cum}


CAPTURE: dict[str, Any] = {
    ACCOUNT: {
        "uniMMR": "124.76950000",
        "accountEquity": "170981.95000000",
        "actualEquity": "179982.00000000",
        "accountInitialMargin": "9000.00000000",
        "accountMaintMargin": "1370.38400080",
        "accountStatus": "NORMAL",
        "virtualMaxWithdrawAmount": "169337.48919904",
        "totalAvailableBalance": "",
        "totalMarginOpenLoss": "0",
        "updateTime": 1_700_000_000_000,
    },
    BALANCE: [
        _balance(
            "USDT",
            crossMarginAsset="5000",
            crossMarginBorrowed="2000",
            crossMarginInterest="1.5",
            umWalletBalance="20000",
            umUnrealizedPNL="-520",
        ),
        _balance("BTC", crossMarginAsset="2.5", cmWalletBalance="0.2", cmUnrealizedPNL="0.00012"),
        _balance(
            "ETH",
            crossMarginAsset="10",
            crossMarginBorrowed="1",
            crossMarginInterest="0.001",
            umUnrealizedPNL="",
        ),
    ],
    UM_RISK: [
        _position("BTCUSDT", "-2.000", "50000.00000000", notional="-100000"),
        _position("ETHUSDT", "30.000", "2500.00000000", notional="75000"),
        _position("SOLUSDT", "0.000", "0.00000000", notional="0"),
    ],
    CM_RISK: [
        # notionalValue = −50 · 100 / 49,985 (the row's own mark) BTC.
        _position("BTCUSD_PERP", "-50", "49985.00000000", notionalValue="-0.10003001", maxQty="50"),
    ],
    UM_ACCOUNT: {
        "assets": [],
        "positions": [
            {
                "symbol": "BTCUSDT",
                "maintMargin": "400.08",
                "positionSide": "BOTH",
                "positionAmt": "-2",
            },
            {
                "symbol": "ETHUSDT",
                "maintMargin": "500.3",
                "positionSide": "BOTH",
                "positionAmt": "30",
            },
        ],
    },
    CM_ACCOUNT: {
        "assets": [],
        "positions": [
            {
                "symbol": "BTCUSD_PERP",
                "maintMargin": "0.000400080016",
                "positionSide": "BOTH",
                "positionAmt": "-50",
            }
        ],
    },
    UM_BRACKETS: [
        {
            "symbol": "BTCUSDT",
            "notionalCoef": "1.00",
            "brackets": [
                _bracket(0, 300_000, 0.004, 0.0, 1),
                _bracket(300_000, 800_000, 0.005, 300.0, 2),
            ],
        },
        {
            "symbol": "ETHUSDT",
            "notionalCoef": "1.00",
            "brackets": [
                _bracket(0, 50_000, 0.005, 0.0, 1),
                _bracket(50_000, 250_000, 0.01, 250.0, 2),
            ],
        },
    ],
    CM_BRACKETS: [
        {
            "symbol": "BTCUSD_PERP",
            "brackets": [
                _bracket(0, 5, 0.004, 0.0, 1, True),
                _bracket(5, 10, 0.005, 0.005, 2, True),
            ],
        }
    ],
    TIERED: [
        {"asset": "USDT", "collateralInfo": [_tier("0", "1000000000000", "1.0000", "0")]},
        {
            "asset": "BTC",
            "collateralInfo": [
                _tier("0", "1000000", "0.9500", "0"),
                _tier("1000000", "1000000000000", "0.9000", "50000"),
            ],
        },
        {
            "asset": "ETH",
            "collateralInfo": [
                _tier("0", "500000", "0.9000", "0"),
                _tier("500000", "1000000000000", "0.8000", "50000"),
            ],
        },
        {"asset": "SOL", "collateralInfo": [_tier("0", "1000000000000", "0.8000", "0")]},
    ],
    FLAT: [
        {"asset": "USDT", "collateralRate": "1.0000"},
        {"asset": "BTC", "collateralRate": "0.9500"},
        {"asset": "ETH", "collateralRate": "0.9000"},
        {"asset": "SOL", "collateralRate": "0.8000"},
    ],
    INDEX: [
        {"asset": "USDT", "assetIndexPrice": "1.00000000", "time": 1_700_000_000_000},
        {"asset": "BTC", "assetIndexPrice": "50000.00000000", "time": 1_700_000_000_000},
        {"asset": "ETH", "assetIndexPrice": "2500.00000000", "time": 1_700_000_000_000},
        {"asset": "SOL", "assetIndexPrice": "100.00000000", "time": 1_700_000_000_000},
    ],
    FAPI: [
        {"symbol": "BTCUSDT", "markPrice": "50010.00000000", "indexPrice": "50000", "time": 1},
        {"symbol": "ETHUSDT", "markPrice": "2501.00000000", "indexPrice": "2500", "time": 1},
        {"symbol": "SOLUSDT", "markPrice": "100.10000000", "indexPrice": "100", "time": 1},
    ],
    DAPI: [
        {"symbol": "BTCUSD_PERP", "pair": "BTCUSD", "markPrice": "49990.0", "indexPrice": "1"},
    ],
}
RULES = RiskRules()  # PM Pro's ladder: the bands below 1.5 are all in play


# ---- the oracle: Binance's published rules, read plainly ------------------------------------
class UnreadableError(Exception):
    """The oracle cannot make a figure of this input: pmdesk must say UNKNOWN."""


def num(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UnreadableError(repr(value))
    try:
        x = float(value)
    except ValueError:
        raise UnreadableError(repr(value)) from None
    if not math.isfinite(x):
        raise UnreadableError(repr(value))
    return x


def zero_if_empty(value: Any) -> float:
    return 0.0 if value is None or value == "" else num(value)


def tier_value(tiers: list[tuple[float, float, float]], v: float, sign: float) -> float:
    """v · rate + sign · cum of the last tier whose floor ≤ v (tiers: (floor, rate, cum))."""
    _floor, rate, cum = max((t for t in tiers if t[0] <= v), key=lambda t: t[0])
    return v * rate + sign * cum


def rows_by(payload: Any, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in payload:
        if row[key] in out:
            raise UnreadableError(f"two rows for {row[key]}")
        out[row[key]] = row
    return out


def oracle(p: dict[str, Any]) -> tuple[float, float, float]:
    """(adjusted equity, MM, uniMMR) as the FAQ's formulas give them."""
    try:
        return _oracle(p)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
        raise UnreadableError(str(exc)) from None


def _oracle(p: dict[str, Any]) -> tuple[float, float, float]:
    def price(asset: str) -> float:
        (row,) = [r for r in p[INDEX] if r["asset"] == asset]  # one row, or unreadable
        value = num(row["assetIndexPrice"])
        if value <= 0:
            raise UnreadableError("price")
        return value

    def mark(row: dict[str, Any]) -> float:
        listed = [r for path in (FAPI, DAPI) for r in p[path] if r["symbol"] == row["symbol"]]
        if len(listed) > 1:
            raise UnreadableError(f"two marks for {row['symbol']}")
        value = num((listed or [row])[0]["markPrice"])
        if value <= 0:
            raise UnreadableError("mark")
        return value

    def bracket_mm(path: str, floor: str, symbol: str, notional: float) -> float:
        (row,) = [r for r in p[path] if r["symbol"] == symbol]
        tiers = [
            (num(b[floor]), num(b["maintMarginRatio"]), num(b["cum"])) for b in row["brackets"]
        ]
        return tier_value(tiers, notional, -1.0)

    futures = 0.0
    for row in p[UM_RISK]:
        amt = num(row["positionAmt"])
        if amt:
            if not row["symbol"].endswith("USDT"):
                raise UnreadableError(f"symbol {row['symbol']}")
            notional = abs(amt) * mark(row)
            futures += bracket_mm(UM_BRACKETS, "notionalFloor", row["symbol"], notional) * price(
                "USDT"
            )
    for row in p[CM_RISK]:
        contracts = num(row["positionAmt"])
        if contracts:
            coin = row["symbol"].split("USD")[0]
            notional = abs(contracts) * (100.0 if coin == "BTC" else 10.0) / mark(row)
            futures += bracket_mm(CM_BRACKETS, "qtyFloor", row["symbol"], notional) * price(coin)

    def table(path: str, tiers: Any) -> dict[str, list[tuple[float, float, float]]]:
        """An asset whose row cannot be read (or has no tier from 0) is not in the table
        (it counts 0 there)."""
        out = {}
        for r in p[path]:
            try:
                rows, asset = tiers(r), r["asset"]
            except (UnreadableError, KeyError, TypeError):
                continue
            if any(floor == 0 for floor, _rate, _cum in rows):
                out[asset] = rows
        return out

    tables = {
        "tiered": table(
            TIERED,
            lambda r: [
                (num(t["tierFloor"]), num(t["collateralRate"]), num(t["cum"]))
                for t in r["collateralInfo"]
            ],
        ),
        "flat": table(FLAT, lambda r: [(0.0, num(r["collateralRate"]), 0.0)]),
    }
    fields = (
        "crossMarginAsset",
        "crossMarginBorrowed",
        "crossMarginInterest",
        "umWalletBalance",
        "umUnrealizedPNL",
        "cmWalletBalance",
        "cmUnrealizedPNL",
    )
    signs = (1, -1, -1, 1, 1, 1, 1)
    values: dict[str, float] = {}
    loans_usd = 0.0
    for asset, row in rows_by(p[BALANCE], "asset").items():
        x = sum(s * zero_if_empty(row.get(f)) for s, f in zip(signs, fields, strict=True))
        loan = zero_if_empty(row.get("crossMarginBorrowed"))
        if x or loan:
            values[asset] = x * price(asset)
            loans_usd += loan * price(asset)
    open_loss = zero_if_empty(p[ACCOUNT].get("totalMarginOpenLoss"))

    def equity(table: str) -> float:
        rates = tables[table]
        return (
            sum(
                (tier_value(rates[a], v, 1.0) if a in rates else 0.0) if v > 0 else v
                for a, v in values.items()
            )
            - open_loss
        )

    # The table that reproduces Binance's accountEquity (within 0.5 %), else the lower.
    candidates = {t: equity(t) for t in tables}
    try:
        reported = num(p[ACCOUNT].get("accountEquity"))
    except UnreadableError:
        reported = math.nan
    close = [t for t, e in candidates.items() if abs(e - reported) <= 0.005 * max(abs(reported), 1)]
    if close:
        adjusted = min(
            (abs(candidates[t] - reported), t != "tiered", candidates[t]) for t in close
        )[2]
    else:
        adjusted = min(candidates.values())
    # The loan MMR Binance's MM implies (its positions' MM must match the brackets', the MMR be
    # plausible), else 10 %.
    mmr = 0.10
    try:
        binance_futures = sum(
            num(r["maintMargin"]) * price("USDT") for r in p[UM_ACCOUNT]["positions"]
        ) + sum(
            num(r["maintMargin"]) * price(r["symbol"].split("USD")[0])
            for r in p[CM_ACCOUNT]["positions"]
        )
        implied = (num(p[ACCOUNT].get("accountMaintMargin")) - binance_futures) / loans_usd
        if (
            abs(futures - binance_futures) <= 0.005 * max(binance_futures, 1)
            and 0.005 <= implied <= 0.5
        ):
            mmr = implied
    except (UnreadableError, KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
        pass
    mm = futures + loans_usd * mmr
    if adjusted < 0:
        return adjusted, mm, adjusted / mm if mm > 0 else -math.inf
    return adjusted, mm, adjusted / mm if mm > 0 else math.inf


# ---- mutations --------------------------------------------------------------------------------
Pointer = tuple[Any, ...]  # path, then keys/indices into the JSON, ending at a field name
MISSING = object()
MUTATIONS: tuple[Any, ...] = ("", None, "0", "-1", "NaN", "1e30", "123456789", MISSING)


def leaves(node: Any, at: Pointer) -> Iterator[Pointer]:
    """Every field (a key of an object) under ``node``, as a pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, list | dict):
                yield from leaves(value, (*at, key))
            else:
                yield (*at, key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, (*at, i))


def rows(node: Any, at: Pointer) -> Iterator[Pointer]:
    """Every row (an object inside a list) under ``node``."""
    if isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict):
                yield (*at, i)
            yield from rows(value, (*at, i))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from rows(value, (*at, key))


FIELDS = [ptr for path, body in CAPTURE.items() for ptr in leaves(body, (path,))]
ROWS = [ptr for path, body in CAPTURE.items() for ptr in rows(body, (path,))]


def mutate(p: dict[str, Any], ptr: Pointer, value: Any) -> None:
    node: Any = p
    for key in ptr[:-1]:
        node = node[key]
    if value is MISSING:
        del node[ptr[-1]]
    else:
        node[ptr[-1]] = value


def duplicate(p: dict[str, Any], ptr: Pointer) -> None:
    node: Any = p
    for key in ptr[:-1]:
        node = node[key]
    node.insert(ptr[-1], copy.deepcopy(node[ptr[-1]]))


def row_names(p: dict[str, Any], ptr: Pointer) -> set[str]:
    """The names of the rows a pointer passes through (asset, symbol) as the data had them."""
    out: set[str] = set()
    node: Any = p
    for key in ptr[:-1]:
        node = node[key]
        if isinstance(node, dict):
            out |= {str(node[k]) for k in ("asset", "symbol") if k in node}
    return out


def run(p: dict[str, Any]) -> RiskReport:
    snapshot, market = snapshot_from_payloads(json.loads(json.dumps(p)))
    return evaluate(snapshot, market, RULES)


def check_outcome(
    original: dict[str, Any], mutated: dict[str, Any], touched: list[tuple[Pointer, Any]]
) -> None:
    """Either the correct figure, or UNKNOWN with a reason naming a touched field or row."""
    report = run(mutated)
    if report.state == "UNKNOWN":
        named = False
        for ptr, value in touched:
            path, field = ptr[0], str(ptr[-1])
            names = row_names(original, ptr) | row_names(mutated, ptr) | {str(value)}
            named |= any(
                (r.path == path and field in r.field.split("/"))
                or (r.item and r.item in names)
                or (r.path == path and r.field == "<root>")
                for r in report.unknown_reasons
            )
        assert named, (touched, [str(r) for r in report.unknown_reasons])
        assert report.status is not MarginBand.NORMAL
        return
    try:
        equity, mm, uni = oracle(mutated)
    except UnreadableError as exc:
        pytest.fail(f"{touched}: pmdesk shows figures from input it cannot read ({exc})")
    assert report.adjusted_equity_usd == pytest.approx(equity, rel=1e-9), touched
    assert report.maint_margin.total_usd == pytest.approx(mm, rel=1e-9), touched
    assert report.uni_mmr == pytest.approx(uni, rel=1e-9), touched
    assert report.status is RULES.band(uni), touched


def test_the_capture_by_hand() -> None:
    report = run(CAPTURE)
    assert report.state == "OK", [str(r) for r in report.unknown_reasons]
    equity = 22_478.5 + 2.70012 * 50_000 * 0.95 + 8.999 * 2_500 * 0.90
    mm = 100_020 * 0.004 + (75_030 * 0.01 - 250) + 50 * 100 / 49_990 * 0.004 * 50_000 + 450
    assert report.adjusted_equity_usd == pytest.approx(equity) == pytest.approx(170_981.95)
    assert report.maint_margin.total_usd == pytest.approx(mm)
    assert report.uni_mmr == pytest.approx(equity / mm)
    assert report.assumptions is not None
    assert report.assumptions.loan_mmr == {"USDT": pytest.approx(0.10), "ETH": pytest.approx(0.10)}
    assert report.assumptions.loan_mmr_source == "implied by Binance's MM"
    assert report.reconciliation is not None and report.reconciliation.agrees
    assert oracle(CAPTURE) == pytest.approx((equity, mm, equity / mm))


@pytest.mark.parametrize("value", MUTATIONS, ids=lambda v: "missing" if v is MISSING else repr(v))
def test_every_field_mutated(value: Any) -> None:
    for ptr in FIELDS:
        mutated = copy.deepcopy(CAPTURE)
        mutate(mutated, ptr, value)
        check_outcome(CAPTURE, mutated, [(ptr, value)])


def test_every_row_duplicated() -> None:
    for ptr in ROWS:
        mutated = copy.deepcopy(CAPTURE)
        duplicate(mutated, ptr)
        key = "asset" if "asset" in _at(CAPTURE, ptr) else "symbol"
        check_outcome(CAPTURE, mutated, [((*ptr, key), "duplicate")])


def _at(p: dict[str, Any], ptr: Pointer) -> Any:
    node: Any = p
    for key in ptr:
        node = node[key]
    return node


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(FIELDS), st.sampled_from(MUTATIONS)),
        min_size=2,
        max_size=4,
        unique_by=lambda t: t[0],
    )
)
def test_several_fields_mutated_at_once(changes: list[tuple[Pointer, Any]]) -> None:
    mutated = copy.deepcopy(CAPTURE)
    applied = []
    for ptr, value in changes:
        try:
            mutate(mutated, ptr, value)
        except (KeyError, IndexError, TypeError):
            continue  # a field an earlier change removed
        applied.append((ptr, value))
    check_outcome(CAPTURE, mutated, applied)
