"""``pmdesk risk DIR --json --outlook`` over a captured directory made by hand (the same
capture ``tests/unit/app/test_cli.py`` evaluates: 0.5 BTC long BTCUSDT at 40,000 on 1,000
USDT): the GBM reference with ``--vol``, the FHS from ``DIR/klines/``, and the errors.

By hand: uniMMR = (1,000 + 0.5 (P - 40,000)) / (0.004 * 0.5 P) reaches 1.05 at
P* = 19,000 / (0.5 - 0.0021) = 38,160.27 (4.6 % down)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from connectors.binance.capture import KLINES_DIR
from risk.market_history import SPOT, UM_INDEX, UM_MARK, KlineKey
from tests.unit.app.test_cli import CAPTURE, write_capture

FIELDS = {"p_liquidation", "p_warning", "uni_mmr_q05", "uni_mmr_q01", "es_equity_usd", "stderr"}


def first_passage(d: float, sigma: float, t_years: float) -> float:
    """Driftless GBM (log drift -sigma^2 / 2) touching a level d below, continuously."""

    def phi(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    mu, s = -0.5 * sigma**2, sigma * math.sqrt(t_years)
    return phi((-d - mu * t_years) / s) + math.exp(d) * phi((-d + mu * t_years) / s)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["risk", *args, "--json", "--outlook"])
    return code, json.loads(capsys.readouterr().out)


def test_gbm_with_a_volatility_needs_no_klines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_capture(tmp_path / "cap", CAPTURE)
    code, body = run(
        capsys, str(tmp_path / "cap"), "--model", "gbm", "--vol", "BTC=0.8", "--paths", "3000"
    )
    assert code == 0 and body["outlook_unknown"] == ""
    outlook = body["outlook"]
    assert isinstance(outlook, dict) and set(outlook) == {"1", "8", "24"}
    assert all(set(h) == FIELDS for h in outlook.values())
    p = [outlook[h]["p_liquidation"] for h in ("1", "8", "24")]
    assert p[0] <= p[1] <= p[2]
    # Monitored hourly after the first hour: at most the continuous first passage, and not
    # far below it.
    continuous = first_passage(math.log(40_000 / 38_160.27), 0.8, 24 / 8760)
    se = outlook["24"]["stderr"]["p_liquidation"]
    assert se == pytest.approx(math.sqrt(p[2] * (1 - p[2]) / 3000))
    assert continuous * 0.7 < p[2] < continuous + 3 * se
    assert outlook["24"]["uni_mmr_q01"] < 1.05 < outlook["1"]["uni_mmr_q05"]


def write_klines(directory: Path, hours: int = 400) -> None:
    rng = np.random.default_rng(5)
    close = 40_000 * np.exp(np.cumsum(rng.normal(0, 0.008, hours)))
    close *= 40_000 / close[-1]
    t0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000
    folder = directory / KLINES_DIR
    folder.mkdir()
    for venue, scale in ((SPOT, 1.0), (UM_INDEX, 1.0), (UM_MARK, 1.0002)):
        rows = [
            [
                t0 + 3_600_000 * i,
                f"{c * scale}",
                f"{c * scale}",
                f"{c * scale}",
                f"{c * scale}",
                "0",
                t0 + 3_600_000 * (i + 1) - 1,
            ]
            for i, c in enumerate(close.tolist())
        ]
        (folder / KlineKey(venue, "BTCUSDT", "1h").file_name()).write_text(json.dumps(rows))


def test_fhs_reads_the_captured_klines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_capture(tmp_path / "cap", CAPTURE)
    write_klines(tmp_path / "cap")
    code, body = run(capsys, str(tmp_path / "cap"), "--paths", "1000", "--seed", "3")
    assert code == 0, body["outlook_unknown"]
    assert "FHS on 399 joint 1 h returns" in str(body["outlook_data"])
    outlook = body["outlook"]
    assert isinstance(outlook, dict) and set(outlook) == {"1", "8", "24"}
    assert 0.0 <= outlook["1"]["p_liquidation"] <= outlook["24"]["p_liquidation"] <= 1.0


def test_missing_klines_is_an_error_naming_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_capture(tmp_path / "cap", CAPTURE)
    assert main(["risk", str(tmp_path / "cap"), "--json", "--outlook"]) == 2
    assert "klines/spot_BTCUSDT_1h.json: missing" in capsys.readouterr().err


def test_gbm_without_a_volatility_is_unknown_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_capture(tmp_path / "cap", CAPTURE)
    code, body = run(capsys, str(tmp_path / "cap"), "--model", "gbm", "--paths", "100")
    assert code == 3
    assert body["outlook"] == {}
    assert body["outlook_unknown"] == "GBM needs a volatility for every asset; none for BTC"


FTX_START_MS = 1_667_865_600_000  # 2022-11-08 00:00 UTC: "FTX collapse" in data/episodes.csv
FTX_FACTORS = (1.0, 0.99, 0.975, 0.96, 0.953, 0.97, 0.98, 0.99, 1.0, 1.01)


def add_episode_bars(directory: Path) -> None:
    """Ten hourly BTC bars inside the FTX window, and the bar before it (the replay's starting
    price, 20,000), put in front of the captured spot series as ``pmdesk capture`` writes it."""
    path = directory / KLINES_DIR / KlineKey(SPOT, "BTCUSDT", "1h").file_name()
    recent = json.loads(path.read_text())
    prices = [20_000.0] + [20_000.0 * f for f in FTX_FACTORS]
    bars = [
        [FTX_START_MS + 3_600_000 * (i - 1), *[f"{p}"] * 4, "0", FTX_START_MS + 3_600_000 * i - 1]
        for i, p in enumerate(prices)
    ]
    path.write_text(json.dumps(bars + recent))


@pytest.fixture
def with_episode(tmp_path: Path) -> Path:
    """The capture, its recent klines and the FTX window's bars."""
    write_capture(tmp_path / "cap", CAPTURE)
    write_klines(tmp_path / "cap")
    add_episode_bars(tmp_path / "cap")
    return tmp_path / "cap"


def test_episodes_are_replayed_and_kept_out_of_the_models_sample(
    with_episode: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body = run(capsys, str(with_episode), "--paths", "1000", "--seed", "3")
    assert code == 0, body["outlook_unknown"]
    # The model's sample is the 400 recent bars only: a year of forward-filled gap between
    # the episode and them would have been zero returns, a thinner tail than the market's.
    assert "FHS on 399 joint 1 h returns" in str(body["outlook_data"])
    listed = body["outlook_replays"]
    assert isinstance(listed, list)
    replays = {r["name"]: r for r in listed}
    ftx = replays["FTX collapse"]
    # The book moves with BTC by the factor f against the bar before the episode: P = 40,000 f.
    # uniMMR = (1,000 + 0.5 (P - 40,000)) / (0.004 x 0.5 P). The lowest bar, f = 0.953:
    # P = 38,120, equity 1,000 - 940 = 60, MM 76.24: uniMMR 0.78699, below 1.05 there first
    # (f = 0.96 before it: P = 38,400, equity 200, MM 76.8: 2.604).
    assert ftx["bars"] == 10 and ftx["interval"] == "1h" and ftx["missing"] == ""
    assert ftx["min_uni_mmr"] == pytest.approx(60 / 76.24, rel=1e-9)
    assert ftx["min_at_ms"] == ftx["liquidation_at_ms"] == FTX_START_MS + 4 * 3_600_000
    assert replays["Black Thursday"]["missing"]  # no bars captured for it: said, not zero
    assert math.isnan(float(replays["Black Thursday"]["min_uni_mmr"]))


def test_the_text_report_lists_the_replays(
    with_episode: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["risk", str(with_episode), "--outlook", "--paths", "500"])
    out = capsys.readouterr().out
    assert (
        "replay FTX collapse (2022-11-08 00:00 UTC, 10 1h bars): minimum uniMMR 0.787 at "
        "2022-11-08 04:00 UTC; liquidation (uniMMR <= 1.05) from 2022-11-08 04:00 UTC"
    ) in out
    assert "replay Black Thursday (2020-03-12 00:00 UTC): not replayed: " in out
