"""What the Outlook computes, per account: per horizon the probability of touching Binance's
liquidation and warning levels, the path minimum of uniMMR, the expected shortfall of adjusted
equity and the assets driving the tail; the correlation-break variant; replays of named
episodes. Pure dataclasses; ``risk.outlook`` fills them, the store keeps them as JSON
(``to_dict``/``from_dict``, stable keys), the web and the alert rule read them.

Fail closed: ``unknown`` says in words why no figure could be computed (no history, the
account's own figures unknown); then every horizon is absent, never zero.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

FHS = "fhs"  # filtered historical simulation (bootstrap of rescaled joint returns)
GBM = "gbm"  # reference: independent driftless geometric Brownian motions


@dataclass(frozen=True)
class FanPoint:
    """Quantiles of uniMMR across paths at one time step (hours from now)."""

    t_h: float
    q05: float
    q25: float
    q50: float
    q75: float
    q95: float
    # Monte-Carlo standard errors of the band's edges (order statistics one binomial sd either
    # side, as the horizon quantiles); NaN in outlooks stored before they were computed.
    q05_stderr: float = math.nan
    q95_stderr: float = math.nan


@dataclass(frozen=True)
class Driver:
    """An asset's share of the tail: how much its move explains the worst paths' equity loss."""

    asset: str
    share: float  # 0..1 of the tail's loss
    mean_move_pct: float  # its mean move across the tail paths, in %
    # Monte-Carlo standard error of ``share`` (a ratio of means over the tail paths: the delta
    # method, ``risk.outlook_figures``); NaN in outlooks stored before it was computed.
    share_stderr: float = math.nan


@dataclass(frozen=True)
class HorizonOutlook:
    horizon_h: float
    p_liquidation: float  # P(path min uniMMR ≤ the product's liquidation level)
    p_warning: float  # P(path min uniMMR ≤ the warning level: margin call, else liquidation ×1.2)
    uni_mmr_q05: float  # 5 % quantile of the path minimum of uniMMR (inf: no MM on any path)
    uni_mmr_q01: float
    es_equity_usd: float  # expected shortfall (mean of the worst 5 %) of adjusted equity change
    stderr: float  # Monte-Carlo standard error of p_liquidation: sqrt(p (1 − p) / n)
    p_warning_stderr: float = 0.0
    fan: tuple[FanPoint, ...] = ()
    drivers: tuple[Driver, ...] = ()
    # Added by the model (helper F): the Monte-Carlo standard errors of the other figures.
    uni_mmr_q05_stderr: float = math.nan  # from the order statistics one binomial sd either side
    uni_mmr_q01_stderr: float = math.nan
    es_equity_stderr_usd: float = math.nan  # sd of the tail's changes / sqrt(tail size)


@dataclass(frozen=True)
class ReplayResult:
    """Today's book through a named episode's real prices."""

    name: str
    start_utc: str
    description: str
    bars: int  # bars of the episode that had prices
    interval: str  # "1m" or "1h": the finest cached for the episode
    min_uni_mmr: float
    min_at_ms: int | None  # open time of the bar where the minimum was reached
    liquidation_at_ms: int | None  # first bar at or below the liquidation level; None: never
    missing: str = ""  # words when the episode could not be replayed (no bars cached, …)


@dataclass(frozen=True)
class Outlook:
    computed_at_ms: int
    model: str  # FHS or GBM
    n_paths: int
    half_life_h: float  # EWMA half-life of the volatility/correlation estimate
    data_words: str  # what data and window it rests on: "1 h klines 2026-06-03 … 2026-11-30, …"
    liquidation_uni_mmr: float
    warning_uni_mmr: float
    horizons: tuple[HorizonOutlook, ...] = ()
    correlation_break: tuple[HorizonOutlook, ...] = ()  # same horizons, correlations → 1
    replays: tuple[ReplayResult, ...] = ()
    vol_annualised: dict[str, float] = field(default_factory=dict)  # per asset, as used
    unknown: str = ""  # why nothing could be computed; empty when figures are present

    def horizon(self, hours: float) -> HorizonOutlook | None:
        return next((h for h in self.horizons if math.isclose(h.horizon_h, hours)), None)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = _json_floats(asdict(self))
        return body

    @staticmethod
    def from_dict(body: dict[str, Any]) -> Outlook:
        def horizon(h: dict[str, Any]) -> HorizonOutlook:
            return HorizonOutlook(
                **{k: _float(v) for k, v in h.items() if k not in ("fan", "drivers")},
                fan=tuple(FanPoint(**{k: _float(v) for k, v in f.items()}) for f in h["fan"]),
                drivers=tuple(Driver(**d) for d in h["drivers"]),
            )

        return Outlook(
            computed_at_ms=int(body["computed_at_ms"]),
            model=str(body["model"]),
            n_paths=int(body["n_paths"]),
            half_life_h=float(body["half_life_h"]),
            data_words=str(body["data_words"]),
            liquidation_uni_mmr=float(body["liquidation_uni_mmr"]),
            warning_uni_mmr=float(body["warning_uni_mmr"]),
            horizons=tuple(horizon(h) for h in body["horizons"]),
            correlation_break=tuple(horizon(h) for h in body["correlation_break"]),
            replays=tuple(
                ReplayResult(**{k: _float(v) if k == "min_uni_mmr" else v for k, v in r.items()})
                for r in body["replays"]
            ),
            vol_annualised={k: float(v) for k, v in body["vol_annualised"].items()},
            unknown=str(body.get("unknown", "")),
        )


def _json_floats(value: Any) -> Any:
    """inf/NaN as strings (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_floats(v) for v in value]
    return value


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, str) else value
