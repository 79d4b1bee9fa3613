"""The words and lines every view uses for Binance's uniMMR levels, built from the configured
product and levels (``RiskRules``), never hard-coded: Portfolio Margin publishes only its
liquidation level (1.05, and adjusted equity below 0), Portfolio Margin Pro a full ladder
(1.5 trade freely / 1.2 reduce only / 1.05 liquidation / 1.0 claim for loss). Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass

from risk.model import LADDER_BY_PRODUCT, MarginBand, Product, RiskRules

PRODUCT_NAME = {Product.PM: "Portfolio Margin", Product.PM_PRO: "Portfolio Margin Pro"}
UNKNOWN_ICON = "⊘"
UNKNOWN_STATUS = "UNKNOWN — figures unavailable"


@dataclass(frozen=True)
class Level:
    """One level the product publishes (or the config sets): its name, uniMMR and colour key
    (``components.COLORS``)."""

    key: str
    name: str
    uni_mmr: float
    color: str


def lv(uni_mmr: float | None) -> str:
    """A level as Binance writes it: 1.5, 1.05, 1.0."""
    if uni_mmr is None:
        return "—"
    text = f"{uni_mmr:g}"
    return text if "." in text or "e" in text else f"{text}.0"


def levels(rules: RiskRules) -> list[Level]:
    """The levels in force, highest first; a level the product does not publish is left out."""
    out = []
    if rules.margin_call_uni_mmr is not None:
        out.append(Level("margin_call", "margin call", rules.margin_call_uni_mmr, "watch"))
    if rules.reduce_only_uni_mmr is not None:
        out.append(Level("reduce_only", "reduce only", rules.reduce_only_uni_mmr, "act"))
    out.append(Level("liquidation", "liquidation", rules.liquidation_uni_mmr, "danger"))
    if rules.loss_uni_mmr is not None:
        out.append(Level("loss", "loss claim", rules.loss_uni_mmr, "danger"))
    return out


def top_level(rules: RiskRules) -> float:
    """The highest level in force: above it the band is NORMAL."""
    return levels(rules)[0].uni_mmr


def _published(rules: RiskRules, key: str) -> bool:
    """Whether ``key``'s level is the one the product publishes (not a config override)."""
    ladder = LADDER_BY_PRODUCT[rules.product]
    return {
        "margin_call": ladder.margin_call == rules.margin_call_uni_mmr,
        "reduce_only": ladder.reduce_only == rules.reduce_only_uni_mmr,
        "liquidation": ladder.liquidation == rules.liquidation_uni_mmr,
        "loss": ladder.loss == rules.loss_uni_mmr,
    }[key]


def _normal_text(rules: RiskRules) -> str:
    top = levels(rules)[0]
    if top.key == "liquidation":
        return f"NORMAL — above {lv(top.uni_mmr)} (Binance's liquidation level)"
    if top.key == "margin_call" and rules.product is Product.PM_PRO and _published(rules, top.key):
        return f"NORMAL — above {lv(top.uni_mmr)}: trade freely"
    return f"NORMAL — above {lv(top.uni_mmr)} ({top.name.replace(' ', '-')} level)"


def band_text(status: str, rules: RiskRules, uni_mmr: float | None = None) -> tuple[str, str]:
    """(icon, words) for a band, naming the configured level it is about."""
    band = MarginBand(status)
    liq = rules.liquidation_uni_mmr
    if band is MarginBand.UNKNOWN:
        return UNKNOWN_ICON, UNKNOWN_STATUS
    if band is MarginBand.NORMAL:
        return "✔", _normal_text(rules)
    if band is MarginBand.MARGIN_CALL:
        at = (
            ""
            if rules.margin_call_uni_mmr is None
            else f"at or below {lv(rules.margin_call_uni_mmr)}: "
        )
        return "⚠", f"MARGIN CALL — {at}add funds, repay or reduce"
    if band is MarginBand.REDUCE_ONLY:
        level = rules.reduce_only_uni_mmr
        if level is None:  # a margin-call level with no reduce-only level below it
            return "⚠", f"MARGIN CALL — add funds, repay or reduce (liquidation at {lv(liq)})"
        return "✖", f"REDUCE ONLY — at or below {lv(level)}: new orders refused"
    at_most_zero = uni_mmr is not None and not math.isnan(uni_mmr) and uni_mmr <= 0
    if band is MarginBand.LIQUIDATION_WITH_LOSS:
        loss = rules.loss_uni_mmr
        why = "adjusted equity ≤ 0" if at_most_zero or loss is None else f"at or below {lv(loss)}"
        return "☠", f"LIQUIDATION — {why}: loss claim possible"
    return "☠", "LIQUIDATION — " + (
        "adjusted equity ≤ 0" if at_most_zero else f"at or below {lv(liq)}"
    )


def band_word(status: str, rules: RiskRules) -> str:
    """The band in one or two words (tiles, the top bar): "NORMAL", "UNKNOWN", …"""
    return band_text(status, rules)[1].split(" — ")[0]


def ladder_hint(rules: RiskRules) -> str:
    """The levels in force as a sentence, for every tooltip that names them."""
    name = PRODUCT_NAME[rules.product]
    phrases = []
    for level in levels(rules):
        v = lv(level.uni_mmr)
        if level.key == "margin_call":
            free = rules.product is Product.PM_PRO and _published(rules, level.key)
            phrases.append(
                f"above {v} trade freely; at or below {v} margin call"
                if free
                else f"at or below {v} margin call (add funds, repay or reduce)"
            )
        elif level.key == "reduce_only":
            phrases.append(f"at or below {v} reduce only (new orders refused)")
        elif level.key == "liquidation":
            cancels = (
                " (open cross-margin orders are cancelled)" if rules.product is Product.PM else ""
            )
            phrases.append(f"at or below {v} Binance liquidates{cancels}")
        else:
            phrases.append(f"at or below {v} a claim for loss is possible")
    text = f"{name}: " + "; ".join(phrases) + "; and whenever adjusted equity falls below 0."
    missing = [
        n
        for n, lv in (
            ("margin-call", rules.margin_call_uni_mmr),
            ("reduce-only", rules.reduce_only_uni_mmr),
        )
        if lv is None
    ]
    if missing:
        text += f" It publishes no {' or '.join(missing)} level."
    return text


def liquidation_usage_pct(rules: RiskRules) -> float:
    """Margin usage (MM ÷ adjusted equity) at the liquidation level, in %."""
    return 100 / rules.liquidation_uni_mmr
