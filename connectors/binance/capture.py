"""Captured directories: one raw response per endpoint, named after its path.

``/papi/v1/account`` → ``papi_v1_account.json`` (``/`` → ``_``, no leading ``_``), as the design
doc fixes; the klines the account needs in ``klines/``, one file per series
(``KlineKey.file_name()``, Binance's raw arrays, read keyless). Responses carry no secrets;
nothing else is written.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from connectors.binance.endpoints import (
    ASSET_INDEX_PRICE,
    BALANCE,
    CAPTURED,
    CM_POSITION_RISK,
    COLLATERAL_RATE_FLAT,
    COLLATERAL_RATE_TIERED,
    UM_POSITION_RISK,
)
from risk.market_history import KlineKey, KlineSeries, series_from_payload

KNOWN_PATHS: tuple[str, ...] = CAPTURED
"""Every payload a cycle reads (the registry's captured rows): ``pmdesk capture`` writes what
``client.fetch_payloads`` returns, and ``read_capture`` reads these files back."""
NEEDED: tuple[str, ...] = (BALANCE, ASSET_INDEX_PRICE, UM_POSITION_RISK, CM_POSITION_RISK)
"""Files an offline evaluation cannot do without (a missing positions file is never "no
positions"); at least one of the two collateral tables is needed too."""


class CaptureError(ValueError):
    """A captured file is unreadable; the message names the file."""


def file_name(path: str) -> str:
    return path.lstrip("/").replace("/", "_") + ".json"


def write_capture(directory: Path, payloads: dict[str, object]) -> list[Path]:
    """One file per path, mode 0600, in ``directory`` (made mode 0700 with any missing parent
    when it does not exist): a capture holds an account's balances and positions."""
    return _write(directory, {file_name(path): body for path, body in payloads.items()})


def _write(directory: Path, files: Mapping[str, object]) -> list[Path]:
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask
    written: list[Path] = []
    for name, body in files.items():
        target = directory / name
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)  # also when the file was there before
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(body, indent=1) + "\n")
        written.append(target)
    return written


KLINES_DIR = "klines"
"""A capture's klines: ``DIR/klines/<KlineKey.file_name()>``, Binance's raw arrays."""


def write_klines(directory: Path, klines: Mapping[KlineKey, object]) -> list[Path]:
    """One file per series under ``directory/klines`` (same modes as the capture)."""
    return _write(directory / KLINES_DIR, {k.file_name(): bars for k, bars in klines.items()})


def read_klines(directory: Path, keys: Sequence[KlineKey]) -> list[KlineSeries]:
    """The captured series of ``keys`` that exist under ``directory/klines``, parsed;
    CaptureError names a file that is not valid."""
    out: list[KlineSeries] = []
    for key in keys:
        f = directory / KLINES_DIR / key.file_name()
        if not f.exists():
            continue
        try:
            out.append(series_from_payload(key, json.loads(f.read_text())))
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            raise CaptureError(f"{f}: {exc}") from None
    return out


def needed_files(payloads: dict[str, object]) -> list[str]:
    """The needed paths missing from ``payloads`` (both collateral tables when neither is)."""
    missing = [p for p in NEEDED if p not in payloads]
    tables = (COLLATERAL_RATE_TIERED, COLLATERAL_RATE_FLAT)
    if not any(t in payloads for t in tables):
        missing += list(tables)
    return missing


def read_capture(directory: Path) -> dict[str, object]:
    """Every known endpoint's file that exists in ``directory``, parsed as JSON, keyed by path."""
    if not directory.is_dir():
        raise CaptureError(f"{directory}: not a directory")
    payloads: dict[str, object] = {}
    for path in KNOWN_PATHS:
        f = directory / file_name(path)
        if not f.exists():
            continue
        try:
            payloads[path] = json.loads(f.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CaptureError(f"{f}: not valid JSON ({exc})") from None
    return payloads
