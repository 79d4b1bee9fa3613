"""What a simulated account holds: per-asset balances and its futures legs (plain data, shared by
the book, its carry ledger and the presets)."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.simulator.params import CM_SYMBOLS


@dataclass
class Holding:
    cross_margin_asset: float = 0.0
    cross_margin_borrowed: float = 0.0
    cross_margin_interest: float = 0.0
    um_wallet: float = 0.0
    cm_wallet: float = 0.0


@dataclass
class UmLeg:
    symbol: str
    amount: float
    entry_price: float
    leverage: int = 10
    realized: float = 0.0  # accumulated realized PnL, in the margin asset (the stream's ``cr``)


@dataclass
class CmLeg:
    symbol: str
    contracts: float  # signed
    entry_price: float
    leverage: int = 10
    realized: float = 0.0  # accumulated realized PnL, in the coin (the stream's ``cr``)

    @property
    def size_usd(self) -> float:
        return self.contracts * CM_SYMBOLS[self.symbol][1]

    def notional_coin(self, mark: float) -> float:
        return abs(self.size_usd) / mark

    def pnl_coin(self, mark: float) -> float:
        """Inverse contract: size · (1/entry − 1/mark), in the coin."""
        return self.size_usd * (1.0 / self.entry_price - 1.0 / mark)
