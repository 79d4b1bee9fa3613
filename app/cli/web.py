"""The web UI a command serves: sign-in checked before anything starts, then Dash with
pmdesk's health and metrics routes under waitress, until interrupted."""

from __future__ import annotations

from app.config import Settings
from app.metrics import add_metrics_route
from app.server import (
    add_health_route,
    bound_url,
    check_binding,
    check_tls_files,
    is_unencrypted,
    make_http_server,
)
from app.store.store import Store
from app.web.app import create_app
from app.web.signin import SignIn, signin_from_settings
from app.web.view import SeverityBands


def web_users(settings: Settings) -> SignIn | None:
    """The web UI's sign-in (users, screens, session secret); checked before anything starts:
    a LAN bind without it is refused before a collector runs or a port listens."""
    users = signin_from_settings(settings)
    settings.metrics_token()  # a bad /metrics token file: one line before anything starts
    check_binding(
        settings.web.host,
        authenticated=users is not None,
        tls=check_tls_files(settings.web.tls_cert_file, settings.web.tls_key_file),
        insecure_http=settings.web.insecure_http,
    )
    return users


def serve_web(
    settings: Settings,
    store: Store,
    accounts: list[str],
    banner: str,
    users: SignIn | None,
) -> None:
    app = create_app(
        store,
        accounts,
        settings.web.stale_after_s,
        rules=settings.risk_rules(),
        kiosk_cycle_s=settings.web.kiosk_cycle_s,
        bands=SeverityBands(
            settings.risk.liquidation_critical_pct, settings.risk.liquidation_warn_pct
        ),
        unencrypted=is_unencrypted(settings.web.host, tls=settings.web.tls_cert_file is not None),
    )
    add_health_route(app.server, store, accounts, settings.web.stale_after_s)
    add_metrics_route(
        app.server, store, accounts, settings.web.stale_after_s, settings.metrics_token()
    )
    if users is not None:
        users.install(app.server)
    http = make_http_server(
        app.server,
        settings.web.host,
        settings.web.port,
        threads=settings.web.threads,
        authenticated=users is not None,
        tls_cert_file=settings.web.tls_cert_file,
        tls_key_file=settings.web.tls_key_file,
        insecure_http=settings.web.insecure_http,
        hosts=settings.web.allowed_hosts,
        max_request_body_bytes=settings.web.max_request_body_bytes,
    )
    signin = f", sign-in for {len(users.roster.users())} user(s)" if users else ""
    print(f"{banner}: dashboard at {bound_url(http)}{signin}", flush=True)
    try:
        http.run()
    except KeyboardInterrupt:
        pass
    finally:
        http.close()
