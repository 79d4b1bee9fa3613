"""The simulator's market: asset index prices that random-walk once per second.

Deterministic for a seed: the walk is advanced lazily to the clock's current second whenever a
price is asked for, so no background thread is needed and a manual clock gives exact control.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from connectors.simulator.clock import Clock

STEP_MS = 1000


@dataclass(frozen=True)
class AssetSpec:
    asset: str
    start_price_usd: float
    daily_vol: float  # standard deviation of the daily log return; 0 for a pegged stablecoin


DEFAULT_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("BTC", 95_000.0, 0.03),
    AssetSpec("USDT", 1.0, 0.0),
)


class MarketModel:
    """Geometric random walk per asset, one step per clock second."""

    def __init__(
        self, clock: Clock, assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS, seed: int = 7
    ) -> None:
        self._clock = clock
        self._specs = {a.asset: a for a in assets}
        self._rng = np.random.default_rng(seed)
        self._prices = {a.asset: a.start_price_usd for a in assets}
        self._step = clock.now_ms() // STEP_MS
        self._lock = threading.Lock()
        self.frozen = False  # fault injection: prices stop moving while set

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def _advance(self) -> None:
        step = self._clock.now_ms() // STEP_MS
        n = step - self._step
        if n <= 0:
            return
        self._step = step
        if self.frozen:
            return
        for asset, spec in self._specs.items():
            if spec.daily_vol == 0.0:
                continue
            sigma = spec.daily_vol / math.sqrt(86_400.0) * math.sqrt(n)
            self._prices[asset] *= math.exp(sigma * float(self._rng.standard_normal()))

    def index_prices_usd(self) -> dict[str, float]:
        with self._lock:
            self._advance()
            return dict(self._prices)

    def shock(self, asset: str, fraction: float) -> None:
        """Move one asset's price by a fraction at once (a scripted jump)."""
        with self._lock:
            self._advance()
            self._prices[asset] *= 1.0 + fraction
