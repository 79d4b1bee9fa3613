"""Real third-party Binance PM payloads (tests/fixtures/third_party/, see its PROVENANCE.md)
through ``pmdesk risk DIR --json``.

Each test builds a capture directory in ``tmp_path``: the third-party file copied byte for byte
under its capture name, plus the complementary files it needs, written here with values chosen
and stated in the test (index prices, collateral tables, brackets, empty position lists where the
account shows none). Expected figures are worked by hand from Binance's published rules, never
taken from a pmdesk run:

- uniMMR = Σ adjusted equity / Σ maintenance margin (uniMMR FAQ 4868b2f1…);
- per asset x = crossMarginAsset − crossMarginBorrowed − crossMarginInterest + umWalletBalance
  + umUnrealizedPNL + cmWalletBalance + cmUnrealizedPNL, counted min(x·p·rate, x·p) (tiered:
  value·rate + cum in its tier), debt (x < 0) in full;
- a margin loan's MM = loan · MMR · p, MMR 10 % when nothing tells otherwise;
- USDⓈ-M MM = |amt · mark| · mmr − cum (quote units); COIN-M MM = |contracts| · size / mark ·
  mmr − cum (coin units).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from connectors.binance.capture import KNOWN_PATHS, file_name
from tests.support.paths import THIRD_PARTY

BALANCE = "/papi/v1/balance"
ACCOUNT = "/papi/v1/account"
UM_POSITION_RISK = "/papi/v1/um/positionRisk"
CM_POSITION_RISK = "/papi/v1/cm/positionRisk"
UM_ACCOUNT = "/papi/v1/um/account"
CM_ACCOUNT = "/papi/v1/cm/account"
UM_BRACKETS = "/papi/v1/um/leverageBracket"
CM_BRACKETS = "/papi/v1/cm/leverageBracket"
FLAT = "/sapi/v1/portfolio/collateralRate"
TIERED = "/sapi/v2/portfolio/collateralRate"
INDEX = "/sapi/v1/portfolio/asset-index-price"
MARGIN_ASSET_LEVERAGE = "/sapi/v1/portfolio/margin-asset-leverage"

INDEX_TIME_MS = 1_708_070_000_000  # any epoch: only displayed


@pytest.fixture(autouse=True)
def _default_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expected figures assume pmdesk's default rules (PM ladder, 10 % loan MMR)."""
    import os

    for name in list(os.environ):
        if name.startswith("PMDESK_") and name != "PMDESK_STORE__URL":
            monkeypatch.delenv(name)


# ---- building a capture directory ------------------------------------------------------------
def verbatim(capture: Path, path: str, source: str) -> None:
    """The third-party file, byte for byte, under ``path``'s capture name."""
    capture.mkdir(exist_ok=True)
    shutil.copyfile(THIRD_PARTY / source, capture / file_name(path))


def write(capture: Path, path: str, body: object) -> None:
    """A complementary file this test chose."""
    capture.mkdir(exist_ok=True)
    (capture / file_name(path)).write_text(json.dumps(body, indent=1))


def load(source: str) -> Any:
    return json.loads((THIRD_PARTY / source).read_text())


def index_prices(**prices: str) -> list[dict[str, object]]:
    return [{"asset": a, "assetIndexPrice": p, "time": INDEX_TIME_MS} for a, p in prices.items()]


def flat_table(**rates: str) -> list[dict[str, str]]:
    return [{"asset": a, "collateralRate": r} for a, r in rates.items()]


def tiered_table(tiers: dict[str, list[tuple[str, str, str, str]]]) -> list[dict[str, object]]:
    """asset → [(tierFloor, tierCap, collateralRate, cum), …]."""
    return [
        {
            "asset": a,
            "collateralInfo": [
                {"tierFloor": f, "tierCap": c, "collateralRate": r, "cum": cum}
                for f, c, r, cum in rows
            ],
        }
        for a, rows in tiers.items()
    ]


def balance_row(asset: str, **fields: str) -> dict[str, object]:
    """A ``/papi/v1/balance`` row; every amount not given is "0"."""
    row: dict[str, object] = {
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
        "cmUnrealizedPNL": "0",
        "updateTime": 1_708_070_000_000,
        "negativeBalance": "0",
    }
    row.update(fields)
    return row


def no_positions(capture: Path) -> None:
    """Both positionRisk files read and empty (only where the balance shows no futures PnL)."""
    write(capture, UM_POSITION_RISK, [])
    write(capture, CM_POSITION_RISK, [])


def risk(capture: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["risk", str(capture), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def reasons(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["path"], r["field"], r["item"]) for r in body["unknown_reasons"]}


def approx(x: float) -> Any:
    return pytest.approx(x, rel=1e-9, abs=1e-12)


def assert_ok(code: int, body: dict[str, Any]) -> None:
    assert (code, body["state"], body["unknown_reasons"]) == (0, "OK", [])


# ---- ccxt_static: the ccxt developer's live /papi/v1/balance ----------------------------------
def test_ccxt_static_balance_usdc_pure_debt_string_times_and_0_0_zeros(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """5 rows: USDC is pure debt (wallet 0, loan 0.00014784), USDT has a loan, zeros are
    "0.0", every updateTime is a string (ccxt's relay). All PnL is "0.0": no position."""
    cap = tmp_path / "cap"
    verbatim(cap, BALANCE, "ccxt_static/fetchBalance_papi/papi_v1_balance.json")
    no_positions(cap)
    # Chosen: index prices near 2024-02-16, a flat table (rates chosen here).
    write(cap, INDEX, index_prices(ETH="2800", USDT="1", LTC="70", USDC="1", ADA="0.6"))
    write(cap, FLAT, flat_table(USDT="1", USDC="1", ETH="0.95", LTC="0.9", ADA="0.9"))
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # ETH  x = 0 + cmWallet 0.00057786 = 0.00057786; 0.00057786 · 2800 = 1.618008; · 0.95
    #        = 1.5371076
    # USDT x = 30.6003261 − 0.00011146 − 0.00007902 + 105.43419058 = 136.0343262; · 1
    # LTC  x = 0.000636; · 70 = 0.04452; · 0.9 = 0.040068
    # USDC x = 0 − 0.00014784 − 0.00002402 = −0.00017186 (debt: in full, · 1)
    # ADA  x = 10.0325; · 0.6 = 6.0195; · 0.9 = 5.41755
    equity = 1.5371076 + 136.0343262 + 0.040068 - 0.00017186 + 5.41755  # = 143.02887994
    # Loans (nothing tells their MMR: 10 %): USDT 0.00011146 · 0.10 · 1 = 0.000011146,
    # USDC 0.00014784 · 0.10 · 1 = 0.000014784 → 0.00002593
    loan_mm = 0.00011146 * 0.10 + 0.00014784 * 0.10
    assert body["adjusted_equity_usd"] == approx(equity)
    assert body["maint_margin"] == {
        "um_usd": 0.0,
        "cm_usd": 0.0,
        "margin_usd": approx(loan_mm),
        "total_usd": approx(loan_mm),
    }
    assert body["uni_mmr"] == approx(equity / loan_mm)  # ≈ 5,515,961
    assert body["status"] == "NORMAL"
    # actual equity: 1.618008 + 136.0343262 + 0.04452 − 0.00017186 + 6.0195 = 143.71618234
    assert body["actual_equity_usd"] == approx(
        1.618008 + 136.0343262 + 0.04452 - 0.00017186 + 6.0195
    )
    usdc = next(a for a in body["assets"] if a["asset"] == "USDC")
    assert usdc["equity_qty"] == approx(-0.00017186)
    assert usdc["adjusted_equity_usd"] == approx(-0.00017186)
    assert body["assumptions"]["loan_mmr"] == {"USDT": 0.10, "USDC": 0.10}
    assert body["assumptions"]["loan_mmr_source"] == "assumed"
    assert body["assumptions"]["collateral_table"] == "flat"
    assert body["reconciliation"] is None


def test_ccxt_static_linear_balance_with_a_tiered_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same account at another moment (4 rows, no USDC; USDT interest 0.00000197), valued
    with a tiered table whose ADA tiers change at 5 USD."""
    cap = tmp_path / "cap"
    verbatim(cap, BALANCE, "ccxt_static/fetchBalance_papi_linear/papi_v1_balance.json")
    no_positions(cap)
    write(cap, INDEX, index_prices(ETH="2800", USDT="1", LTC="70", ADA="0.6"))
    # Chosen tiers. ADA: [0, 5) at 0.9; [5, 1000) at 0.8 with cum 0.5 (continuous at 5:
    # 5 · 0.9 = 4.5 = 5 · 0.8 + 0.5).
    write(
        cap,
        TIERED,
        tiered_table(
            {
                "USDT": [("0", "100000000", "1", "0")],
                "ETH": [("0", "1000000", "0.95", "0")],
                "LTC": [("0", "1000000", "0.9", "0")],
                "ADA": [("0", "5", "0.9", "0"), ("5", "1000", "0.8", "0.5")],
            }
        ),
    )
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # USDT x = 30.6003261 − 0.00011146 − 0.00000197 + 105.43419058 = 136.03440325
    # ETH  0.00057786 · 2800 · 0.95 = 1.5371076
    # LTC  0.000636 · 70 · 0.9 = 0.040068
    # ADA  10.0325 · 0.6 = 6.0195 USD, second tier: 6.0195 · 0.8 + 0.5 = 5.3156
    equity = 136.03440325 + 1.5371076 + 0.040068 + 5.3156  # = 142.92717885
    loan_mm = 0.00011146 * 0.10  # USDT loan, 10 %
    assert body["adjusted_equity_usd"] == approx(equity)
    assert body["maint_margin"]["total_usd"] == approx(loan_mm)
    assert body["uni_mmr"] == approx(equity / loan_mm)  # ≈ 12,823,181
    ada = next(a for a in body["assets"] if a["asset"] == "ADA")
    assert ada["adjusted_equity_usd"] == approx(5.3156)
    assert body["assumptions"]["collateral_table"] == "tiered"


# ---- go-binance fork (zumer): same account, integer updateTime --------------------------------
def test_go_binance_balance_integer_times_lower_of_two_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ETH and USDT rows with JSON-integer updateTime; both collateral tables read and no
    /papi/v1/account to tell which one Binance uses: the lower equity is shown."""
    cap = tmp_path / "cap"
    verbatim(cap, BALANCE, "go_binance_zumer_portfolio/papi_v1_balance.json")
    no_positions(cap)
    write(cap, INDEX, index_prices(ETH="2800", USDT="1"))
    write(cap, FLAT, flat_table(USDT="1", ETH="0.95"))
    write(
        cap,
        TIERED,
        tiered_table(
            {"USDT": [("0", "100000000", "1", "0")], "ETH": [("0", "1000000", "0.9", "0")]}
        ),
    )
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # USDT x = 30.6003261 − 0.00011146 − 0.00009623 + 105.43419058 = 136.03430899
    # ETH 0.00057786 · 2800 = 1.618008: flat · 0.95 = 1.5371076, tiered · 0.9 = 1.4562072
    # flat 137.57141659 > tiered 137.49051619: the tiered (lower) one counts
    equity = 136.03430899 + 1.4562072
    loan_mm = 0.00011146 * 0.10
    assert body["adjusted_equity_usd"] == approx(equity)
    assert body["uni_mmr"] == approx(equity / loan_mm)
    assert body["assumptions"]["collateral_table"] == "tiered"
    assert body["assumptions"]["collateral_source"].startswith("the lower of the two")


# ---- ccxt issue 21808: UM uPnL −25.55 USDT on a 2.26 USDT UM wallet ---------------------------
ISSUE_21808 = "ccxt_issue_21808/papi_v1_balance.json"


def issue_21808_directory(cap: Path) -> None:
    verbatim(cap, BALANCE, ISSUE_21808)
    write(cap, INDEX, index_prices(ETH="3500", USDT="1"))
    write(cap, FLAT, flat_table(USDT="1", ETH="0.95"))


@pytest.mark.parametrize("present", [(), (CM_POSITION_RISK,)], ids=["no-position-files", "cm-only"])
def test_ccxt_issue_21808_without_um_positions_file_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], present: tuple[str, ...]
) -> None:
    """The balance proves a UM position is open (uPnL −25.54893333): a directory without
    papi_v1_um_positionRisk.json is an error naming that file, never "no positions"."""
    cap = tmp_path / "cap"
    issue_21808_directory(cap)
    for path in present:
        write(cap, path, [])
    assert main(["risk", str(cap), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1
    assert "papi_v1_um_positionRisk.json" in err[0] and "missing" in err[0]
    assert ("papi_v1_cm_positionRisk.json" in err[0]) == (CM_POSITION_RISK not in present)
    assert "no position" not in err[0].lower()


def test_ccxt_issue_21808_upnl_without_an_open_position_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both positionRisk files read, both empty, while the balance shows USDT umUnrealizedPNL
    −25.54893333: a USDT-margined UM position is open and the positions file lacks it. Its
    MM cannot be known; OK with MM 0 and uniMMR ∞ would be wrong and calm."""
    cap = tmp_path / "cap"
    issue_21808_directory(cap)
    no_positions(cap)
    code, body = risk(cap, capsys)
    # Equity does not need the positions: ETH 0.099976 · 3500 = 349.916; · 0.95 = 332.4202.
    # USDT x = 96522.52926104 + 2.25611842 − 25.54893333 = 96499.23644613; · 1.
    assert body["adjusted_equity_usd"] == approx(332.4202 + 96499.23644613)  # 96831.65664613
    assert (code, body["state"], body["status"]) == (3, "UNKNOWN", "UNKNOWN")
    # --json format 2 (README): a non-finite figure is a string; unknown is "NaN".
    assert body["uni_mmr"] == "NaN" and body["no_risk"] is False
    assert body["maint_margin"]["total_usd"] == "NaN"
    named = [
        r
        for r in body["unknown_reasons"]
        if (r["path"], r["field"], r["item"]) == (BALANCE, "umUnrealizedPNL", "USDT")
    ]
    assert named and "mm" in named[0]["affects"]


# ---- ccxt source comments: hedge-mode LONG positions (live, 2024-02-08) -----------------------
def test_ccxt_hedge_mode_long_um_and_cm_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """UM BTCUSDT LONG 0.01 (mark 45464.1735922, uPnL 9.39173592 USDT) and CM ETHUSD_PERP
    LONG 1 contract (mark 2424.51267823, uPnL 0.0000036 ETH), both verbatim."""
    cap = tmp_path / "cap"
    verbatim(cap, UM_POSITION_RISK, "ccxt_source_comments/papi_v1_um_positionRisk.json")
    verbatim(cap, CM_POSITION_RISK, "ccxt_source_comments/papi_v1_cm_positionRisk.json")
    # Chosen balance, consistent with the positions' PnL: USDT UM wallet 100 + uPnL
    # 9.39173592; ETH CM wallet 0.01 + uPnL 0.0000036.
    write(
        cap,
        BALANCE,
        [
            balance_row("USDT", umWalletBalance="100.0", umUnrealizedPNL="9.39173592"),
            balance_row("ETH", cmWalletBalance="0.01", cmUnrealizedPNL="0.0000036"),
        ],
    )
    # Chosen: ETH's index price equal to the CM row's mark, BTC near the UM mark.
    write(cap, INDEX, index_prices(USDT="1", ETH="2424.51267823", BTC="45400"))
    write(cap, FLAT, flat_table(USDT="1", ETH="0.95", BTC="0.95"))
    # Chosen brackets, Binance's schedule at the time: BTCUSDT 0.4 % to 50,000 USDT
    # (0.5 % above, cum 50 = 50,000 · 0.001); ETHUSD_PERP 0.5 % to 5 ETH.
    write(
        cap,
        UM_BRACKETS,
        [
            {
                "symbol": "BTCUSDT",
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": 125,
                        "notionalCap": 50000,
                        "notionalFloor": 0,
                        "maintMarginRatio": 0.004,
                        "cum": 0.0,
                    },
                    {
                        "bracket": 2,
                        "initialLeverage": 100,
                        "notionalCap": 250000,
                        "notionalFloor": 50000,
                        "maintMarginRatio": 0.005,
                        "cum": 50.0,
                    },
                ],
            }
        ],
    )
    write(
        cap,
        CM_BRACKETS,
        [
            {
                "symbol": "ETHUSD_PERP",
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": 100,
                        "qtyCap": 5,
                        "qtyFloor": 0,
                        "maintMarginRatio": 0.005,
                        "cum": 0.0,
                    }
                ],
            }
        ],
    )
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # UM: |0.01 · 45464.1735922| = 454.641735922 USDT (bracket 1) · 0.004 − 0 = 1.818566943688
    um_mm = 0.01 * 45464.1735922 * 0.004
    # CM: 1 contract · 10 USD / 2424.51267823 = 0.00412454… ETH (notionalValue 0.00412454
    # agrees), · 0.005 = 0.0000206227 ETH · 2424.51267823 USD = 0.05 USD
    cm_mm = 1 * 10 / 2424.51267823 * 0.005 * 2424.51267823
    # Equity: USDT 100 + 9.39173592 = 109.39173592; ETH (0.01 + 0.0000036) · 2424.51267823
    # = 24.2538550279 · 0.95 = 23.0411622765
    equity = 109.39173592 + (0.01 + 0.0000036) * 2424.51267823 * 0.95
    assert body["maint_margin"]["um_usd"] == approx(um_mm)
    assert body["maint_margin"]["cm_usd"] == approx(cm_mm)
    assert body["maint_margin"]["margin_usd"] == 0.0
    assert body["adjusted_equity_usd"] == approx(equity)
    assert body["uni_mmr"] == approx(equity / (um_mm + cm_mm))  # ≈ 70.874
    assert body["status"] == "NORMAL"
    positions = {(p["venue"], p["symbol"]): p for p in body["positions"]}
    um, cm = positions["UM", "BTCUSDT"], positions["CM", "ETHUSD_PERP"]
    assert (um["position_side"], um["amount"], um["bracket"]) == ("LONG", 0.01, 1)
    assert um["notional_usd"] == approx(454.641735922)
    assert um["maint_margin_usd"] == approx(um_mm)
    assert (cm["position_side"], cm["amount"], cm["bracket"]) == ("LONG", 1.0, 1)
    assert cm["notional_usd"] == approx(10.0)  # 10 USD contract at the coin's own price
    assert cm["maint_margin_usd"] == approx(cm_mm)


# ---- binance-connector-js: /papi/v1/account with accountEquity/actualEquity swapped ----------
def test_connector_js_account_swapped_equities_disagree_without_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """accountEquity "73.47428058" and actualEquity "122607.35137903" (swapped against the docs
    page), uniMMR "5167.92171923", accountMaintMargin "23.72469206", totalMarginOpenLoss ""."""
    cap = tmp_path / "cap"
    verbatim(cap, ACCOUNT, "binance_connector_js/papi_v1_account.json")
    # Chosen balance: actual equity 122607.35137903 USDT, with a USDT loan whose 10 % MM is
    # the account's MM: 237.2469206 · 0.10 = 23.72469206. crossMarginAsset = 122607.35137903
    # + 237.2469206 = 122844.59829963. No futures.
    write(
        cap,
        BALANCE,
        [
            balance_row(
                "USDT",
                totalWalletBalance="122844.59829963",
                crossMarginAsset="122844.59829963",
                crossMarginBorrowed="237.2469206",
            )
        ],
    )
    no_positions(cap)
    write(cap, INDEX, index_prices(USDT="1"))
    write(cap, FLAT, flat_table(USDT="1"))
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # x = 122844.59829963 − 237.2469206 = 122607.35137903 USDT · 1 · rate 1
    equity = 122607.35137903
    mm = 237.2469206 * 0.10  # = 23.72469206
    assert body["adjusted_equity_usd"] == approx(equity)
    assert body["actual_equity_usd"] == approx(122607.35137903)  # = Binance's actualEquity
    assert body["maint_margin"]["total_usd"] == approx(mm)
    # 122607.35137903 / 23.72469206 = 5167.9217192… = Binance's uniMMR (its uniMMR fits an
    # accountEquity of 122607.35, not the 73.47 the swapped sample gives)
    assert body["uni_mmr"] == approx(equity / mm)
    rec = body["reconciliation"]
    assert rec["binance"] == {
        "uni_mmr": 5167.92171923,
        "adjusted_equity_usd": 73.47428058,
        "maint_margin_usd": 23.72469206,
    }
    assert rec["agrees"] is False
    assert abs(rec["rel_diff"]["uni_mmr"]) < 1e-9
    assert abs(rec["rel_diff"]["maint_margin_usd"]) < 1e-9
    # (122607.35137903 − 73.47428058) / 73.47428058 = 122533.87709845 / 73.47428058 ≈ 1667.71
    assert rec["rel_diff"]["adjusted_equity_usd"] == approx(122533.87709845 / 73.47428058)
    assert rec["explained_by"].startswith("adjusted equity: pmdesk +122,533.88 USD")
    # totalMarginOpenLoss "" is unavailable, counted 0 and said so
    assert any("totalMarginOpenLoss" in w for w in body["warnings"])


# ---- Binance.Net: the flat collateral table with a BUSD row ------------------------------------
def test_binance_net_flat_table_with_busd_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows USDC 1.0000 and the delisted BUSD 1.0000, verbatim."""
    cap = tmp_path / "cap"
    verbatim(cap, FLAT, "binance_net/sapi_v1_portfolio_collateralRate.json")
    # Chosen balance: 1,000 USDC with a 100 USDC loan; an old 50 BUSD holding.
    write(
        cap,
        BALANCE,
        [
            balance_row(
                "USDC",
                totalWalletBalance="1000",
                crossMarginAsset="1000",
                crossMarginBorrowed="100",
            ),
            balance_row("BUSD", totalWalletBalance="50", crossMarginAsset="50"),
        ],
    )
    no_positions(cap)
    write(cap, INDEX, index_prices(USDC="1", BUSD="1"))
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # USDC x = 1000 − 100 = 900 · 1 · 1.0 = 900; BUSD 50 · 1 · 1.0 = 50 → 950
    # MM: 100 USDC loan · 0.10 · 1 = 10 → uniMMR 95
    assert body["adjusted_equity_usd"] == approx(900.0 + 50.0)
    assert body["maint_margin"]["margin_usd"] == approx(100 * 0.10)
    assert body["uni_mmr"] == approx(950.0 / 10.0)
    assert not any("collateral rate" in w for w in body["warnings"])


# ---- binance-connector-js: margin-asset-leverage with an integer leverage ----------------------
MAL = "binance_connector_js/sapi_v1_portfolio_margin-asset-leverage.json"


def test_connector_js_margin_asset_leverage_integer_sets_the_loan_leverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[{"asset": "USDC", "leverage": 10}]: the leverage is a JSON integer."""
    cap = tmp_path / "cap"
    verbatim(cap, MARGIN_ASSET_LEVERAGE, MAL)
    # Chosen balance: 1,000 USDT; 500 USDC borrowed and held, 0.5 USDC interest.
    write(
        cap,
        BALANCE,
        [
            balance_row("USDT", totalWalletBalance="1000", crossMarginAsset="1000"),
            balance_row(
                "USDC",
                totalWalletBalance="500",
                crossMarginAsset="500",
                crossMarginBorrowed="500",
                crossMarginInterest="0.5",
            ),
        ],
    )
    no_positions(cap)
    write(cap, INDEX, index_prices(USDT="1", USDC="1"))
    write(cap, FLAT, flat_table(USDT="1", USDC="1"))
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # Equity: USDT 1000; USDC 500 − 500 − 0.5 = −0.5 (debt, in full) → 999.5
    # MM: Binance's leverage 10x for USDC. Binance publishes no MMR per leverage in text;
    # pmdesk maps 10x → 5 % (risk/model.py MARGIN_LOAN_MMR_BY_LEVERAGE, marked unverified
    # and said so in the notes): 500 · 0.05 · 1 = 25 → uniMMR 39.98
    assert body["adjusted_equity_usd"] == approx(1000.0 - 0.5)
    assert body["maint_margin"]["margin_usd"] == approx(500 * 0.05)
    assert body["uni_mmr"] == approx(999.5 / 25.0)
    a = body["assumptions"]
    assert (a["loan_mmr"], a["loan_mmr_source"]) == ({"USDC": 0.05}, "from Binance")
    assert a["loan_leverage"] == {"USDC": 10}
    assert any("unverified" in n for n in a["notes"])
    # Loan IM = borrowed / (leverage − 1) = 500 / 9 (PM trading-rules FAQ)
    assert body["initial_margin_usd"] == approx(500 / 9)


def test_connector_js_margin_asset_leverage_partial_answer_keeps_10_percent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ccxt's live balance (USDT and USDC loans), Binance's answer covers USDC only:
    the loan MMR of both stays the conservative 10 %; USDC's leverage is still Binance's."""
    cap = tmp_path / "cap"
    verbatim(cap, MARGIN_ASSET_LEVERAGE, MAL)
    verbatim(cap, BALANCE, "ccxt_static/fetchBalance_papi/papi_v1_balance.json")
    no_positions(cap)
    write(cap, INDEX, index_prices(ETH="2800", USDT="1", LTC="70", USDC="1", ADA="0.6"))
    write(cap, FLAT, flat_table(USDT="1", USDC="1", ETH="0.95", LTC="0.9", ADA="0.9"))
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    a = body["assumptions"]
    assert (a["loan_mmr"], a["loan_mmr_source"]) == ({"USDT": 0.10, "USDC": 0.10}, "assumed")
    assert a["loan_leverage"] == {"USDT": 3.0, "USDC": 10}
    # MM as in the ccxt_static test: (0.00011146 + 0.00014784) · 0.10
    assert body["maint_margin"]["margin_usd"] == approx((0.00011146 + 0.00014784) * 0.10)


# ---- ccxt source-comment fragments: one balance object, zero hedge-mode SHORT rows ------------
def test_ccxt_fragments_single_balance_object_and_zero_hedge_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The USDT balance row alone (what /papi/v1/balance?asset=USDT returns: one object) and
    the zero SHORT rows CTSIUSDT (um/account) and TRXUSD_PERP (cm/account)."""
    cap = tmp_path / "cap"
    verbatim(cap, BALANCE, "ccxt_source_comments/fragments/papi_v1_balance.item.json")
    # The account endpoints wrap positions[]; the fragments are the verbatim elements.
    um_item = load("ccxt_source_comments/fragments/papi_v1_um_account.positions.item.json")
    cm_item = load("ccxt_source_comments/fragments/papi_v1_cm_account.positions.item.json")
    write(cap, UM_ACCOUNT, {"assets": [], "positions": [um_item]})
    write(cap, CM_ACCOUNT, {"assets": [], "positions": [cm_item]})
    # Chosen /papi/v1/account for this balance: no MM (Binance's uniMMR sentinel), equity 66.99.
    write(
        cap,
        ACCOUNT,
        {
            "uniMMR": "99999999",
            "accountEquity": "66.9923261",
            "actualEquity": "66.9923261",
            "accountInitialMargin": "0.0",
            "accountMaintMargin": "0.0",
            "accountStatus": "NORMAL",
            "virtualMaxWithdrawAmount": "66.9923261",
            "totalAvailableBalance": "66.9923261",
            "totalMarginOpenLoss": "0.0",
            "updateTime": 1706935319000,
        },
    )
    no_positions(cap)
    write(cap, INDEX, index_prices(USDT="1"))
    write(cap, FLAT, flat_table(USDT="1"))
    code, body = risk(cap, capsys)
    assert_ok(code, body)
    # USDT x = 35.9697141 + 31.022612 = 66.9923261; no loan, no position: MM 0, uniMMR ∞
    assert body["adjusted_equity_usd"] == approx(66.9923261)
    assert body["maint_margin"]["total_usd"] == 0.0
    assert (body["uni_mmr"], body["no_risk"], body["status"]) == ("Infinity", True, "NORMAL")
    rec = body["reconciliation"]
    assert rec["binance_no_mm"] is True
    assert rec["agrees"] is True
    assert rec["positions"] == []  # the zero SHORT rows are not positions
    assert rec["futures_mm_usd"]["binance"] == 0.0
    assert body["assumptions"]["collateral_source"] == "reproduces Binance's accountEquity"
    assert body["assumptions"]["calibrated"] is True


# ---- payloads pmdesk does not read ------------------------------------------------------------
UNREAD = {
    "binance_connector_js": (
        "papi_v2_um_account.json",
        "sapi_v1_portfolio_account.json",  # totalAvailableBalance "122,559.90199491"
        "sapi_v2_portfolio_account.json",
        "sapi_v1_portfolio_balance.json",
    ),
    "binance_net": ("sapi_v1_portfolio_account.json",),
}


@pytest.mark.parametrize("source", sorted(UNREAD))
def test_payloads_pmdesk_does_not_read_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    """/papi/v2/um/account and the PM Pro /sapi/v1|v2/portfolio/account and balance are not
    among the paths pmdesk reads: in a capture directory they change nothing, and the
    thousands comma in totalAvailableBalance never becomes a figure (122.559… or otherwise)."""
    read = {file_name(p) for p in KNOWN_PATHS}
    assert not read & set(UNREAD[source])
    cap = tmp_path / "cap"
    verbatim(cap, BALANCE, "go_binance_zumer_portfolio/papi_v1_balance.json")
    no_positions(cap)
    write(cap, INDEX, index_prices(ETH="2800", USDT="1"))
    write(cap, FLAT, flat_table(USDT="1", ETH="0.95"))
    code, before = risk(cap, capsys)
    assert_ok(code, before)
    for name in UNREAD[source]:
        shutil.copyfile(THIRD_PARTY / source / name, cap / name)
    code, after = risk(cap, capsys)
    assert_ok(code, after)
    assert after == before
    text = json.dumps(after)
    assert "122,559" not in text and "122.559" not in text


def test_every_third_party_file_is_named_in_the_provenance() -> None:
    provenance = (THIRD_PARTY / "PROVENANCE.md").read_text()
    files = sorted(THIRD_PARTY.rglob("*.json"))
    assert len(files) >= 5
    for f in files:
        json.loads(f.read_text())
        source, *_, name = f.relative_to(THIRD_PARTY).parts
        assert f"`{source}/`" in provenance and name in provenance, f.relative_to(THIRD_PARTY)
