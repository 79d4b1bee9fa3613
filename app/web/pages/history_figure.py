"""History, the chart: the stored samples or buckets of a range as series (gaps where the
collector was down, unknown spans shaded), the alerts, Binance's own status changes and figures,
drawn on one figure. Pure but for the one store read (``load_series``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.store.alerts import StoredAlert
from app.store.rollup import HOUR_S, MINUTE_S, TEN_MINUTES_S, Bucket, Sample
from app.store.store import ReportedPoint, Store, StoredEvent, StoredStatusChange
from app.web.components import (
    COLORS,
    base_layout,
    threshold_traces,
    uni_mmr_axis,
)
from app.web.format import fmt_rel, fmt_uni_mmr
from risk.model import MarginBand, RiskRules


@dataclass(frozen=True)
class Range:
    label: str
    span_s: int
    source_s: int  # 0 = every report; else the stored bucket period drawn


RANGES = {
    "1h": Range("1 h", 3600, 0),
    "24h": Range("24 h", 86_400, MINUTE_S),
    "7d": Range("7 d", 7 * 86_400, TEN_MINUTES_S),
    "30d": Range("30 d", 30 * 86_400, HOUR_S),
}
STATUS_COLORS = {
    MarginBand.NORMAL: COLORS["ok"],
    MarginBand.MARGIN_CALL: COLORS["watch"],
    MarginBand.REDUCE_ONLY: COLORS["act"],
    MarginBand.LIQUIDATION: COLORS["danger"],
    MarginBand.LIQUIDATION_WITH_LOSS: COLORS["danger"],
    MarginBand.UNKNOWN: COLORS["unknown"],
}
RAW_GAP_MS = 30_000  # between reports: longer than this is an outage, drawn as a gap


@dataclass(frozen=True)
class Series:
    t_ms: list[int | None]
    uni_last: list[float | None]
    uni_worst: list[float | None]
    worst_t_ms: list[int | None]
    equity: list[float | None]
    mm: list[float | None]


def _with_gaps(points: list[tuple[int, tuple[float | None, ...]]], gap_ms: int) -> list[Any]:
    """Rows with a blank row inserted where consecutive points are further apart than gap_ms,
    so lines break over an outage instead of inventing a straight line across it."""
    out: list[Any] = []
    for i, (t, values) in enumerate(points):
        if i and t - points[i - 1][0] > gap_ms:
            out.append((None, (None,) * len(values)))
        out.append((t, values))
    return out


def series_of_samples(samples: list[Sample]) -> Series:
    rows = _with_gaps(
        [(s.at_ms, (s.uni_mmr, s.equity_usd, s.maint_margin_usd)) for s in samples], RAW_GAP_MS
    )
    t = [r[0] for r in rows]
    uni = [_finite(r[1][0]) for r in rows]
    return Series(t, uni, uni, t, [r[1][1] for r in rows], [r[1][2] for r in rows])


def series_of_buckets(buckets: list[Bucket], period_s: int) -> Series:
    """Bucket starts on the time axis; a missing bucket (no report in it) breaks the line."""
    rows = _with_gaps(
        [
            (
                b.start_ms,
                (b.uni_mmr_last, b.uni_mmr_min, b.worst_at_ms, b.equity_last_usd, b.mm_last_usd),
            )
            for b in buckets
        ],
        period_s * 1000,
    )
    return Series(
        t_ms=[r[0] for r in rows],
        uni_last=[_finite(r[1][0]) for r in rows],
        uni_worst=[_finite(r[1][1]) for r in rows],
        worst_t_ms=[r[1][2] for r in rows],
        equity=[r[1][3] for r in rows],
        mm=[r[1][4] for r in rows],
    )


def _finite(x: float | None) -> float | None:
    """∞ (no margin), ≤ 0 and unknown (NaN) cannot be drawn on a log axis: a gap."""
    return None if x is None or not math.isfinite(x) or x <= 0 else x


def unknown_spans(
    changes: Sequence[StoredStatusChange], start_ms: int, end_ms: int, current: str | None
) -> list[tuple[int, int]]:
    """The periods in [start, end] whose status was UNKNOWN, from the status changes (kept in
    full by retention, so every range has them): before the first change in the window the
    status is that change's ``from_status``, or ``current`` when nothing changed."""
    spans = []
    status = changes[0].from_status if changes else current
    since = start_ms
    for c in changes:
        if status == MarginBand.UNKNOWN and c.at_ms > since:
            spans.append((since, c.at_ms))
        status, since = c.to_status, max(c.at_ms, start_ms)
    if status == MarginBand.UNKNOWN and end_ms > since:
        spans.append((since, end_ms))
    return spans


def load_series(store: Store, account: str, rng: Range, now_ms: int) -> Series:
    since = now_ms - rng.span_s * 1000
    if rng.source_s == 0:
        return series_of_samples(store.history_samples(account, since))
    buckets = store.history_buckets(account, rng.source_s, since)
    return series_of_buckets(buckets, rng.source_s)


def _alert_traces(alerts: Sequence[StoredAlert]) -> list[dict[str, Any]]:
    """Alerts on the events lane: a triangle when one fired (red critical, amber warn), an open
    circle when it cleared."""
    if not alerts:
        return []
    cleared = [a for a in alerts if a.cleared_at_ms is not None]
    return [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "alert fired",
            "x": [a.triggered_at_ms for a in alerts],
            "y": ["ALERT"] * len(alerts),
            "yaxis": "y3",
            "text": [f"{a.severity.upper()} {a.title}: {a.message}" for a in alerts],
            "marker": {
                "size": 16,
                "symbol": "triangle-down",
                "color": [
                    COLORS["danger"] if a.severity == "critical" else COLORS["watch"]
                    for a in alerts
                ],
            },
            "hovertemplate": "%{x|%H:%M:%S} UTC %{text}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "alert cleared",
            "x": [a.cleared_at_ms for a in cleared],
            "y": ["ALERT"] * len(cleared),
            "yaxis": "y3",
            "text": [f"cleared: {a.title}" for a in cleared],
            "marker": {"size": 14, "symbol": "circle-open", "color": COLORS["ok"]},
            "hovertemplate": "%{x|%H:%M:%S} UTC %{text}<extra></extra>",
        },
    ]


def history_figure(
    series: Series,
    changes: list[StoredStatusChange],
    events: list[StoredEvent],
    rules: RiskRules,
    rng: Range,
    revision: str,
    alerts: Sequence[StoredAlert] = (),
    unknown: Sequence[tuple[int, int]] = (),
    reported: Sequence[ReportedPoint] = (),
) -> dict[str, Any]:
    """``unknown``: the periods to shade (figures unavailable); ``reported``: the account polls
    with Binance's own uniMMR (drawn beside pmdesk's; disagreements marked)."""
    bucketed = rng.source_s != 0
    data: list[dict[str, Any]] = [
        {
            "type": "scattergl" if not bucketed else "scatter",
            "mode": "lines",
            "name": "uniMMR" + (" (last in bucket)" if bucketed else ""),
            "x": series.t_ms,
            "y": series.uni_last,
            "line": {"color": COLORS["long"], "width": 3},
            "hovertemplate": "%{x|%Y-%m-%d %H:%M:%S} UTC: uniMMR %{y:,.2f}<extra></extra>",
        }
    ]
    if bucketed:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "worst in bucket",
                "x": series.t_ms,
                "y": series.uni_worst,
                "customdata": series.worst_t_ms,
                "line": {"color": COLORS["danger"], "width": 2, "dash": "dot"},
                "hovertemplate": "worst %{y:,.2f} at %{customdata|%Y-%m-%d %H:%M:%S} UTC"
                "<extra></extra>",
            }
        )
    drawn = [c for c in changes if _finite(c.uni_mmr) is not None]
    if drawn:
        data.append(_status_markers(drawn, "status change", [_finite(c.uni_mmr) for c in drawn]))
    # Changes with no uniMMR to place them at (to UNKNOWN, or to ≤ 0): on the events lane.
    lane = [c for c in changes if _finite(c.uni_mmr) is None]
    if lane:
        data.append(
            _status_markers(
                lane,
                "status change (events lane)",
                [c.to_status.replace("_", " ") for c in lane],
                yaxis="y3",
            )
        )
    data.extend(_reported_traces(reported))
    failures = [e for e in events if e.kind != "OK"]
    if failures:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "collector event",
                "x": [e.at_ms for e in failures],
                "y": [e.kind for e in failures],
                "yaxis": "y3",
                "text": [e.message for e in failures],
                "marker": {"size": 12, "symbol": "x", "color": COLORS["act"]},
                "hovertemplate": "%{x|%H:%M:%S} UTC %{y}: %{text}<extra></extra>",
            }
        )
    data.extend(_alert_traces(alerts))
    for name, ys, color in (
        ("adjusted equity", series.equity, COLORS["ok"]),
        ("maintenance margin", series.mm, COLORS["watch"]),
    ):
        data.append(
            {
                "type": "scattergl" if not bucketed else "scatter",
                "mode": "lines",
                "name": name,
                "x": series.t_ms,
                "y": ys,
                "yaxis": "y2",
                "line": {"color": color, "width": 2},
                "hovertemplate": f"{name} %{{y:$,.2f}}<extra></extra>",
            }
        )
    times = [t for t in series.t_ms if t is not None]
    if times:
        data.extend(threshold_traces(rules, [times[0], times[-1]]))
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": a,
            "x1": b,
            "y0": 0,
            "y1": 1,
            "fillcolor": COLORS["unknown"],
            "opacity": 0.28,
            "line": {"width": 0},
            "layer": "below",
        }
        for a, b in unknown
    ]
    if unknown:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "UNKNOWN: figures unavailable (shaded)",
                "x": [None],
                "y": [None],
                "marker": {"symbol": "square", "size": 16, "color": COLORS["unknown"]},
                "hoverinfo": "skip",
            }
        )
    axis = {"gridcolor": COLORS["grid"], "automargin": True}
    return {
        "data": data,
        "layout": base_layout(
            revision,
            shapes=shapes,
            xaxis={**axis, "type": "date", "anchor": "y2", "title": {"text": "UTC"}},
            yaxis=uni_mmr_axis(domain=[0.45, 1.0], title={"text": "uniMMR"}),
            yaxis3={
                **axis,
                "domain": [0.34, 0.41],
                "type": "category",
                "showgrid": False,
                "title": {"text": "events"},
            },
            yaxis2={**axis, "domain": [0.0, 0.30], "tickformat": "$,.3s", "title": {"text": "USD"}},
        ),
    }


def _change_text(c: StoredStatusChange) -> str:
    return f"{(c.from_status or 'start').replace('_', ' ')} → {c.to_status.replace('_', ' ')}"


def _status_markers(
    changes: Sequence[StoredStatusChange], name: str, y: Sequence[object], yaxis: str = "y"
) -> dict[str, Any]:
    """Diamonds at status changes, coloured by the status changed to."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": [c.at_ms for c in changes],
        "y": list(y),
        "yaxis": yaxis,
        "text": [_change_text(c) for c in changes],
        "marker": {
            "size": 16,
            "symbol": "diamond",
            "color": [STATUS_COLORS[MarginBand(c.to_status)] for c in changes],
            "line": {"color": COLORS["text"], "width": 1},
        },
        "hovertemplate": "%{x|%H:%M:%S} UTC: %{text}<extra></extra>",
    }


def _reported_traces(points: Sequence[ReportedPoint]) -> list[dict[str, Any]]:
    """Binance's uniMMR at each account poll (a step line: it holds until the next poll), and a
    mark on pmdesk's line at every poll where the two disagree."""
    if not points:
        return []
    rows = _with_gaps([(p.at_ms, (_finite(p.reported_uni_mmr),)) for p in points], RAW_GAP_MS)
    differ = [p for p in points if p.agrees is False]
    traces: list[dict[str, Any]] = [
        {
            "type": "scattergl",
            "mode": "lines",
            "name": "Binance's uniMMR",
            "x": [r[0] for r in rows],
            "y": [r[1][0] for r in rows],
            "line": {"color": COLORS["binance"], "width": 2, "dash": "dot", "shape": "hv"},
            "hovertemplate": "%{x|%H:%M:%S} UTC: Binance's uniMMR %{y:,.2f}<extra></extra>",
        }
    ]
    if differ:
        traces.append(
            {
                "type": "scattergl",
                "mode": "markers",
                "name": "differs from Binance",
                "x": [p.at_ms for p in differ],
                "y": [_finite(p.uni_mmr) or _finite(p.reported_uni_mmr) for p in differ],
                "text": [
                    f"pmdesk {fmt_uni_mmr(math.nan if p.uni_mmr is None else p.uni_mmr)} vs "
                    f"Binance {fmt_uni_mmr(p.reported_uni_mmr)} ({fmt_rel(p.rel_diff)})"
                    for p in differ
                ],
                "marker": {"symbol": "x", "size": 11, "color": COLORS["differs"]},
                "hovertemplate": "%{x|%H:%M:%S} UTC: %{text}<extra></extra>",
            }
        )
    return traces
