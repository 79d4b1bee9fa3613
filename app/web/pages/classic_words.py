"""PM vs classic, in words: the comparison's sentences (each figure with its tooltip how it is
computed) and the helpers every part of the view formats its figures with."""

from __future__ import annotations

import math

from dash import html

from app.web.components import (
    COLORS,
    VENUE_COLORS,
)
from app.web.format import (
    NO_LIQUIDATION,
    UNKNOWN_TEXT,
    fmt_move,
    fmt_num,
    fmt_signed_usd,
    fmt_usd,
)
from risk.classic import MULTI_ASSETS_RATE, ClassicComparison
from risk.model import RiskReport

MA_BTC = MULTI_ASSETS_RATE["BTC"]
MA_STABLE = MULTI_ASSETS_RATE["USDT"]
MULTI_ASSETS_TEXT = (
    "stablecoin (USDT, USDC at 99.99 %), or BTC, ETH, BNB at 95 % and XRP, ADA, DOT, SOL at "
    "90 %, moved into the wallet (Binance FAQ 29b45c48, its older table for the 90 % coins; "
    "transfer-in limits by VIP level)"
)

COIN_COLORS = (VENUE_COLORS["CM"], COLORS["act"], "#b084ff", COLORS["short"])
Part = str | tuple[str, str]  # plain text, or (figure, its tooltip)


def is_missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def grid_figure(value: float | None) -> float | None:
    """A grid figure: a number, or None (with the row's unknown list) when not computable."""
    return None if is_missing(value) else value


usd = fmt_usd  # $1,234.56; NaN (not computable) reads "unknown"
num = fmt_num


def signed_usd(value: float) -> str:
    """+$1.00 / −$1.00; a change that rounds to nothing has no sign."""
    return fmt_signed_usd(0.0 if abs(value) < 0.005 else value).replace("+$0.00", "$0.00")


def pct(value: float | None) -> str:
    """A liquidating move; none reads ``NO_LIQUIDATION``, as on every view."""
    return fmt_move(value)


def comparison(detail: RiskReport) -> ClassicComparison | None:
    """The report's comparison; None for a report stored before it existed (``risk.serialize``
    reads its figures as unknown: the move it is drawn for, a setting, never is otherwise)."""
    return None if math.isnan(detail.classic.move_pct) else detail.classic


def coin_qty(value: float, coin: str) -> str:
    return f"{num(value, 4)} {coin}"


def _pm_move(detail: RiskReport, classic_move: float | None) -> str:
    """PM's liquidation move in the direction the classic figure points (down unless it is a
    rise); none is ``NO_LIQUIDATION``, or unknown when the report is UNKNOWN."""
    shock = detail.liquidation_shock
    up = classic_move is not None and not math.isnan(classic_move) and classic_move > 0
    value = shock.up_pct if up else shock.down_pct
    if value is None:
        return UNKNOWN_TEXT if detail.state == "UNKNOWN" else NO_LIQUIDATION
    return pct(value)


def summary(detail: RiskReport) -> list[list[Part]]:
    """The comparison in sentences; each figure carries its tooltip (how it is computed)."""
    c = comparison(detail)
    if c is None:
        return [
            ["This report was stored before the comparison was reworked; the next one shows it."]
        ]
    lines: list[list[Part]] = []
    if detail.state == "UNKNOWN":
        lines.append(
            [
                "Some of Binance's inputs are missing or unreadable: every figure that depends on "
                "them reads “unknown” (the Overview says which and why)."
            ]
        )
    lines.append(
        [
            "Classic accounts do not share collateral: each must stay above its own liquidation "
            "line with what it accepts. Under PM one pool backs every leg, each holding at its "
            "PM collateral rate, and a hedge's two legs offset inside that one equity."
        ]
    )
    risky = [h for h in c.holdings if not h.stable]
    if c.has_um:
        line: list[Part] = [
            "USD-M: under classic, this book's USD-M positions would need ",
            (
                usd(c.um_need_usd),
                f"maintenance margin {usd(c.um_maint_usd)} (leverage brackets, as under PM) "
                f"− the positions' unrealized PnL {signed_usd(c.um_upnl_usd)}",
            ),
            " of collateral in their own wallet (Multi-Assets mode)",
        ]
        if is_missing(c.um_need_usd):
            line += [": stablecoin, or BTC, ETH or BNB at 95 % moved there."]
        else:
            line += [
                ": ",
                (
                    f"{num(c.um_need_usd / MA_STABLE)} USDT",
                    f"{usd(c.um_need_usd)} / 99.99 %",
                ),
                " or ",
                (usd(c.um_need_usd / MA_BTC), f"{usd(c.um_need_usd)} / 95 %"),
                " of BTC, ETH or BNB moved there.",
            ]
        held = [h for h in risky if h.multi_assets_rate is not None]
        if held:
            names = ", ".join(h.asset for h in held)
            line += [
                f" The book's {names} cannot back it unless moved there; PM counts {names} at ",
                (
                    usd(sum(h.pm_counted_usd for h in held)),
                    "Σ value × PM collateral rate of " + names,
                ),
                " (its collateral rate) against every leg.",
            ]
        lines.append(line)
    for w in c.coin_wallets:
        own = next((h for h in c.holdings if h.asset == w.coin), None)
        line = [
            f"COIN-M {w.coin}: its contracts are margined in {w.coin} only; the {w.coin} wallet "
            "would need ",
            (
                coin_qty(w.need_qty, w.coin),
                f"maintenance margin {coin_qty(w.maint_qty, w.coin)} − unrealized PnL "
                f"{coin_qty(w.upnl_qty, w.coin)}; worth {usd(w.need_usd)}",
            ),
            f" of {w.coin} itself.",
        ]
        if own is not None:
            line += [
                f" The book's {w.coin} counts there by quantity if moved; PM counts it at ",
                (usd(own.pm_counted_usd), f"{num(own.qty, 4)} {w.coin} × PM collateral rate"),
                " against every leg.",
            ]
        lines.append(line)
    if c.has_loans:
        move = c.margin_liquidation_move_pct
        lines.append(
            [
                "Cross margin (Classic, 3x or 5x): loans and interest of ",
                (usd(c.margin_debt_usd), "Σ (borrowed + interest) × index price"),
                " need assets of at least ",
                (
                    usd(c.margin_need_assets_usd),
                    f"{c.margin_liquidation_level:g} × (loans + interest): liquidation at margin "
                    "level ≤ 1.1 (Cross Margin Pro FAQ 0b5441a1; haircuts do not apply)",
                ),
                " in the margin account. The book's margin side holds ",
                (usd(c.margin_assets_usd), "Σ cross-margin assets × index price, no haircut"),
                ": margin level ",
                (num(c.margin_level), "total asset / (loans + interest)"),
                ", liquidated on a move of ",
                (
                    pct(move),
                    "the uniform move of every non-stable asset that takes the margin level "
                    "to 1.1, the book's margin side as it sits (never: none within −100 % and "
                    "+1,000 %)",
                ),
                "; the PM account, the whole book in one pool, on ",
                (
                    _pm_move(detail, move),
                    "the uniform move, in the same direction, that takes uniMMR to "
                    f"{c.pm_liquidation_uni_mmr:g} (the Overview's liquidation distance)",
                ),
                ".",
            ]
        )
    lines.append(
        [
            "At the liquidation lines: the classic accounts need ",
            (
                usd(c.classic_line_usd),
                "USD-M MM + Σ COIN-M MM + 0.1 × (loans + interest); equity incl. unrealized PnL",
            ),
            " in total, each part in its own account and in what that account accepts; PM needs ",
            (
                usd(c.pm_line_usd),
                f"{c.pm_liquidation_uni_mmr:g} × maintenance margin {usd(c.pm_maint_usd)} "
                "(loans at the calibrated loan MMR)",
            ),
            " of adjusted equity from one pool, and the book has ",
            (usd(c.pm_equity_usd), "adjusted equity: Σ holdings × PM collateral rates"),
            ".",
        ]
    )
    move_line: list[Part] = [f"A +{c.move_pct:g} % move of every non-stable asset: "]
    if c.has_um:
        move_line += [
            "the USD-M positions' PnL of ",
            (signed_usd(c.um_move_up_usd), "Σ amount × mark × 10 %"),
            " lands in the USD-M wallet; ",
        ]
    for w in c.coin_wallets:
        move_line += [
            f"the COIN-M {w.coin} contracts' PnL of ",
            (signed_usd(w.move_up_usd), "contracts × size × (1/mark − 1/mark′), × price′"),
            f" lands in the {w.coin} wallet; ",
        ]
    move_line += [
        "the holdings, net of loans, change by ",
        (signed_usd(c.holdings_move_up_usd), "Σ non-stable holdings × price × 10 %"),
        " where they sit (spot or margin account). PM's adjusted equity changes by ",
        (
            signed_usd(c.pm_equity_move_up_usd),
            "the whole book revalued at the moved prices, collateral rates applied",
        ),
        ": one pool, so the legs offset there." if c.has_um or c.coin_wallets else ".",
    ]
    lines.append(move_line)
    return lines


def sentence(line: list[Part]) -> html.Li:
    return html.Li(
        [
            html.Span(p[0], title=p[1], style={"fontWeight": 700, "cursor": "help"})
            if isinstance(p, tuple)
            else p
            for p in line
        ]
    )
