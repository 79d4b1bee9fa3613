"""What every ``pmdesk`` command builds on: its settings, the store, the exchange clients, and
the one-line error every failure ends in."""

from __future__ import annotations

import argparse
import contextlib
import threading

from app.config import Settings, account_keys, load_settings
from app.store.store import Store
from connectors.binance.client import Client, make_client


class CliError(Exception):
    """A failure to report in one line."""


def command_settings(args: argparse.Namespace, *, keys: bool = False) -> Settings:
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


def open_store(settings: Settings) -> Store:
    store = Store(settings.store.url, settings.store.max_mb)
    store.create_schema()
    return store


def exchange_clients(settings: Settings) -> list[tuple[str, Client]]:
    """One python-binance client per configured account."""
    return [
        (
            k.name,
            make_client(
                k.api_key.get_secret_value(),
                k.api_secret.get_secret_value(),
                settings.exchange.base_url,
            ),
        )
        for k in account_keys(settings)
    ]


def one_client(settings: Settings, account: str | None) -> Client:
    """The client of one account: the only one, or the one named with ``--account``."""
    clients = dict(exchange_clients(settings))
    if account is not None:
        if account not in clients:
            raise CliError(f"no account {account!r}; configured: {', '.join(clients)}")
        return clients[account]
    if len(clients) > 1:
        raise CliError(
            f"several accounts configured ({', '.join(clients)}): choose one with --account NAME"
        )
    return next(iter(clients.values()))


def configured_names(settings: Settings) -> list[str]:
    return [a.name for a in settings.accounts] or [settings.exchange.account]


def wait_forever() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
