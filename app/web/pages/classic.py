"""PM vs classic: what the same book would need as Binance's separate classic accounts — a
USDⓈ-M wallet in Multi-Assets mode, one COIN-M wallet per coin, a Classic cross-margin account —
each above its own liquidation line, against PM's one pool. Maintenance margin (what
liquidates), not initial margin; the sources are in ``risk/classic.py``."""

from __future__ import annotations

from typing import Any

import dash
from dash import Output, html

from app.web.components import (
    COLORS,
    VENUE_COLORS,
    base_layout,
    chart,
    empty_figure,
    grid,
    num_col,
    panel,
    text_col,
    view,
)
from app.web.context import WebContext, redraw_on_new_report
from app.web.format import (
    MINUS,
    mark_unknown,
)
from app.web.pages.classic_words import (
    COIN_COLORS,
    MA_BTC,
    MA_STABLE,
    MULTI_ASSETS_TEXT,
    coin_qty,
    comparison,
    grid_figure,
    is_missing,
    num,
    sentence,
    signed_usd,
    summary,
    usd,
)
from risk.model import RiskReport

VIEW = "classic"


def account_rows(detail: RiskReport) -> list[dict[str, Any]]:
    """One row per classic account, then their total and PM's one pool."""
    c = comparison(detail)
    if c is None:
        return []
    rows = []
    if c.has_um:
        rows.append(
            {
                "key": "um",
                "account": "USD-M wallet (Multi-Assets mode)",
                "when": "margin balance ≤ maintenance margin",
                "usd": grid_figure(c.um_maint_usd),
                "usd_how": "Σ leverage-bracket MM of the USD-M positions (the same brackets as "
                "under PM), USD",
                "hold": f"{usd(c.um_need_usd)} counted",
                "hold_how": f"MM − unrealized PnL ({signed_usd(c.um_upnl_usd)}): "
                f"{num(c.um_need_usd / MA_STABLE)} USDT or {usd(c.um_need_usd / MA_BTC)} of "
                "BTC/ETH/BNB",
                "accepts": MULTI_ASSETS_TEXT,
            }
        )
    for w in c.coin_wallets:
        rows.append(
            {
                "key": f"cm:{w.coin}",
                "account": f"COIN-M {w.coin} wallet",
                "when": f"margin balance ≤ maintenance margin, in {w.coin}",
                "usd": grid_figure(w.maint_usd),
                "usd_how": f"{coin_qty(w.maint_qty, w.coin)} (leverage brackets in coin) × "
                f"{usd(w.price_usd)}",
                "hold": coin_qty(w.need_qty, w.coin),
                "hold_how": f"MM − unrealized PnL ({coin_qty(w.upnl_qty, w.coin)}); worth "
                f"{usd(w.need_usd)}",
                "accepts": f"{w.coin} only, by quantity (COIN-M FAQ a4470430: collateralized "
                "and settled in the coin)",
            }
        )
    if c.has_loans:
        rows.append(
            {
                "key": "margin",
                "account": "Cross margin (Classic, 3x or 5x)",
                "when": f"margin level ≤ {c.margin_liquidation_level:g} (Pro, up to 10x: ≤ 1.0)",
                "usd": grid_figure(c.margin_need_equity_usd),
                "usd_how": "0.1 × (loans + interest): assets beyond the debt at margin level 1.1",
                "hold": f"assets ≥ {usd(c.margin_need_assets_usd)}",
                "hold_how": f"1.1 × {usd(c.margin_debt_usd)} loans + interest; the book's margin "
                f"side holds {usd(c.margin_assets_usd)} (margin level {num(c.margin_level)})",
                "accepts": "any asset in the margin account, at full value (Classic: "
                "“Liquidation is not affected by asset haircut”)",
            }
        )
    rows.append(
        {
            "key": "classic",
            "account": "Classic accounts, in total",
            "when": "each account on its own",
            "usd": grid_figure(c.classic_line_usd),
            "usd_how": "Σ of the lines above; each part must sit in its own account",
            "hold": "—",
            "hold_how": "no account can lend to another",
            "accepts": "—",
        }
    )
    rows.append(
        {
            "key": "pm",
            "account": "Portfolio Margin (one pool)",
            "when": f"uniMMR < {c.pm_liquidation_uni_mmr:g}, or adjusted equity ≤ 0",
            "usd": grid_figure(c.pm_line_usd),
            "usd_how": f"{c.pm_liquidation_uni_mmr:g} × maintenance margin "
            f"{usd(c.pm_maint_usd)} (futures brackets + loans × loan MMR)",
            "hold": f"has {usd(c.pm_equity_usd)}",
            "hold_how": "adjusted equity now: every holding at its PM collateral rate, "
            "unrealized PnL included",
            "accepts": "every holding at its PM collateral rate, against every leg",
        }
    )
    return [mark_unknown(r, ["usd"]) for r in rows]


def holding_rows(detail: RiskReport) -> list[dict[str, Any]]:
    """Where each holding can count, by account."""
    c = comparison(detail)
    if c is None:
        return []
    rows = []
    for h in c.holdings:
        ma = h.multi_assets_usd
        rows.append(
            {
                "key": h.asset,
                "asset": h.asset,
                "value": grid_figure(h.value_usd),
                "pm": grid_figure(h.pm_counted_usd),
                "um": None if ma is None else grid_figure(ma),
                "um_rate": "not in the list"
                if ma is None
                else f"{100 * (h.multi_assets_rate or 0):g} %",
                "cm": f"its own {h.asset} contracts, by quantity"
                if h.coin_m
                else (
                    "no: COIN-M is margined in coins"
                    if h.stable
                    else f"{h.asset} contracts only; none held"
                ),
                "margin": grid_figure(h.value_usd),
            }
        )
    return [mark_unknown(r, ["value", "pm", "margin"]) for r in rows]


def move_figure(detail: RiskReport, revision: str) -> dict[str, Any]:
    """Grouped bars: where a uniform move's gains and losses land under classic, against the
    change of PM's one adjusted equity."""
    c = comparison(detail)
    if c is None:
        return empty_figure(revision)
    x = [f"{MINUS}{c.move_pct:g} %", f"+{c.move_pct:g} %"]

    def bar(name: str, values: list[float], color: str, how: str) -> dict[str, Any]:
        return {
            "type": "bar",
            "name": name,
            "x": x,
            "y": [None if is_missing(v) else v for v in values],
            "text": [signed_usd(v) for v in values],
            "textposition": "outside",
            "marker": {"color": color},
            "hovertemplate": f"{name}<br>%{{x}}: %{{y:$,.2f}}<br>{how}<extra></extra>",
        }

    traces = []
    if c.has_um:
        traces.append(
            bar(
                "USD-M positions (classic: USD-M wallet)",
                [c.um_move_down_usd, c.um_move_up_usd],
                VENUE_COLORS["UM"],
                "Σ amount × mark × move",
            )
        )
    for k, w in enumerate(c.coin_wallets):
        traces.append(
            bar(
                f"COIN-M {w.coin} contracts (classic: {w.coin} wallet)",
                [w.move_down_usd, w.move_up_usd],
                COIN_COLORS[k % len(COIN_COLORS)],
                "inverse PnL in the coin, at the moved price",
            )
        )
    traces.append(
        bar(
            "Holdings net of loans (classic: where they sit)",
            [c.holdings_move_down_usd, c.holdings_move_up_usd],
            VENUE_COLORS["spot"],
            "Σ non-stable holdings × price × move",
        )
    )
    traces.append(
        bar(
            "PM adjusted equity (one pool)",
            [c.pm_equity_move_down_usd, c.pm_equity_move_up_usd],
            COLORS["text"],
            "the whole book at the moved prices, collateral rates applied",
        )
    )
    return {
        "data": traces,
        "layout": base_layout(
            revision,
            barmode="group",
            xaxis={"type": "category", "title": {"text": "move of every non-stable asset"}},
            yaxis={"title": {"text": "change, USD"}, "tickformat": "$,.3s"},
        ),
    }


def _cols(*cols: dict[str, Any]) -> list[dict[str, Any]]:
    return list(cols)


ACCOUNT_COLUMNS = _cols(
    text_col(
        "account",
        "Account",
        "The classic account the legs would sit in, or PM's pool.",
        width=260,
        wrapText=True,
        autoHeight=True,
    ),
    text_col(
        "when",
        "Liquidated when",
        "Binance's liquidation line for that account.",
        width=260,
        wrapText=True,
        autoHeight=True,
    ),
    num_col(
        "usd",
        "At the line, USD",
        "Equity (collateral + unrealized PnL) the account needs at its liquidation line. "
        "Hover a figure for its arithmetic.",
        csv="at_line_usd",
        tooltipValueGetter={"function": "params.data.usd_how"},
    ),
    text_col(
        "hold",
        "Collateral to hold there",
        "What must sit in that account to stay above its line. Hover for the arithmetic.",
        cellClass="num",
        tooltipField="hold_how",
        type="rightAligned",
        cellStyle={"textAlign": "right"},
    ),
    text_col(
        "accepts",
        "What counts there",
        "The collateral that account accepts, with the source.",
        width=420,
        wrapText=True,
        autoHeight=True,
        tooltipField="accepts",
    ),
)

HOLDING_COLUMNS = _cols(
    text_col("asset", "Holding", "An asset the book holds, net of its loan."),
    num_col("value", "Value, USD", "Quantity × index price.", csv="value_usd"),
    num_col(
        "pm",
        "PM counts, USD",
        "Value × PM collateral rate (tiers applied): counts against every leg.",
        csv="pm_counts_usd",
    ),
    num_col(
        "um",
        "USD-M wallet counts, USD",
        "Value × Multi-Assets rate, once moved into the USD-M wallet (FAQ 29b45c48).",
        csv="usdm_wallet_counts_usd",
    ),
    text_col(
        "um_rate",
        "Multi-Assets rate",
        "The USD-M Multi-Assets mode's rate for this asset, or not in its list.",
    ),
    text_col(
        "cm",
        "COIN-M",
        "A coin backs only the COIN-M contracts margined in it.",
        wrapText=True,
        width=220,
    ),
    num_col(
        "margin",
        "Cross margin counts, USD",
        "Full value: Classic cross margin's liquidation is not affected by haircuts "
        "(FAQ 0b5441a1).",
        csv="cross_margin_counts_usd",
    ),
)


def layout() -> html.Div:
    return view(
        VIEW,
        panel(
            "PM vs classic, in plain words",
            "The same book as Binance's classic accounts (USD-M wallet in Multi-Assets mode, "
            "COIN-M wallets, Classic cross margin), each above its own liquidation line, "
            "against PM's one pool. Maintenance margin — what liquidates — not initial margin. "
            "Hover a figure for its arithmetic.",
            html.Ul(
                id="classic-summary",
                style={
                    "fontSize": "clamp(1rem, 1.15vw, 1.45rem)",
                    "lineHeight": 1.45,
                    "margin": 0,
                    "paddingLeft": "1.2em",
                },
            ),
        ),
        panel(
            "What liquidates each account",
            "Per classic account: its liquidation line, the equity it needs there and the "
            "collateral it accepts; then PM's one line.",
            grid("classic-grid", ACCOUNT_COLUMNS, "pmdesk-pm-vs-classic"),
        ),
        panel(
            "Where each holding counts",
            "Under PM a holding counts at its collateral rate against every leg; under classic "
            "only in the account it sits in, at that account's rate.",
            grid("classic-holdings", HOLDING_COLUMNS, "pmdesk-classic-holdings"),
        ),
        panel(
            "A uniform move: where gains and losses land",
            "Every non-stable asset moves by the same fraction. Under classic each leg's gain "
            "or loss lands in its own account and cannot offset another's; under PM they net "
            "in one adjusted equity (less the collateral haircut).",
            chart("classic-chart", "36vh"),
        ),
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    redraw_on_new_report(
        app,
        ctx,
        VIEW,
        [
            Output("classic-summary", "children"),
            Output("classic-grid", "rowData"),
            Output("classic-holdings", "rowData"),
            Output("classic-chart", "figure"),
        ],
        lambda account, detail: (
            [sentence(line) for line in summary(detail)],
            account_rows(detail),
            holding_rows(detail),
            move_figure(detail, f"classic-{account}"),
        ),
        lambda account: ([], [], [], empty_figure(account)),
    )
