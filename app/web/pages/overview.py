"""Overview, the one-glance view: uniMMR huge, coloured and worded by the account's one severity
(``app.web.view.severity``: the worst of its uniMMR band, liquidation distance, unknown figures,
stale data and Binance's own accountStatus) with the reasons in words; the figures behind it,
the data age, whether pmdesk matches Binance's own figures; with several accounts, a compact
tile per account (uniMMR, ↓/↑ liquidation distance, gross leverage), worst first; from
``MANY_ACCOUNTS`` on a compact grid of them (25 on a 1920x1080 screen). UNKNOWN
(figures unavailable) has its own band, says why in words and sorts first with the liquidating
accounts. The header's summary, on every view, comes from the same severity."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, html
from dash import ctx as dash_ctx

from app.web.context import WebContext
from app.web.format import (
    COMPACT_FROM,
    NO_LIQUIDATION,
    UNKNOWN_TEXT,
    fmt_usd_short,
)
from app.web.ladder import ladder_hint, liquidation_usage_pct, lv
from app.web.pages import overview_outlook
from app.web.pages.overview_tiles import (
    account_tiles,
    nbsp,
    others_note,
    tile_button,
    tiles_class,
)
from app.web.severity import (
    SEARCHED_MOVES,
    SeverityBands,
)
from app.web.times import TimePref, clock_text
from app.web.view import NO_NEW_DATA, build_view
from risk.model import RiskRules

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


def severity_hint(rules: RiskRules, bands: SeverityBands) -> str:
    """How the colour and words are decided, for the tooltips."""
    return (
        "Colour, icon and words show the worst of: the uniMMR band; the liquidation distance "
        f"(the nearer uniform move under {bands.critical_pct:g} % is CRITICAL, under "
        f"{bands.warn_pct:g} % a WARNING); Binance's own accountStatus (anything but NORMAL a "
        "WARNING; REDUCE_ONLY, ACTIVE_LIQUIDATION, FORCE_LIQUIDATION, BANKRUPTED CRITICAL); "
        "UNKNOWN figures; STALE data (grey). At or below the liquidation level "
        f"({lv(rules.liquidation_uni_mmr)}) it says IN LIQUIDATION and how far past it."
    )


def layout(rules: RiskRules | None = None, bands: SeverityBands | None = None) -> html.Div:
    rules = rules or RiskRules()
    bands = bands or SeverityBands()
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
            html.Div("", id="severity-also", className="severity-also", hidden=True),
            html.Ul([], id="unknown-reasons", className="unknown-reasons", hidden=True),
            html.Div("", id="as-of", className="hero-asof"),
            overview_outlook.line(),  # the Outlook's probability (issue 20)
        ],
        id="hero",
        className="hero band-stale",
        title=(
            "Unified maintenance margin ratio = adjusted equity ÷ maintenance margin, "
            f"recomputed by pmdesk from Binance's published rules. {ladder_hint(rules)} "
            f"{severity_hint(rules, bands)} "
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
                "happens. Under PM this is account-wide: one number for the whole book. "
                f"Nearer than {bands.critical_pct:g} % is CRITICAL, than {bands.warn_pct:g} % a "
                "WARNING. At or below the level: IN LIQUIDATION and how far uniMMR is past it "
                "(as a share of the level), or adjusted equity ≤ 0. "
                f"{NO_LIQUIDATION.capitalize()}: no move within {SEARCHED_MOVES} liquidates.",
                note_id="liquidation-note",
                tile_id="liquidation-tile",
            ),
            _tile(
                "Margin usage",
                "margin-usage",
                "Maintenance margin as a share of adjusted equity (1 ÷ uniMMR). At 100 % the "
                f"account is insolvent; Binance liquidates at about "
                f"{liquidation_usage_pct(rules):.0f} % (uniMMR {liq}), and whenever adjusted "
                "equity is below 0. Over 100 % the real figure is shown. Below it: gross "
                "leverage = Σ |position notional| ÷ adjusted equity (n/a without positions).",
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
                "Net stablecoin buffer: stablecoins held in the account (USDT, USDC, FDUSD…) "
                "minus stablecoin debts (margin loans, interest, negative futures wallets), at "
                "their index prices. Negative: the account owes more stablecoin than it holds "
                "(a basis book that borrowed its USDT). The note gives the gross held.",
                note_id="buffer-note",
                tile_id="buffer-tile",
            ),
            _tile(
                "Top-up",
                "top-up",
                "Stablecoin to transfer in for uniMMR to reach the configured target "
                f"(top_up_target_uni_mmr = {lv(rules.top_up_target_uni_mmr)}; collateral tiers "
                "applied), or the share of the largest maintenance-margin contributor to close "
                "instead. Zero when the account is above it. The alert banner names the same.",
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


def _value(text: str) -> str | html.Span:
    """A tile's figure; "unknown" in the UNKNOWN colour, so it never reads as a value."""
    return html.Span(text, className="value-unknown") if text == UNKNOWN_TEXT else text


def _money(text: str, usd: float | None) -> str | html.Span:
    """A tile's USD figure: from 1,000,000 on in the compact form ("$1.90 M") with the full
    figure (``text``) in its tooltip, so it never outgrows its tile."""
    if usd is not None and text != UNKNOWN_TEXT and abs(usd) >= COMPACT_FROM:
        return html.Span(fmt_usd_short(usd), title=text, className="value-compact")
    return _value(text)


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
    overview_outlook.register(app, ctx)  # its own callback: the Outlook's line in the hero

    @app.callback(
        output=dict(
            uni_mmr=Output("uni-mmr", "children"),
            hero_class=Output("hero", "className"),
            status_icon=Output("status-icon", "children"),
            status_text=Output("status-text", "children"),
            also=Output("severity-also", "children"),
            also_hidden=Output("severity-also", "hidden"),
            reasons=Output("unknown-reasons", "children"),
            reasons_hidden=Output("unknown-reasons", "hidden"),
            as_of=Output("as-of", "children"),
            adjusted_equity=Output("adjusted-equity", "children"),
            maint_margin=Output("maint-margin", "children"),
            margin_usage=Output("margin-usage", "children"),
            margin_usage_note=Output("margin-usage-note", "children"),
            buffer=Output("buffer", "children"),
            buffer_note=Output("buffer-note", "children"),
            buffer_tile_class=Output("buffer-tile", "className"),
            reported=Output("reported", "children"),
            reported_status=Output("reported-status", "children"),
            recon_mark=Output("recon-mark", "children"),
            recon_mark_class=Output("recon-mark", "className"),
            calibration_note=Output("calibration-note", "children"),
            calibration_note_hidden=Output("calibration-note", "hidden"),
            liquidation=Output("liquidation", "children"),
            liquidation_note=Output("liquidation-note", "children"),
            liquidation_tile_class=Output("liquidation-tile", "className"),
            top_up=Output("top-up", "children"),
            top_up_note=Output("top-up-note", "children"),
            age=Output("age", "children"),
            age_note=Output("age-note", "children"),
            age_tile_class=Output("age-tile", "className"),
            feed_status=Output("feed-status", "children"),
            feed_status_class=Output("feed-status", "className"),
            feed_message=Output("feed-message", "children"),
            sim_banner_hidden=Output("sim-banner", "hidden"),
            marks_note=Output("marks-note", "children"),
            weight_note=Output("weight-note", "children"),
            summary=Output("top-summary", "children"),
            summary_class=Output("top-summary", "className"),
            others=Output("top-others", "children"),
            others_class=Output("top-others", "className"),
            others_hidden=Output("top-others", "hidden"),
            others_target=Output("top-others-target", "data"),
            time_toggle=Output("time-toggle", "children"),
            account_tiles=Output("account-tiles", "children"),
            account_tiles_class=Output("account-tiles", "className"),
            tiles_class=Output("tiles", "className"),
            store_banner=Output("store-banner", "children"),
            store_banner_hidden=Output("store-banner", "hidden"),
            unknown_banner=Output("unknown-banner", "children"),
            unknown_banner_hidden=Output("unknown-banner", "hidden"),
        ),
        inputs=[
            Input("age-tick", "n_intervals"),
            Input("report-key", "data"),
            Input("account", "value"),
            Input("view", "value"),
            Input("time-pref", "data"),
        ],
        running=[(Output("age-tick", "disabled"), True, False)],  # never stack up
    )
    def refresh(
        _n: int,
        _key: object,
        picked: str | None,
        shown: str | None,
        time_pref: TimePref | None,
    ) -> dict[str, Any]:
        account = ctx.account(picked)
        now = ctx.clock()
        read = ctx.newest(account)
        newest = read.reports
        latest = newest[account]
        report, detail = latest if latest is not None else (None, None)
        v = build_view(
            report,
            read.event,
            now,
            ctx.stale_after_s,
            read.weight,
            rules=ctx.rules,
            detail=detail,
            bands=ctx.bands,
            time_pref=time_pref,
            stream_event=read.stream,
        )
        # A full, read-only or locked store, seen from here too; its banner says why.
        trouble = read.unreadable or ctx.store.health()
        feed_message = v.feed_message
        if trouble and feed_message == NO_NEW_DATA:  # not "is the collector running?"
            feed_message = f"no new data: {trouble.split(':', 1)[0]} (see the banner)"
        tiles: list[html.Button] = []
        others, others_class, others_target = "", "top-others", None
        if len(ctx.accounts) > 1:
            reports = {a: (None if x is None else x[0]) for a, x in newest.items()}
            details = {a: (None if x is None else x[1]) for a, x in newest.items()}
            tiles = [
                tile_button(t, account)
                for t in account_tiles(
                    reports, now, ctx.stale_after_s, ctx.rules, ctx.bands, details
                )
            ]
            sev = {a: ctx.severity(x, now) for a, x in newest.items()}
            others, others_class, others_target = others_note(sev, account)
        banner = unknown_banner(account, v.reasons, shown)
        level = v.severity.level if v.severity is not None else "stale"
        return {
            "uni_mmr": v.uni_mmr,
            "hero_class": f"hero {v.band_class}",
            "status_icon": v.status_icon,
            "status_text": v.status_text,
            "also": " · ".join(v.also),
            "also_hidden": not v.also,
            "reasons": _reasons(v.reasons),
            "reasons_hidden": not v.reasons,
            "as_of": v.as_of,
            "adjusted_equity": _money(
                v.adjusted_equity, None if report is None else report.adjusted_equity_usd
            ),
            "maint_margin": _money(
                v.maint_margin, None if report is None else report.maint_margin_usd
            ),
            "margin_usage": _value(v.margin_usage),
            "margin_usage_note": f"gross leverage {v.leverage}",
            "buffer": _value(v.buffer),
            "buffer_note": v.buffer_note,
            "buffer_tile_class": "tile tile-owes" if v.buffer_owes else "tile",
            "reported": _value(v.reported_uni_mmr),
            "reported_status": v.reported_status
            + (f" · {v.calibration}" if v.calibration and not v.unknown else ""),
            "recon_mark": v.recon_mark,
            "recon_mark_class": f"recon-mark {v.recon_class}",
            "calibration_note": v.calibration_note,
            "calibration_note_hidden": not v.calibration_note,
            "liquidation": _value(nbsp(v.liquidation)),
            "liquidation_note": v.liquidation_note,
            "liquidation_tile_class": f"tile tile-liq tile-level-{level}"
            + (" tile-past" if v.in_liquidation else ""),
            "top_up": _money(v.top_up, None if report is None else report.top_up_usd),
            "top_up_note": v.top_up_note,
            "age": v.age,
            "age_note": "STALE" if v.stale else f"limit {ctx.stale_after_s:g} s",
            "age_tile_class": "tile tile-stale" if v.stale else "tile",
            # "feed OK", not "OK": beside an account in liquidation a bare OK reads as the verdict.
            "feed_status": f"feed {v.feed_status}",
            "feed_status_class": f"feed feed-{v.feed_status}",
            "feed_message": feed_message,
            "sim_banner_hidden": not v.simulated,
            "marks_note": v.marks_note,
            "weight_note": v.weight_note,
            "summary": v.summary,
            "summary_class": f"top-summary {v.band_class}",
            "others": others,
            "others_class": others_class,
            "others_hidden": not others,
            "others_target": others_target,
            "time_toggle": clock_text(now, time_pref),
            "account_tiles": tiles,
            "account_tiles_class": tiles_class(len(tiles)),
            "tiles_class": "tiles tiles-stale"
            if v.stale
            else ("tiles tiles-unknown" if v.unknown else "tiles"),
            "store_banner": f"⚠ {trouble}" if trouble else "",
            "store_banner_hidden": trouble is None,
            "unknown_banner": banner,
            "unknown_banner_hidden": not banner,
        }

    @app.callback(
        Output("account", "value", allow_duplicate=True),
        Input("top-others", "n_clicks"),
        State("top-others-target", "data"),
        prevent_initial_call=True,
    )
    def pick_other(clicks: int | None, target: str | None) -> str:
        if not clicks or target not in ctx.accounts:
            raise dash.exceptions.PreventUpdate
        return str(target)

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
