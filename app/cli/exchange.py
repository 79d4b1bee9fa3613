"""The commands that read one account once: ``check-key``, ``capture DIR``, and ``risk DIR``
(a captured directory evaluated offline)."""

from __future__ import annotations

import argparse
import json

from app.cli.common import CliError, command_settings, one_client
from app.cli.risk_outlook import describe_outlook, outlook_body, risk_outlook
from app.collector.feed import classify
from app.config import Settings
from app.episodes import load_episodes
from app.report_text import describe_report
from connectors.binance.capture import (
    file_name,
    needed_files,
    read_capture,
    write_capture,
    write_klines,
)
from connectors.binance.client import (
    Client,
    RetryPolicy,
    call,
    fetch_payloads,
    read_key_permissions,
    server_time_offset_ms,
)
from connectors.binance.endpoints import SERVER_TIME
from connectors.binance.errors import ExchangeError
from connectors.binance.keycheck import KeyVerdict, judge
from connectors.binance.klines import capture_klines
from connectors.binance.parse import (
    CM_LEVERAGE_BRACKET,
    UM_LEVERAGE_BRACKET,
    KeyPermissions,
    snapshot_from_payloads,
)
from risk import evaluate
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
        outlook = risk_outlook(args, settings, payloads, snapshot, market, rules)
        body.update(outlook_body(outlook))
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(describe_report(report))
        if outlook is not None:
            print(describe_outlook(outlook))
    unknown = report.state == "UNKNOWN" or (outlook is not None and bool(outlook.unknown))
    return UNKNOWN_EXIT if unknown else 0
