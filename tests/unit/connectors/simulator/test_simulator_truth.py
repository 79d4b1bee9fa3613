"""The simulator hides per-account truths (collateral table, loan MMR, margin-asset leverage,
haircuts outside both tables) and reports Binance's figures computed with them.

Expected figures are worked by hand in each test from the simulator's published tables
(flat: ``truth.FLAT_COLLATERAL``; tiered: ``params.COLLATERAL_TIERS``; brackets:
``params.UM_BRACKETS``), never taken from the simulator's own output.
"""

from __future__ import annotations

import ast
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from connectors.binance.client import make_client
from connectors.simulator.account_payloads import PM_PRO_LEVELS, account_json, account_status
from connectors.simulator.auth import hmac_sha256_hex
from connectors.simulator.book import AccountBook
from connectors.simulator.clock import ManualClock
from connectors.simulator.legs import Holding
from connectors.simulator.market import PERPETUALS, Quote
from connectors.simulator.presets import PRESETS
from connectors.simulator.server import Simulator, SimulatorServer
from connectors.simulator.truth import FLAT_COLLATERAL, TRUTH, HiddenTruth
from risk.model import LADDER_BY_PRODUCT, Product
from tests.support.paths import ROOT

START_MS = 1_767_225_600_000  # as tests/conftest.py: the simulator's start prices apply
# Round index prices for the book-level tests (USD).
PRICES = {
    "BTC": 100_000.0,
    "ETH": 3_000.0,
    "BNB": 600.0,
    "SOL": 200.0,
    "XRP": 2.0,
    "USDT": 1.0,
    "USDC": 1.0,
}
QUOTE = Quote(dict(PRICES), dict.fromkeys(PERPETUALS, 0.0))  # marks = index, no basis


def book(preset: str) -> AccountBook:
    return PRESETS[preset](dict(PRICES))  # entry prices = these marks: PnL 0


def figures(preset: str) -> dict[str, float]:
    return book(preset).reported_figures(QUOTE)


# ---- the truth per preset ------------------------------------------------------------------


def test_every_preset_has_its_stated_truth() -> None:
    assert set(TRUTH) == set(PRESETS)
    expected = {
        "basis": ("flat", 0.10, None, {}),
        "directional": ("tiered", 0.10, None, {}),
        "coinm_hedger": ("tiered", 0.10, None, {}),
        "borrower": ("flat", 0.08, None, {}),
        "near_liquidation": ("flat", 0.10, None, {}),
        "borrower_pro": ("tiered", 0.08, 5, {}),
        "opaque": ("tiered", 0.10, None, {"ETH": 0.50}),
    }
    for name, (table, loan_mmr, leverage, haircut) in expected.items():
        t = book(name).truth
        assert t == TRUTH[name], name
        assert (t.collateral_table, t.loan_mmr, t.margin_asset_leverage, t.extra_haircut) == (
            table,
            loan_mmr,
            leverage,
            haircut,
        ), name


def test_flat_table_differs_from_the_tiered_first_tier() -> None:
    assert FLAT_COLLATERAL == {
        "BTC": 0.90,
        "ETH": 0.90,
        "BNB": 0.40,
        "SOL": 0.80,
        "XRP": 0.80,
        "USDT": 1.0,
        "USDC": 1.0,
    }


def test_truth_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="collateral_table"):
        HiddenTruth("spiky", 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="loan_mmr"):
        HiddenTruth("flat", 0.0)
    with pytest.raises(ValueError, match="extra_haircut"):
        HiddenTruth("flat", 0.1, extra_haircut={"ETH": 1.5})


# ---- reported figures at fixed prices (BTC 100,000, ETH 3,000, BNB 600, USDT 1) --------------


def test_borrower_flat_table_and_8_pct_loans() -> None:
    f = figures("borrower")
    # ETH 100 · 3,000 = 300,000 at 90 % (flat) = 270,000; BNB 50 · 600 = 30,000 at 40 % (flat)
    # = 12,000; USDT x = −200,000 counts in full.
    assert f["account_equity"] == pytest.approx(100 * 3_000 * 0.90 + 50 * 600 * 0.40 - 200_000)
    assert f["account_equity"] == pytest.approx(82_000.0)
    assert f["actual_equity"] == pytest.approx(300_000 + 30_000 - 200_000)
    # Loan MM: 200,000 USDT · 8 % · 1.
    assert f["maint"] == pytest.approx(200_000 * 0.08)
    assert f["uni_mmr"] == pytest.approx(82_000 / 16_000)  # 5.125


def test_borrower_pro_tiered_table_and_8_pct_loans() -> None:
    f = figures("borrower_pro")
    # Same holdings, tiered: ETH 300,000 < 2 M at 95 % = 285,000; BNB 30,000 < 1 M at 95 %
    # = 28,500; −200,000 in full.
    assert f["account_equity"] == pytest.approx(300_000 * 0.95 + 30_000 * 0.95 - 200_000)
    assert f["maint"] == pytest.approx(200_000 * 0.08)
    assert f["uni_mmr"] == pytest.approx(113_500 / 16_000)


def test_opaque_counts_eth_at_a_rate_in_neither_table() -> None:
    f = figures("opaque")
    # ETH 200 · 3,000 = 600,000 at 50 % = 300,000; USDT −100,000 in full. MM 100,000 · 10 %.
    assert f["account_equity"] == pytest.approx(200 * 3_000 * 0.50 - 100_000)
    assert f["maint"] == pytest.approx(100_000 * 0.10)
    assert f["uni_mmr"] == pytest.approx(20.0)  # comfortably above 2
    tiered = 600_000 * 0.95 - 100_000  # ETH < 2 M: first tier
    flat = 600_000 * 0.90 - 100_000
    for table_equity in (tiered, flat):
        assert abs(f["account_equity"] - table_equity) > 100_000


def test_basis_flat_table_counts_btc_at_90_pct() -> None:
    f = figures("basis")
    # BTC 10 · 100,000 = 1,000,000 at 90 % = 900,000 (the tiered table would say 95 %);
    # USDT 5,000 + 15,000 = 20,000.
    assert f["account_equity"] == pytest.approx(10 * 100_000 * 0.90 + 20_000)
    # Short 10 BTCUSDT at 100,000: 1,000,000 in [800 k, 3 M): 0.65 %, cum = 300,000 · 0.001
    # + 800,000 · 0.0015 = 1,500 → 6,500 − 1,500 = 5,000. No loans.
    assert f["maint"] == pytest.approx(1_000_000 * 0.0065 - 1_500)
    assert f["uni_mmr"] == pytest.approx(920_000 / 5_000)


def test_the_governing_table_decides_the_equity() -> None:
    flat = book("basis")
    tiered = dataclasses.replace(flat, truth=HiddenTruth("tiered", 0.10))
    # Tiered: 1,000,000 < 5 M at 95 % = 950,000, + 20,000.
    assert tiered.reported_figures(QUOTE)["account_equity"] == pytest.approx(970_000.0)
    assert flat.reported_figures(QUOTE)["account_equity"] == pytest.approx(920_000.0)


def test_directional_tiered_no_loans() -> None:
    f = figures("directional")
    # BTC 5 · 100,000 = 500,000 in [300 k, 800 k): 0.5 % − 300 = 2,200;
    # ETH has its own brackets (Binance's ETHUSDT): 60 · 3,000 = 180,000 in [50 k, 600 k):
    # 0.5 %, cum 50,000 · (0.005 − 0.004) = 50 → 900 − 50 = 850.
    assert f["account_equity"] == pytest.approx(15_000.0)
    assert f["maint"] == pytest.approx(500_000 * 0.005 - 300 + 180_000 * 0.005 - 50)


def test_extra_haircut_overrides_the_flat_table_and_a_debt_counts_in_full() -> None:
    truth = HiddenTruth("flat", 0.10, extra_haircut={"ETH": 0.5})
    long_eth = AccountBook("x", holdings={"ETH": Holding(cross_margin_asset=10.0)}, truth=truth)
    assert long_eth.reported_figures(QUOTE)["account_equity"] == pytest.approx(10 * 3_000 * 0.5)
    short_eth = AccountBook(
        "y",
        holdings={
            "ETH": Holding(cross_margin_borrowed=10.0),
            "USDT": Holding(cross_margin_asset=100_000.0),
        },
        truth=truth,
    )
    f = short_eth.reported_figures(QUOTE)
    # ETH x = −10 → −30,000 in full (no haircut on a debt); USDT 100,000 at 1.
    assert f["account_equity"] == pytest.approx(100_000 - 10 * 3_000)
    assert f["maint"] == pytest.approx(10 * 0.10 * 3_000)  # loan MM in USD at ETH's index


def test_account_json_withdrawable_and_status() -> None:
    a = account_json(book("borrower"), QUOTE, 1)
    # max(82,000 − 1.2 · 16,000, 0) = 62,800 (Binance FAQ 446ce2c3…).
    assert float(a["virtualMaxWithdrawAmount"]) == pytest.approx(82_000 - 1.2 * 16_000)  # type: ignore[arg-type]
    assert a["accountStatus"] == "NORMAL"
    near = account_json(book("near_liquidation"), QUOTE, 1)
    # 5,600 USDT; MM 10 · 100,000 = 1,000,000: 5,000. uniMMR 1.12: reduce-only band;
    # 5,600 − 1.2 · 5,000 = −400 → withdrawable 0.
    assert float(near["uniMMR"]) == pytest.approx(5_600 / 5_000)  # type: ignore[arg-type]
    assert near["accountStatus"] == "REDUCE_ONLY"
    assert float(near["virtualMaxWithdrawAmount"]) == 0.0  # type: ignore[arg-type]


def test_no_maintenance_margin_reports_the_sentinel() -> None:
    cash = AccountBook("cash", holdings={"USDT": Holding(cross_margin_asset=1_000.0)})
    a = account_json(cash, QUOTE, 1)
    assert a["uniMMR"] == "99999999"
    assert a["accountMaintMargin"] == "0.00000000"
    assert a["accountStatus"] == "NORMAL"
    assert float(a["virtualMaxWithdrawAmount"]) == pytest.approx(1_000.0)  # type: ignore[arg-type]


# ---- pmdesk cannot see the truth -------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_nothing_outside_the_simulator_imports_the_truth() -> None:
    simulator = ROOT / "connectors" / "simulator"
    offenders = [
        str(p.relative_to(ROOT))
        for top in ("app", "risk", "connectors", "bench")
        for p in (ROOT / top).rglob("*.py")
        if simulator not in p.parents
        and any(n.startswith("connectors.simulator.truth") for n in _imports(p))
    ]
    assert offenders == []


PUBLISHED_IN_RISK_MODEL = {
    "risk.model",
    "risk.model.MARGIN_LOAN_MMR_BY_LEVERAGE",  # loan MMR by margin leverage (uniMMR FAQ)
}
"""What the simulator may take from ``risk``: the one definition of a figure Binance publishes.
Never pmdesk's arithmetic (evaluate, valuation, tiers, calibrate…) nor its own assumptions
(``CONSERVATIVE_LOAN_MMR``, ``RiskRules``): the simulator's figures must stay its own."""


def test_the_simulators_figures_do_not_use_pmdesks_risk_package() -> None:
    modules = sorted((ROOT / "connectors" / "simulator").glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        used = {n for n in _imports(path) if n == "risk" or n.startswith("risk.")}
        assert used <= PUBLISHED_IN_RISK_MODEL, (path.name, used - PUBLISHED_IN_RISK_MODEL)


def test_the_simulators_own_ladder_is_binances_published_one() -> None:
    # The simulator keeps its own copy of the PM Pro levels (FAQ 5e33af8e6ac04d57a1d0a3398e0a0752:
    # > 1.5 trade freely, 1.2–1.5 margin call, 1.05–1.2 reduce only, 1.0–1.05 liquidation);
    # pmdesk's risk.model has the other. Both must say what the FAQ says.
    published = (1.5, 1.2, 1.05, 1.0)
    assert published == PM_PRO_LEVELS
    pro = LADDER_BY_PRODUCT[Product.PM_PRO]
    assert (pro.margin_call, pro.reduce_only, pro.liquidation, pro.loss) == published
    assert [account_status(u) for u in (1.51, 1.5, 1.21, 1.2, 1.06, 1.05, 1.01, 1.0)] == [
        "NORMAL",
        "MARGIN_CALL",
        "MARGIN_CALL",
        "REDUCE_ONLY",
        "REDUCE_ONLY",
        "ACTIVE_LIQUIDATION",
        "ACTIVE_LIQUIDATION",
        "BANKRUPTED",
    ]


# ---- over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    clock = ManualClock(START_MS)
    server = SimulatorServer(
        Simulator(clock=clock, accounts={"borrower": "borrower", "pro": "borrower_pro"})
    ).start()
    yield server
    server.stop()


def _client(server: SimulatorServer, account: str) -> Client:
    a = server.simulator.account(account)
    client = make_client(a.api_key, a.api_secret, server.base_url)
    client.timestamp_offset = server.simulator.now_ms() - int(time.time() * 1000)
    return client


def _signed_get(server: SimulatorServer, path: str, account: str) -> requests.Response:
    a = server.simulator.account(account)
    query = f"timestamp={server.simulator.now_ms()}"
    return requests.get(
        f"{server.base_url}{path}?{query}&signature={hmac_sha256_hex(a.api_secret, query)}",
        headers={"X-MBX-APIKEY": a.api_key},
        timeout=10,
    )


def test_flat_collateral_rate_is_unsigned_market_data(sim: SimulatorServer) -> None:
    r = requests.get(f"{sim.base_url}/sapi/v1/portfolio/collateralRate", timeout=10)
    assert r.status_code == 200
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "50"  # first sapi request this minute
    body = r.json()
    assert body[0] == {"asset": "BTC", "collateralRate": "0.9000"}
    assert {row["asset"]: row["collateralRate"] for row in body} == {
        "BTC": "0.9000",
        "ETH": "0.9000",
        "BNB": "0.4000",
        "SOL": "0.8000",
        "XRP": "0.8000",
        "USDT": "1.0000",
        "USDC": "1.0000",
    }
    # python-binance reads it unsigned as well.
    client = make_client("k", "s", sim.base_url)
    same = client._request_margin_api("get", "portfolio/collateralRate", signed=False, data={})
    assert same == body


def test_margin_asset_leverage_for_a_pm_pro_account(sim: SimulatorServer) -> None:
    r = _signed_get(sim, "/sapi/v1/portfolio/margin-asset-leverage", "pro")
    assert r.status_code == 200
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "50"
    assert r.json() == [{"asset": "USDT", "leverage": 5}]
    assert '"leverage": 5}' in r.text  # a JSON integer, as the docs' example
    rows = _client(sim, "pro")._request_margin_api(
        "get", "portfolio/margin-asset-leverage", signed=True, data={}
    )
    assert rows == [{"asset": "USDT", "leverage": 5}]


def test_margin_asset_leverage_refused_for_another_account_type(sim: SimulatorServer) -> None:
    r = _signed_get(sim, "/sapi/v1/portfolio/margin-asset-leverage", "borrower")
    assert r.status_code == 400
    assert r.json() == {"code": -21001, "msg": "Request ID is not a Portfolio Margin Pro account."}
    with pytest.raises(BinanceAPIException) as err:
        _client(sim, "borrower")._request_margin_api(
            "get", "portfolio/margin-asset-leverage", signed=True, data={}
        )
    assert err.value.code == -21001 and err.value.status_code == 400


def test_margin_asset_leverage_is_signed(sim: SimulatorServer) -> None:
    url = f"{sim.base_url}/sapi/v1/portfolio/margin-asset-leverage"
    no_key = requests.get(url, params={"timestamp": sim.simulator.now_ms()}, timeout=10)
    assert (no_key.status_code, no_key.json()["code"]) == (401, -2014)
    key = sim.simulator.account("pro").api_key
    unsigned = requests.get(
        url, params={"timestamp": sim.simulator.now_ms()}, headers={"X-MBX-APIKEY": key}, timeout=10
    )
    assert (unsigned.status_code, unsigned.json()["code"]) == (400, -1102)


def test_reported_account_follows_the_truth_over_http(sim: SimulatorServer) -> None:
    # Start prices (clock not moved): ETH 3,500, BNB 650, USDT 1. The loan was taken when the
    # simulator started: one hour of interest charged (ON_BORROW), 200,000 · 0.012 % / 24 = 1
    # USDT owed, which counts against equity like the loan itself.
    borrower = _client(sim, "borrower")
    a = borrower.papi_get_account()
    equity = 100 * 3_500 * 0.90 + 50 * 650 * 0.40 - 200_000 - 1  # 127,999
    loan_mm = 200_000 * 0.08  # 16,000 (on the principal)
    assert float(a["accountEquity"]) == pytest.approx(equity)
    assert float(a["accountMaintMargin"]) == pytest.approx(loan_mm)
    assert float(a["uniMMR"]) == pytest.approx(127_999 / 16_000)
    assert float(a["virtualMaxWithdrawAmount"]) == pytest.approx(equity - 1.2 * loan_mm)
    # No futures positions: all of accountMaintMargin is the loans' MM, which is how pmdesk
    # infers 8 % (residual / borrowed) when the leverage endpoint refuses.
    um, cm = borrower.papi_get_um_account(), borrower.papi_get_cm_account()
    assert um["positions"] == [] and cm["positions"] == []
    assert float(a["accountMaintMargin"]) / 200_000 == pytest.approx(0.08)

    pro = _client(sim, "pro").papi_get_account()
    assert float(pro["accountEquity"]) == pytest.approx(
        350_000 * 0.95 + 32_500 * 0.95 - 200_000 - 1
    )
    assert float(pro["accountMaintMargin"]) == pytest.approx(loan_mm)


def test_sentinel_uni_mmr_over_http(sim: SimulatorServer) -> None:
    account = sim.simulator.account("borrower")
    account.book = AccountBook("cash", holdings={"USDT": Holding(cross_margin_asset=1_000.0)})
    r = _signed_get(sim, "/papi/v1/account", "borrower")
    assert r.status_code == 200
    assert r.json()["uniMMR"] == "99999999"
    assert '"uniMMR": "99999999"' in r.text
