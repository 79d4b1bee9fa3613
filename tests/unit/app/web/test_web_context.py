"""``redraw_on_new_report``: the shared callback of the views drawn from the newest report, over
Dash's own HTTP callback route (no browser)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Output, dcc, html

from app.store.store import Store
from app.web.context import WebContext, redraw_on_new_report
from risk.model import RiskReport


def _answer(outputs: list[Output], store: Store) -> dict[str, Any]:
    app = dash.Dash(__name__)
    app.layout = html.Div(
        [dcc.Store(id="report-key"), dcc.Input(id="view"), dcc.Input(id="account")]
        + [html.Div(id=str(o.component_id)) for o in outputs]
    )
    ctx = WebContext(store, ["acct"], 10.0, lambda: 0)

    def build(account: str, report: RiskReport) -> tuple[Any, ...]:
        raise AssertionError("no report is stored: the empty values are drawn")

    def empty(account: str) -> tuple[Any, ...]:
        return tuple(f"nothing yet for {account} ({i})" for i in range(len(outputs)))

    redraw_on_new_report(app, ctx, "raw", outputs, build, empty)
    many = len(outputs) > 1
    spec = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    body = {
        "output": (
            "..{}..".format("...".join(f"{o.component_id}.children" for o in outputs))
            if many
            else f"{outputs[0].component_id}.children"
        ),
        "outputs": spec if many else spec[0],
        "inputs": [
            {"id": "report-key", "property": "data", "value": 1},
            {"id": "view", "property": "value", "value": "raw"},
            {"id": "account", "property": "value", "value": "acct"},
        ],
        "changedPropIds": ["view.value"],
    }
    answer = app.server.test_client().post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.text
    response: dict[str, Any] = answer.get_json()["response"]
    return response


def test_one_output_gets_its_value_not_a_one_element_list(store: Store) -> None:
    response = _answer([Output("only", "children")], store)
    assert response == {"only": {"children": "nothing yet for acct (0)"}}


def test_several_outputs_get_one_value_each(store: Store) -> None:
    response = _answer([Output("first", "children"), Output("second", "children")], store)
    assert response == {
        "first": {"children": "nothing yet for acct (0)"},
        "second": {"children": "nothing yet for acct (1)"},
    }
