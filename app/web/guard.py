"""The edge of the web server (issue 17): what every request meets before sign-in or Dash.

``Guard`` is a WSGI middleware in front of the whole application, whichever server runs it
(waitress for HTTP, cheroot for HTTPS):

- a ``Host`` that is not an allowed name → 400 (DNS rebinding: a page the desk's browser visits
  cannot read the dashboard through a name of its own that resolves to pmdesk);
- a ``Content-Length`` over the limit → 413, answered from the header alone: the body is never
  read (the connection is closed after the answer);
- every response, errors included, carries the security headers (``SECURITY_HEADERS``, with
  the Content-Security-Policy of ``content_security_policy``): no framing by another page, no
  MIME sniffing, no referrer.

``strict_callbacks`` makes Dash's callback route answer 400 with a short plain message to a
body that is not a well-formed callback request (``null``, ``{}``, ``[]``, not JSON, a callback
that does not exist, inputs that are not the callback's) instead of a 500 with a traceback. It
runs inside Flask's view, so after the sign-in check: an anonymous body is never read.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import dash
import flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1_048_576
"""The default request body limit: a Dash callback body is a few kilobytes."""

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
"""Always allowed as ``Host``, with any port."""

WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
"""Bind addresses that name no host (every interface)."""


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The policy: everything from pmdesk itself; inline scripts only those Dash renders,
    by their hash (``dash.Dash.csp_hashes``); ``'unsafe-eval'`` because Plotly's WebGL traces
    (History's ``scattergl``) compile their drawing code with ``Function`` (regl); inline
    styles allowed (React, Plotly and AG Grid set them); never framed, no ``<base>``, forms
    post only to pmdesk."""
    scripts = " ".join(["'self'", "'unsafe-eval'", *script_hashes])
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "frame-ancestors 'none'; "
        "base-uri 'none'; "
        "form-action 'self'"
    )


def security_headers(csp: str) -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", csp),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]


SECURITY_HEADERS = security_headers(content_security_policy())
"""The headers with the policy for responses that carry no Dash page (errors, assets)."""

_SECURITY_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)


def with_security_headers(
    headers: Iterable[tuple[str, str]], secure: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``headers`` with the security ones set (any the application set are replaced)."""
    return [(k, v) for k, v in headers if k.lower() not in _SECURITY_NAMES] + list(secure)


def normalize_host(name: str) -> str:
    """A host name or address as compared with a request's ``Host``: lower case, no trailing
    dot, an IPv6 address in brackets. ``ValueError`` for something that is not a host name."""
    text = name.strip().lower().rstrip(".")
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        address = None
    if address is not None:
        return f"[{address}]" if address.version == 6 else str(address)
    if (
        not text
        or len(text) > 253
        or not all(part and len(part) <= 63 for part in text.split("."))
        or not all(c.isalnum() or c in "-._" for c in text)
        or not text.isascii()
    ):
        raise ValueError(f"not a host name or address: {name!r}")
    return text


def allowed_hosts(bind_host: str, listed: Iterable[str] = ()) -> frozenset[str]:
    """The loopback names; the bound host when it names one, or this machine's own name when
    bound to every interface (0.0.0.0, ::) — a name no attacker's DNS controls; and the
    listed names. Each with any port."""
    names = set(LOOPBACK_NAMES)
    if bind_host.strip().lower() not in WILDCARD_BINDS:
        names.add(normalize_host(bind_host))
    else:
        with contextlib.suppress(ValueError):
            names.add(normalize_host(socket.gethostname()))
    names.update(normalize_host(n) for n in listed)
    return frozenset(names)


def request_host(value: str | None) -> str | None:
    """The host part of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``),
    normalized; None when it is absent or malformed."""
    if not value:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[: end + 1], value[end + 1 :]
    else:
        name, _, port = value.partition(":")
        rest = f":{port}" if _ else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6):
        return None
    try:
        return normalize_host(name)
    except ValueError:
        return None


class Guard:
    """WSGI middleware: allowed hosts, the body limit, the security headers (see the module)."""

    def __init__(
        self,
        app: WSGIApplication,
        hosts: frozenset[str],
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        csp: str | None = None,
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.max_body_bytes = max_body_bytes
        self.headers = security_headers(csp or content_security_policy())

    def _refuse(self, start_response: StartResponse, status: str, text: str) -> list[bytes]:
        """A short plain answer. No ``Connection`` header (PEP 3333: the server's): both servers
        close the connection after a 413 without reading the body."""
        body = f"pmdesk: {text}\n".encode()
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *self.headers,
        ]
        start_response(status, headers)
        return [body]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = request_host(environ.get("HTTP_HOST"))
        if host is None or host not in self.hosts:
            return self._refuse(start_response, "400 Bad Request", "unknown host")
        length = environ.get("CONTENT_LENGTH") or ""
        if length:
            if not length.isdigit():
                return self._refuse(start_response, "400 Bad Request", "bad Content-Length")
            if int(length) > self.max_body_bytes:
                return self._refuse(
                    start_response,
                    "413 Request Entity Too Large",
                    f"request body over {self.max_body_bytes} bytes",
                )

        def secured(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, with_security_headers(headers, self.headers), exc_info)

        return self.app(environ, secured)


# ---- the Dash application ----------------------------------------------------------------------
CALLBACK_ENDPOINT = "_dash-update-component"
SCRIPT_HASHES = "PMDESK_CSP_SCRIPT_HASHES"
"""Flask config key: the hashes of the inline scripts Dash renders (for the policy)."""


def protect_app(app: dash.Dash) -> None:
    """Once every callback is registered: strict callback bodies, and the inline scripts'
    hashes recorded for the Content-Security-Policy the server sends."""
    strict_callbacks(app)
    app.server.config[SCRIPT_HASHES] = list(app.csp_hashes())


class BadCallbackError(ValueError):
    """A callback request body that is not what pmdesk's page sends."""


def _is_pattern(spec_id: str) -> bool:
    return spec_id.startswith("{")


def _check_props(items: Any, specs: list[dict[str, Any]], what: str) -> None:
    """``items`` (the body's inputs or state) match the callback's ``specs`` one to one: the
    same ids and properties (pattern ids: a dict, or a list of dicts, with the property)."""
    if not isinstance(items, list) or len(items) != len(specs):
        raise BadCallbackError(f"{what}: expected a list of {len(specs)}")
    for item, spec in zip(items, specs, strict=True):
        prop = str(spec["property"])
        if _is_pattern(str(spec["id"])):
            group = item if isinstance(item, list) else [item]
            if not all(
                isinstance(g, dict) and isinstance(g.get("id"), dict) and g.get("property") == prop
                for g in group
            ):
                raise BadCallbackError(f"{what}: not the callback's {prop}")
        elif not (
            isinstance(item, dict) and item.get("id") == spec["id"] and item.get("property") == prop
        ):
            raise BadCallbackError(f"{what}: not the callback's {spec['id']}.{prop}")


def _check_outputs(outputs: Any, cb: dict[str, Any]) -> None:
    """``outputs`` are the callback's: one per declared output (a multi-output callback: a
    list), with its property (a pattern output: a dict, or a list of dicts)."""
    if cb.get("no_output"):
        return
    declared: Any = cb.get("output")
    multi = isinstance(declared, list | tuple)
    specs: list[Any] = list(declared) if multi else [declared]
    items = outputs if multi else [outputs]
    if not isinstance(items, list) or len(items) != len(specs):
        raise BadCallbackError(f"outputs: expected {len(specs)}")
    for item, spec in zip(items, specs, strict=True):
        prop = str(spec.component_property).split("@")[0]
        group = item if isinstance(item, list) else [item]
        if not all(
            isinstance(g, dict)
            and isinstance(g.get("id"), str | dict)
            and isinstance(g.get("property"), str)
            and g["property"].split("@")[0] == prop
            for g in group
        ):
            raise BadCallbackError(f"outputs: not the callback's {prop}")


def check_callback_body(body: Any, callback_map: dict[str, Any]) -> None:
    """``BadCallbackError`` unless ``body`` is a callback request as Dash's renderer sends it
    for one of the registered callbacks. The values themselves are the callbacks' to judge."""
    if not isinstance(body, dict):
        raise BadCallbackError("expected a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or "callback" not in callback_map.get(output, {}):
        raise BadCallbackError("no such callback")  # a clientside one runs in the browser
    cb = callback_map[output]
    _check_outputs(body.get("outputs"), cb)
    _check_props(body.get("inputs"), cb["inputs"], "inputs")
    _check_props(body.get("state", []), cb["state"], "state")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallbackError("changedPropIds: expected a list of strings")


def strict_callbacks(app: dash.Dash) -> None:
    """Dash's callback route answers 400 to a malformed body (see the module)."""
    server = app.server
    endpoint = app.config.routes_pathname_prefix + CALLBACK_ENDPOINT
    dispatch: Callable[..., Any] = server.view_functions[endpoint]

    def checked_dispatch(*args: Any, **kwargs: Any) -> Any:
        request = flask.request
        try:
            if not request.is_json:
                raise BadCallbackError("expected Content-Type application/json")
            try:
                body = json.loads(request.get_data(cache=True))
            except (ValueError, RecursionError):
                raise BadCallbackError("the body is not JSON") from None
            check_callback_body(body, app.callback_map)
        except BadCallbackError as err:
            log.info("refused a callback request from %s: %s", request.remote_addr, err)
            return flask.Response(
                f"pmdesk: bad callback request: {err}\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return dispatch(*args, **kwargs)

    server.view_functions[endpoint] = checked_dispatch
