"""Container health checks (docker-compose.yml): exit 0 when healthy, 1 otherwise.

``python -m app.healthcheck --store`` is the collector's: it has no web server, so it reads the
store as ``/healthz`` does — healthy while every configured account's newest data is at most
``stale_after_s`` old. It reads no API key (``read_keys=False``) and prints one line, no URL.
Web containers ask ``/healthz`` itself (the Dockerfile's HEALTHCHECK).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.clock import now_ms
from app.config import ConfigError, load_settings
from app.store.store import Store


def store_is_fresh() -> tuple[bool, str]:
    settings = load_settings(read_keys=False)
    names = [a.name for a in settings.accounts] or [settings.exchange.account]
    store = Store(settings.store.url)
    try:
        reports = {name: store.latest_report(name) for name in names}
    finally:
        store.close()
    now = now_ms()
    stale = [
        name
        for name, report in reports.items()
        if report is None or (now - report.data_time_ms) / 1000 > settings.web.stale_after_s
    ]
    if stale:
        return False, f"stale or no data: {', '.join(stale)}"
    return True, f"fresh: {', '.join(names)}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.healthcheck")
    parser.add_argument("--store", action="store_true", required=True, help="check the store")
    parser.parse_args(argv)
    try:
        healthy, line = store_is_fresh()
    except ConfigError as exc:
        healthy, line = False, str(exc)
    except Exception as exc:  # an unreachable store is unhealthy, in one line
        healthy, line = False, f"store cannot be read: {type(exc).__name__}"
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
