"""The Outlook's fan chart: the quantiles of uniMMR across the simulated paths over the longest
horizon (5-95 % and 25-75 % bands, the median), with Binance's liquidation level and the
warning level the outlook was computed against drawn across it. An unknown outlook draws no
fan: the words say why. A uniMMR at or below 0.5 (adjusted equity gone included) is drawn at
the axis floor. Pure (a Plotly figure as a dict)."""

from __future__ import annotations

import math
from typing import Any

from app.web.components import COLORS, base_layout, uni_mmr_axis, words_annotation
from app.web.ladder import lv
from risk.outlook_result import FanPoint, HorizonOutlook, Outlook

BAND_OUTER = "rgba(63, 167, 255, 0.18)"
BAND_INNER = "rgba(63, 167, 255, 0.38)"
Y_FLOOR = 0.5


def _y(v: float) -> float | None:
    """A uniMMR on the log axis: at or below ``Y_FLOOR`` (adjusted equity gone included)
    drawn at the floor, so a band never breaks where paths liquidate; inf (no MM on the path)
    and unknown are gaps."""
    if math.isnan(v) or v == math.inf:
        return None
    return max(v, Y_FLOOR)


def longest(outlook: Outlook) -> HorizonOutlook | None:
    return max(outlook.horizons, key=lambda h: h.horizon_h) if outlook.horizons else None


def _words_figure(text: str, revision: str, colour: str) -> dict[str, Any]:
    return {
        "data": [],
        "layout": base_layout(
            revision,
            annotations=[words_annotation(text, colour, 30)],
            xaxis={"visible": False},
            yaxis={"visible": False},
        ),
    }


def unknown_figure(why: str, revision: str) -> dict[str, Any]:
    return _words_figure(f"⊘ OUTLOOK UNKNOWN<br>{why}", revision, COLORS["unknown"])


def _band(
    fan: tuple[FanPoint, ...], lo: str, hi: str, fill: str, name: str
) -> list[dict[str, Any]]:
    xs = [p.t_h for p in fan]
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "x": xs,
            "y": [_y(getattr(p, hi)) for p in fan],
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": xs,
            "y": [_y(getattr(p, lo)) for p in fan],
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": fill,
            "hoverinfo": "skip",
        },
    ]


def _level(y: float, x1: float, name: str, colour: str, dash: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": [0, x1],
        "y": [y, y],
        "line": {"color": colour, "width": 3, "dash": dash},
        "hoverinfo": "skip",
    }


def fan_figure(outlook: Outlook, revision: str) -> dict[str, Any]:
    """The fan of the longest horizon, Binance's levels across it."""
    h = longest(outlook)
    if outlook.unknown or h is None:
        return unknown_figure(outlook.unknown or "no horizon computed", revision)
    fan = h.fan
    if not fan:
        return _words_figure("no fan stored for this outlook", revision, COLORS["muted"])
    end = max(p.t_h for p in fan)
    data = [
        *_band(fan, "q05", "q95", BAND_OUTER, "5-95 % of paths"),
        *_band(fan, "q25", "q75", BAND_INNER, "25-75 %"),
        {
            "type": "scatter",
            "mode": "lines",
            "name": "median",
            "x": [p.t_h for p in fan],
            "y": [_y(p.q50) for p in fan],
            "line": {"color": COLORS["long"], "width": 4},
            "hovertemplate": "%{x:.1f} h: median uniMMR %{y:,.2f}<extra></extra>",
        },
        _level(
            outlook.warning_uni_mmr,
            end,
            f"warning {lv(outlook.warning_uni_mmr)}",
            COLORS["watch"],
            "dash",
        ),
        _level(
            outlook.liquidation_uni_mmr,
            end,
            f"Binance liquidation {lv(outlook.liquidation_uni_mmr)}",
            COLORS["danger"],
            "solid",
        ),
    ]
    values = [v for p in fan for v in (_y(p.q05), _y(p.q95)) if v is not None]
    high = max([*values, outlook.warning_uni_mmr * 1.5]) if values else 10.0
    return {
        "data": data,
        "layout": base_layout(
            revision,
            xaxis={
                "title": {"text": "hours from now"},
                "range": [0, end],
                "ticksuffix": " h",
            },
            yaxis=uni_mmr_axis(
                title={"text": "uniMMR (log)"},
                range=[math.log10(Y_FLOOR), math.log10(high)],
            ),
        ),
    }
