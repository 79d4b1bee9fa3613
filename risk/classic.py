"""PM versus classic: what the same book would tie up as separate cross-margin and futures
accounts, the question every newcomer to Portfolio Margin asks.

Classic accounts do not share collateral: the USDⓈ-M wallet must hold the futures' initial
margin in stablecoin, the COIN-M wallet in coin, the cross-margin account its loans' margin;
spot holdings cannot back a futures position. Under PM one pool backs everything, with
non-stable assets at their collateral rates. Initial margin uses Binance's PM trading-rules
formulas (FAQ 174861644e7049aaa64845f1db2e4376): futures size · mark / leverage, margin
borrowed / (leverage − 1).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClassicComparison:
    um_initial_usd: float  # stablecoin the USDⓈ-M wallet must hold on its own
    cm_initial_usd: float  # coin the COIN-M wallet must hold, in USD
    margin_initial_usd: float  # collateral the cross-margin account needs for its loans
    pm_initial_usd: float  # the same book's IM under PM, from one pool
    non_stable_collateral_usd: float  # what PM counts of non-stable holdings (after haircut)

    @property
    def classic_posted_usd(self) -> float:
        """Collateral each separate classic account must post for its own legs."""
        return self.um_initial_usd + self.cm_initial_usd + self.margin_initial_usd

    @property
    def pm_stable_needed_usd(self) -> float:
        """Stablecoin PM needs beyond what non-stable holdings already cover."""
        return max(self.pm_initial_usd - self.non_stable_collateral_usd, 0.0)

    @property
    def saving_usd(self) -> float:
        return self.classic_posted_usd - self.pm_stable_needed_usd
