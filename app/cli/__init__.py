"""``pmdesk``: the command line. Every failure ends in one clear line on stderr and exit code 2.

The commands live by concern: ``serving.py`` (demo, run, collect, serve, simulator; with
``collection.py`` and ``web.py``), ``exchange.py`` (check-key, capture, risk), ``admin.py``
(export, db, user, screen); ``common.py`` holds what they share.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from app.allocator import Trimmer, keep_freed_memory
from app.cli.admin import cmd_db, cmd_export, cmd_screen, cmd_user
from app.cli.collection import start_collection
from app.cli.common import CliError, command_settings
from app.cli.exchange import cmd_capture, cmd_check_key, cmd_risk
from app.cli.serving import cmd_collect, cmd_demo, cmd_run, cmd_serve, cmd_simulator
from app.config import ConfigError
from app.export import RESOLUTIONS, ROWS, ExportError
from app.server import LanBindingRefusedError
from app.store.store import StoreSchemaError
from app.web.users import ROLES
from connectors.binance.capture import CaptureError
from connectors.binance.errors import BadPayload
from connectors.binance.keycheck import OVERRIDE_FLAG
from connectors.simulator.presets import PRESETS
from connectors.simulator.scenarios import SCENARIOS

# Names other code imports from here under their old names (bench/, tests/).
_settings = command_settings
_start_collection = start_collection

__all__ = ["CliError", "_settings", "_start_collection", "build_parser", "main"]


# ---- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmdesk",
        description="Live risk monitor for Binance Portfolio Margin accounts (read-only).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(
        name: str,
        helptext: str,
        fn: Callable[[argparse.Namespace], int | None],
        *,
        web: bool = True,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--config", type=Path, metavar="FILE", help="TOML settings file")
        if web:
            p.add_argument("--host", help="address to bind (default 127.0.0.1)")
            p.add_argument("--port", type=int, help="port (web default 8050; 0 = any free port)")
        p.set_defaults(func=fn)
        return p

    presets = sorted(PRESETS)
    demo = command("demo", "simulator + collector + web UI in one process", cmd_demo)
    demo.add_argument(
        "--preset",
        choices=presets,
        action="append",
        help="simulated account (default basis); repeat for several accounts",
    )
    demo.add_argument(
        "--scenario", choices=list(SCENARIOS), default="calm", help="market scenario at start"
    )
    run = command("run", "collector + web UI against the configured exchange", cmd_run)
    collect = command("collect", "collector only", cmd_collect, web=False)
    check_key = command("check-key", "report what the configured API key can do", cmd_check_key)
    serve = command("serve", "web UI only, reading the store", cmd_serve)
    for p in (demo, run, serve):
        p.add_argument(
            "--insecure-http",
            action="store_true",
            help="serve beyond loopback over plain HTTP, without tls_cert_file/tls_key_file "
            "(every screen then shows UNENCRYPTED)",
        )
    simulator = sub.add_parser(
        "simulator",
        help="the Binance-compatible simulator alone",
        description="the Binance-compatible simulator alone",
    )
    simulator.add_argument("--host", default="127.0.0.1", help="address to bind")
    simulator.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    simulator.add_argument("--preset", choices=presets, default="basis", help="simulated account")
    simulator.add_argument(
        "--scenario", choices=list(SCENARIOS), default="calm", help="market scenario at start"
    )
    simulator.add_argument("--api-key", help="the key it accepts (printed at start if not given)")
    simulator.add_argument("--api-secret", help="the secret it accepts")
    simulator.set_defaults(func=cmd_simulator)
    capture = command(
        "capture", "write one raw response per endpoint to DIR", cmd_capture, web=False
    )
    capture.add_argument("dir", type=Path, metavar="DIR")
    for p in (check_key, capture):
        p.add_argument("--account", metavar="NAME", help="which configured account (if several)")
    for p in (run, collect, check_key, capture):
        p.add_argument(
            OVERRIDE_FLAG,
            dest="allow_key_that_can_trade",
            action="store_true",
            help="use a key that can trade, withdraw or transfer (NOT recommended)",
        )
    risk = command("risk", "evaluate a captured directory offline", cmd_risk, web=False)
    risk.add_argument("dir", type=Path, metavar="DIR")
    risk.add_argument("--json", action="store_true", help="print the whole report as JSON")
    risk.add_argument(
        "--outlook", action="store_true", help="add P(liquidation) over 1 h, 8 h, 24 h"
    )
    risk.add_argument(
        "--vol", action="append", metavar="ASSET=ANNUALISED", help="volatility, e.g. BTC=0.8"
    )
    risk.add_argument("--model", choices=["fhs", "gbm"], default="fhs", help="outlook model")
    risk.add_argument("--paths", type=int, default=10_000, help="outlook paths")
    risk.add_argument("--seed", type=int, default=20, help="outlook random seed")
    export = command("export", "history of an account to CSV or Parquet", cmd_export, web=False)
    export.add_argument("out", type=Path, metavar="FILE", help="FILE.csv or FILE.parquet")
    export.add_argument("--account", metavar="NAME", help="which account (default: the first)")
    export.add_argument("--since", required=True, help="start, ISO UTC (e.g. 2026-11-01)")
    export.add_argument("--until", help="end, ISO UTC (default: now)")
    export.add_argument(
        "--resolution",
        choices=[*RESOLUTIONS, *ROWS],
        default="reports",
        help="every stored report; 1m / 10m / 1h buckets with their worst point; or every "
        "report's positions / asset balances, a line each",
    )
    user = command("user", "web UI users (LAN sign-in): add, remove, list", cmd_user, web=False)
    user.add_argument(
        "action",
        choices=["add", "remove", "list"],
        help="add: add or replace a user (a replaced user's sessions end); remove; list: names "
        "and roles",
    )
    user.add_argument("name", metavar="NAME", nargs="?")
    user.add_argument(
        "--role",
        choices=ROLES,
        default="operator",
        help="viewer: sees everything, acknowledges nothing; operator (default): also "
        "acknowledges alerts; admin: also removes users and revokes screens at /admin",
    )
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    screen = command("screen", "wall screens that sign in by a link: add, revoke, list", cmd_screen)
    screen.add_argument(
        "action",
        choices=["add", "revoke", "list"],
        help="add: a new screen (or a new link for it; the old one stops working) and print "
        "its link; revoke: the link stops working at the screen's next request; list",
    )
    screen.add_argument("name", metavar="NAME", nargs="?")
    screen.add_argument(
        "--screens-file", type=Path, metavar="FILE", help="default: 'screens' beside users_file"
    )
    for p in (user, screen):
        p.add_argument("--users-file", type=Path, metavar="FILE", help="the users file")
    db = command("db", "store maintenance", cmd_db, web=False)
    db.add_argument("action", choices=["upgrade"], help="upgrade: create or update the schema")
    return parser


LONG_RUNNING = frozenset({"demo", "run", "collect", "serve", "simulator"})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # before the first evaluation and the first thread: app/allocator.py
    if args.command in LONG_RUNNING:
        Trimmer().start()  # days of running: free pages go back to the kernel every minute
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        status = args.func(args)
    except (
        ConfigError,
        CliError,
        CaptureError,
        BadPayload,
        LanBindingRefusedError,
        StoreSchemaError,
        ExportError,
    ) as exc:
        print(f"pmdesk: error: {exc}", file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0
