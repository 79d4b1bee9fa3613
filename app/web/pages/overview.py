"""Overview, the one-glance view: uniMMR huge, coloured and worded by the account's one severity
(``app.web.view.severity``: the worst of its uniMMR band, liquidation distance, unknown figures,
stale data and Binance's own accountStatus) with the reasons in words; the figures behind it,
the data age, whether pmdesk matches Binance's own figures; with several accounts, a compact
tile per account (uniMMR, ↓/↑ liquidation distance, gross leverage), worst first. UNKNOWN
(figures unavailable) has its own band, says why in words and sorts first with the liquidating
accounts. The header's summary, on every view, comes from the same severity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
from dash import ALL, Input, Output, State, html
from dash import ctx as dash_ctx

from app.store.store import StoredReport
from app.web.context import WebContext
from app.web.format import (
    COMPACT_FROM,
    NO_LIQUIDATION,
    UNKNOWN_TEXT,
    fmt_age,
    fmt_uni_mmr,
    fmt_usd_short,
)
from app.web.ladder import ladder_hint, liquidation_usage_pct, lv
from app.web.view import (
    NO_NEW_DATA,
    OK,
    RANK,
    SEARCHED_MOVES,
    WARNING,
    Severity,
    SeverityBands,
    TimePref,
    build_view,
    clock_text,
    gross_leverage,
    leverage_text,
    liquidation_words,
    severity,
)
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


@dataclass(frozen=True)
class AccountTile:
    account: str
    uni_mmr: str
    icon: str
    status: str  # the level in a word or two: "CRITICAL", "STALE — LIQUIDATION"
    band_class: str
    age: str
    reason: str = ""  # the first reason in words: "1.8 % from liquidation ↓"
    distance: str = "—"  # "↓ −1.75 %   ↑ never" or "IN LIQUIDATION: …"
    leverage: str = "n/a"  # gross leverage
    brief: str = ""  # level and reason on one line (the tile's tooltip)


def account_tiles(
    latest: dict[str, StoredReport | None],
    now_ms: int,
    stale_after_s: float,
    rules: RiskRules | None = None,
    bands: SeverityBands | None = None,
    details: dict[str, dict[str, Any] | None] | None = None,
) -> list[AccountTile]:
    """One tile per account, worst first (``view.RANK``: no data, UNKNOWN, in liquidation,
    critical, stale, warning, normal; then the lower uniMMR), coloured and worded by its
    severity. A stale account keeps its last figures, greyed, and says STALE."""
    rules = rules or RiskRules()
    details = details or {}
    sev = {
        name: severity(
            r, details.get(name), now_ms, stale_after_s=stale_after_s, rules=rules, bands=bands
        )
        for name, r in latest.items()
    }
    out = []
    for name in sorted(latest, key=lambda n: sev[n].order_key(n)):
        r, s = latest[name], sev[name]
        if r is None:
            out.append(AccountTile(name, "—", s.icon, s.short, s.css, "—", brief=s.brief))
            continue
        distance = liquidation_words(
            r.status,
            r.uni_mmr,
            r.liquidation_down_pct,
            r.liquidation_up_pct,
            rules,
            r.unknown,
        )
        reason = tile_reason(s)
        out.append(
            AccountTile(
                account=name,
                uni_mmr=fmt_uni_mmr(r.uni_mmr),
                icon=s.icon,
                status=s.short,
                band_class=s.css,
                age=fmt_age((now_ms - r.data_time_ms) / 1000),
                reason=reason,
                distance=distance,
                leverage=leverage_text(gross_leverage(details.get(name), r.adjusted_equity_usd)),
                brief=s.brief,
            )
        )
    return out


def tile_reason(s: Severity) -> str:
    """The reason a tile spells out under its level: the first one not already on the tile (its
    ↓/↑ line says the distance and IN LIQUIDATION; its name line says STALE's age)."""
    shown = s.last if s.last is not None else s
    if shown.level == OK:
        return ""
    for source, words in zip(shown.sources, shown.reasons, strict=True):
        if source not in ("distance", "stale") and not words.startswith("IN LIQUIDATION"):
            return words
    return ""


def _tile_div(t: AccountTile, picked: str) -> html.Button:
    past = t.distance.startswith("IN LIQUIDATION")
    return html.Button(
        [
            html.Span(t.account, className="acct-name"),
            html.Span(t.uni_mmr, className="acct-uni"),
            html.Span(f"{t.icon}\u00a0{t.status}", className="acct-status"),
            html.Span(t.reason, className="acct-reason"),
            html.Span(_nbsp(t.distance if past else f"liq {t.distance}"), className="acct-liq"),
            html.Span(f"lev {t.leverage}", className="acct-lev"),
            html.Span(t.age, className="acct-age"),
        ],
        id={"type": "account-tile", "account": t.account},
        className=f"acct-tile {t.band_class}" + (" acct-picked" if t.account == picked else ""),
        title=f"{t.account}: {t.brief}. Click to show this account.",
        n_clicks=0,
    )


def others_note(sev: dict[str, Severity], shown: str) -> tuple[str, str, str | None]:
    """(text, css class, account) for the header: the worst other account when it is at least
    a warning, so a screen on one account still sees another in trouble."""
    others = sorted(
        (n for n in sev if n != shown and sev[n].rank >= RANK[WARNING]),
        key=lambda n: sev[n].order_key(n),
    )
    if not others:
        return "", "top-others", None
    first = sev[others[0]]
    more = f" +{len(others) - 1} more" if len(others) > 1 else ""
    return f"{first.icon} {others[0]}: {first.short}{more}", f"top-others {first.css}", others[0]


def _nbsp(text: str) -> str:
    """A figure and its "%" never split over two lines."""
    return text.replace(" %", "\u00a0%")


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
    @app.callback(
        Output("uni-mmr", "children"),
        Output("hero", "className"),
        Output("status-icon", "children"),
        Output("status-text", "children"),
        Output("severity-also", "children"),
        Output("severity-also", "hidden"),
        Output("unknown-reasons", "children"),
        Output("unknown-reasons", "hidden"),
        Output("as-of", "children"),
        Output("adjusted-equity", "children"),
        Output("maint-margin", "children"),
        Output("margin-usage", "children"),
        Output("margin-usage-note", "children"),
        Output("buffer", "children"),
        Output("buffer-note", "children"),
        Output("buffer-tile", "className"),
        Output("reported", "children"),
        Output("reported-status", "children"),
        Output("recon-mark", "children"),
        Output("recon-mark", "className"),
        Output("calibration-note", "children"),
        Output("calibration-note", "hidden"),
        Output("liquidation", "children"),
        Output("liquidation-note", "children"),
        Output("liquidation-tile", "className"),
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
        Output("top-others", "children"),
        Output("top-others", "className"),
        Output("top-others", "hidden"),
        Output("top-others-target", "data"),
        Output("time-toggle", "children"),
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
        Input("time-pref", "data"),
        running=[(Output("age-tick", "disabled"), True, False)],  # never stack up
    )
    def refresh(
        _n: int,
        _key: object,
        picked: str | None,
        shown: str | None,
        time_pref: TimePref | None,
    ) -> tuple[Any, ...]:
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
                _tile_div(t, account)
                for t in account_tiles(
                    reports, now, ctx.stale_after_s, ctx.rules, ctx.bands, details
                )
            ]
            sev = {a: ctx.severity(x, now) for a, x in newest.items()}
            others, others_class, others_target = others_note(sev, account)
        banner = unknown_banner(account, v.reasons, shown)
        level = v.severity.level if v.severity is not None else "stale"
        return (
            v.uni_mmr,
            f"hero {v.band_class}",
            v.status_icon,
            v.status_text,
            " · ".join(v.also),
            not v.also,
            _reasons(v.reasons),
            not v.reasons,
            v.as_of,
            _money(v.adjusted_equity, None if report is None else report.adjusted_equity_usd),
            _money(v.maint_margin, None if report is None else report.maint_margin_usd),
            _value(v.margin_usage),
            f"gross leverage {v.leverage}",
            _value(v.buffer),
            v.buffer_note,
            "tile tile-owes" if v.buffer_owes else "tile",
            _value(v.reported_uni_mmr),
            v.reported_status + (f" · {v.calibration}" if v.calibration and not v.unknown else ""),
            v.recon_mark,
            f"recon-mark {v.recon_class}",
            v.calibration_note,
            not v.calibration_note,
            _value(_nbsp(v.liquidation)),
            v.liquidation_note,
            f"tile tile-liq tile-level-{level}" + (" tile-past" if v.in_liquidation else ""),
            _money(v.top_up, None if report is None else report.top_up_usd),
            v.top_up_note,
            v.age,
            "STALE" if v.stale else f"limit {ctx.stale_after_s:g} s",
            "tile tile-stale" if v.stale else "tile",
            v.feed_status,
            f"feed feed-{v.feed_status}",
            feed_message,
            not v.simulated,
            v.marks_note,
            v.weight_note,
            v.summary,
            f"top-summary {v.band_class}",
            others,
            others_class,
            not others,
            others_target,
            clock_text(now, time_pref),
            tiles,
            "tiles tiles-stale" if v.stale else ("tiles tiles-unknown" if v.unknown else "tiles"),
            f"⚠ {trouble}" if trouble else "",
            trouble is None,
            banner,
            not banner,
        )

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
