"""Tampered callback requests (issue 17): every server callback of the dashboard, fed values
the page never sends — a string where a number goes, an acknowledge id ``abc``, a dict for an
account — in well-formed requests, answers without a 500 and without an error in the log; the
named ones refuse in words or not at all (no update). Malformed bodies are the edge's 400."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.store.store import Store
from app.web.app import create_app
from app.web.guard import BadCallbackError, check_callback_body
from connectors.simulator.clock import ManualClock

TAMPERED: list[Any] = ["abc", None, -1, 0, {}, [], 1e308, True, [1, "x"], {"a": 1}, "", "1,2,x"]
VIEWS = ["overview", "whatif", "alerts", "history", "liabilities", "stress", "positions"]
PATTERN_VALUES: list[Any] = ["abc", 5, "1", None, {"x": 1}]


@pytest.fixture
def dashboard(store: Store, clock: ManualClock) -> Iterator[tuple[Any, FlaskClient]]:
    at = clock.now_ms()
    store.alerts.open("sim-basis", "uni_mmr", "critical", "below 1.6", "1.20", "add", 1.2, at)
    app = create_app(store, ["sim-basis", "other"], 10.0, clock=clock.now_ms)
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    yield app, client


def _concrete(spec_id: str, value: Any) -> Any:
    """A pattern id (``{"type": "alert-ack", "ids": ["ALL"]}``) with ``value`` in the wildcard."""
    if not spec_id.startswith("{"):
        return spec_id
    return {k: (value if isinstance(v, list) else v) for k, v in json.loads(spec_id).items()}


def _item(spec: dict[str, Any], value: Any, pattern: Any) -> Any:
    spec_id = str(spec["id"])
    item = {"id": _concrete(spec_id, pattern), "property": spec["property"], "value": value}
    return [item] if '["ALL"]' in spec_id else item


def _prop_id(spec: dict[str, Any], pattern: Any) -> str:
    concrete = _concrete(str(spec["id"]), pattern)
    if isinstance(concrete, dict):
        concrete = json.dumps(concrete, separators=(",", ":"), sort_keys=True)
    return f"{concrete}.{spec['property']}"


def _outputs(cb: dict[str, Any], pattern: Any) -> Any:
    declared = cb["output"]
    multi = isinstance(declared, list | tuple)
    out = []
    for o in declared if multi else [declared]:
        cid = o.component_id
        if isinstance(cid, dict):
            item = {"id": _concrete(json.dumps(cid), pattern), "property": o.component_property}
            out.append([item] if "ALL" in str(cid) else item)
        else:
            out.append({"id": cid, "property": o.component_property})
    return out if multi else out[0]


def _bodies(app: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(callback, what was tampered, body): each input or state in turn holds each tampered
    value while the others hold plain ones (the view each of several, the account real)."""
    plain = {"account.value": "sim-basis", "url.search": "?account=sim-basis"}
    for name, cb in app.callback_map.items():
        if "callback" not in cb:
            continue  # clientside: runs in the browser
        specs = cb["inputs"] + cb["state"]
        n_inputs = len(cb["inputs"])
        for i, spec in enumerate(specs):
            for value in TAMPERED:
                for view in VIEWS:
                    for pattern in PATTERN_VALUES if str(spec["id"]).startswith("{") else ["1"]:
                        values = [
                            value
                            if j == i
                            else (view if f"{s['id']}.{s['property']}" == "view.value" else None)
                            if f"{s['id']}.{s['property']}" not in plain
                            else plain[f"{s['id']}.{s['property']}"]
                            for j, s in enumerate(specs)
                        ]
                        body = {
                            "output": name,
                            "outputs": _outputs(cb, pattern),
                            "inputs": [
                                _item(s, values[j], pattern) for j, s in enumerate(cb["inputs"])
                            ],
                            "state": [
                                _item(s, values[n_inputs + j], pattern)
                                for j, s in enumerate(cb["state"])
                            ],
                            "changedPropIds": [
                                _prop_id(cb["inputs"][min(i, n_inputs - 1)], pattern)
                            ],
                        }
                        check_callback_body(body, app.callback_map)  # well-formed
                        yield name, f"{spec['id']}.{spec['property']}={value!r}", body


def test_no_tampered_value_gives_a_500(
    dashboard: tuple[Any, FlaskClient], caplog: pytest.LogCaptureFixture
) -> None:
    app, client = dashboard
    caplog.set_level(logging.WARNING)
    failures = []
    tried = 0
    for name, what, body in _bodies(app):
        tried += 1
        answer = client.post("/_dash-update-component", json=body)
        if answer.status_code not in (200, 204):
            failures.append(f"{answer.status_code} {name[:60]} {what}")
    assert tried > 5000
    assert not failures, "\n".join(failures[:20])
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[:2000]


def test_the_acknowledge_id_abc_acknowledges_nothing(
    dashboard: tuple[Any, FlaskClient], store: Store
) -> None:
    _app, client = dashboard
    for ids in ("abc", "", "1x", "²", None, 5.5, "-1"):
        body = {
            "output": "alerts-state.data@" + _ack_hash(_app),
            "outputs": {"id": "alerts-state", "property": "data@" + _ack_hash(_app)},
            "inputs": [
                [{"id": {"type": "alert-ack", "ids": ids}, "property": "n_clicks", "value": 1}]
            ],
            "state": [],
            "changedPropIds": [
                json.dumps({"ids": ids, "type": "alert-ack"}, separators=(",", ":")) + ".n_clicks"
            ],
        }
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 204, (ids, answer.status_code)
    assert all(a.acked_at_ms is None for a in store.alerts.active())


def _ack_hash(app: Any) -> str:
    (name,) = [
        n
        for n, cb in app.callback_map.items()
        if n.startswith("alerts-state.data@")
        and any(
            str(i["id"]).startswith("{") and json.loads(i["id"]).get("type") == "alert-ack"
            for i in cb["inputs"]
        )
    ]
    return str(name.split("@", 1)[1])


def test_a_string_amount_is_said_in_words(dashboard: tuple[Any, FlaskClient]) -> None:
    app, client = dashboard
    (name,) = [n for n in app.callback_map if "whatif-error.children" in n]
    cb = app.callback_map[name]
    values: dict[str, Any] = {
        "whatif-add.n_clicks": 1,
        "whatif-clear.n_clicks": None,
        "whatif-kind.value": "UM",
        "whatif-side.value": "BOTH",
        "whatif-name.value": "BTCUSDT",
        "whatif-amount.value": "1000",
        "whatif-changes.data": [],
    }

    def item(s: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": s["id"],
            "property": s["property"],
            "value": values[f"{s['id']}.{s['property']}"],
        }

    body = {
        "output": name,
        "outputs": _outputs(cb, None),
        "inputs": [item(s) for s in cb["inputs"]],
        "state": [item(s) for s in cb["state"]],
        "changedPropIds": ["whatif-add.n_clicks"],
    }
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200
    response = answer.get_json()["response"]
    assert response["whatif-error"]["children"].startswith("give a non-zero amount")
    assert response["whatif-changes"]["data"] == []


@pytest.mark.parametrize(
    "body",
    [None, {}, [], "x", {"output": 1}, {"output": "shortcuts.data"}, {"output": "nope"}],
    ids=repr,
)
def test_malformed_bodies_are_refused(dashboard: tuple[Any, FlaskClient], body: Any) -> None:
    app, client = dashboard
    with pytest.raises(BadCallbackError):
        check_callback_body(body, app.callback_map)
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 400
    assert answer.text.startswith("pmdesk: bad callback request:")
