"""The commands that read one account once: ``check-key``, ``capture DIR``, and ``risk DIR``
(a captured directory evaluated offline)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from binance.client import Client

from app.cli.common import CliError, command_settings, one_client
from app.collector.feed import classify
from app.config import Settings
from app.episodes import load_episodes
from app.report_text import describe_report
from connectors.binance.capture import (
    KLINES_DIR,
    CaptureError,
    file_name,
    needed_files,
    read_capture,
    read_klines,
    write_capture,
    write_klines,
)
from connectors.binance.client import (
    RetryPolicy,
    call,
    fetch_payloads,
    read_key_permissions,
    server_time_offset_ms,
)
from connectors.binance.endpoints import SERVER_TIME
from connectors.binance.errors import ExchangeError
from connectors.binance.keycheck import KeyVerdict, judge
from connectors.binance.klines import account_series, capture_klines
from connectors.binance.parse import (
    CM_LEVERAGE_BRACKET,
    UM_LEVERAGE_BRACKET,
    KeyPermissions,
    snapshot_from_payloads,
)
from risk import evaluate
from risk.market_history import SPOT, MarketHistory
from risk.model import AccountSnapshot, MarketState, RiskRules
from risk.outlook import OutlookSettings, compute_outlook
from risk.outlook_data import history_from_series
from risk.outlook_result import GBM, Outlook
from risk.serialize import report_to_dict

UNKNOWN_EXIT = 3
"""``pmdesk risk``: exit status when some figure is UNKNOWN (the report still prints)."""


def _permissions(client: Client) -> KeyPermissions:
    """The key's permissions, read after measuring the exchange's clock (a signed request from
    a machine whose clock is off is refused with -1021, as the collector knows)."""
    try:
        client.timestamp_offset = call(client, SERVER_TIME, server_time_offset_ms, RetryPolicy())
        return read_key_permissions(client)
    except ExchangeError as exc:
        raise CliError(f"cannot read the key's permissions: {classify(exc).message}") from None


def _verdict(settings: Settings, client: Client) -> KeyVerdict:
    return judge(_permissions(client), allow_unsafe=settings.exchange.allow_key_that_can_trade)


def cmd_check_key(args: argparse.Namespace) -> None:
    settings = command_settings(args, keys=True)
    perms = _permissions(one_client(settings, args.account))
    verdict = judge(perms, allow_unsafe=settings.exchange.allow_key_that_can_trade)
    print(f"read account data   {'yes' if perms.can_read else 'NO'}")
    print(f"trade               {', '.join(perms.trading) or 'no'}")
    print(f"withdraw            {'YES' if perms.can_withdraw else 'no'}")
    print(f"transfer            {', '.join(perms.transfer) or 'no'}")
    print(f"IP restriction      {'yes' if perms.ip_restricted else 'NONE'}")
    for warning in verdict.warnings:
        print(f"warning: {warning}")
    if not verdict.acceptable:
        raise CliError("key refused: " + "; ".join(verdict.problems))
    print("pmdesk will use this key")


def cmd_capture(args: argparse.Namespace) -> None:
    settings = command_settings(args, keys=True)
    client = one_client(settings, args.account)
    verdict = _verdict(settings, client)
    if not verdict.acceptable:
        raise CliError("key refused: " + "; ".join(verdict.problems))
    fetched = fetch_payloads(client)
    for written in write_capture(args.dir, fetched.payloads):
        print(written)
    # The klines the account needs (issue 20): keyless, under DIR/klines/.
    episodes = [(e.start_ms, e.end_ms) for e in load_episodes()]
    klines = capture_klines(client, fetched.payloads, episodes=episodes)
    for written in write_klines(args.dir, klines):
        print(written)


def cmd_risk(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    payloads = read_capture(args.dir)
    missing = needed_files(payloads)
    if missing:
        names = " and ".join(str(args.dir / file_name(p)) for p in missing)
        raise CliError(f"{names}: missing (the evaluation needs it; pmdesk capture writes it)")
    snapshot, market = snapshot_from_payloads(payloads)
    for path, held in (
        (UM_LEVERAGE_BRACKET, snapshot.um_positions),
        (CM_LEVERAGE_BRACKET, snapshot.cm_positions),
    ):
        if held and path not in payloads:
            raise CliError(f"{args.dir / file_name(path)}: missing (open positions need it)")
    rules = settings.risk_rules()
    report = evaluate(snapshot, market, rules)
    body = report_to_dict(report)
    outlook = None
    if getattr(args, "outlook", False):
        outlook = _outlook(args, payloads, snapshot, market, rules)
        body["outlook"] = outlook_figures(outlook)
        body["outlook_unknown"] = outlook.unknown
        body["outlook_data"] = outlook.data_words
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(describe_report(report))
        if outlook is not None:
            print(describe_outlook(outlook))
    unknown = report.state == "UNKNOWN" or (outlook is not None and bool(outlook.unknown))
    return UNKNOWN_EXIT if unknown else 0


def parse_vols(items: list[str] | None) -> dict[str, float]:
    """``--vol ASSET=ANNUALISED`` (0.8 is 80 % a year), repeatable."""
    out: dict[str, float] = {}
    for item in items or []:
        asset, _, value = item.partition("=")
        try:
            vol = float(value)
        except ValueError:
            vol = math.nan
        if not asset or not (vol >= 0.0 and math.isfinite(vol)):
            raise CliError(f"--vol {item}: expected ASSET=ANNUALISED, e.g. BTC=0.8")
        out[asset.upper()] = vol
    return out


def _history(directory: Path, payloads: dict[str, object], interval: str) -> MarketHistory:
    try:
        series = read_klines(directory, account_series(payloads, interval))
    except CaptureError as exc:
        raise CliError(str(exc)) from None
    return history_from_series(series, interval)


def _outlook(
    args: argparse.Namespace,
    payloads: dict[str, object],
    snapshot: AccountSnapshot,
    market: MarketState,
    rules: RiskRules,
) -> Outlook:
    vols = parse_vols(args.vol)
    settings = OutlookSettings(
        n_paths=args.paths, model=args.model, vol_annualised=vols, seed=args.seed
    )
    history = None
    if args.model != GBM:
        needed = [k for k in account_series(payloads, "1h") if k.venue == SPOT]
        missing = [
            args.dir / KLINES_DIR / k.file_name()
            for k in needed
            if k.symbol.removesuffix("USDT") not in vols
            and not (args.dir / KLINES_DIR / k.file_name()).exists()
        ]
        if missing:
            names = ", ".join(str(m) for m in missing)
            raise CliError(
                f"{names}: missing (the outlook needs 1 h klines; pmdesk capture writes them, "
                "or give --vol ASSET=ANNUALISED, or --model gbm with a --vol for every asset)"
            )
        history = _history(args.dir, payloads, "1h")
    now_ms = max(market.time_ms, snapshot.update_time_ms)
    return compute_outlook(snapshot, market, rules, history, settings, now_ms)


def _number(x: float) -> float | str:
    """JSON has no NaN or infinity: the strings ``report_to_dict`` writes for them."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def outlook_figures(outlook: Outlook) -> dict[str, dict[str, object]]:
    """The stable ``outlook`` key: per horizon (``"1"``, ``"8"``, ``"24"``) the figures and
    their Monte-Carlo standard errors; empty when the outlook is unknown."""
    out: dict[str, dict[str, object]] = {}
    for h in outlook.horizons:
        out[f"{h.horizon_h:g}"] = {
            "p_liquidation": _number(h.p_liquidation),
            "p_warning": _number(h.p_warning),
            "uni_mmr_q05": _number(h.uni_mmr_q05),
            "uni_mmr_q01": _number(h.uni_mmr_q01),
            "es_equity_usd": _number(h.es_equity_usd),
            "stderr": {
                "p_liquidation": _number(h.stderr),
                "p_warning": _number(h.p_warning_stderr),
                "uni_mmr_q05": _number(h.uni_mmr_q05_stderr),
                "uni_mmr_q01": _number(h.uni_mmr_q01_stderr),
                "es_equity_usd": _number(h.es_equity_stderr_usd),
            },
        }
    return out


def describe_outlook(outlook: Outlook) -> str:
    if outlook.unknown:
        return f"Outlook: unknown ({outlook.unknown})"
    lines = [f"Outlook ({outlook.n_paths} paths; {outlook.data_words}):"]
    for h in outlook.horizons:
        lines.append(
            f"  {h.horizon_h:g} h: P(uniMMR <= {outlook.liquidation_uni_mmr:g}) "
            f"{100 * h.p_liquidation:.2f} % +/- {100 * h.stderr:.2f}, "
            f"P(<= {outlook.warning_uni_mmr:g}) {100 * h.p_warning:.2f} %, "
            f"path-minimum uniMMR 5 % {h.uni_mmr_q05:.3f}, 1 % {h.uni_mmr_q01:.3f}, "
            f"expected shortfall {h.es_equity_usd:,.0f} USD"
        )
    return "\n".join(lines)
