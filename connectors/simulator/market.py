"""The simulator's market: asset index prices that random-walk once per second, perpetual
marks that sit a small, mean-reverting basis away from them, and a scripted scenario on top.

A one-factor model: each asset's log return mixes a common market move (``MARKET_SHARE`` of its
variance) with its own noise, so the basket moves together the way crypto does; rare jumps
(Poisson, per second) hit every asset at once, scaled by its beta. Stablecoins stay pegged.
Each perpetual's basis (mark / index − 1) is an AR(1) around zero (``BASIS_SD``, half-life
``BASIS_HALF_LIFE_S``); a scenario (``scenarios.py``) adds its own moves to both.

Deterministic for a seed: the walk is advanced lazily to the clock's current second whenever a
price is asked for, so no background thread is needed and a manual clock gives exact control.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from connectors.simulator.clock import Clock
from connectors.simulator.params import CM_SYMBOLS, UM_SYMBOLS
from connectors.simulator.scenarios import Scenario, scenario

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
BASIS_SD = 0.0005  # stationary standard deviation of a perpetual's basis (5 bp)
BASIS_HALF_LIFE_S = 300.0
PERPETUALS: dict[str, tuple[str, str]] = {
    **UM_SYMBOLS,
    **{symbol: (coin, "USD") for symbol, (coin, _size) in CM_SYMBOLS.items()},
}
"""Every perpetual the simulator lists → (base asset, quote: a margin asset or ``USD``)."""

INTEREST_RATE = 0.0001  # per 8 h, as Binance's premium-index pages show for USDT
FUNDING_HOURS_MS = 28_800_000  # funding every 8 h


def funding_rate(basis: float) -> float:
    """Binance's formula with the premium taken as the current basis:
    premium + clamp(interest − premium, −0.05 %, +0.05 %)."""
    return basis + min(max(INTEREST_RATE - basis, -0.0005), 0.0005)


@dataclass(frozen=True)
class Quote:
    """One moment of the market: index prices in USD and each perpetual's basis."""

    index_usd: dict[str, float]
    basis: dict[str, float]

    def index(self, symbol: str) -> float:
        """A perpetual's index price, in its quote (USDT for BTCUSDT, USD for BTCUSD_PERP)."""
        base, quote = PERPETUALS[symbol]
        return self.index_usd[base] / (1.0 if quote == "USD" else self.index_usd[quote])

    def mark(self, symbol: str) -> float:
        return self.index(symbol) * (1.0 + self.basis[symbol])


QUIET_BASIS_SD = 1e-7
"""A still market's basis: small enough to change no figure, large enough that prices keep
ticking (the collector's "prices frozen" check stays quiet)."""


def still_assets(assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS) -> tuple[AssetSpec, ...]:
    """The same assets with no random walk: only a scenario moves them."""
    return tuple(dataclasses.replace(a, daily_vol=0.0) for a in assets)


class MarketModel:
    """Geometric random walk per asset and AR(1) basis per perpetual, one step per clock
    second, times the running scenario."""

    def __init__(
        self,
        clock: Clock,
        assets: tuple[AssetSpec, ...] = DEFAULT_ASSETS,
        seed: int = 7,
        frozen: Callable[[], bool] = lambda: False,
        scenario_name: str = "calm",
        basis_sd: float = BASIS_SD,
        jumps_per_day: float = JUMPS_PER_DAY,
    ) -> None:
        self._clock = clock
        self._jumps_per_day = jumps_per_day
        self._specs = {a.asset: a for a in assets}
        self.specs = tuple(assets)
        self.started_ms = clock.now_ms()
        # Called with (now_ms, quote) for every quote read: the kline history records the live
        # path's minutes (connectors/simulator/kline_history.py).
        self.observers: list[Callable[[int, Quote], None]] = []
        self._rng = np.random.default_rng(seed)
        self._prices = {a.asset: a.start_price_usd for a in assets}
        self._step = clock.now_ms() // STEP_MS
        self._lock = threading.Lock()
        self._frozen = frozen  # fault injection: prices stop moving while it says so
        self._basis = dict.fromkeys(PERPETUALS, 0.0)
        self._basis_sd = basis_sd
        self._scenario: Scenario = scenario(scenario_name)
        self._scenario_started_ms = clock.now_ms()

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
            self._scenario_started_ms += n * STEP_MS  # the scenario pauses with the market
            return
        day_fraction = n / 86_400.0
        common = float(self._rng.standard_normal()) * math.sqrt(day_fraction)
        jumps = int(self._rng.poisson(self._jumps_per_day * day_fraction))
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
        keep = 0.5 ** (n / BASIS_HALF_LIFE_S)
        noise = self._basis_sd * math.sqrt(1.0 - keep * keep)
        for symbol in self._basis:
            self._basis[symbol] = self._basis[symbol] * keep + noise * float(
                self._rng.standard_normal()
            )

    def _elapsed_s(self) -> float:
        return (self._clock.now_ms() - self._scenario_started_ms) / 1000.0

    def _quote(self) -> Quote:
        self._advance()
        elapsed, sc = self._elapsed_s(), self._scenario
        index = {
            asset: price * sc.index_factor(elapsed, self._specs[asset].beta)
            for asset, price in self._prices.items()
        }
        premium = sc.basis(elapsed)
        quote = Quote(index, {s: b + premium for s, b in self._basis.items()})
        for observe in self.observers:
            observe(self._clock.now_ms(), quote)
        return quote

    def quote(self) -> Quote:
        with self._lock:
            return self._quote()

    def index_prices_usd(self) -> dict[str, float]:
        return self.quote().index_usd

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    def set_scenario(self, name: str) -> Scenario:
        """Switch scenario now; what the old one did so far stays in the prices and basis."""
        new = scenario(name)
        with self._lock:
            q = self._quote()
            self._prices, self._basis = dict(q.index_usd), dict(q.basis)
            self._scenario, self._scenario_started_ms = new, self._clock.now_ms()
        return new

    def shock(self, asset: str, fraction: float) -> None:
        """Move one asset's price by a fraction at once (a scripted jump)."""
        with self._lock:
            self._advance()
            self._prices[asset] *= 1.0 + fraction
