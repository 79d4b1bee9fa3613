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
