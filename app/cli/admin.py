"""The desk's housekeeping commands: ``export`` (history to CSV / Parquet), ``db upgrade``, and
the LAN sign-in's ``user`` and ``screen`` files."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from app.cli.common import CliError, command_settings, configured_names, open_store
from app.clock import now_ms
from app.config import Settings, load_settings, safe_db_url
from app.export import history_frame, parse_time, write_frame
from app.web.signin import screen_url
from app.web.users import (
    add_screen,
    add_user,
    default_screens_file,
    load_screens,
    load_users,
    remove_user,
    revoke_screen,
)


def cmd_export(args: argparse.Namespace) -> None:
    settings = command_settings(args)
    store = open_store(settings)
    until = now_ms() if args.until is None else parse_time(args.until)
    since = parse_time(args.since)
    account = args.account or configured_names(settings)[0]
    frame = history_frame(store, account, since, until, args.resolution)
    kind = write_frame(frame, args.out)
    print(f"{len(frame):,} rows of {account} ({args.resolution}) written to {args.out} ({kind})")


def cmd_db(args: argparse.Namespace) -> None:
    settings = command_settings(args)
    open_store(settings).close()
    print(f"store schema up to date at {safe_db_url(settings.store.url)}")


def _users_file(args: argparse.Namespace) -> tuple[Settings, Path]:
    settings = load_settings(
        args.config,
        read_keys=False,
        users_file=args.users_file,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )
    if settings.web.users_file is None:
        raise CliError("give --users-file FILE or set users_file (PMDESK_USERS_FILE)")
    return settings, settings.web.users_file


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
    path = args.screens_file or settings.web.screens_file or default_screens_file(users_file)
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
