"""The command line: help lists the commands; every failure is one clear line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main
from connectors.binance.capture import file_name

COMMANDS = ("demo", "run", "collect", "serve", "simulator", "capture", "risk", "db", "check-key")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_help_lists_every_command() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in COMMANDS:
        assert command in out.stdout


def test_unknown_option_is_one_clear_error() -> None:
    out = run_cli("serve", "--colour", "red")
    assert out.returncode == 2
    assert "pmdesk: error: unrecognized arguments: --colour red" in out.stderr


def test_bad_config_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 99999\n")
    assert main(["serve", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "pmdesk: error: config: web.port: Input should be less than or equal to 65535 (got 99999)"
    ]


@pytest.mark.parametrize("command", ["serve", "run", "demo"])
def test_lan_binding_without_auth_is_refused(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY", "k" * 64)  # `run` must refuse before using them
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET", "s" * 64)
    assert main([command, "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "binding beyond loopback requires sign-in" in err[0]


def test_run_without_keys_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("API_KEY", "API_SECRET"):
        monkeypatch.delenv(f"PMDESK_{name}", raising=False)
        monkeypatch.delenv(f"PMDESK_EXCHANGE__{name}", raising=False)
    assert main(["collect"]) == 2
    assert "PMDESK_EXCHANGE__API_KEY" in capsys.readouterr().err


def write_capture(directory: Path, payloads: dict[str, object]) -> None:
    directory.mkdir()
    for path, body in payloads.items():
        (directory / file_name(path)).write_text(json.dumps(body))


CAPTURE: dict[str, object] = {
    "/papi/v1/balance": [
        {
            "asset": "USDT",
            "totalWalletBalance": "1000.0",
            "crossMarginAsset": "0",
            "crossMarginBorrowed": "0",
            "crossMarginFree": "0",
            "crossMarginInterest": "0",
            "crossMarginLocked": "0",
            "umWalletBalance": "1000.0",
            "umUnrealizedPNL": "0",
            "cmWalletBalance": "0",
            "cmUnrealizedPNL": "",
            "updateTime": 1,
            "negativeBalance": "0",
        }
    ],
    "/papi/v1/um/positionRisk": [
        {
            "symbol": "BTCUSDT",
            "positionAmt": "0.5",
            "entryPrice": "40000",
            "markPrice": "40000",
            "unRealizedProfit": "0",
            "leverage": "10",
            "positionSide": "BOTH",
        }
    ],
    "/papi/v1/um/leverageBracket": [
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
                }
            ],
        }
    ],
    "/papi/v1/cm/positionRisk": [],
    "/sapi/v1/portfolio/collateralRate": [{"asset": "USDT", "collateralRate": "1.0000"}],
    "/sapi/v1/portfolio/asset-index-price": [
        {"asset": "USDT", "assetIndexPrice": "1.0", "time": 1}
    ],
}


def test_risk_dir_json_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_capture(tmp_path / "cap", CAPTURE)
    assert main(["risk", str(tmp_path / "cap"), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    # Equity: 1,000 USDT at rate 1 = 1,000. MM: 0.5 · 40,000 = 20,000 · 0.004 = 80.
    # uniMMR = 1,000 / 80 = 12.5
    assert body["uni_mmr"] == pytest.approx(12.5)
    assert body["maint_margin"]["um_usd"] == pytest.approx(80.0)
    assert body["status"] == "NORMAL"
    assert (body["state"], body["unknown_reasons"]) == ("OK", [])
    assert body["reconciliation"] is None  # no papi_v1_account.json in the directory
    assert body["assumptions"]["collateral_table"] == "flat"  # the only table captured
    assert body["assumptions"]["product"] == "PM"


@pytest.mark.parametrize(
    "path", ["/papi/v1/balance", "/papi/v1/um/positionRisk", "/papi/v1/cm/positionRisk"]
)
def test_risk_dir_missing_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    # A missing positions file is never read as "no positions": an error naming the file.
    payloads = {k: v for k, v in CAPTURE.items() if k != path}
    write_capture(tmp_path / "cap", payloads)
    assert main(["risk", str(tmp_path / "cap")]) == 2
    assert file_name(path) in capsys.readouterr().err


def test_risk_dir_bad_field_names_file_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = json.loads(json.dumps(CAPTURE))
    broken["/papi/v1/um/positionRisk"][0]["markPrice"] = "n/a"
    write_capture(tmp_path / "cap", broken)
    assert main(["risk", str(tmp_path / "cap"), "--json"]) == 3  # UNKNOWN
    body = json.loads(capsys.readouterr().out)
    assert (body["state"], body["status"], body["uni_mmr"]) == ("UNKNOWN", "UNKNOWN", "NaN")
    ((_path, field, item),) = {(r["path"], r["field"], r["item"]) for r in body["unknown_reasons"]}
    assert (field, item) == ("markPrice", "BTCUSDT")
    # Equity did not need the mark: it is still shown.
    assert body["adjusted_equity_usd"] == pytest.approx(1_000.0)


def test_risk_dir_malformed_json_names_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_capture(tmp_path / "cap", CAPTURE)
    (tmp_path / "cap" / "papi_v1_balance.json").write_text("[{")
    assert main(["risk", str(tmp_path / "cap")]) == 2
    assert "papi_v1_balance.json: not valid JSON" in capsys.readouterr().err


def test_demo_takes_several_presets_and_a_scenario() -> None:
    args = build_parser().parse_args(
        ["demo", "--preset", "basis", "--preset", "directional", "--scenario", "crash"]
    )
    assert args.preset == ["basis", "directional"] and args.scenario == "crash"
    assert build_parser().parse_args(["simulator", "--scenario", "basis_blowout"]).scenario == (
        "basis_blowout"
    )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--scenario", "meltdown"])


def test_check_key_asks_which_account_when_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K", "key")
    monkeypatch.setenv("S", "secret")
    cfg = tmp_path / "desk.toml"
    cfg.write_text(
        '[[accounts]]\nname = "a"\napi_key_env = "K"\napi_secret_env = "S"\n'
        '[[accounts]]\nname = "b"\napi_key_env = "K"\napi_secret_env = "S"\n'
    )
    assert main(["check-key", "--config", str(cfg)]) == 2
    assert "several accounts configured (a, b): choose one with --account NAME" in (
        capsys.readouterr().err
    )
    assert main(["check-key", "--config", str(cfg), "--account", "c"]) == 2
    assert "no account 'c'; configured: a, b" in capsys.readouterr().err
