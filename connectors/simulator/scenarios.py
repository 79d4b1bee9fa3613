"""Scripted market scenarios the simulator plays on top of its random walk.

A scenario is two pure functions of the seconds since it started: a factor on every non-stable
asset's index price (raised to the asset's beta, so a high-beta coin falls further), and a
premium added to every perpetual's basis (mark = index · (1 + basis)). Selected at start
(``--scenario``) and switchable at run time (``POST /_sim/scenario?name=…``); on a switch the
scenario's effect so far is folded into the walk, so prices continue from where they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CRASH_DROP = 0.30  # the crash replay: −30 % ...
CRASH_SECONDS = 600.0  # ... in 10 minutes, log-linear, then it holds
BLOWOUT_PREMIUM = 0.08  # the basis blow-out: perpetual marks run 8 % above index ...
BLOWOUT_SECONDS = 300.0  # ... over 5 minutes, then stay there


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    drop: float = 0.0  # total fractional fall of a beta-1 asset's index
    drop_seconds: float = 1.0
    premium: float = 0.0  # total basis added to every perpetual's mark
    premium_seconds: float = 1.0

    def index_factor(self, elapsed_s: float, beta: float) -> float:
        """Multiplier on an asset's index price ``elapsed_s`` seconds into the scenario."""
        if self.drop == 0.0 or beta == 0.0:
            return 1.0
        progress = min(max(elapsed_s, 0.0) / self.drop_seconds, 1.0)
        return math.exp(beta * math.log(1.0 - self.drop) * progress)

    def basis(self, elapsed_s: float) -> float:
        """Premium added to every perpetual's basis ``elapsed_s`` seconds into the scenario."""
        if self.premium == 0.0:
            return 0.0
        return self.premium * min(max(elapsed_s, 0.0) / self.premium_seconds, 1.0)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("calm", "the random walk alone: correlated moves, rare jumps, small basis"),
        Scenario(
            "crash",
            f"crash replay: every coin falls {CRASH_DROP:.0%} (times its beta) in "
            f"{CRASH_SECONDS / 60:.0f} minutes, then holds",
            drop=CRASH_DROP,
            drop_seconds=CRASH_SECONDS,
        ),
        Scenario(
            "recovery",
            f"recovery: every coin rises back what the crash took (+{1 / (1 - CRASH_DROP) - 1:.0%} "
            f"times its beta) in {CRASH_SECONDS / 60:.0f} minutes, then holds",
            drop=1.0 - 1.0 / (1.0 - CRASH_DROP),
            drop_seconds=CRASH_SECONDS,
        ),
        Scenario(
            "basis_blowout",
            f"basis blow-out: perpetual marks leave the index, {BLOWOUT_PREMIUM:.0%} above it "
            f"after {BLOWOUT_SECONDS / 60:.0f} minutes (short-perp hedges lose)",
            premium=BLOWOUT_PREMIUM,
            premium_seconds=BLOWOUT_SECONDS,
        ),
    )
}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}") from None
