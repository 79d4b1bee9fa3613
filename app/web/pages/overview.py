"""Overview, the one-glance view: uniMMR huge with its status in words and icon, the figures
behind it, the data age, whether pmdesk matches Binance's own figures; with several accounts, a
compact tile per account, worst first. UNKNOWN (figures unavailable) has its own band, says why
in words and sorts first with the liquidating accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
from dash import ALL, Input, Output, html
from dash import ctx as dash_ctx

from app.store.store import StoredReport
from app.web.context import WebContext
from app.web.format import UNKNOWN_TEXT, fmt_age, fmt_uni_mmr
from app.web.ladder import band_text, band_word, ladder_hint, liquidation_usage_pct, lv
from app.web.view import band_class, build_view
from risk.model import MarginBand, RiskRules

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


REASONS_SHOWN = 4  # on the hero; every one is on the "Binance vs pmdesk" view


def layout(rules: RiskRules | None = None) -> html.Div:
    rules = rules or RiskRules()
    liq = lv(rules.liquidation_uni_mmr)
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
            html.Ul([], id="unknown-reasons", className="unknown-reasons", hidden=True),
            html.Div("", id="as-of", className="hero-asof"),
        ],
        id="hero",
        className="hero band-stale",
        title=(
            "Unified maintenance margin ratio = adjusted equity ÷ maintenance margin, "
            f"recomputed by pmdesk from Binance's published rules. {ladder_hint(rules)} "
            "UNKNOWN: an input could not be read, so no figure is shown (never a safe-looking "
            "one); the reasons name the payload, row and field."
        ),
    )
    tiles = html.Section(
        [
            _tile(
                "Liquidation distance",
                "liquidation",
                "The uniform move of every non-stable asset, down and up, that takes uniMMR to "
                f"Binance's liquidation level ({liq}), root-found, and the BTC price where it "
                "happens. Under PM this is account-wide: one number for the whole book.",
                note_id="liquidation-note",
            ),
            _tile(
                "Margin usage",
                "margin-usage",
                "Maintenance margin as a share of adjusted equity (1 ÷ uniMMR). At 100 % the "
                f"account is insolvent; Binance liquidates at about "
                f"{liquidation_usage_pct(rules):.0f} % (uniMMR {liq}), and whenever adjusted "
                "equity is below 0.",
            ),
            _tile(
                "Adjusted equity",
                "adjusted-equity",
                "Σ equity per asset at its index price and collateral rate (the table Binance's "
                "own accountEquity shows is in use: see Binance vs pmdesk); debts count in "
                "full. What Binance measures the margin against.",
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
            html.Div(
                [
                    html.Div("Binance reports", className="tile-label"),
                    html.Div("—", id="reported", className="tile-value"),
                    html.Div("", id="recon-mark", className="recon-mark recon-na"),
                    html.Div("", id="reported-status", className="tile-note"),
                ],
                id="reported-tile",
                className="tile",
                title=(
                    "Binance's own uniMMR and accountStatus (/papi/v1/account) at the last "
                    "account poll. The mark compares pmdesk's uniMMR, adjusted equity and "
                    "maintenance margin with Binance's uniMMR, accountEquity and "
                    "accountMaintMargin for the same poll: they match when each is within the "
                    f"tolerance (±{100 * rules.reconcile_tolerance:g} %). Calibrated: the "
                    "collateral table and loan MMR pmdesk uses reproduce Binance's figures, so "
                    "its stress figures rest on them; uncalibrated: they do not. Details on "
                    "the Binance vs pmdesk view."
                ),
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
    calibration = html.Div(
        "", id="calibration-note", className="calibration-note", hidden=True, role="status"
    )
    return html.Div(
        [
            html.Div(id="account-tiles", className="account-tiles"),
            hero,
            calibration,
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
    MarginBand.UNKNOWN: 5,  # fail closed: with the liquidating ones, never among the calm
}


def account_tiles(
    latest: dict[str, StoredReport | None],
    now_ms: int,
    stale_after_s: float,
    rules: RiskRules | None = None,
) -> list[AccountTile]:
    """One tile per account, worst first: no data, then UNKNOWN, then by status severity, then
    lowest uniMMR. A stale account keeps its last figure, greyed, and says STALE."""
    rules = rules or RiskRules()

    def order(item: tuple[str, StoredReport | None]) -> tuple[int, float, str]:
        name, r = item
        if r is None:
            return (-99, 0.0, name)  # no data at all is the worst: fail closed
        uni = r.uni_mmr if r.uni_mmr == r.uni_mmr else float("-inf")  # NaN sorts first
        return (-_SEVERITY[MarginBand(r.status)], uni, name)

    out = []
    for name, r in sorted(latest.items(), key=order):
        if r is None:
            out.append(AccountTile(name, "—", "…", "NO DATA", "band-stale", "—"))
            continue
        age_s = (now_ms - r.data_time_ms) / 1000
        stale = age_s > stale_after_s
        icon = band_text(r.status, rules, r.uni_mmr)[0]
        status = band_word(r.status, rules)
        out.append(
            AccountTile(
                account=name,
                uni_mmr=fmt_uni_mmr(r.uni_mmr),
                icon="◷" if stale else icon,
                status=f"STALE — {status}" if stale else status,
                band_class=band_class(r.status, stale),
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


def _value(text: str) -> str | html.Span:
    """A tile's figure; "unknown" in the UNKNOWN colour, so it never reads as a value."""
    return html.Span(text, className="value-unknown") if text == UNKNOWN_TEXT else text


def _reasons(reasons: tuple[str, ...]) -> list[html.Li]:
    shown = [html.Li(r) for r in reasons[:REASONS_SHOWN]]
    if len(reasons) > REASONS_SHOWN:
        more = len(reasons) - REASONS_SHOWN
        shown.append(html.Li(f"… and {more} more: see Binance vs pmdesk", className="muted"))
    return shown


def unknown_banner(account: str, reasons: tuple[str, ...], shown_view: str | None) -> str:
    """The line every view but the overview (whose hero says it) shows for UNKNOWN figures."""
    if not reasons or shown_view == VIEW:
        return ""
    more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
    return f"⊘ {account}: UNKNOWN — figures unavailable: {reasons[0]}{more}"


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        Output("uni-mmr", "children"),
        Output("hero", "className"),
        Output("status-icon", "children"),
        Output("status-text", "children"),
        Output("unknown-reasons", "children"),
        Output("unknown-reasons", "hidden"),
        Output("as-of", "children"),
        Output("adjusted-equity", "children"),
        Output("maint-margin", "children"),
        Output("margin-usage", "children"),
        Output("buffer", "children"),
        Output("buffer-note", "children"),
        Output("reported", "children"),
        Output("reported-status", "children"),
        Output("recon-mark", "children"),
        Output("recon-mark", "className"),
        Output("calibration-note", "children"),
        Output("calibration-note", "hidden"),
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
        Output("unknown-banner", "children"),
        Output("unknown-banner", "hidden"),
        Input("age-tick", "n_intervals"),
        Input("report-key", "data"),
        Input("account", "value"),
        Input("view", "value"),
        running=[(Output("age-tick", "disabled"), True, False)],  # never stack up
    )
    def refresh(_n: int, _key: object, picked: str | None, shown: str | None) -> tuple[Any, ...]:
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
            rules=ctx.rules,
            detail=detail,
        )
        trouble = ctx.store.health()  # a full or read-only store, seen from here too
        tiles: list[html.Button] = []
        if len(ctx.accounts) > 1:
            others = {a: ctx.store.latest_report(a) for a in ctx.accounts if a != account}
            tiles = [
                _tile_div(t, account)
                for t in account_tiles(
                    {account: report, **others}, now, ctx.stale_after_s, ctx.rules
                )
            ]
        banner = unknown_banner(account, v.reasons, shown)
        return (
            v.uni_mmr,
            f"hero {v.band_class}",
            v.status_icon,
            v.status_text,
            _reasons(v.reasons),
            not v.reasons,
            v.as_of,
            _value(v.adjusted_equity),
            _value(v.maint_margin),
            _value(v.margin_usage),
            _value(v.buffer),
            v.buffer_note,
            _value(v.reported_uni_mmr),
            v.reported_status + (f" · {v.calibration}" if v.calibration and not v.unknown else ""),
            v.recon_mark,
            f"recon-mark {v.recon_class}",
            v.calibration_note,
            not v.calibration_note,
            _value(v.liquidation),
            v.liquidation_note,
            _value(v.top_up),
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
            v.summary,
            f"top-summary {v.band_class}",
            tiles,
            "tiles tiles-stale" if v.stale else ("tiles tiles-unknown" if v.unknown else "tiles"),
            f"⚠ {trouble}" if trouble else "",
            trouble is None,
            banner,
            not banner,
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
