"""The PM-vs-classic and What-if views, from reports whose figures are worked out by hand."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from app.web.pages.classic import account_rows, holding_rows, move_figure
from app.web.pages.classic_words import summary
from app.web.pages.whatif import ChangeError, basis_text, compare_rows, describe, parse_change
from risk import RiskReport, RiskRules, evaluate
from risk.serialize import report_from_dict, report_to_dict
from risk.whatif import FuturesTrade, what_if
from tests.support.books import basis10, borrower, hedged, market


def _detail(snapshot: Any, m: Any = None) -> RiskReport:
    return evaluate(snapshot, m or market(), RiskRules())


def _text(line: list[Any]) -> str:
    return "".join(p if isinstance(p, str) else p[0] for p in line)


def _figures(line: list[Any]) -> dict[str, str]:
    return {p[0]: p[1] for p in line if not isinstance(p, str)}


def test_classic_rows_for_a_basis_book() -> None:
    rows = {r["key"]: r for r in account_rows(_detail(basis10()))}
    # USD-M MM: 0.5 % · 500,000 − 300 = 2,200; no uPnL → 2,200 counted in that wallet:
    # 2,200 / 0.9999 = 2,200.22 USDT or 2,200 / 0.95 = 2,315.79 of BTC/ETH/BNB.
    assert (rows["um"]["usd"], rows["um"]["hold"]) == (2200.0, "$2,200.00 counted")
    assert "2,200.22 USDT" in rows["um"]["hold_how"]
    assert "$2,315.79 of BTC/ETH/BNB" in rows["um"]["hold_how"]
    # PM: 1.05 · 2,200 = 2,310 from one pool that has 475,000 + 20,000 = 495,000.
    assert (rows["pm"]["usd"], rows["pm"]["hold"]) == (pytest.approx(2310.0), "has $495,000.00")
    assert rows["classic"]["usd"] == pytest.approx(2200.0)
    assert set(rows) == {"um", "classic", "pm"}  # no COIN-M, no loans
    holdings = {r["key"]: r for r in holding_rows(_detail(basis10()))}
    assert (holdings["BTC"]["pm"], holdings["BTC"]["um"]) == (475_000.0, 475_000.0)
    assert holdings["BTC"]["um_rate"] == "95 %"


def test_classic_summary_says_where_collateral_must_sit() -> None:
    lines = summary(_detail(basis10()))
    um = next(line for line in lines if _text(line).startswith("USD-M"))
    assert "$2,200.00" in _figures(um)
    assert "maintenance margin $2,200.00" in _figures(um)["$2,200.00"]
    assert "cannot back it unless moved there" in _text(um)
    # PM counts the 10 BTC at 95 %: 475,000, against every leg.
    assert "$475,000.00" in _figures(um)
    move = _text(lines[-1])
    # +10 %: short −50,000 in the USD-M wallet, spot +50,000, PM −2,500.
    assert "−$50,000.00" in move and "+$50,000.00" in move and "−$2,500.00" in move
    assert not any("save" in _text(line).lower() for line in lines)


def test_classic_borrower_rows() -> None:
    rows = {r["key"]: r for r in account_rows(_detail(borrower()))}
    # 0.1 · 201,000 = 20,100 beyond the debt; assets ≥ 1.1 · 201,000 = 221,100.
    assert (rows["margin"]["usd"], rows["margin"]["hold"]) == (
        pytest.approx(20_100.0),
        "assets ≥ $221,100.00",
    )
    text = _text(
        next(line for line in summary(_detail(borrower())) if "Cross margin" in _text(line))
    )
    assert "−26.30 %" in text  # 300,000 (1 + t) = 221,100
    # PM, the whole book: 300,000 · 0.9 (1 + t) − 201,000 = 1.05 · 20,000 → t = −17.78 %.
    assert "on −17.78 %" in text


def test_classic_unknown_reads_unknown() -> None:
    m = dataclasses.replace(market(), um_brackets={})
    detail = _detail(basis10(), m)
    rows = {r["key"]: r for r in account_rows(detail)}
    # Unknown: no number, listed so the grid says "unknown" (format.mark_unknown).
    assert rows["um"]["usd"] is None and "usd" in rows["um"]["unknown"]
    assert rows["pm"]["usd"] is None and rows["classic"]["usd"] is None
    lines = summary(detail)
    assert "unknown" in _text(lines[0])
    words = " ".join(_text(line) + " ".join(_figures(line)) for line in lines)
    assert not re.search(r"\bnan\b", words, re.IGNORECASE)
    fig = move_figure(detail, "r")
    assert all(y is None for t in fig["data"] if t["name"].startswith("PM") for y in t["y"])


def test_classic_old_stored_report() -> None:
    # Stored before the comparison was reworked: its figures are not in the stored form.
    body = report_to_dict(_detail(basis10()))
    detail = report_from_dict(body | {"classic": {"um_initial_usd": 1.0, "cm_initial_usd": 0.0}})
    assert account_rows(detail) == [] and holding_rows(detail) == []
    assert "stored before" in _text(summary(detail)[0])


def test_move_figure_bars() -> None:
    fig = move_figure(_detail(basis10()), "r")
    bars = {t["name"]: t["y"] for t in fig["data"]}
    assert bars["USD-M positions (classic: USD-M wallet)"] == [50_000, -50_000]
    assert bars["Holdings net of loans (classic: where they sit)"] == [-50_000, 50_000]
    assert bars["PM adjusted equity (one pool)"] == [pytest.approx(2_500), pytest.approx(-2_500)]


def test_whatif_side_choice() -> None:
    c = parse_change("UM", "btcusdt", -1, "SHORT")
    assert c == FuturesTrade("UM", "BTCUSDT", -1, side="SHORT")
    assert describe(c) == "UM sell 1 BTCUSDT on the SHORT side"
    assert describe(parse_change("UM", "BTCUSDT", 1)) == "UM buy 1 BTCUSDT"
    with pytest.raises(ChangeError, match="position side"):
        parse_change("UM", "BTCUSDT", 1, "UP")
    w = what_if(hedged(), market(), RiskRules(), [c])
    rows = {r["key"]: r for r in compare_rows(w)}
    # MM 600 → 800 (worked out in test_risk_whatif_classic).
    assert (rows["Maintenance margin"]["before"], rows["Maintenance margin"]["after"]) == (
        "$600.00",
        "$800.00",
    )
    assert "Binance's own figures describe the book before the change" in basis_text(
        "acct", "12:00:00", w
    )


def test_whatif_unknown_reads_unknown() -> None:
    m = dataclasses.replace(market(), um_brackets={})
    w = what_if(hedged(), m, RiskRules(), [FuturesTrade("UM", "BTCUSDT", -1, side="SHORT")])
    rows = {r["key"]: r for r in compare_rows(w)}
    for name in ("uniMMR", "Maintenance margin", "Margin usage", "Liquidation ↓"):
        assert (rows[name]["before"], rows[name]["after"], rows[name]["change"]) == (
            "unknown",
            "unknown",
            "unknown",
        )
    assert rows["Adjusted equity"]["after"] == "$14,000.00"  # equity inputs are fine
    assert "unknown" in basis_text("acct", "12:00:00", w)
