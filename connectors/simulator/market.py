"""The simulator's market: asset index prices that random-walk once per second.

A one-factor model: each asset's log return mixes a common market move (``MARKET_SHARE`` of its
variance) with its own noise, so the basket moves together the way crypto does; rare jumps
(Poisson, per second) hit every asset at once, scaled by its beta. Stablecoins stay pegged.

Deterministic for a seed: the walk is advanced lazily to the clock's current second whenever a
price is asked for, so no background thread is needed and a manual clock gives exact control.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from connectors.simulator.clock import Clock

STEP_MS = 1000


@dataclass(frozen=True)
class AssetSpec:
    asset: str
    start_price_usd: float
    daily_vol: float  # standard deviation of the daily log return; 0 for a pegged stablecoin
    beta: float = 1.0  # loading on the common (market) factor


DEFAULT_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("BTC", 95_000.0, 0.03, 1.0),
    AssetSpec("ETH", 3_500.0, 0.04, 1.2),
    AssetSpec("BNB", 650.0, 0.035, 0.9),
    AssetSpec("SOL", 180.0, 0.055, 1.4),
    AssetSpec("XRP", 2.2, 0.05, 1.1),
    AssetSpec("USDT", 1.0, 0.0, 0.0),
    AssetSpec("USDC", 1.0, 0.0, 0.0),
)
MARKET_SHARE = 0.7  # share of each asset's variance that the common factor explains
JUMPS_PER_DAY = 4.0
JUMP_SIZE = 0.01  # standard deviation of a jump's log size, on the common factor


class MarketModel:
    """Geometric random walk per asset, one step per clock second."""

    def __init__(
        self,
        clock: Clock,
        assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS,
        seed: int = 7,
        frozen: Callable[[], bool] = lambda: False,
    ) -> None:
        self._clock = clock
        self._specs = {a.asset: a for a in assets}
        self._rng = np.random.default_rng(seed)
        self._prices = {a.asset: a.start_price_usd for a in assets}
        self._step = clock.now_ms() // STEP_MS
        self._lock = threading.Lock()
        self._frozen = frozen  # fault injection: prices stop moving while it says so

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def _advance(self) -> None:
        step = self._clock.now_ms() // STEP_MS
        n = step - self._step
        if n <= 0:
            return
        self._step = step
        if self._frozen():
            return
        day_fraction = n / 86_400.0
        common = float(self._rng.standard_normal()) * math.sqrt(day_fraction)
        jumps = int(self._rng.poisson(JUMPS_PER_DAY * day_fraction))
        jump_sd = JUMP_SIZE * math.sqrt(jumps)
        common_jump = float(self._rng.normal(0.0, jump_sd)) if jumps else 0.0
        for asset, spec in self._specs.items():
            if spec.daily_vol == 0.0:
                continue
            own = float(self._rng.standard_normal()) * math.sqrt(day_fraction)
            shock = spec.daily_vol * (
                math.sqrt(MARKET_SHARE) * common + math.sqrt(1.0 - MARKET_SHARE) * own
            )
            self._prices[asset] *= math.exp(shock + spec.beta * common_jump)

    def index_prices_usd(self) -> dict[str, float]:
        with self._lock:
            self._advance()
            return dict(self._prices)

    def shock(self, asset: str, fraction: float) -> None:
        """Move one asset's price by a fraction at once (a scripted jump)."""
        with self._lock:
            self._advance()
            self._prices[asset] *= 1.0 + fraction
