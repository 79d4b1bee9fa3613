"""What the simulated exchange knows about an account and does not publish.

Binance does not say, per account, which collateral table governs it (the flat "Classic Portfolio
Margin Collateral Rate", ``GET /sapi/v1/portfolio/collateralRate``, or the tiered "Portfolio Margin
Pro Tiered Collateral Rate", ``GET /sapi/v2/portfolio/collateralRate``), nor the MMR of its
cross-margin loans (set by the margin leverage, which only a PM Pro account answers through
``GET /sapi/v1/portfolio/margin-asset-leverage``). Both show only through the figures Binance
reports: ``accountEquity`` / ``accountMaintMargin`` on ``/papi/v1/account`` and each position's
``maintMargin`` on ``/papi/v1/um/account`` and ``/papi/v1/cm/account``.

Each simulated account carries a ``HiddenTruth``; the simulator's own reported figures are computed
with it (``book.AccountBook.reported_figures``), so tests can check that pmdesk *discovers* these
parameters from the reported figures rather than assuming them.

``FLAT_COLLATERAL`` is the simulator's own flat table: illustrative values, not Binance's. They
differ on purpose from the first tier of the simulator's tiered table (``params.COLLATERAL_TIERS``),
e.g. BNB counts at 40 % flat but 95 % tiered (up to 1 M USD), so the two tables give visibly
different equity.

pmdesk never reads this module: nothing outside ``connectors/simulator`` may import it (that would
let pmdesk "calibrate" against the answer). Tests may import it to state what the exchange hides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from risk.model import MARGIN_LOAN_MMR_BY_LEVERAGE

CollateralTable = Literal["flat", "tiered"]

FLAT_COLLATERAL: dict[str, float] = {
    # The simulator's own illustrative flat rates (served on /sapi/v1/portfolio/collateralRate).
    "BTC": 0.90,
    "ETH": 0.90,
    "BNB": 0.40,
    "SOL": 0.80,
    "XRP": 0.80,
    "USDT": 1.0,
    "USDC": 1.0,
}


@dataclass(frozen=True)
class HiddenTruth:
    """The parameters the simulated exchange applies to one account and does not publish.

    ``collateral_table``: which table values a positive asset ("flat": value · rate;
    "tiered": each USD slice at its tier's rate). ``loan_mmr``: the cross-margin loans' MMR
    (loan MM = borrowed · loan_mmr · index price). ``margin_asset_leverage``: the leverage
    ``/sapi/v1/portfolio/margin-asset-leverage`` reports for each borrowed asset, or ``None`` when
    the account does not answer that endpoint (not a PM Pro account). ``extra_haircut``: asset →
    a rate the exchange applies that is in neither published table (overrides the table).
    """

    collateral_table: CollateralTable
    loan_mmr: float
    margin_asset_leverage: int | None = None
    extra_haircut: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.collateral_table not in ("flat", "tiered"):
            raise ValueError(f"collateral_table: 'flat' or 'tiered', not {self.collateral_table!r}")
        if not 0.0 < self.loan_mmr < 1.0:
            raise ValueError(f"loan_mmr must be in (0, 1), not {self.loan_mmr}")
        bad = {a: r for a, r in self.extra_haircut.items() if not 0.0 <= r <= 1.0}
        if bad:
            raise ValueError(f"extra_haircut rates must be in [0, 1]: {bad}")


# The loan MMRs below are each account's hidden truth, chosen by the simulator, except where a
# comment says the figure is Binance's published one (then it comes from risk.model, its one
# definition, never restated here).
TRUTH: dict[str, HiddenTruth] = {
    # Long spot + short perp: flat table (BTC 90 % instead of 95 %), no loans.
    "basis": HiddenTruth("flat", 0.10),
    "directional": HiddenTruth("tiered", 0.10),
    "coinm_hedger": HiddenTruth("tiered", 0.10),
    # Flat table (its 50 BNB count at 40 %) and 8 % loans the account does not disclose: pmdesk
    # must infer the 8 % from what accountMaintMargin leaves after the positions' maintMargin.
    # Deliberately a hidden figure, not risk.model's (whose default when nothing is disclosed
    # is the conservative 10 %): it differs from what pmdesk assumes, so discovery shows.
    "borrower": HiddenTruth("flat", 0.08),
    "near_liquidation": HiddenTruth("flat", 0.10),
    # A PM Pro account: answers margin-asset-leverage with 5x, whose loan MMR is the uniMMR FAQ
    # table's for 5x (8 %) — Binance's published figure, so risk.model's one table.
    "borrower_pro": HiddenTruth("tiered", MARGIN_LOAN_MMR_BY_LEVERAGE[5], margin_asset_leverage=5),
    # Valued with a haircut neither table has (ETH at 50 %): no table choice reproduces its
    # accountEquity, so pmdesk must say "uncalibrated".
    "opaque": HiddenTruth("tiered", 0.10, extra_haircut={"ETH": 0.50}),
}
"""Each preset's hidden truth, by preset name (``book.PRESETS`` has the same names)."""
