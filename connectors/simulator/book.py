"""The simulator's PM account book: what an account holds, valued at the market's prices.

The book keeps holdings in asset units and positions with entry prices; every response is
rendered at the market's current prices (``account_payloads.py``, ``futures_payloads.py``). The
uniMMR it *reports* on ``/papi/v1/account`` is its own, deliberately separate computation (scalar,
from ``params``), as Binance's would be: pmdesk's ``risk/`` recomputes it independently and shows
the two side by side.

The reported figures follow the account's ``HiddenTruth`` (``truth.py``): the collateral table that
governs it (flat or tiered), any haircut outside both tables, and its loans' MMR. pmdesk is told
none of these; it has to infer them from what these figures report.

Carry (interest and funding) accrues as the clock passes: ``settle``, called before every signed
answer, runs the book's ``carry.CarryLedger``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from connectors.simulator.carry import CarryLedger, Funding, Row
from connectors.simulator.legs import CmLeg, Holding, UmLeg
from connectors.simulator.market import Quote
from connectors.simulator.params import (
    CM_BRACKETS,
    CM_SYMBOLS,
    COLLATERAL_TIERS,
    UM_BRACKETS,
    UM_SYMBOLS,
    tier_value,
)
from connectors.simulator.truth import FLAT_COLLATERAL, HiddenTruth

NO_MAINT_MARGIN_UNI_MMR = "99999999"
"""What ``/papi/v1/account`` reports as ``uniMMR`` when the maintenance margin is 0 (the sentinel
seen in a real payload; docs/binance-pm-notes.md)."""
NO_MAINT_MARGIN_UNI_MMR_VALUE = float(NO_MAINT_MARGIN_UNI_MMR)


def _default_truth() -> HiddenTruth:
    # The simulator's own hidden default for a book built without a preset (tests): tiered
    # table, 10 % loans — not a published figure pmdesk reads, so not risk.model's.
    return HiddenTruth("tiered", 0.10)


@dataclass
class AccountBook:
    name: str
    holdings: dict[str, Holding] = field(default_factory=dict)
    um_legs: list[UmLeg] = field(default_factory=list)
    cm_legs: list[CmLeg] = field(default_factory=list)
    truth: HiddenTruth = field(default_factory=_default_truth)
    # Maintenance margin (USD) the exchange counts and pmdesk cannot see (``hide_maint_for``):
    # Binance's own figures, and its pushed risk level, apart from what pmdesk computes.
    hidden_maint_usd: float = 0.0
    # Carry: when the book opened (its loans were taken), what was charged and paid since.
    ledger: CarryLedger = field(default_factory=CarryLedger, init=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    # ---- carry: interest and funding as the clock passes -------------------------------------
    def settle(self, q: Quote, now_ms: int) -> list[Funding]:
        """Charge interest and pay funding for every hour, day and funding time that passed
        since the last call (the first call opens the book: each loan's ON_BORROW charge).
        Returns the funding paid."""
        with self._lock:
            return self.ledger.settle(self, q, now_ms)

    @property
    def lock(self) -> threading.Lock:
        """Held while the book changes (carry, or an action of the control endpoint)."""
        return self._lock

    @property
    def interest_rows(self) -> list[Row]:
        """``/papi/v1/margin/marginInterestHistory`` rows, oldest first (30 days kept)."""
        return self.ledger.interest_rows

    @property
    def income_rows(self) -> dict[str, list[Row]]:
        """``FUNDING_FEE`` rows of ``/papi/v1/um/income`` ("UM") and ``/papi/v1/cm/income``."""
        return self.ledger.income_rows

    def holding(self, asset: str) -> Holding:
        """The asset's holding, opened empty if the book has none."""
        return self.holdings.setdefault(asset, Holding())

    # ---- valuation at given prices -------------------------------------------------------
    def um_upnl_by_asset(self, q: Quote) -> dict[str, float]:
        out: dict[str, float] = {}
        for leg in self.um_legs:
            margin = UM_SYMBOLS[leg.symbol][1]
            pnl = leg.amount * (q.mark(leg.symbol) - leg.entry_price)
            out[margin] = out.get(margin, 0.0) + pnl
        return out

    def cm_upnl_by_asset(self, q: Quote) -> dict[str, float]:
        out: dict[str, float] = {}
        for leg in self.cm_legs:
            coin = CM_SYMBOLS[leg.symbol][0]
            out[coin] = out.get(coin, 0.0) + leg.pnl_coin(q.mark(leg.symbol))
        return out

    def um_leg_maint(self, leg: UmLeg, q: Quote) -> float:
        """In the margin asset."""
        notional = abs(leg.amount * q.mark(leg.symbol))
        return tier_value(UM_BRACKETS[leg.symbol], notional, -1.0)

    def cm_leg_maint(self, leg: CmLeg, q: Quote) -> float:
        """In the coin."""
        notional = leg.notional_coin(q.mark(leg.symbol))
        return tier_value(CM_BRACKETS[leg.symbol], notional, -1.0)

    def collateral_value(self, asset: str, value_usd: float) -> float:
        """One asset's contribution to accountEquity, as the exchange counts it: a debt (value
        ≤ 0) in full; a holding at the rate the account's hidden truth says — an extra haircut
        if it has one for the asset, else the governing table (flat: value · rate; tiered: each
        slice at its tier's rate, via cum)."""
        if value_usd <= 0.0:
            return value_usd
        truth = self.truth
        if asset in truth.extra_haircut:
            return value_usd * truth.extra_haircut[asset]
        if truth.collateral_table == "flat":
            return value_usd * FLAT_COLLATERAL[asset]
        return tier_value(COLLATERAL_TIERS[asset], value_usd, 1.0)

    def loan_maint(self, q: Quote) -> float:
        """Cross-margin loans' MM in USD: Σ borrowed · the account's loan MMR · index price."""
        return sum(
            h.cross_margin_borrowed * self.truth.loan_mmr * q.index_usd[asset]
            for asset, h in self.holdings.items()
        )

    def borrowed_assets(self) -> list[str]:
        return [a for a, h in self.holdings.items() if h.cross_margin_borrowed > 0.0]

    def hide_maint_for(self, uni_mmr: float, q: Quote) -> None:
        """Make the exchange's own uniMMR read ``uni_mmr`` at these prices by a maintenance
        margin only it counts (``hidden_maint_usd``; 0 again when ``uni_mmr`` is not above what
        the book alone gives). The control endpoint's ``binance_view``: Binance's status apart
        from pmdesk's figures, as when its hidden parameters differ."""
        if not uni_mmr > 0.0:
            raise ValueError(f"uni_mmr must be > 0, not {uni_mmr!r}")
        self.hidden_maint_usd = 0.0
        f = self.reported_figures(q)
        self.hidden_maint_usd = max(f["account_equity"] / uni_mmr - f["maint"], 0.0)

    def reported_figures(self, q: Quote) -> dict[str, float]:
        """The exchange's own account figures: equity with and without haircut, MM, uniMMR."""
        upnl = self.um_upnl_by_asset(q)
        cm_upnl = self.cm_upnl_by_asset(q)
        account_equity = actual_equity = 0.0
        for asset, h in self.holdings.items():
            x = (
                h.cross_margin_asset
                - h.cross_margin_borrowed
                - h.cross_margin_interest
                + h.um_wallet
                + h.cm_wallet
                + upnl.get(asset, 0.0)
                + cm_upnl.get(asset, 0.0)
            )
            value = x * q.index_usd[asset]
            actual_equity += value
            account_equity += self.collateral_value(asset, value)
        maint = sum(
            self.um_leg_maint(leg, q) * q.index_usd[UM_SYMBOLS[leg.symbol][1]]
            for leg in self.um_legs
        ) + sum(
            self.cm_leg_maint(leg, q) * q.index_usd[CM_SYMBOLS[leg.symbol][0]]
            for leg in self.cm_legs
        )
        maint += self.loan_maint(q) + self.hidden_maint_usd
        initial = sum(
            abs(leg.amount * q.mark(leg.symbol)) / leg.leverage for leg in self.um_legs
        ) + sum(abs(leg.size_usd) / leg.leverage for leg in self.cm_legs)
        uni_mmr = account_equity / maint if maint > 0 else NO_MAINT_MARGIN_UNI_MMR_VALUE
        return {
            "account_equity": account_equity,
            "actual_equity": actual_equity,
            "maint": maint,
            "initial": initial,
            "uni_mmr": uni_mmr,
        }
