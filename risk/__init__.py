"""The Binance Portfolio Margin model: pure functions over numpy, no I/O."""

from risk.evaluate import evaluate
from risk.model import AccountSnapshot, MarketState, RiskReport, RiskRules

__all__ = [
    "AccountSnapshot",
    "MarketState",
    "RiskReport",
    "RiskRules",
    "evaluate",
]
