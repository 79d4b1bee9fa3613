"""Figures every surface spells one way, from a stored report and its typed detail
(``RiskReport``): margin usage, unknown reasons in words, agreement with Binance and
calibration, gross leverage, the top-up advice and the stablecoin buffer. Pure. The alert
banner calls ``margin_usage`` and ``top_up_advice_for`` too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from app.store.store import StoredReport
from app.web.format import (
    UNKNOWN_TEXT,
    fmt_leverage,
    fmt_rel,
    fmt_share,
    fmt_uni_mmr,
    fmt_usd,
    fmt_usd_whole,
    is_unknown,
    plain_words,
)
from app.web.ladder import lv
from risk.model import (
    PositionMargin,
    Reconciliation,
    ReduceAdvice,
    RiskReport,
    UnknownReason,
)


def margin_usage(maint_margin_usd: float, adjusted_equity_usd: float) -> str:
    """Maintenance margin as a share of adjusted equity (= 1 / uniMMR): 100 % is insolvent.
    Over 100 % is shown as the real figure ("172.4 %"), never capped; adjusted equity ≤ 0 with
    some margin has no real figure and reads "> 100 %" whatever the MM; unknown stays unknown.
    The one spelling of margin usage on every surface — the alert banner included: call it with
    ``report.maint_margin.total_usd, report.adjusted_equity_usd``."""
    if is_unknown(adjusted_equity_usd):
        return UNKNOWN_TEXT
    if adjusted_equity_usd < 0 or (adjusted_equity_usd == 0 and maint_margin_usd > 0):
        return "> 100 %"
    if is_unknown(maint_margin_usd):
        return UNKNOWN_TEXT
    if maint_margin_usd <= 0:
        return "0.0 %"
    return fmt_share(maint_margin_usd / adjusted_equity_usd)


AFFECTS = {"equity": "adjusted equity", "mm": "maintenance margin"}


def reason_text(reason: UnknownReason | str) -> str:
    """One unknown reason in plain words: where (path, row), which field, what is wrong, and
    which headline figure it leaves unknown. A stored line (``str(UnknownReason)``) as is."""
    if isinstance(reason, str):
        return plain_words(reason)
    row = f", row {reason.item}" if reason.item else ""
    affects = [AFFECTS.get(a, a) for a in sorted(reason.affects)]
    tail = f" → {' and '.join(affects)} unknown" if affects else ""
    problem = plain_words(reason.problem)
    return f"{reason.path}{row}, field {reason.field}: {problem}{tail}"


def unknown_reasons(report: StoredReport, detail: RiskReport | None) -> tuple[str, ...]:
    """The report's unknown reasons in words: the detail's (structured) when read, else the
    stored lines."""
    if detail is not None and detail.unknown_reasons:
        return tuple(reason_text(r) for r in detail.unknown_reasons)
    return report.unknown_reasons


def rel_diffs(rec: Reconciliation) -> dict[str, float | None]:
    """pmdesk against Binance, (pmdesk − Binance) / |Binance|, by figure (``FIGURE_WORDS``)."""
    return {
        "uni_mmr": rec.rel_diff_uni_mmr,
        "adjusted_equity_usd": rec.rel_diff_equity,
        "maint_margin_usd": rec.rel_diff_mm,
    }


def _largest_diff(rec: Reconciliation) -> tuple[str, float] | None:
    """The figure pmdesk and Binance differ on most (uniMMR first when it is beyond the
    tolerance), with its relative difference; None when no difference is a number."""
    diffs = {k: v for k, v in rel_diffs(rec).items() if v is not None and math.isfinite(v)}
    tol = rec.tolerance
    if "uni_mmr" in diffs and abs(diffs["uni_mmr"]) > tol:
        return "uni_mmr", diffs["uni_mmr"]
    if not diffs:
        return None
    key = max(diffs, key=lambda k: abs(diffs[k]))
    return key, diffs[key]


FIGURE_WORDS = {
    "uni_mmr": "uniMMR",
    "adjusted_equity_usd": "adjusted equity",
    "maint_margin_usd": "maintenance margin",
}


def agreement(report: StoredReport, detail: RiskReport | None, tolerance: float) -> tuple[str, str]:
    """(mark, css class): does pmdesk's figure match Binance's own for the same poll?"""
    rec = None if detail is None else detail.reconciliation
    tol = tolerance if rec is None else rec.tolerance
    agrees = report.recon_agrees if rec is None else rec.agrees
    if agrees is True:
        return f"✔ matches Binance (±{fmt_share(tol)})", "recon-ok"
    if agrees is None:
        if report.unknown:
            return "— cannot compare: pmdesk's figures unknown", "recon-na"
        return "— Binance's figures unavailable", "recon-na"
    largest = None if rec is None else _largest_diff(rec)
    if largest is None:
        d = report.recon_uni_mmr_rel_diff
        largest = None if d is None or not math.isfinite(d) else ("uni_mmr", d)
    if largest is None:
        return "✖ differs from Binance", "recon-differs"
    key, d = largest
    what = "" if key == "uni_mmr" else f" ({FIGURE_WORDS[key]})"
    return f"✖ differs from Binance by {fmt_share(abs(d))}{what}", "recon-differs"


def calibration_words(report: StoredReport, detail: RiskReport | None) -> tuple[str, str]:
    """("calibrated" | "uncalibrated" | "", the uncalibrated sentence): whether pmdesk's
    assumptions (collateral table, loan MMR) reproduce Binance's figures, and when they do
    not, by how much pmdesk's base uniMMR differs from Binance's."""
    assumptions = None if detail is None else detail.assumptions
    calibrated = report.calibrated if assumptions is None else assumptions.calibrated
    if calibrated is None:
        return "", ""
    if calibrated:
        return "calibrated", ""
    rec = None if detail is None else detail.reconciliation
    how = "Binance's uniMMR is unavailable to compare"
    if report.unknown:
        how = "pmdesk's own figures are unknown"
    elif detail is not None and rec is not None:
        ours, theirs = detail.uni_mmr, rec.binance_uni_mmr
        d = rec.rel_diff_uni_mmr
        if is_unknown(ours):
            how = "pmdesk's own figures are unknown"
        elif theirs is not None and d is not None and math.isfinite(d):
            side = "above" if d > 0 else "below"
            how = (
                f"pmdesk's base uniMMR {fmt_uni_mmr(ours)} is {fmt_share(abs(d))} {side} "
                f"Binance's {fmt_uni_mmr(theirs)}"
            )
            if d > rec.tolerance:
                how += " (pmdesk is the more optimistic)"
        elif theirs is not None:
            how = f"pmdesk's uniMMR {fmt_uni_mmr(ours)}, Binance's {fmt_uni_mmr(theirs)}"
    elif report.recon_uni_mmr_rel_diff is not None:
        d = report.recon_uni_mmr_rel_diff
        how = f"pmdesk's base uniMMR differs from Binance's by {fmt_rel(d)}"
    return "uncalibrated", (
        f"UNCALIBRATED — stress figures and liquidation distance rest on assumptions Binance's "
        f"own figures do not confirm: {how}."
    )


# ---- Figures every surface spells one way -------------------------------------------------------


def gross_leverage(positions: Sequence[PositionMargin], adjusted_equity_usd: float) -> float | None:
    """Σ |position notional| ÷ adjusted equity from a report's positions; None without
    positions, NaN when a notional or the equity is unknown, ∞ when equity ≤ 0."""
    if not positions:
        return None
    notionals = [p.notional_usd for p in positions]
    if any(is_unknown(n) for n in notionals) or is_unknown(adjusted_equity_usd):
        return math.nan
    if adjusted_equity_usd <= 0:
        return math.inf
    return sum(abs(n) for n in notionals) / adjusted_equity_usd


def leverage_text(ratio: float | None) -> str:
    """Gross leverage in words: "45.7×"; "n/a" without positions; "∞ (equity ≤ 0)"."""
    if ratio == math.inf:
        return "∞ (equity ≤ 0)"
    return fmt_leverage(ratio)


def _reduce_parts(reduce: ReduceAdvice | None) -> tuple[str, float | None]:
    if reduce is None:
        return "", 0.0
    return reduce.symbol, reduce.fraction


def _share_up(fraction: float) -> str:
    """A fraction to close, rounded up (never advise too little): 0.3474 → "35 %"."""
    pct = 100 * fraction
    if pct < 1:
        return f"{math.ceil(pct * 10) / 10:.1f} %"
    return f"{min(math.ceil(pct - 1e-9), 100)} %"


def top_up_advice(
    top_up_usd: float,
    target_uni_mmr: float,
    reduce: ReduceAdvice | None = None,
    *,
    asset: str = "USDT",
    price_usd: float = 1.0,
    move_usd: float = 0.0,
    move_pct: float = 0.0,
) -> str:
    """What lifts uniMMR to the configured target (``rules.top_up_target_uni_mmr``) and keeps
    every uniform move of up to ``move_pct`` % clear of liquidation (``move_usd``, the report's
    ``top_up_move_usd``), in words: "to reach uniMMR 2.0: add 3,750 USDT, or close 35 % of
    BTCUSDT"; "to be 15 % from liquidation: add 9,120 USDT" when the distance needs more (the
    reduce suggestion is for the uniMMR target, so it is left out then). One amount: the larger
    meets both. Amounts round up."""
    t = lv(target_uni_mmr)
    symbol, fraction = _reduce_parts(reduce)
    if is_unknown(top_up_usd) or is_unknown(move_usd):
        return f"to reach uniMMR {t}: unknown"
    away = f"{move_pct:g} % from liquidation"
    if top_up_usd <= 0 and move_usd <= 0:
        return f"uniMMR above {t}" + (f" and {away}" if move_pct > 0 else "") + ": no top-up needed"
    distance_governs = move_usd > top_up_usd
    need = move_usd if distance_governs else top_up_usd
    if need == math.inf:
        add = f"no {asset} top-up gets there"
    else:
        qty = need / (price_usd if price_usd > 0 and math.isfinite(price_usd) else 1.0)
        add = f"add {math.ceil(qty - 1e-9):,} {asset}"
    if distance_governs:
        goal = f"to reach uniMMR {t} and be {away}" if top_up_usd > 0 else f"to be {away}"
        return f"{goal}: {add}"
    if symbol and fraction is None:
        return f"to reach uniMMR {t}: {add} (closing all of {symbol} is not enough)"
    if symbol and fraction is not None and fraction > 0:
        return f"to reach uniMMR {t}: {add}, or close {_share_up(fraction)} of {symbol}"
    return f"to reach uniMMR {t}: {add}"


def top_up_advice_for(report: RiskReport) -> str:
    """``top_up_advice`` for a fresh ``RiskReport`` (the alert banner's): the report's own
    top-up to ``rules.top_up_target_uni_mmr`` and to its clear move, and reduce suggestion — so
    the banner and the overview say the same amount for the same target."""
    asset = report.top_up_basis.asset or "USDT"
    price = next((a.index_price_usd for a in report.assets if a.asset == asset), 1.0)
    return top_up_advice(
        report.top_up_usd,
        report.top_up_target_uni_mmr,
        report.reduce,
        asset=asset,
        price_usd=price,
        move_usd=report.top_up_move_usd,
        move_pct=report.top_up_clear_move_pct,
    )


def top_up_move_of(report: StoredReport, detail: RiskReport | None) -> float:
    """The stored report's ``top_up_move_usd``: NaN when its figures are unknown (and for a
    report stored before it existed, or as version 1's ambiguous null: ``risk.serialize``),
    0 without the detail."""
    if report.unknown:
        return math.nan
    return 0.0 if detail is None else detail.top_up_move_usd


def top_up_needed_of(report: StoredReport, detail: RiskReport | None) -> float:
    """The one top-up amount (``RiskReport.top_up_needed_usd``) of a stored report: the larger
    of the uniMMR target's and the clear move's."""
    move = top_up_move_of(report, detail)
    if is_unknown(report.top_up_usd) or is_unknown(move):
        return math.nan
    return max(report.top_up_usd, move)


def top_up_advice_of(report: StoredReport, detail: RiskReport | None) -> str:
    """``top_up_advice`` for a stored report and its detail (the overview's)."""
    if detail is None:
        return top_up_advice(report.top_up_usd, report.top_up_target_uni_mmr)
    asset = detail.top_up_basis.asset or "USDT"
    price = next((a.index_price_usd for a in detail.assets if a.asset == asset), 1.0)
    return top_up_advice(
        report.top_up_usd,
        report.top_up_target_uni_mmr,
        detail.reduce,
        asset=asset,
        price_usd=price,
        move_usd=top_up_move_of(report, detail),
        move_pct=detail.top_up_clear_move_pct,
    )


def buffer_words(net_usd: float | None, gross_usd: float | None) -> tuple[str, str, bool]:
    """(value, note, owes): the net stablecoin buffer (held minus stablecoin debts) as such —
    "owes $52,767" when the account owes more stablecoin than it holds — with the gross held in
    the note."""
    if net_usd is None:
        return ("—" if gross_usd is None else fmt_usd(gross_usd)), "stablecoins held", False
    if is_unknown(net_usd):
        return UNKNOWN_TEXT, "stablecoins held minus stablecoin debts", False
    held = "—" if gross_usd is None else fmt_usd_whole(gross_usd)
    debts = None if gross_usd is None else gross_usd - net_usd
    if net_usd < 0:
        return (
            f"owes {fmt_usd_whole(-net_usd)}",
            f"stablecoin debts {fmt_usd_whole(debts)} exceed the {held} held",
            True,
        )
    if debts is not None and debts > 0.005:
        return fmt_usd(net_usd), f"net: {held} held − {fmt_usd_whole(debts)} owed", False
    return fmt_usd(net_usd), f"net: {held} held, no stablecoin debt", False
