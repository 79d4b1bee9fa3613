"""Hand-made Outlooks (``risk.outlook_result``) for the store, the alert rule and the screen:
the figures are chosen by the test, so the screen and the rule can be checked against them."""

from __future__ import annotations

import math

from risk.outlook_result import (
    FHS,
    Driver,
    FanPoint,
    HorizonOutlook,
    Outlook,
    ReplayResult,
)

HORIZONS = (1.0, 8.0, 24.0)


def horizon(
    h: float, p: float, n_paths: int = 10_000, p_warning: float | None = None
) -> HorizonOutlook:
    """One horizon with P(liquidation) ``p`` and its binomial standard error over ``n_paths``."""
    pw = min(1.0, 3 * p) if p_warning is None else p_warning
    return HorizonOutlook(
        horizon_h=h,
        p_liquidation=p,
        p_warning=pw,
        uni_mmr_q05=1.4,
        uni_mmr_q01=1.1,
        es_equity_usd=-12_345.0,
        stderr=math.sqrt(p * (1 - p) / n_paths),
        p_warning_stderr=math.sqrt(pw * (1 - pw) / n_paths),
        fan=tuple(
            FanPoint(
                t,
                3.0 - 0.05 * t,
                3.0 - 0.02 * t,
                3.0,
                3.0 + 0.02 * t,
                3.0 + 0.05 * t,
                0.004 * t,
                0.006 * t,
            )
            for t in (0.0, 0.25 * h, 0.5 * h, 0.75 * h, h)
        ),
        drivers=(Driver("BTC", 0.7, -9.5, 0.04), Driver("ETH", 0.3, -12.0, 0.03)),
    )


def outlook(
    computed_at_ms: int,
    p: dict[float, float] | None = None,
    n_paths: int = 10_000,
    unknown: str = "",
    broken: dict[float, float] | None = None,
) -> Outlook:
    """An outlook with P(liquidation) per horizon ``p`` (default 1 h 0.001, 8 h 0.01, 24 h 0.025)
    and the correlation-break variant ``broken`` (default: twice each)."""
    if unknown:
        return Outlook(computed_at_ms, FHS, n_paths, 72.0, "", 1.05, 1.2, unknown=unknown)
    p = p or {1.0: 0.001, 8.0: 0.01, 24.0: 0.025}
    broken = broken or {h: min(1.0, 2 * x) for h, x in p.items()}
    return Outlook(
        computed_at_ms=computed_at_ms,
        model=FHS,
        n_paths=n_paths,
        half_life_h=72.0,
        data_words="1 h klines 2026-06-03 to 2026-11-30 (BTCUSDT, ETHUSDT spot)",
        liquidation_uni_mmr=1.05,
        warning_uni_mmr=1.2,
        horizons=tuple(horizon(h, x, n_paths) for h, x in sorted(p.items())),
        correlation_break=tuple(horizon(h, x, n_paths) for h, x in sorted(broken.items())),
        replays=(
            ReplayResult(
                "FTX collapse",
                "2022-11-08T00:00:00Z",
                "BTC -18 %",
                48,
                "1h",
                1.31,
                1_668_000_000_000,
                None,
            ),
            ReplayResult(
                "October 2025 liquidation cascade",
                "2025-10-10T12:00:00Z",
                "BTC -16 %",
                1080,
                "1m",
                0.97,
                1_760_110_000_000,
                1_760_108_400_000,
            ),
        ),
        vol_annualised={"BTC": 0.55, "ETH": 0.7},
    )
