"""The long-running commands: ``demo``, ``run``, ``collect``, ``serve`` and ``simulator``."""

from __future__ import annotations

import argparse
import logging

from app.cli import web
from app.cli.collection import start_collection
from app.cli.common import (
    command_settings,
    configured_names,
    exchange_clients,
    open_store,
    wait_forever,
)
from connectors.binance.client import make_client
from connectors.simulator.scenarios import SCENARIOS
from connectors.simulator.server import Simulator, SimulatorServer
from connectors.simulator.wsgi import CONTROL_PREFIX

log = logging.getLogger("pmdesk")


def cmd_demo(args: argparse.Namespace) -> None:
    settings = command_settings(args)
    users = web.web_users(settings)
    presets: list[str] = args.preset or ["basis"]
    accounts = {f"sim-{p}": p for p in dict.fromkeys(presets)}
    sim_server = SimulatorServer(Simulator(accounts=accounts, scenario=args.scenario)).start()
    sim = sim_server.simulator
    store = open_store(settings)
    clients = [
        (a.name, make_client(a.api_key, a.api_secret, sim_server.base_url)) for a in sim.accounts
    ]
    stop = start_collection(
        settings,
        store,
        clients,
        sim_server.um_stream_url,
        sim_server.cm_stream_url,
        sim_server.pm_stream_url,
    )
    print(
        f"pmdesk demo: simulator ({', '.join(accounts.values())}; scenario {args.scenario}) "
        f"at {sim_server.base_url}",
        flush=True,
    )
    print(f"  switch scenario: {_scenario_hint(sim_server.base_url)}", flush=True)
    try:
        web.serve_web(settings, store, list(accounts), "pmdesk demo", users)
    finally:
        stop()
        sim_server.stop()


def _scenario_hint(base_url: str) -> str:
    return f"curl -X POST '{base_url}{CONTROL_PREFIX}/scenario?name=" + "|".join(SCENARIOS) + "'"


def cmd_run(args: argparse.Namespace) -> None:
    settings = command_settings(args, keys=True)
    users = web.web_users(settings)
    clients = exchange_clients(settings)
    store = open_store(settings)
    stop = start_collection(settings, store, clients)
    try:
        web.serve_web(settings, store, [name for name, _ in clients], "pmdesk run", users)
    finally:
        stop()


def cmd_collect(args: argparse.Namespace) -> None:
    settings = command_settings(args, keys=True)
    stop = start_collection(settings, open_store(settings), exchange_clients(settings))
    try:
        wait_forever()
    finally:
        stop()


def cmd_serve(args: argparse.Namespace) -> None:
    settings = command_settings(args)  # keys=False: serve never opens a key file nor keeps a key
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
    users = web.web_users(settings)
    store = open_store(settings)
    web.serve_web(settings, store, configured_names(settings), "pmdesk serve", users)


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
        wait_forever()
    finally:
        server.stop()
