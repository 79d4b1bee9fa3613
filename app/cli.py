"""``pmdesk``: the command line. Every failure ends in one clear line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from binance.client import Client

from app.alerts.notify import Notifier
from app.alerts.watch import AlertWatch
from app.allocator import keep_freed_memory
from app.clock import now_ms
from app.collector.collector import SERVER_TIME_PATH, Collector
from app.collector.feed import classify
from app.collector.gate import IpGate
from app.collector.marks_hub import MarkHub
from app.config import (
    ConfigError,
    Settings,
    account_keys,
    load_settings,
    safe_db_url,
)
from app.export import RESOLUTIONS, ROWS, ExportError, history_frame, parse_time, write_frame
from app.metrics import add_metrics_route
from app.report_text import describe_report
from app.server import (
    LanBindingRefusedError,
    add_health_route,
    bound_url,
    check_binding,
    check_tls_files,
    is_unencrypted,
    make_http_server,
)
from app.store.retention import Pruned
from app.store.store import Store, StoreSchemaError
from app.web.app import create_app
from app.web.signin import SignIn, screen_url, signin_from_settings
from app.web.users import (
    ROLES,
    add_screen,
    add_user,
    default_screens_file,
    load_screens,
    load_users,
    remove_user,
    revoke_screen,
)
from app.web.view import SeverityBands
from connectors.binance.capture import (
    CaptureError,
    file_name,
    needed_files,
    read_capture,
    write_capture,
)
from connectors.binance.client import (
    ENDPOINTS,
    SLOW_PATHS,
    EndpointError,
    RetryPolicy,
    call,
    fetch_payloads,
    make_client,
    read_key_permissions,
    server_time_offset_ms,
)
from connectors.binance.keycheck import OVERRIDE_FLAG, KeyVerdict, judge
from connectors.binance.limits import min_poll_interval_s
from connectors.binance.parse import (
    CM_LEVERAGE_BRACKET,
    UM_LEVERAGE_BRACKET,
    KeyPermissions,
    PayloadError,
    snapshot_from_payloads,
)
from connectors.simulator.book import PRESETS
from connectors.simulator.scenarios import SCENARIOS
from connectors.simulator.server import CONTROL_PREFIX, Simulator, SimulatorServer
from risk import evaluate
from risk.serialize import report_to_dict

log = logging.getLogger("pmdesk")


class CliError(Exception):
    """A failure to report in one line."""


# ---- building blocks ------------------------------------------------------------------------
def _settings(args: argparse.Namespace, *, keys: bool = False) -> Settings:
    """The settings of a command. Only the commands that call the exchange (``keys=True``:
    run, collect, check-key, capture) read an API key; every other one never opens a key file
    and holds no key (issue 17: web workers on the LAN never hold the exchange keys)."""
    return load_settings(
        args.config,
        read_keys=keys,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        allow_key_that_can_trade=getattr(args, "allow_key_that_can_trade", None) or None,
        insecure_http=getattr(args, "insecure_http", None) or None,
    )


def _open_store(settings: Settings) -> Store:
    store = Store(settings.db_url, settings.store_max_mb)
    store.create_schema()
    return store


def _exchange_clients(settings: Settings) -> list[tuple[str, Client]]:
    """One python-binance client per configured account."""
    return [
        (
            k.name,
            make_client(
                k.api_key.get_secret_value(),
                k.api_secret.get_secret_value(),
                settings.exchange_base_url,
            ),
        )
        for k in account_keys(settings)
    ]


def _one_client(settings: Settings, account: str | None) -> Client:
    """The client of one account: the only one, or the one named with ``--account``."""
    clients = dict(_exchange_clients(settings))
    if account is not None:
        if account not in clients:
            raise CliError(f"no account {account!r}; configured: {', '.join(clients)}")
        return clients[account]
    if len(clients) > 1:
        raise CliError(
            f"several accounts configured ({', '.join(clients)}): choose one with --account NAME"
        )
    return next(iter(clients.values()))


def _start_collection(
    settings: Settings,
    store: Store,
    accounts: list[tuple[str, Client]],
    um_stream_url: str | None = None,
    cm_stream_url: str | None = None,
) -> Callable[[], None]:
    """One collector job per account, all sharing the IP's weight budget and one mark-price
    hub; a thread each, so one slow or failing account never holds up the others."""
    scheduler = BackgroundScheduler(
        timezone="UTC", executors={"default": ThreadPoolExecutor(len(accounts) + 3)}
    )
    # Keep the planned weight under half of every per-IP budget (limits.SHARE).
    floor = min_poll_interval_s(frozenset(ENDPOINTS) - SLOW_PATHS, accounts=len(accounts))
    interval = max(settings.poll_interval_s, floor)
    if interval > settings.poll_interval_s:
        log.warning(
            "poll interval raised from %.1f s to %.1f s to stay under half the API weight limit",
            settings.poll_interval_s,
            interval,
        )
    if settings.allow_key_that_can_trade:
        log.warning("%s given: a key that can trade will be accepted", OVERRIDE_FLAG)
    gate = IpGate()
    hub = MarkHub(
        accounts[0][1],
        um_stream_url or settings.um_stream_url,
        cm_stream_url or settings.cm_stream_url,
        now_ms,
        gate=gate,
        fallback_interval_s=settings.mark_fallback_interval_s,
    )
    watch, notifier = _start_alerts(settings, store, [name for name, _ in accounts])
    watch.schedule(scheduler)
    for name, client in accounts:
        Collector(
            store,
            client,
            settings.risk_rules(),
            name,
            gate=gate,
            allow_unsafe_key=settings.allow_key_that_can_trade,
            hub=hub,
            frozen_after_s=settings.frozen_after_s,
            positions_max_age_s=settings.stale_after_s,
            watch=watch,
        ).schedule(scheduler, interval)
    hub.schedule(scheduler)
    _schedule_retention(scheduler, store, settings)
    scheduler.start()
    log.info(
        "collecting %s every %.1f s; mark prices streamed between polls",
        ", ".join(name for name, _ in accounts),
        interval,
    )

    def stop() -> None:
        scheduler.shutdown(wait=False)
        hub.stop()
        if notifier is not None:
            notifier.stop()

    return stop


def _start_alerts(
    settings: Settings, store: Store, accounts: list[str]
) -> tuple[AlertWatch, Notifier | None]:
    """The alert watch of these accounts, and the notifier when ``notify_urls`` are set."""
    urls = [u.get_secret_value() for u in settings.notify_urls]
    notifier = None
    if urls:
        try:
            notifier = Notifier(urls, store.alerts, now_ms).start()
        except ValueError as exc:
            raise CliError(str(exc)) from None
        log.info("alerts are sent to %s", ", ".join(notifier.labels))
    return AlertWatch(store.alerts, settings.alert_rules(accounts), now_ms, notifier), notifier


def _schedule_retention(scheduler: BackgroundScheduler, store: Store, settings: Settings) -> None:
    """Retention on its own thread, in small transactions: collection never waits for it."""
    keep = settings.retention()

    def prune() -> None:
        try:
            done = store.prune(keep, now_ms())
        except Exception:  # logged; retried at the next run, collection goes on
            log.exception("retention failed; will retry in %.0f s", settings.prune_interval_s)
            return
        if done != Pruned():
            log.info("retention: %s", done)

    scheduler.add_job(
        prune,
        "interval",
        seconds=settings.prune_interval_s,
        id="retention",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC) + timedelta(seconds=60),
    )


def _web_users(settings: Settings) -> SignIn | None:
    """The web UI's sign-in (users, screens, session secret); checked before anything starts:
    a LAN bind without it is refused before a collector runs or a port listens."""
    users = signin_from_settings(settings)
    settings.metrics_token()  # a bad /metrics token file: one line before anything starts
    check_binding(
        settings.host,
        authenticated=users is not None,
        tls=check_tls_files(settings.tls_cert_file, settings.tls_key_file),
        insecure_http=settings.insecure_http,
    )
    return users


def _serve_web(
    settings: Settings,
    store: Store,
    accounts: list[str],
    banner: str,
    users: SignIn | None,
) -> None:
    app = create_app(
        store,
        accounts,
        settings.stale_after_s,
        rules=settings.risk_rules(),
        kiosk_cycle_s=settings.kiosk_cycle_s,
        bands=SeverityBands(settings.liquidation_critical_pct, settings.liquidation_warn_pct),
        unencrypted=is_unencrypted(settings.host, tls=settings.tls_cert_file is not None),
    )
    add_health_route(app.server, store, accounts, settings.stale_after_s)
    add_metrics_route(app.server, store, accounts, settings.stale_after_s, settings.metrics_token())
    if users is not None:
        users.install(app.server)
    http = make_http_server(
        app.server,
        settings.host,
        settings.port,
        threads=settings.web_threads,
        authenticated=users is not None,
        tls_cert_file=settings.tls_cert_file,
        tls_key_file=settings.tls_key_file,
        insecure_http=settings.insecure_http,
        hosts=settings.allowed_hosts,
        max_request_body_bytes=settings.max_request_body_bytes,
    )
    signin = f", sign-in for {len(users.roster.users())} user(s)" if users else ""
    print(f"{banner}: dashboard at {bound_url(http)}{signin}", flush=True)
    try:
        http.run()
    except KeyboardInterrupt:
        pass
    finally:
        http.close()


def _configured_names(settings: Settings) -> list[str]:
    return [a.name for a in settings.accounts] or [settings.account]


def _wait_forever() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


# ---- commands ---------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> None:
    settings = _settings(args)
    users = _web_users(settings)
    presets: list[str] = args.preset or ["basis"]
    accounts = {f"sim-{p}": p for p in dict.fromkeys(presets)}
    sim_server = SimulatorServer(Simulator(accounts=accounts, scenario=args.scenario)).start()
    sim = sim_server.simulator
    store = _open_store(settings)
    clients = [
        (a.name, make_client(a.api_key, a.api_secret, sim_server.base_url)) for a in sim.accounts
    ]
    stop = _start_collection(
        settings, store, clients, sim_server.um_stream_url, sim_server.cm_stream_url
    )
    print(
        f"pmdesk demo: simulator ({', '.join(accounts.values())}; scenario {args.scenario}) "
        f"at {sim_server.base_url}",
        flush=True,
    )
    print(f"  switch scenario: {_scenario_hint(sim_server.base_url)}", flush=True)
    try:
        _serve_web(settings, store, list(accounts), "pmdesk demo", users)
    finally:
        stop()
        sim_server.stop()


def _scenario_hint(base_url: str) -> str:
    return f"curl -X POST '{base_url}{CONTROL_PREFIX}/scenario?name=" + "|".join(SCENARIOS) + "'"


def cmd_run(args: argparse.Namespace) -> None:
    settings = _settings(args, keys=True)
    users = _web_users(settings)
    clients = _exchange_clients(settings)
    store = _open_store(settings)
    stop = _start_collection(settings, store, clients)
    try:
        _serve_web(settings, store, [name for name, _ in clients], "pmdesk run", users)
    finally:
        stop()


def cmd_collect(args: argparse.Namespace) -> None:
    settings = _settings(args, keys=True)
    stop = _start_collection(settings, _open_store(settings), _exchange_clients(settings))
    try:
        _wait_forever()
    finally:
        stop()


def cmd_serve(args: argparse.Namespace) -> None:
    settings = _settings(args)  # keys=False: serve never opens a key file nor keeps a key
    ignored = settings.ignored_key_settings()
    if ignored:
        # Warn, not refuse: one config file often serves `collect` and `serve` on one host
        # (its [[accounts]] name the key files and the accounts serve shows), and serve reads
        # none of them. A deployment should still keep keys away from web workers.
        log.warning(
            "pmdesk serve ignores the API key settings (%s): the web UI never reads a key; "
            "remove them from the web workers' settings",
            ", ".join(ignored),
        )
    users = _web_users(settings)
    store = _open_store(settings)
    _serve_web(settings, store, _configured_names(settings), "pmdesk serve", users)


def cmd_simulator(args: argparse.Namespace) -> None:
    sim = Simulator(
        preset=args.preset,
        api_key=args.api_key,
        api_secret=args.api_secret,
        scenario=args.scenario,
    )
    server = SimulatorServer(sim, host=args.host, port=args.port or 0).start()
    print(f"pmdesk simulator ({args.preset}; scenario {args.scenario}) at {server.base_url}")
    print(f"  PMDESK_UM_STREAM_URL={server.um_stream_url}")
    print(f"  PMDESK_CM_STREAM_URL={server.cm_stream_url}")
    print(f"  switch scenario: {_scenario_hint(server.base_url)}", flush=True)
    if args.api_key is None or args.api_secret is None:
        # The simulator's own throwaway pair, never a Binance key.
        print(f"  PMDESK_EXCHANGE_BASE_URL={server.base_url}", flush=True)
        print(f"  PMDESK_API_KEY={sim.api_key}", flush=True)
        print(f"  PMDESK_API_SECRET={sim.api_secret}", flush=True)
    try:
        _wait_forever()
    finally:
        server.stop()


def _permissions(client: Client) -> KeyPermissions:
    """The key's permissions, read after measuring the exchange's clock (a signed request from
    a machine whose clock is off is refused with -1021, as the collector knows)."""
    try:
        client.timestamp_offset = call(
            client, SERVER_TIME_PATH, server_time_offset_ms, RetryPolicy()
        )
        return read_key_permissions(client)
    except EndpointError as exc:
        raise CliError(f"cannot read the key's permissions: {classify(exc).message}") from None


def _verdict(settings: Settings, client: Client) -> KeyVerdict:
    return judge(_permissions(client), allow_unsafe=settings.allow_key_that_can_trade)


def cmd_check_key(args: argparse.Namespace) -> None:
    settings = _settings(args, keys=True)
    perms = _permissions(_one_client(settings, args.account))
    verdict = judge(perms, allow_unsafe=settings.allow_key_that_can_trade)
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
    settings = _settings(args, keys=True)
    client = _one_client(settings, args.account)
    verdict = _verdict(settings, client)
    if not verdict.acceptable:
        raise CliError("key refused: " + "; ".join(verdict.problems))
    fetched = fetch_payloads(client)
    for written in write_capture(args.dir, fetched.payloads):
        print(written)


UNKNOWN_EXIT = 3
"""``pmdesk risk``: exit status when some figure is UNKNOWN (the report still prints)."""


def cmd_risk(args: argparse.Namespace) -> int:
    settings = _settings(args)
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
    report = evaluate(snapshot, market, settings.risk_rules())
    body = report_to_dict(report)
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(describe_report(report))
    return UNKNOWN_EXIT if report.state == "UNKNOWN" else 0


def cmd_export(args: argparse.Namespace) -> None:
    settings = _settings(args)
    store = _open_store(settings)
    until = now_ms() if args.until is None else parse_time(args.until)
    since = parse_time(args.since)
    account = args.account or _configured_names(settings)[0]
    frame = history_frame(store, account, since, until, args.resolution)
    kind = write_frame(frame, args.out)
    print(f"{len(frame):,} rows of {account} ({args.resolution}) written to {args.out} ({kind})")


def _users_file(args: argparse.Namespace) -> tuple[Settings, Path]:
    settings = load_settings(
        args.config,
        read_keys=False,
        users_file=args.users_file,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )
    if settings.users_file is None:
        raise CliError("give --users-file FILE or set users_file (PMDESK_USERS_FILE)")
    return settings, settings.users_file


def cmd_user(args: argparse.Namespace) -> None:
    _, path = _users_file(args)
    if args.action == "list":
        for user in load_users(path).values():
            print(f"{user.name}\t{user.role}")
        return
    if args.name is None:
        raise CliError(f"pmdesk user {args.action} NAME: give the user's name")
    if args.action == "remove":
        remove_user(path, args.name)
        print(f"user {args.name} removed from {path}; their sessions end at their next request")
        return
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the two passwords differ; nothing written")
    add_user(path, args.name, password, args.role)
    print(f"user {args.name} ({args.role}) saved in {path} (hashed, mode 0600)")


def cmd_screen(args: argparse.Namespace) -> None:
    settings, users_file = _users_file(args)
    path = args.screens_file or settings.screens_file or default_screens_file(users_file)
    if args.action == "list":
        for name in load_screens(path):
            print(name)
        return
    if args.name is None:
        raise CliError(f"pmdesk screen {args.action} NAME: give the screen's name")
    if args.action == "revoke":
        revoke_screen(path, args.name)
        print(f"screen {args.name} revoked in {path}; it is signed out at its next request")
        return
    token = add_screen(path, args.name)
    print(f"screen {args.name} saved in {path} (its token's SHA-256 only, mode 0600).")
    print("Open this link on the screen (once; keep it private, it signs in as a viewer;")
    print(f"add ?kiosk=1 for the kiosk). Revoke with: pmdesk screen revoke {args.name}")
    print(screen_url(settings, token))


def cmd_db(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _open_store(settings).close()
    print(f"store schema up to date at {safe_db_url(settings.db_url)}")


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # before the first evaluation: see app/allocator.py
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
        PayloadError,
        LanBindingRefusedError,
        StoreSchemaError,
        ExportError,
    ) as exc:
        print(f"pmdesk: error: {exc}", file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
