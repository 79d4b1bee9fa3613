"""Binance vs pmdesk: each headline figure as Binance reports it beside pmdesk's recomputation
(uniMMR, adjusted equity, maintenance margin, its futures and loan parts), the difference in USD
and in %, which part explains it; each position's maintenance margin on both sides; and the
assumptions pmdesk had to settle because Binance does not publish them per account (which
collateral table, the margin-loan MMR), with how each was settled. When those assumptions do not
reproduce Binance's figures the stress figures are *uncalibrated*, and the view says by how much.
"""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, html

from app.store.store import StoredReport
from app.web.components import grid, num_col, panel, text_col, view
from app.web.context import WebContext
from app.web.figures import agreement, calibration_words, rel_diffs, unknown_reasons
from app.web.format import (
    NONE,
    UNKNOWN_TEXT,
    fmt_rel,
    fmt_share,
    fmt_signed,
    fmt_signed_usd,
    fmt_uni_mmr,
    fmt_usd,
    is_unknown,
    mark_unknown,
)
from app.web.ladder import PRODUCT_NAME, ladder_hint
from app.web.times import TimePref, clock_text
from risk.calibrate import rel_diff
from risk.model import (
    COLLATERAL_TABLE_PATH,
    LOAN_MMR_ASSUMED,
    LOAN_MMR_FROM_BINANCE,
    LOAN_MMR_IMPLIED,
    Reconciliation,
    RiskReport,
    RiskRules,
)

VIEW = "reconcile"
NOT_REPORTED = "not reported"

LOAN_SOURCE_WORDS = {
    LOAN_MMR_FROM_BINANCE: "from Binance (the leverage /sapi/v1/portfolio/margin-asset-leverage "
    "reports, through the uniMMR FAQ's leverage → MMR table)",
    LOAN_MMR_IMPLIED: "implied by Binance's MM (accountMaintMargin − its positions' "
    "maintMargin, over the loans at index price)",
    LOAN_MMR_ASSUMED: "assumed (pmdesk's conservative default: Binance's figures could not "
    "tell it)",
}
FIGURES = (
    (
        "uni_mmr",
        "uniMMR",
        "Binance: uniMMR of /papi/v1/account. pmdesk: adjusted equity ÷ maintenance margin.",
    ),
    (
        "adjusted_equity_usd",
        "Adjusted equity",
        "Binance: accountEquity. pmdesk: Σ equity × index price × collateral rate of the "
        "table in use; debts in full.",
    ),
    (
        "maint_margin_usd",
        "Maintenance margin",
        "Binance: accountMaintMargin. pmdesk: futures bracket MM + loan MM.",
    ),
    (
        "futures_mm_usd",
        "  of which futures MM",
        "Binance: Σ each position's maintMargin (/papi/v1/um/account, /papi/v1/cm/account) "
        "at its margin asset's index price. pmdesk: from the leverage brackets.",
    ),
    (
        "loan_mm_usd",
        "  of which loan MM",
        "Binance: the residual — accountMaintMargin minus its positions' maintMargin. "
        "pmdesk: Σ loan × index price × loan MMR (see the assumptions).",
    ),
)


def _sides(rec: Reconciliation, key: str) -> tuple[float | None, float]:
    """(Binance's, pmdesk's) figure ``key`` (``FIGURES``) of a reconciliation."""
    return {
        "uni_mmr": (rec.binance_uni_mmr, rec.pmdesk_uni_mmr),
        "adjusted_equity_usd": (rec.binance_equity_usd, rec.pmdesk_equity_usd),
        "maint_margin_usd": (rec.binance_mm_usd, rec.pmdesk_mm_usd),
        "futures_mm_usd": (rec.binance_futures_mm_usd, rec.pmdesk_futures_mm_usd),
        "loan_mm_usd": (rec.binance_loan_mm_usd, rec.pmdesk_loan_mm_usd),
    }[key]


def _row(
    key: str,
    label: str,
    hint: str,
    binance: float | None,
    pmdesk: float,
    rel: float | None,
    tolerance: float,
    fmt: Any,
) -> dict[str, Any]:
    both = binance is not None and math.isfinite(binance) and math.isfinite(pmdesk)
    diff = pmdesk - binance if both and binance is not None else None
    differs = rel is not None and math.isfinite(rel) and abs(rel) > tolerance
    if binance is not None and not is_unknown(pmdesk) and rel is None:
        # One side ∞ (no MM) and the other not: they differ, with no % to say it.
        differs = differs or (math.isinf(binance) != math.isinf(pmdesk))
    signed = fmt_signed if key == "uni_mmr" else fmt_signed_usd
    diff_text = NONE if diff is None else signed(diff)
    if is_unknown(pmdesk):
        diff_text = UNKNOWN_TEXT
    return {
        "key": key,
        "figure": label,
        "hint": hint,
        "binance": NOT_REPORTED if binance is None else fmt(binance),
        "pmdesk": fmt(pmdesk),
        "diff": diff_text,
        "diff_pct": UNKNOWN_TEXT if is_unknown(pmdesk) else fmt_rel(rel, 2),
        "differs": differs,
    }


def figure_rows(detail: RiskReport) -> list[dict[str, Any]]:
    """Each figure on both sides, its difference (pmdesk − Binance) in its unit and relative to
    Binance's (``rel_diff``: over |Binance|, at least 1 USD), and whether it is beyond the
    tolerance. Empty when Binance's figures were not read."""
    rec = detail.reconciliation
    if rec is None:
        return []
    diffs = rel_diffs(rec)
    out = []
    for key, label, hint in FIGURES:
        b, p = _sides(rec, key)
        if key in diffs:
            rel = diffs[key]
        else:
            rel = rel_diff(p, b) if b is not None and math.isfinite(p) else None
        fmt = fmt_uni_mmr if key == "uni_mmr" else fmt_usd
        out.append(_row(key, label, hint, b, p, rel, rec.tolerance, fmt))
    return out


def position_rows(detail: RiskReport) -> list[dict[str, Any]]:
    """Each position's maintenance margin: pmdesk's (brackets) against Binance's maintMargin."""
    rec = detail.reconciliation
    if rec is None:
        return []
    ours = {(p.venue, p.symbol, p.position_side) for p in detail.positions}
    rows = []
    for p in rec.positions:
        key = (p.venue, p.symbol, p.position_side)
        mine, theirs = p.pmdesk_mm_usd, p.binance_mm_usd
        diff = None if math.isnan(mine) or theirs is None else mine - theirs
        note = ""
        if theirs is None:
            note = "not listed by Binance"
        elif key not in ours:
            note = "Binance charges MM for a position pmdesk does not see"
        rows.append(
            mark_unknown(
                {
                    "key": ":".join(key),
                    "venue": p.venue,
                    "symbol": p.symbol,
                    "side": p.position_side,
                    "pmdesk_mm": mine,
                    "binance_mm": theirs,
                    "diff_usd": diff,
                    "diff_pct": None
                    if theirs is None or diff is None
                    else 100 * rel_diff(mine, theirs),
                    "note": note,
                },
                ["pmdesk_mm"] + (["diff_usd", "diff_pct"] if theirs is not None else []),
            )
        )
    return rows


def _pct_of(rate: float) -> str:
    return f"{100 * rate:,.2f} %"


def assumption_rows(detail: RiskReport, rules: RiskRules) -> list[tuple[str, str]]:
    """(what, how pmdesk settled it) for every input Binance does not publish per account."""
    a = detail.assumptions
    if a is None:
        return [("Assumptions", "not recorded with this report")]
    product = a.product
    table = a.collateral_table
    diffs = a.equity_rel_diff
    per_table = " · ".join(
        f"{t} {fmt_rel(d, 2)}" + (" (in use)" if t == table else "")
        for t, d in sorted(diffs.items())
    )
    loans = a.loan_mmr
    leverage = a.loan_leverage
    source = a.loan_mmr_source or NONE
    rows = [
        ("Product", f"{PRODUCT_NAME[product]} ({product.value})"),
        ("Binance's levels", ladder_hint(rules)),
        (
            "Collateral table",
            f"{table} — {COLLATERAL_TABLE_PATH.get(table, 'unknown path')}",
        ),
        ("Why this table", a.collateral_source or NONE),
        (
            "Adjusted equity vs Binance's accountEquity, per table",
            per_table or "not compared: Binance's accountEquity unavailable",
        ),
        (
            "Loan MMR",
            " · ".join(f"{asset} {_pct_of(r)}" for asset, r in sorted(loans.items())) or "no loans",
        ),
        ("Loan MMR source", LOAN_SOURCE_WORDS.get(source, source)),
    ]
    if leverage:
        whose = (
            "as Binance reports it"
            if source == LOAN_MMR_FROM_BINANCE
            else "pmdesk's setting (margin_leverage): Binance does not report it for this account"
        )
        rows.append(
            (
                "Loan leverage (initial margin only)",
                " · ".join(f"{asset} {x:g}x" for asset, x in sorted(leverage.items()))
                + f" — {whose}",
            )
        )
    rec = detail.reconciliation
    tol = fmt_share(rules.reconcile_tolerance if rec is None else rec.tolerance)
    rows.append(
        (
            "Calibrated",
            f"yes — these choices reproduce Binance's figures within ±{tol}"
            if a.calibrated
            else f"NO — these choices do not reproduce Binance's figures within ±{tol}: the "
            "stress figures are uncalibrated",
        )
    )
    rows += [("Note", n) for n in a.notes]
    rows += [("Warning", w) for w in detail.warnings]
    return rows


def calibration_line(report: StoredReport, detail: RiskReport) -> tuple[str, str]:
    """(words, css class) for the calibration: what it rests on, or by how much it is off."""
    word, sentence = calibration_words(report, detail)
    if word == "uncalibrated":
        return sentence, "recon-calibration recon-uncalibrated"
    if word == "calibrated":
        a = detail.assumptions
        table = f"the {'?' if a is None else a.collateral_table} collateral table"
        source = "?" if a is None else a.loan_mmr_source
        rests = table if source == "no loans" else f"{table} and the loan MMR ({source})"
        return (
            f"CALIBRATED — {rests} reproduce{'s' if source == 'no loans' else ''} Binance's "
            "figures: the stress figures rest on them.",
            "recon-calibration recon-calibrated",
        )
    return "Calibration not recorded with this report.", "recon-calibration"


def _figure_table(rows: list[dict[str, Any]]) -> list[html.Tr]:
    head = html.Tr(
        [
            html.Th("Figure"),
            html.Th("Binance"),
            html.Th("pmdesk"),
            html.Th("Difference"),
            html.Th("Difference %"),
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(r["figure"], className="recon-figure"),
                html.Td(r["binance"], className="num"),
                html.Td(
                    r["pmdesk"],
                    className="num cell-unknown" if r["pmdesk"] == UNKNOWN_TEXT else "num",
                ),
                html.Td(r["diff"], className="num"),
                html.Td(r["diff_pct"], className="num"),
            ],
            title=r["hint"],
            className="recon-row recon-row-differs" if r["differs"] else "recon-row",
            **{"data-key": r["key"]},
        )
        for r in rows
    ]
    return [head, *body]


POSITION_COLUMNS = [
    text_col("venue", "Venue", "UM = USD-M futures, CM = COIN-M futures."),
    text_col("symbol", "Symbol", "The contract."),
    text_col("side", "Side", "Position side (BOTH in one-way mode)."),
    num_col("pmdesk_mm", "pmdesk MM", "pmdesk's maintenance margin from the brackets, USD."),
    num_col(
        "binance_mm",
        "Binance MM",
        "Binance's maintMargin for the position, at its margin asset's index price, USD.",
    ),
    num_col("diff_usd", "Diff (USD)", "pmdesk − Binance, USD.", spec="+,.2f"),
    num_col("diff_pct", "Diff %", "(pmdesk − Binance) ÷ Binance.", spec="+,.2f", suffix=" %"),
    text_col(
        "note",
        "Note",
        "A position one side lists and the other does not.",
        width=220,
        wrapText=True,
    ),
]


def layout(rules: RiskRules | None = None) -> html.Div:
    rules = rules or RiskRules()
    tol = f"±{100 * rules.reconcile_tolerance:g} %"
    return view(
        VIEW,
        panel(
            "Binance vs pmdesk",
            "pmdesk recomputes every figure from Binance's published rules; Binance reports "
            "its own for the same account poll (/papi/v1/account, and each position's "
            f"maintMargin). They match when each is within {tol}. A difference says which "
            "side of the formula explains it; the assumptions below say what pmdesk had to "
            "settle itself.",
            html.Div("—", id="recon-headline", className="recon-headline recon-na"),
            html.Div("", id="recon-explained", className="recon-explained"),
            html.Div("", id="recon-calibration", className="recon-calibration"),
            html.Ul([], id="recon-reasons", className="unknown-reasons", hidden=True),
            html.Div(
                html.Table([], id="recon-figures", className="recon-table"),
                className="table-scroll",
            ),
            html.Div("", id="recon-asof", className="muted recon-asof"),
        ),
        panel(
            "Maintenance margin per position",
            "Each futures position's maintenance margin: pmdesk's from the leverage brackets, "
            "Binance's maintMargin from /papi/v1/um/account and /papi/v1/cm/account.",
            grid(
                "recon-positions-grid",
                POSITION_COLUMNS,
                "pmdesk-vs-binance-positions",
                no_rows="No futures positions on either side",
            ),
        ),
        panel(
            "Assumptions",
            "What Binance does not publish per account, and how pmdesk settled it: the "
            "collateral table whose adjusted equity reproduces Binance's accountEquity, and the "
            "margin-loan MMR (from Binance, implied by its MM, or assumed).",
            html.Table([], id="recon-assumptions", className="recon-assumptions"),
        ),
    )


def render(
    report: StoredReport | None,
    detail: RiskReport | None,
    rules: RiskRules,
    pref: TimePref | None = None,
) -> dict[str, Any]:
    """Every output of the view, from the newest report and its detail; times in the viewer's
    UTC/local choice (``pref``)."""
    if report is None or detail is None:
        return {
            "headline": "— no data yet",
            "headline_class": "recon-headline recon-na",
            "explained": "",
            "calibration": "",
            "calibration_class": "recon-calibration",
            "reasons": [],
            "reasons_hidden": True,
            "figures": [],
            "positions": [],
            "assumptions": [],
            "as_of": "",
        }
    mark, mark_class = agreement(report, detail, rules.reconcile_tolerance)
    rec = detail.reconciliation
    explained = ""  # agreeing: the mark says it all
    if rec is None:
        explained = "/papi/v1/account was not read: nothing of Binance's to compare"
    elif rec.agrees is False:
        explained = f"Explained by {rec.explained_by}"
    elif rec.agrees is None:
        explained = rec.explained_by
    calibration, calibration_class = calibration_line(report, detail)
    reasons = unknown_reasons(report, detail) if report.unknown else ()
    assumptions = [
        html.Tr([html.Th(what), html.Td(how)], className=f"assume-{what.split()[0].lower()}")
        for what, how in assumption_rows(detail, rules)
    ]
    return {
        "headline": mark,
        "headline_class": f"recon-headline {mark_class}",
        "explained": explained,
        "calibration": calibration,
        "calibration_class": calibration_class,
        "reasons": [html.Li(r) for r in reasons],
        "reasons_hidden": not reasons,
        "figures": _figure_table(figure_rows(detail)),
        "positions": position_rows(detail),
        "assumptions": assumptions,
        "as_of": as_of_words(report, rec, pref),
    }


def as_of_words(report: StoredReport, rec: Reconciliation | None, pref: TimePref | None) -> str:
    """When the two sides were compared: at the moment Binance's figures were read (the account
    poll) or pushed (riskLevelChange) when the collector stamped it — between polls the
    comparison stays the poll's while pmdesk's headline figures move with the marks."""
    if rec is not None and rec.binance_at_ms is not None:
        return (
            f"Compared at {clock_text(rec.binance_at_ms, pref)}: Binance's figures then (its "
            "account poll, or a pushed riskLevelChange) against pmdesk's recomputation of that "
            f"moment. pmdesk's headline figures are from {clock_text(report.data_time_ms, pref)}."
        )
    return (
        f"Binance's figures from the account poll of {clock_text(report.positions_at_ms, pref)}; "
        f"pmdesk's from the report of {clock_text(report.data_time_ms, pref)}."
    )


def register(app: dash.Dash, ctx: WebContext) -> None:
    @app.callback(
        output=dict(
            headline=Output("recon-headline", "children"),
            headline_class=Output("recon-headline", "className"),
            explained=Output("recon-explained", "children"),
            calibration=Output("recon-calibration", "children"),
            calibration_class=Output("recon-calibration", "className"),
            reasons=Output("recon-reasons", "children"),
            reasons_hidden=Output("recon-reasons", "hidden"),
            figures=Output("recon-figures", "children"),
            positions=Output("recon-positions-grid", "rowData"),
            assumptions=Output("recon-assumptions", "children"),
            as_of=Output("recon-asof", "children"),
        ),
        inputs=[
            Input("report-key", "data"),
            Input("view", "value"),
            Input("account", "value"),
            Input("time-pref", "data"),
        ],
    )
    def refresh(
        _key: object, shown: str, picked: str | None, pref: TimePref | None
    ) -> dict[str, Any]:
        if shown != VIEW:
            raise dash.exceptions.PreventUpdate
        latest = ctx.latest(ctx.account(picked))
        report, detail = latest if latest is not None else (None, None)
        return render(report, detail, ctx.rules, pref)
