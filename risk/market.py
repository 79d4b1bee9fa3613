"""What the market says at one moment: prices and the exchange's published parameters
(leverage brackets, collateral tiers). Plain frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from risk.reasons import UnknownReason


@dataclass(frozen=True)
class Bracket:
    """One leverage bracket: notional in [floor, cap) has MM = notional · ratio − cum."""

    floor: float
    cap: float
    maint_margin_ratio: float
    cum: float
    initial_leverage: float


@dataclass(frozen=True)
class CollateralTier:
    """One tier of an asset's collateral rate: value in [floor, cap) counts value · rate + cum."""

    floor_usd: float
    cap_usd: float
    collateral_rate: float
    cum_usd: float


@dataclass(frozen=True)
class MarketState:
    """Prices and the exchange's published parameters at one moment."""

    index_price_usd: dict[str, float]
    mark_price: dict[str, float] = field(default_factory=dict)
    um_brackets: dict[str, tuple[Bracket, ...]] = field(default_factory=dict)
    cm_brackets: dict[str, tuple[Bracket, ...]] = field(default_factory=dict)
    collateral_tiers: dict[str, tuple[CollateralTier, ...]] = field(default_factory=dict)
    time_ms: int = 0
    # Binance's flat table (``/sapi/v1/portfolio/collateralRate``) beside the tiered one
    # above (``/sapi/v2``); which governs an account is calibrated (risk/calibrate.py).
    # None: not read.
    collateral_flat: dict[str, tuple[CollateralTier, ...]] | None = None
    # ``/sapi/v1/portfolio/margin-asset-leverage`` (PM Pro): asset → leverage; None when the
    # account did not answer it.
    margin_asset_leverage: dict[str, float] | None = None
    problems: tuple[UnknownReason, ...] = ()


FLAT, TIERED = "flat", "tiered"
COLLATERAL_TABLE_PATH = {
    FLAT: "/sapi/v1/portfolio/collateralRate",
    TIERED: "/sapi/v2/portfolio/collateralRate",
}
"""Binance's two collateral tables, by the path that publishes each: "Classic Portfolio Margin
Collateral Rate" (flat, MARKET_DATA) and "Portfolio Margin Pro Tiered Collateral Rate"."""
