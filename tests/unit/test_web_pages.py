"""What each view shows, built from a report whose figures are worked out by hand here."""

from __future__ import annotations

import dataclasses
import math
import stat
from pathlib import Path

import pytest

from app.config import ConfigError
from app.store.rollup import MINUTE_S, Sample, open_bucket
from app.store.store import StoredEvent, StoredReport, StoredStatusChange
from app.web.app import is_kiosk, next_account
from app.web.auth import add_user, load_users
from app.web.format import fmt_num, fmt_share, fmt_signed
from app.web.pages.classic import classic_rows
from app.web.pages.hedges import hedge_figure, hedge_table
from app.web.pages.history import RANGES, history_figure, series_of_buckets, series_of_samples
from app.web.pages.overview import account_tiles
from app.web.pages.positions import balance_rows, position_rows
from app.web.pages.stress import stress_figure
from app.web.pages.whatif import ChangeError, compare_rows, describe, parse_change
from risk.evaluate import evaluate
from risk.model import RiskRules
from risk.serialize import report_to_dict
from risk.whatif import FuturesTrade, Transfer, what_if
from tests.unit.risk_books import BTCUSDT, basis, directional_long, market, perp

RULES = RiskRules()


def _detail(snapshot: object) -> dict[str, object]:
    return report_to_dict(evaluate(snapshot, market(), RULES))  # type: ignore[arg-type]


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
    # The perp's IM at 10x is 10,000; the BTC held counts 95,000: PM covers all 10,000.
    assert row["saving_usd"] == 10_000
    fig = hedge_figure(detail, "r")
    bars = {t["name"]: t["x"] for t in fig["data"]}
    assert bars["Spot / wallets"] == [100_000] and bars["USD-M"] == [-100_000]
    assert bars["Net"] == [0] and fig["layout"]["uirevision"] == "r"


def test_classic_rows() -> None:
    rows = {r["key"]: r["usd"] for r in classic_rows(_detail(basis()))}
    # Classic: the UM wallet posts 100,000 / 10 = 10,000. PM: the same 10,000 IM is covered by
    # the 95,000 BTC collateral, so no stablecoin is needed and PM frees 10,000.
    assert (rows["um"], rows["classic"], rows["pm_stable"], rows["saving"]) == (
        10_000,
        10_000,
        0,
        10_000,
    )


def test_stress_figure_marks_liquidation_and_levels() -> None:
    fig = stress_figure(_detail(directional_long()), RULES, "r")
    names = [t["name"] for t in fig["data"]]
    assert names[:2] == ["uniMMR after the move", "now"]
    assert names[2:] == ["margin call 1.5", "reduce only 1.2", "liquidation 1.05"]
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
    # +10,000 USDT: 114,500 / 400 = 286.25; change +25.00.
    result = what_if(basis(), market(), RULES, [parse_change("transfer", "usdt", 10_000)])
    rows = {r["figure"]: r for r in compare_rows(result)}
    assert (rows["uniMMR"]["before"], rows["uniMMR"]["after"]) == ("261.25", "286.25")
    assert rows["uniMMR"]["change"] == "+25.00"
    assert rows["Adjusted equity"]["change"] == "+10,000.00"
    assert rows["Status"]["change"] == ""


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
    assert tiles[2].status == "MARGIN CALL" and tiles[2].uni_mmr == "1.40"


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
    assert sorted(users) == ["desk", "risk"] and users["desk"].startswith("scrypt:")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_users(path)
    with pytest.raises(ConfigError, match="at least 10"):
        add_user(tmp_path / "other", "x", "short")
    (tmp_path / "bad").write_text("no-colon-here\n")
    (tmp_path / "bad").chmod(0o600)
    with pytest.raises(ConfigError, match="line 1: expected NAME:HASH"):
        load_users(tmp_path / "bad")
