"""What each view shows, built from a report whose figures are worked out by hand here."""

from __future__ import annotations

import dataclasses
import math
import stat
from pathlib import Path
from typing import Any

import pytest

from app.config import ConfigError
from app.store.rollup import MINUTE_S, Sample, open_bucket
from app.store.store import ReportedPoint, StoredEvent, StoredReport, StoredStatusChange
from app.web.app import is_kiosk, next_account
from app.web.components import COLORS
from app.web.format import fmt_num, fmt_share, fmt_signed
from app.web.pages.hedges import hedge_figure, hedge_table
from app.web.pages.history_figure import (
    RANGES,
    history_figure,
    series_of_buckets,
    series_of_samples,
    unknown_spans,
)
from app.web.pages.overview import layout as overview_layout
from app.web.pages.overview_tiles import account_tiles
from app.web.pages.positions import balance_rows, position_rows
from app.web.pages.reconcile import assumption_rows, figure_rows, render
from app.web.pages.reconcile import position_rows as recon_positions
from app.web.pages.stress import layout as stress_layout
from app.web.pages.stress import scenario_rows, stress_figure
from app.web.pages.whatif import ChangeError, compare_rows, describe, parse_change
from app.web.users import add_user, load_users
from risk.evaluate import evaluate
from risk.model import AccountSnapshot, Product, RiskReport, RiskRules, UmPosition
from risk.serialize import report_from_dict
from risk.whatif import FuturesTrade, Transfer, what_if
from tests.support.books import BTCUSDT, bal, basis, directional_long, market, perp

RULES = RiskRules()


def _detail(snapshot: AccountSnapshot) -> RiskReport:
    return evaluate(snapshot, market(), RULES)


def test_position_row_directional_long() -> None:
    # 1 BTC long BTCUSDT at 50,000: notional 50,000 in bracket 1 (0.4 %) → MM 200, all of it.
    # Liquidation with every other price held: (5,000 + 50,000·x) = 1.05 · 200 · (1 + x)
    # → 49,790·x = −4,790 → x = −0.096204 → BTC at 50,000 · (1 − 0.096204) = 45,189.80.
    (row,) = position_rows(_detail(directional_long()))
    assert (row["venue"], row["symbol"], row["side"], row["amount"]) == ("UM", "BTCUSDT", "LONG", 1)
    assert (row["notional_usd"], row["mm_usd"], row["mmr_pct"], row["bracket"]) == (
        50_000,
        200,
        0.4,
        1,
    )
    assert row["mm_share_pct"] == 100
    assert row["liq_down"] == pytest.approx(50_000 * (1 - 4_790 / 49_790))
    assert row["liq_up"] is None


def test_position_pnl_entry_and_second_bracket() -> None:
    # Short 2 BTC entered at 49,750, mark 50,000: uPnL = −2 · (50,000 − 49,750) = −500 USDT.
    (row,) = position_rows(_detail(basis()))
    assert (row["entry"], row["upnl_usd"], row["side"]) == (49_750, -500, "SHORT")
    # 7 BTC at 50,000 = 350,000 notional: bracket 2 (0.5 %, cum 300) → MM 1,750 − 300 = 1,450.
    big = dataclasses.replace(directional_long(), um_positions=(perp("BTCUSDT", 7.0, 50_000),))
    (row,) = position_rows(_detail(big))
    assert (row["bracket"], row["mm_usd"], row["mmr_pct"]) == (2, pytest.approx(1_450), 0.5)
    assert BTCUSDT[1].floor == 300_000


def test_balance_rows_show_haircut() -> None:
    rows = {r["asset"]: r for r in balance_rows(_detail(basis()))}
    # 2 BTC at 50,000 = 100,000; at the 95 % collateral rate 95,000: a 5 % haircut.
    assert (rows["BTC"]["value_usd"], rows["BTC"]["adjusted_usd"]) == (100_000, 95_000)
    assert rows["BTC"]["haircut_pct"] == pytest.approx(5.0)
    # USDT: 10,000 wallet − 500 uPnL = 9,500; stable, no haircut.
    assert (rows["USDT"]["equity_qty"], rows["USDT"]["kind"]) == (9_500, "stablecoin")


def test_hedge_table_and_chart_for_a_basis_trade() -> None:
    detail = _detail(basis())
    (row,) = hedge_table(detail)
    # 2 BTC spot long vs 2 BTC perp short at 50,000: 100,000 each side, net 0, fully hedged.
    assert (row["long_usd"], row["short_usd"], row["net_usd"], row["hedge_ratio_pct"]) == (
        100_000,
        100_000,
        0,
        100,
    )
    # The 2 BTC held count 2 · 50,000 · 95 % = 95,000 under PM, against every leg.
    assert row["pm_counts_usd"] == pytest.approx(95_000.0)
    fig = hedge_figure(detail, "r")
    bars = {t["name"]: t["x"] for t in fig["data"]}
    assert bars["Spot / wallets"] == [100_000] and bars["USD-M"] == [-100_000]
    assert bars["Net"] == [0] and fig["layout"]["uirevision"] == "r"


def test_stress_figure_marks_liquidation_and_levels() -> None:
    fig = stress_figure(_detail(directional_long()), RULES, "r")
    names = [t["name"] for t in fig["data"]]
    assert names[:2] == ["uniMMR after the move", "now"]
    assert names[2:] == ["margin call 1.5", "reduce only 1.2", "liquidation 1.05", "loss claim 1.0"]
    (line,) = fig["layout"]["shapes"]
    assert line["x0"] == pytest.approx(-9.6204, abs=1e-3)  # the −9.62 % worked out above
    # At −10 %: (5,000 − 5,000) / (200 · 0.9) = 0 → not drawable on a log axis: a gap.
    curve = dict(zip(fig["data"][0]["x"], fig["data"][0]["y"], strict=True))
    assert curve[-10] is None and curve[0] == pytest.approx(5_000 / 200)


def test_history_breaks_lines_over_gaps() -> None:
    t0 = 1_700_000_040_000
    samples = [Sample(t0 + s * 1000, s, 2.0, 1.0, 1.0, None, "NORMAL") for s in (0, 2, 40)]
    raw = series_of_samples(samples)
    assert raw.t_ms == [t0, t0 + 2000, None, t0 + 40_000]  # 38 s without data > 30 s: a gap
    buckets = [open_bucket(s, MINUTE_S) for s in samples[:1]] + [
        open_bucket(dataclasses.replace(samples[0], at_ms=t0 + m * 60_000), MINUTE_S)
        for m in (1, 3)
    ]
    assert series_of_buckets(buckets, MINUTE_S).t_ms == [t0, t0 + 60_000, None, t0 + 180_000]
    inf = series_of_samples([Sample(t0, 1, math.inf, 1.0, 0.0, None, "NORMAL")])
    assert inf.uni_last == [None]  # ∞ (no margin) is not drawn on a log axis


def test_history_marks_status_changes_and_collector_errors() -> None:
    t0 = 1_700_000_040_000
    series = series_of_samples([Sample(t0, 1, 1.4, 1.0, 1.0, None, "MARGIN_CALL")])
    changes = [StoredStatusChange(t0, "NORMAL", "MARGIN_CALL", 1.4)]
    events = [
        StoredEvent(t0 - 5000, "DOWN", "/papi/v1/account", None, "exchange unreachable"),
        StoredEvent(t0 - 4000, "OK", None, None, "back"),
    ]
    fig = history_figure(series, changes, events, RULES, RANGES["1h"], "r")
    traces = {t["name"]: t for t in fig["data"]}
    assert traces["status change"]["text"] == ["NORMAL → MARGIN CALL"]
    assert traces["status change"]["x"] == [t0]
    assert traces["collector event"]["text"] == ["exchange unreachable"]  # OK is not an error
    assert traces["collector event"]["yaxis"] == "y3"
    assert traces["margin call 1.5"]["y"] == [1.5, 1.5]


def test_what_if_transfer_in_is_compared() -> None:
    # basis: adjusted equity 95,000 + 9,500 = 104,500; MM 100,000 · 0.4 % = 400 → 261.25.
    # +10,000 USDT: 114,500 / 400 = 286.25; change +25.00, 25 / 261.25 = +9.6 %.
    result = what_if(basis(), market(), RULES, [parse_change("transfer", "usdt", 10_000)])
    rows = {r["figure"]: r for r in compare_rows(result)}
    assert (rows["uniMMR"]["before"], rows["uniMMR"]["after"]) == ("261.25", "286.25")
    # Every change says its unit: uniMMR with its relative change, USD, percentage points.
    assert rows["uniMMR"]["change"] == "+25.00 (+9.6 %)"
    assert rows["Adjusted equity"]["change"] == "+$10,000.00"
    assert rows["Maintenance margin"]["change"] == "+$0.00"
    # Margin usage 400 / 104,500 = 0.3828 % → 400 / 114,500 = 0.3493 %: −0.03 pp.
    assert rows["Margin usage"]["change"] == "−0.03 pp"
    assert rows["uniMMR band"]["change"] == ""


@pytest.mark.parametrize(
    ("kind", "name", "amount", "message"),
    [
        (None, "BTCUSDT", 1.0, "pick what to change"),
        ("UM", "  ", 1.0, "give a symbol"),
        ("UM", "BTCUSDT", 0.0, "non-zero amount"),
        ("UM", "BTCUSDT", None, "non-zero amount"),
        ("UM", "BTCUSDT", math.nan, "non-zero amount"),
    ],
)
def test_what_if_line_errors_say_what_to_fix(
    kind: str | None, name: str, amount: float | None, message: str
) -> None:
    with pytest.raises(ChangeError, match=message):
        parse_change(kind, name, amount)


def test_what_if_lines_read_back() -> None:
    assert parse_change("CM", "btcusd_perp", -3) == FuturesTrade("CM", "BTCUSD_PERP", -3)
    assert describe(FuturesTrade("UM", "BTCUSDT", -0.5)) == "UM sell 0.5 BTCUSDT"
    assert describe(Transfer("USDT", 1000)) == "transfer in 1,000 USDT"


def _stored(account: str, uni: float, status: str, age_s: float) -> StoredReport:
    t = 1_000_000 - int(age_s * 1000)
    return StoredReport(
        1, account, t, t, t, "poll", False, uni, 1.0, 1.0, status, None, None, None, None, None,
        None, 2.0, 0.0,
    )  # fmt: skip


def test_account_tiles_worst_first() -> None:
    tiles = account_tiles(
        {
            "calm": _stored("calm", 3.0, "NORMAL", 1),
            "edge": _stored("edge", 1.6, "NORMAL", 1),
            "call": _stored("call", 1.4, "MARGIN_CALL", 1),
            "liq": _stored("liq", 1.04, "LIQUIDATION", 20),
            "new": None,
        },
        now_ms=1_000_000,
        stale_after_s=10,
    )
    assert [t.account for t in tiles] == ["new", "liq", "call", "edge", "calm"]
    assert tiles[1].status == "STALE — LIQUIDATION" and tiles[1].band_class == "band-stale"
    assert tiles[2].status == "WARNING" and tiles[2].uni_mmr == "1.40"
    assert tiles[2].reason == "uniMMR 1.40 — below 1.5 margin call"


def test_kiosk_flag_and_account_cycle() -> None:
    assert is_kiosk("?kiosk=1") and is_kiosk("?x=2&kiosk=true")
    assert not is_kiosk("") and not is_kiosk("?kiosk=0") and not is_kiosk(None)
    assert [next_account(["a", "b", "c"], x) for x in ("a", "c", "zz")] == ["b", "a", "a"]


def test_number_formats_match_the_grids_d3_formats() -> None:
    # d3.format(",.2f") / ("+,.2f") print a true minus sign; Python's format is made to match.
    assert (fmt_num(-1234.5), fmt_signed(1234.5), fmt_signed(-0.5)) == (
        "−1,234.50",
        "+1,234.50",
        "−0.50",
    )
    assert (fmt_num(None), fmt_share(0.0512)) == ("—", "5.1 %")


def test_users_file_holds_hashes_only_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "users"
    add_user(path, "desk", "correct horse battery")
    add_user(path, "risk", "another long password")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "correct horse" not in path.read_text()
    users = load_users(path)
    assert sorted(users) == ["desk", "risk"]
    assert users["desk"].password_hash.startswith("scrypt:") and users["desk"].role == "operator"
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_users(path)
    with pytest.raises(ConfigError, match="at least 10"):
        add_user(tmp_path / "other", "x", "short")
    (tmp_path / "bad").write_text("no-colon-here\n")
    (tmp_path / "bad").chmod(0o600)
    with pytest.raises(ConfigError, match="line 1: expected NAME:ROLE:HASH"):
        load_users(tmp_path / "bad")


# ---- Fail closed: UNKNOWN on every view, true labels, Binance vs pmdesk ----------------------

PM = RiskRules.for_product(Product.PM)
PM_PRO = RiskRules.for_product(Product.PM_PRO)


def _mark_missing() -> RiskReport:
    """1 BTC long BTCUSDT whose mark price no payload gives: its notional, MM and so uniMMR
    are unknown; the 5,000 USDT (adjusted equity) and the entry price are still known."""
    m = dataclasses.replace(market(), mark_price={"ETHUSDT": 3_000.0})
    position = UmPosition("BTCUSDT", "BOTH", 1.0, 50_000.0, math.nan, 0.0, "BTC", "USDT", 10.0)
    snap = AccountSnapshot(balances=(bal("USDT", um_wallet_qty=5_000.0),), um_positions=(position,))
    return evaluate(snap, m, PM)


def test_unknown_position_cells_say_unknown_and_known_ones_stay() -> None:
    detail = _mark_missing()
    assert detail.state == "UNKNOWN"
    (row,) = position_rows(detail)
    for field in ("mark", "notional_usd", "mm_usd", "mm_share_pct", "liq_down", "liq_up"):
        assert row[field] is None and field in row["unknown"]
    assert (row["entry"], row["amount"], row["bracket"]) == (50_000, 1, 1)  # still known
    assert "entry" not in row["unknown"]
    balances = {r["asset"]: r for r in balance_rows(detail)}
    assert balances["USDT"]["adjusted_usd"] == 5_000 and balances["USDT"]["unknown"] == []
    # Known report: a missing liquidation price is "no such move" (—), not unknown.
    (known,) = position_rows(_detail(directional_long()))
    assert known["liq_up"] is None and known["unknown"] == []


def test_unknown_stress_draws_no_curve_and_says_so() -> None:
    fig = stress_figure(_mark_missing(), PM, "r")
    assert [t["name"] for t in fig["data"]] == ["liquidation 1.05"]  # PM's one level, no curve
    (note,) = fig["layout"]["annotations"]
    assert note["text"] == "⊘ UNKNOWN — stress figures unavailable"
    assert scenario_rows(_mark_missing(), PM) == []


def test_stress_draws_only_the_levels_the_product_publishes() -> None:
    detail = _detail(directional_long())
    pm = [t["name"] for t in stress_figure(detail, PM, "r")["data"]][2:]
    assert pm == ["liquidation 1.05"]
    pro = [t["name"] for t in stress_figure(detail, PM_PRO, "r")["data"]][2:]
    assert pro == ["margin call 1.5", "reduce only 1.2", "liquidation 1.05", "loss claim 1.0"]
    # Under PM a uniMMR of 25 is "above 1.05", not "trade freely".
    assert {r["status"] for r in scenario_rows(detail, PM)} <= {"NORMAL", "LIQUIDATION"}


def test_an_unknown_mark_leaves_the_hedge_rows_known() -> None:
    detail = _mark_missing()
    (row,) = hedge_table(detail)
    # Exposure needs no mark: the 1 BTC long at the index, and no BTC held (0 counted).
    assert row["pm_counts_usd"] == 0.0 and row["unknown"] == []
    assert (row["long_usd"], row["net_qty"], row["hedge_ratio_pct"]) == (50_000, 1, 0)
    bars = {t["name"]: t["x"] for t in hedge_figure(detail, "r")["data"]}
    assert bars["USD-M"] == [50_000]


def test_unknown_sorts_first_with_the_liquidating_never_among_the_calm() -> None:
    unknown = dataclasses.replace(
        _stored("u", math.nan, "UNKNOWN", 1), state="UNKNOWN", unknown_reasons=("x",)
    )
    broke = _stored("b", -math.inf, "LIQUIDATION", 1)
    tiles = account_tiles(
        {"calm": _stored("calm", 3.0, "NORMAL", 1), "u": unknown, "b": broke, "new": None},
        now_ms=1_000_000,
        stale_after_s=10,
        rules=PM,
    )
    assert [t.account for t in tiles] == ["new", "u", "b", "calm"]
    assert (tiles[1].uni_mmr, tiles[1].status, tiles[1].icon) == ("unknown", "UNKNOWN", "⊘")
    assert tiles[1].band_class == "band-unknown"
    assert (tiles[2].uni_mmr, tiles[2].status) == ("≤ 0", "LIQUIDATION")


def test_history_shades_unknown_periods_and_marks_the_change() -> None:
    t0 = 1_700_000_040_000
    changes = [
        StoredStatusChange(t0, "NORMAL", "UNKNOWN", math.nan),
        StoredStatusChange(t0 + 10_000, "UNKNOWN", "NORMAL", 2.0),
    ]
    assert unknown_spans(changes, t0 - 60_000, t0 + 60_000, "NORMAL") == [(t0, t0 + 10_000)]
    # Unknown since before the window and still: shaded from the window's start to the end.
    assert unknown_spans([], t0, t0 + 5_000, "UNKNOWN") == [(t0, t0 + 5_000)]
    assert unknown_spans(changes[1:], t0, t0 + 20_000, "NORMAL") == [(t0, t0 + 10_000)]
    samples = [
        Sample(t0 - 2000, 1, 2.0, 1.0, 1.0, None, "NORMAL"),
        Sample(t0, 2, math.nan, math.nan, math.nan, None, "UNKNOWN"),
    ]
    series = series_of_samples(samples)
    assert series.uni_last == [2.0, None]  # unknown is a gap, never a figure
    fig = history_figure(series, changes, [], PM, RANGES["1h"], "r", unknown=[(t0, t0 + 10_000)])
    traces = {t["name"]: t for t in fig["data"]}
    lane = traces["status change (events lane)"]
    assert (lane["y"], lane["yaxis"], lane["text"]) == (["UNKNOWN"], "y3", ["NORMAL → UNKNOWN"])
    assert traces["status change"]["text"] == ["UNKNOWN → NORMAL"]
    (shade,) = fig["layout"]["shapes"]
    assert (shade["x0"], shade["x1"], shade["fillcolor"]) == (t0, t0 + 10_000, COLORS["unknown"])
    assert "UNKNOWN: figures unavailable (shaded)" in traces
    assert [n for n in traces if n.startswith(("margin", "reduce", "liq"))] == ["liquidation 1.05"]


def test_history_draws_binance_beside_pmdesk_and_marks_disagreement() -> None:
    t0 = 1_700_000_040_000
    points = [
        ReportedPoint(t0, 8.0, 8.0, True, 0.0),
        # pmdesk 53 against Binance's 25: (53 − 25) / 25 = +112 %.
        ReportedPoint(t0 + 2000, 53.0, 25.0, False, 1.12),
        ReportedPoint(t0 + 4000, None, math.inf, None, None),  # unknown; Binance: no MM
    ]
    series = series_of_samples([Sample(t0, 1, 8.0, 1.0, 1.0, None, "NORMAL")])
    fig = history_figure(series, [], [], PM, RANGES["1h"], "r", reported=points)
    traces = {t["name"]: t for t in fig["data"]}
    assert traces["Binance's uniMMR"]["y"] == [8.0, 25.0, None]  # ∞ is not drawn: a gap
    differs = traces["differs from Binance"]
    assert (differs["x"], differs["y"]) == ([t0 + 2000], [53.0])
    assert differs["text"] == ["pmdesk 53.00 vs Binance 25.00 (+112.0 %)"]


def _recon_detail() -> RiskReport:
    """Worked by hand. Binance: accountEquity 250,000, accountMaintMargin 10,000 of which its
    positions' maintMargin 1,000 + 1,000 = 2,000, so loan MM 8,000; uniMMR 25.
    pmdesk: equity 530,000; MM 1,500 + 1,000 = 2,500 futures + 8,000 loan = 10,500;
    uniMMR 530,000 / 10,500 = 50.476…"""
    uni = 530_000 / 10_500
    return report_from_dict({
        "state": "OK",
        "uni_mmr": uni,
        "no_risk": False,
        "uni_mmr_at_most_zero": False,
        "positions": [
            {"venue": "UM", "symbol": "BTCUSDT", "position_side": "BOTH"},
            {"venue": "UM", "symbol": "ETHUSDT", "position_side": "BOTH"},
        ],
        "warnings": [],
        "unknown_reasons": [],
        "reconciliation": {
            "binance": {"uni_mmr": 25.0, "adjusted_equity_usd": 250_000.0,
                        "maint_margin_usd": 10_000.0},
            "pmdesk": {"uni_mmr": uni, "adjusted_equity_usd": 530_000.0,
                       "maint_margin_usd": 10_500.0},
            "rel_diff": {"uni_mmr": (uni - 25) / 25, "adjusted_equity_usd": 280_000 / 250_000,
                         "maint_margin_usd": 500 / 10_000},
            "binance_no_mm": False,
            "agrees": False,
            "explained_by": "adjusted equity: pmdesk +280,000.00 USD (collateral: tiered table)",
            "tolerance": 0.005,
            "futures_mm_usd": {"binance": 2_000.0, "pmdesk": 2_500.0},
            "loan_mm_usd": {"binance": 8_000.0, "pmdesk": 8_000.0},
            "positions": [
                {"venue": "UM", "symbol": "BTCUSDT", "position_side": "BOTH",
                 "pmdesk_mm_usd": 1_500.0, "binance_mm_usd": 1_000.0},
                {"venue": "UM", "symbol": "ETHUSDT", "position_side": "BOTH",
                 "pmdesk_mm_usd": 1_000.0, "binance_mm_usd": None},
                {"venue": "UM", "symbol": "XRPUSDT", "position_side": "BOTH",
                 "pmdesk_mm_usd": 0.0, "binance_mm_usd": 1_000.0},
            ],
        },
        "assumptions": {
            "product": "PM",
            "collateral_table": "tiered",
            "collateral_source": "neither table reproduces Binance's accountEquity: the lower",
            "equity_rel_diff": {"tiered": 1.12, "flat": 1.3},
            "loan_mmr": {"USDT": 0.08},
            "loan_mmr_source": "implied by Binance's MM",
            "loan_leverage": {"USDT": 3.0},
            "calibrated": False,
            "notes": ["a note"],
        },
    })  # fmt: skip


def test_reconciliation_rows_side_by_side() -> None:
    rows = {r["key"]: r for r in figure_rows(_recon_detail())}
    cells = {k: (r["binance"], r["pmdesk"], r["diff"], r["diff_pct"]) for k, r in rows.items()}
    # uniMMR: 50.476 − 25 = +25.48; (50.476 − 25) / 25 = +101.90 %.
    assert cells["uni_mmr"] == ("25.00", "50.48", "+25.48", "+101.90 %")
    # Equity: 530,000 − 250,000 = +280,000 = +112 % of 250,000.
    assert cells["adjusted_equity_usd"] == (
        "$250,000.00", "$530,000.00", "+$280,000.00", "+112.00 %"
    )  # fmt: skip
    # MM: +500 of 10,000 = +5 %; all of it futures: +500 of 2,000 = +25 %; loans agree.
    assert cells["maint_margin_usd"] == ("$10,000.00", "$10,500.00", "+$500.00", "+5.00 %")
    assert cells["futures_mm_usd"] == ("$2,000.00", "$2,500.00", "+$500.00", "+25.00 %")
    assert cells["loan_mm_usd"] == ("$8,000.00", "$8,000.00", "+$0.00", "+0.00 %")
    assert [k for k, r in rows.items() if r["differs"]] == [
        "uni_mmr", "adjusted_equity_usd", "maint_margin_usd", "futures_mm_usd"
    ]  # fmt: skip
    by_symbol = {r["symbol"]: r for r in recon_positions(_recon_detail())}
    btc = by_symbol["BTCUSDT"]
    assert (btc["diff_usd"], btc["diff_pct"], btc["note"]) == (500, 50, "")  # 500 / 1,000
    assert by_symbol["ETHUSDT"]["note"] == "not listed by Binance"
    assert by_symbol["ETHUSDT"]["unknown"] == []  # Binance's missing figure is not "unknown"
    assert by_symbol["XRPUSDT"]["note"] == "Binance charges MM for a position pmdesk does not see"


def test_assumptions_say_which_table_why_and_the_loan_mmr_source() -> None:
    rows = dict(assumption_rows(_recon_detail(), PM))
    assert rows["Product"] == "Portfolio Margin (PM)"
    assert rows["Collateral table"] == "tiered — /sapi/v2/portfolio/collateralRate"
    assert rows["Why this table"].startswith("neither table reproduces")
    per_table = rows["Adjusted equity vs Binance's accountEquity, per table"]
    assert per_table == "flat +130.00 % · tiered +112.00 % (in use)"
    assert rows["Loan MMR"] == "USDT 8.00 %"
    assert rows["Loan MMR source"].startswith("implied by Binance's MM")
    assert rows["Calibrated"].startswith("NO — ") and "uncalibrated" in rows["Calibrated"]
    assert rows["Note"] == "a note"
    assert "trade freely" not in rows["Binance's levels"]


def test_reconcile_view_for_an_uncalibrated_and_an_unknown_report() -> None:
    stored = dataclasses.replace(_stored("a", 530_000 / 10_500, "NORMAL", 0), calibrated=False)
    out = render(stored, _recon_detail(), PM)
    assert out["headline"] == "✖ differs from Binance by 101.9 %"
    assert out["explained"].startswith("Explained by adjusted equity: pmdesk +280,000.00 USD")
    calibration = out["calibration"]
    assert "UNCALIBRATED" in calibration and "101.9 % above Binance's 25.00" in calibration
    unknown = dataclasses.replace(
        stored, uni_mmr=math.nan, status="UNKNOWN", state="UNKNOWN", recon_agrees=None
    )
    detail = _mark_missing()
    out = render(unknown, detail, PM)
    assert out["headline"] == "— cannot compare: pmdesk's figures unknown"
    assert [li.children for li in out["reasons"]] == [
        "/fapi/v1/premiumIndex, row BTCUSDT, field markPrice: no mark price "
        "→ maintenance margin unknown"
    ]
    assert out["reasons_hidden"] is False  # the reasons are shown


def test_tooltips_name_the_configured_levels() -> None:
    def titles(component: Any) -> str:
        found = [getattr(component, "title", "") or ""]
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str):
                found.append(titles(child))
        return " ".join(found)

    pm = titles(overview_layout(PM)) + titles(stress_layout(PM))
    assert "Below 1.5" not in pm and "trade freely" not in pm and "1.05" in pm
    assert "about 95 % (uniMMR 1.05)" in pm
    pro = titles(overview_layout(PM_PRO))
    assert "above 1.5 trade freely" in pro and "at or below 1.2 reduce only" in pro
