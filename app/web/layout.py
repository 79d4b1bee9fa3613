"""The overview page: uniMMR huge, status in words and icon, the figures behind it, the age."""

from __future__ import annotations

from dash import dcc, html

REFRESH_MS = 1000


def _tile(
    label: str, value_id: str, hint: str, note_id: str | None = None, tile_id: str | None = None
) -> html.Div:
    parts = [
        html.Div(label, className="tile-label"),
        html.Div("—", id=value_id, className="tile-value"),
    ]
    if note_id is not None:
        parts.append(html.Div("", id=note_id, className="tile-note"))
    if tile_id is None:
        return html.Div(parts, className="tile", title=hint)
    return html.Div(parts, id=tile_id, className="tile", title=hint)


def _account_picker(accounts: list[str]) -> list[html.Span | dcc.Dropdown]:
    """The account's name; with several accounts, a picker (one screen per account)."""
    picker = dcc.Dropdown(
        id="account",
        options=accounts,
        value=accounts[0],
        clearable=False,
        searchable=False,
        className="account-picker",
        style={} if len(accounts) > 1 else {"display": "none"},
    )
    if len(accounts) > 1:
        return [picker]
    return [html.Span(accounts[0], id="account-name", className="account"), picker]


def layout(accounts: list[str]) -> html.Div:
    return html.Div(
        [
            html.Div(
                "SIMULATED DATA — not a real account",
                id="sim-banner",
                className="sim-banner",
                hidden=True,
            ),
            html.Header(
                [
                    html.Span("pmdesk", className="brand"),
                    *_account_picker(accounts),
                    html.Span("…", id="feed-status", className="feed feed-DOWN"),
                    html.Span("", id="feed-message", className="feed-message"),
                ],
                className="topbar",
            ),
            html.Main(
                [
                    html.Section(
                        [
                            html.Div("uniMMR", className="hero-label"),
                            html.Div("—", id="uni-mmr", className="hero-value"),
                            html.Div(
                                [
                                    html.Span("…", id="status-icon", className="status-icon"),
                                    html.Span("NO DATA YET", id="status-text"),
                                ],
                                className="hero-status",
                            ),
                            html.Div("", id="as-of", className="hero-asof"),
                        ],
                        id="hero",
                        className="hero band-stale",
                        title=(
                            "Unified maintenance margin ratio = adjusted equity ÷ maintenance "
                            "margin, recomputed by pmdesk from Binance's published rules. "
                            "Binance liquidates near 1.05."
                        ),
                    ),
                    html.Section(
                        [
                            _tile(
                                "Adjusted equity",
                                "adjusted-equity",
                                "Σ equity per asset at its index price and tiered collateral "
                                "rate; debts count in full.",
                            ),
                            _tile(
                                "Maintenance margin",
                                "maint-margin",
                                "USDⓈ-M and COIN-M bracket margin plus margin-loan MM, in USD.",
                            ),
                            _tile(
                                "Liquidation distance",
                                "liquidation",
                                "The uniform move of every non-stable asset, down and up, that "
                                "takes uniMMR to the liquidation level (root-found), and the BTC "
                                "price where it happens. Under PM this is account-wide.",
                                note_id="liquidation-note",
                            ),
                            _tile(
                                "Top-up",
                                "top-up",
                                "Stablecoin to transfer in for uniMMR to reach the target "
                                "(collateral tiers applied).",
                                note_id="top-up-note",
                            ),
                            _tile(
                                "Binance reports",
                                "reported",
                                "uniMMR and accountStatus as /papi/v1/account reports them, "
                                "for reconciliation.",
                                note_id="reported-status",
                            ),
                            _tile(
                                "Data age",
                                "age",
                                "Time since the newest exchange data was fetched; beyond the "
                                "staleness limit the gauge turns grey.",
                                note_id="age-note",
                                tile_id="age-tile",
                            ),
                        ],
                        className="tiles",
                    ),
                ],
                className="desk",
            ),
            html.Footer(
                [
                    html.Span("", id="marks-note", className="footnote"),
                    html.Span("", id="weight-note", className="footnote"),
                ],
                className="statusbar",
                title="Where the mark prices come from, how old the positions are, and the "
                "API weight Binance counted for this IP in the current minute (limit: half).",
            ),
            dcc.Interval(id="tick", interval=REFRESH_MS, n_intervals=0),
        ],
        className="page",
    )
