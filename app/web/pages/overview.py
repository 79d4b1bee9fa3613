"""Overview, the one-glance view: uniMMR huge with its status in words and icon, the figures
behind it, the data age; with several accounts, a compact tile per account, worst first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
from dash import ALL, Input, Output, html
from dash import ctx as dash_ctx

from app.store.store import StoredReport
from app.web.context import WebContext
from app.web.format import fmt_age, fmt_uni_mmr
from app.web.view import BAND_TEXT, build_view
from risk.model import MarginBand

VIEW = "overview"


def _tile(
    label: str, value_id: str, hint: str, note_id: str | None = None, tile_id: str | None = None
) -> html.Div:
    parts = [
        html.Div(label, className="tile-label"),
        html.Div("—", id=value_id, className="tile-value"),
        html.Div("", id=note_id or f"{value_id}-note", className="tile-note"),
    ]
    if tile_id is None:
        return html.Div(parts, className="tile", title=hint)
    return html.Div(parts, id=tile_id, className="tile", title=hint)


def layout() -> html.Div:
    hero = html.Section(
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
            "Unified maintenance margin ratio = adjusted equity ÷ maintenance margin, "
            "recomputed by pmdesk from Binance's published rules. Below 1.5 Binance calls for "
            "margin, below 1.2 it refuses new orders, at 1.05 it liquidates."
        ),
    )
    tiles = html.Section(
        [
            _tile(
                "Liquidation distance",
                "liquidation",
                "The uniform move of every non-stable asset, down and up, that takes uniMMR to "
                "the liquidation level (root-found), and the BTC price where it happens. Under "
                "PM this is account-wide: one number for the whole book.",
                note_id="liquidation-note",
            ),
            _tile(
                "Margin usage",
                "margin-usage",
                "Maintenance margin as a share of adjusted equity (1 ÷ uniMMR). At 100 % the "
                "account is insolvent; Binance liquidates at about 95 % (uniMMR 1.05).",
            ),
            _tile(
                "Adjusted equity",
                "adjusted-equity",
                "Σ equity per asset at its index price and tiered collateral rate; debts count "
                "in full. What Binance measures the margin against.",
            ),
            _tile(
                "Maintenance margin",
                "maint-margin",
                "USD-M and COIN-M bracket margin plus margin-loan MM, in USD.",
            ),
            _tile(
                "Stablecoin buffer",
                "buffer",
                "Stablecoins held in the account (USDT, USDC, FDUSD…): the first line of "
                "defence; their collateral rate is 100 %.",
                note_id="buffer-note",
            ),
            _tile(
                "Top-up",
                "top-up",
                "Stablecoin to transfer in for uniMMR to reach the target (collateral tiers "
                "applied). Zero when the account is above it.",
                note_id="top-up-note",
            ),
            _tile(
                "Binance reports",
                "reported",
                "uniMMR and accountStatus as /papi/v1/account reports them at the last account "
                "poll, for reconciliation with pmdesk's own figure.",
                note_id="reported-status",
            ),
            _tile(
                "Data age",
                "age",
                "Time since the newest exchange data was fetched; beyond the staleness limit "
                "the gauge turns grey and says STALE.",
                note_id="age-note",
                tile_id="age-tile",
            ),
        ],
        id="tiles",
        className="tiles",
    )
    return html.Div(
        [
            html.Div(id="account-tiles", className="account-tiles"),
            hero,
            tiles,
        ],
        id=f"view-{VIEW}",
        className="view",
    )


@dataclass(frozen=True)
class AccountTile:
    account: str
    uni_mmr: str
    icon: str
    status: str
    band_class: str
    age: str


_SEVERITY = {
    MarginBand.NORMAL: 0,
    MarginBand.MARGIN_CALL: 1,
    MarginBand.REDUCE_ONLY: 2,
    MarginBand.LIQUIDATION: 3,
    MarginBand.LIQUIDATION_WITH_LOSS: 4,
}


def account_tiles(
    latest: dict[str, StoredReport | None], now_ms: int, stale_after_s: float
) -> list[AccountTile]:
    """One tile per account, worst first: no data, then by status severity, then lowest uniMMR.
    A stale account keeps its last figure, greyed, and says STALE."""

    def order(item: tuple[str, StoredReport | None]) -> tuple[int, float, str]:
        name, r = item
        if r is None:
            return (-99, 0.0, name)  # unknown is the worst: fail closed
        return (-_SEVERITY[MarginBand(r.status)], r.uni_mmr, name)

    out = []
    for name, r in sorted(latest.items(), key=order):
        if r is None:
            out.append(AccountTile(name, "—", "…", "NO DATA", "band-stale", "—"))
            continue
        age_s = (now_ms - r.data_time_ms) / 1000
        stale = age_s > stale_after_s
        icon, text = BAND_TEXT[MarginBand(r.status)]
        status = text.split(" — ")[0]
        out.append(
            AccountTile(
                account=name,
                uni_mmr=fmt_uni_mmr(r.uni_mmr),
                icon="◷" if stale else icon,
                status=f"STALE — {status}" if stale else status,
                band_class="band-stale" if stale else f"band-{r.status.lower().replace('_', '-')}",
                age=fmt_age(age_s),
            )
        )
    return out


def _tile_div(t: AccountTile, picked: str) -> html.Button:
    return html.Button(
        [
            html.Span(t.account, className="acct-name"),
            html.Span(t.uni_mmr, className="acct-uni"),
            html.Span(f"{t.icon} {t.status}", className="acct-status"),
            html.Span(t.age, className="acct-age"),
        ],
        id={"type": "account-tile", "account": t.account},
        className=f"acct-tile {t.band_class}" + (" acct-picked" if t.account == picked else ""),
        title=f"{t.account}: show this account",
        n_clicks=0,
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("uni-mmr", "children"),
        Output("hero", "className"),
        Output("status-icon", "children"),
        Output("status-text", "children"),
        Output("as-of", "children"),
        Output("adjusted-equity", "children"),
        Output("maint-margin", "children"),
        Output("margin-usage", "children"),
        Output("buffer", "children"),
        Output("buffer-note", "children"),
        Output("reported", "children"),
        Output("reported-status", "children"),
        Output("liquidation", "children"),
        Output("liquidation-note", "children"),
        Output("top-up", "children"),
        Output("top-up-note", "children"),
        Output("age", "children"),
        Output("age-note", "children"),
        Output("age-tile", "className"),
        Output("feed-status", "children"),
        Output("feed-status", "className"),
        Output("feed-message", "children"),
        Output("sim-banner", "hidden"),
        Output("marks-note", "children"),
        Output("weight-note", "children"),
        Output("top-summary", "children"),
        Output("top-summary", "className"),
        Output("account-tiles", "children"),
        Output("tiles", "className"),
        Output("store-banner", "children"),
        Output("store-banner", "hidden"),
        Input("age-tick", "n_intervals"),
        Input("report-key", "data"),
        Input("account", "value"),
        running=[(Output("age-tick", "disabled"), True, False)],  # never stack up
    )
    def refresh(_n: int, _key: object, picked: str | None) -> tuple[Any, ...]:
        account = ctx.account(picked)
        now = ctx.clock()
        latest = ctx.latest(account)
        report, detail = latest if latest is not None else (None, None)
        v = build_view(
            report,
            ctx.store.latest_event(account),
            now,
            ctx.stale_after_s,
            ctx.store.latest_weight(),
            buffer_usd=None if detail is None else detail["stablecoin_buffer_usd"],
        )
        trouble = ctx.store.health()  # a full or read-only store, seen from here too
        tiles: list[html.Button] = []
        if len(ctx.accounts) > 1:
            others = {a: ctx.store.latest_report(a) for a in ctx.accounts if a != account}
            tiles = [
                _tile_div(t, account)
                for t in account_tiles({account: report, **others}, now, ctx.stale_after_s)
            ]
        return (
            v.uni_mmr,
            f"hero {v.band_class}",
            v.status_icon,
            v.status_text,
            v.as_of,
            v.adjusted_equity,
            v.maint_margin,
            v.margin_usage,
            v.buffer,
            v.buffer_note,
            v.reported_uni_mmr,
            v.reported_status,
            v.liquidation,
            v.liquidation_note,
            v.top_up,
            v.top_up_note,
            v.age,
            "STALE" if v.stale else f"limit {ctx.stale_after_s:g} s",
            "tile tile-stale" if v.stale else "tile",
            v.feed_status,
            f"feed feed-{v.feed_status}",
            v.feed_message,
            not v.simulated,
            v.marks_note,
            v.weight_note,
            f"{v.status_icon} uniMMR {v.uni_mmr} · {v.age}" + (" · STALE" if v.stale else ""),
            f"top-summary {v.band_class}",
            tiles,
            "tiles tiles-stale" if v.stale else "tiles",
            f"⚠ {trouble}" if trouble else "",
            trouble is None,
        )

    @app.callback(
        Output("account", "value", allow_duplicate=True),
        Input({"type": "account-tile", "account": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def pick(clicks: list[int]) -> str:
        trigger = dash_ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks):
            raise dash.exceptions.PreventUpdate
        return str(trigger["account"])
