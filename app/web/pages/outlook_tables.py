"""The Outlook view's tables, pure: per horizon the probabilities in words beside the
correlation-break variant's, the path minimum of uniMMR and the expected shortfall; the replays
of named episodes; the assets driving the tail. Numbers only where the outlook has them: an
unknown figure reads "unknown"."""

from __future__ import annotations

import math

from dash import html

from app.web.format import UNKNOWN_TEXT, fmt_signed_usd, fmt_uni_mmr
from app.web.pages.outlook_words import odds_words, pct_words, share_words
from app.web.times import TimePref, datetime_text
from risk.outlook_result import HorizonOutlook, Outlook, ReplayResult

HORIZON_HEADERS = (
    "Horizon",
    "Liquidation",
    "If correlations break (all to 1)",
    "Warning level",
    "uniMMR path min 5 % / 1 %",
    "Equity, worst 5 % (ES)",
)
REPLAY_HEADERS = ("Episode", "From", "Bars", "Lowest uniMMR", "Liquidation")


def _odds_cell(p: float, stderr: float, n_paths: int, key: str) -> html.Td:
    return html.Td(
        [
            html.Div(odds_words(p, n_paths), className="outlook-odds"),
            html.Div(pct_words(p, stderr), className="outlook-pct"),
        ],
        className=f"outlook-cell outlook-{key}" + (" cell-unknown" if math.isnan(p) else ""),
    )


def _uni(v: float) -> str:
    return UNKNOWN_TEXT if math.isnan(v) else fmt_uni_mmr(v)


def horizon_rows(outlook: Outlook) -> list[html.Tr]:
    """One row per horizon, the correlation-break variant's liquidation beside the normal's."""
    broken = {h.horizon_h: h for h in outlook.correlation_break}
    rows = [html.Tr([html.Th(h) for h in HORIZON_HEADERS])]
    for h in outlook.horizons:
        b: HorizonOutlook | None = broken.get(h.horizon_h)
        n = outlook.n_paths
        rows.append(
            html.Tr(
                [
                    html.Td(f"within {h.horizon_h:g} h", className="outlook-horizon"),
                    _odds_cell(h.p_liquidation, h.stderr, n, "liquidation"),
                    _odds_cell(b.p_liquidation, b.stderr, n, "broken")
                    if b is not None
                    else html.Td(
                        "not computed for this model", className="outlook-cell cell-unknown"
                    ),
                    _odds_cell(h.p_warning, h.p_warning_stderr, n, "warning"),
                    html.Td(f"{_uni(h.uni_mmr_q05)} / {_uni(h.uni_mmr_q01)}", className="num"),
                    html.Td(fmt_signed_usd(h.es_equity_usd), className="num"),
                ],
                id=f"outlook-row-{h.horizon_h:g}h",
                className="outlook-row",
            )
        )
    return rows


def _when(ms: int | None, pref: TimePref | None) -> str:
    return "never" if ms is None else datetime_text(ms, pref)


def replay_rows(replays: tuple[ReplayResult, ...], pref: TimePref | None) -> list[html.Tr]:
    rows = [html.Tr([html.Th(h) for h in REPLAY_HEADERS])]
    for r in replays:
        if r.missing:
            cells = [
                html.Td(r.name, className="replay-name", title=r.description),
                html.Td(r.start_utc[:10]),
                html.Td("—", className="num"),
                html.Td(f"not replayed: {r.missing}", colSpan=2, className="cell-unknown"),
            ]
        else:
            liquidated = r.liquidation_at_ms is not None
            cells = [
                html.Td(r.name, className="replay-name", title=r.description),
                html.Td(r.start_utc[:10]),
                html.Td(f"{r.bars:,} × {r.interval}", className="num"),
                html.Td(_uni(r.min_uni_mmr), className="num"),
                html.Td(
                    f"at {_when(r.liquidation_at_ms, pref)}" if liquidated else "never",
                    className="replay-liquidated" if liquidated else "replay-never",
                ),
            ]
        rows.append(html.Tr(cells, className="replay-row"))
    return rows


def driver_items(h: HorizonOutlook | None) -> list[html.Li]:
    if h is None or not h.drivers:
        return [html.Li("no driver named for this horizon", className="muted")]
    return [
        html.Li(
            [
                html.Span(d.asset, className="driver-asset"),
                html.Span(share_words(d), className="driver-share"),
                html.Span(
                    f"mean move {d.mean_move_pct:+.1f} %".replace("-", "−"),
                    className="driver-move",
                ),
            ],
            className="driver",
        )
        for d in h.drivers
    ]
