"""The simulator's PM account book: what an account holds, rendered as Binance's JSON.

The book keeps holdings in asset units and positions with entry prices; every response is
rendered at the market's current prices. The uniMMR it *reports* on ``/papi/v1/account`` is its
own, deliberately separate computation (scalar, from ``params``), as Binance's would be: pmdesk's
``risk/`` recomputes it independently and shows the two side by side.

The reported figures follow the account's ``HiddenTruth`` (``truth.py``): the collateral table that
governs it (flat or tiered), any haircut outside both tables, and its loans' MMR. pmdesk is told
none of these; it has to infer them from what these figures report.

Carry accrues as the clock passes (``settle``, called before every signed answer): a loan is
charged one hour of interest when the book opens (``ON_BORROW``) and again at every whole UTC hour
(``PERIODIC``), principal · daily rate / 24, added to ``crossMarginInterest``; a negative futures
wallet is charged a day's interest at 00:00 UTC (``PORTFOLIO``), taken from that wallet; funding
is paid at 00:00, 08:00 and 16:00 UTC (``FUNDING_FEE``): −size · mark · rate into the futures
wallet of the asset it settles in, at the market's funding rate then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from connectors.simulator.market import FUNDING_HOURS_MS, Quote, funding_rate
from connectors.simulator.params import (
    CM_BRACKETS,
    CM_SYMBOLS,
    COLLATERAL_TIERS,
    MARGIN_DAILY_INTEREST,
    UM_BRACKETS,
    UM_SYMBOLS,
    tier_value,
)
from connectors.simulator.truth import FLAT_COLLATERAL, TRUTH, HiddenTruth

NO_MAINT_MARGIN_UNI_MMR = "99999999"
"""What ``/papi/v1/account`` reports as ``uniMMR`` when the maintenance margin is 0 (the sentinel
seen in a real payload; docs/binance-pm-notes.md)."""
NO_MAINT_MARGIN_UNI_MMR_VALUE = float(NO_MAINT_MARGIN_UNI_MMR)
WITHDRAW_MM_MULTIPLE = 1.2
"""Binance FAQ 446ce2c3357a449599c82436078b0e3b: "Maxwithdraw = max(account Equity −1.2*MM, 0)"."""


HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
KEEP_HISTORY_MS = 30 * DAY_MS  # Binance serves at most 30 days of interest history a query


def dec(value: float) -> str:
    """Binance's string-encoded decimal."""
    return f"{value:.8f}"


def _boundaries(after_ms: int, until_ms: int, step_ms: int) -> Iterator[int]:
    """Multiples of ``step_ms`` in (after, until]."""
    t = (after_ms // step_ms + 1) * step_ms
    while t <= until_ms:
        yield t
        t += step_ms


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


@dataclass
class CmLeg:
    symbol: str
    contracts: float  # signed
    entry_price: float
    leverage: int = 10

    @property
    def size_usd(self) -> float:
        return self.contracts * CM_SYMBOLS[self.symbol][1]

    def notional_coin(self, mark: float) -> float:
        return abs(self.size_usd) / mark

    def pnl_coin(self, mark: float) -> float:
        """Inverse contract: size · (1/entry − 1/mark), in the coin."""
        return self.size_usd * (1.0 / self.entry_price - 1.0 / mark)


@dataclass
class AccountBook:
    name: str
    holdings: dict[str, Holding] = field(default_factory=dict)
    um_legs: list[UmLeg] = field(default_factory=list)
    cm_legs: list[CmLeg] = field(default_factory=list)
    truth: HiddenTruth = field(default_factory=lambda: HiddenTruth("tiered", 0.10))
    # Carry: when the book opened (its loans were taken), what was charged and paid since.
    opened_ms: int | None = field(default=None, init=False)
    interest_rows: list[dict[str, object]] = field(default_factory=list, init=False)
    income_rows: dict[str, list[dict[str, object]]] = field(
        default_factory=lambda: {"UM": [], "CM": []}, init=False
    )
    _interest_ms: int = field(default=0, init=False)
    _negative_ms: int = field(default=0, init=False)
    _funding_ms: int = field(default=0, init=False)
    _next_id: int = field(default=1_000_000, init=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    # ---- carry: interest and funding as the clock passes -------------------------------------
    def settle(self, q: Quote, now_ms: int) -> None:
        """Charge interest and pay funding for every hour, day and funding time that passed
        since the last call (the first call opens the book: each loan's ON_BORROW charge)."""
        with self._lock:
            if self.opened_ms is None:
                self.opened_ms = now_ms
                self._interest_ms = self._negative_ms = self._funding_ms = now_ms
                for asset in self.borrowed_assets():
                    self._charge_loan(asset, "ON_BORROW", now_ms)
                return
            for t in _boundaries(self._interest_ms, now_ms, HOUR_MS):
                for asset in self.borrowed_assets():
                    self._charge_loan(asset, "PERIODIC", t)
            for t in _boundaries(self._negative_ms, now_ms, DAY_MS):
                self._charge_negative_wallets(t)
            for t in _boundaries(self._funding_ms, now_ms, FUNDING_HOURS_MS):
                self._pay_funding(q, t)
            self._interest_ms = max(self._interest_ms, now_ms)
            self._negative_ms = max(self._negative_ms, now_ms)
            self._funding_ms = max(self._funding_ms, now_ms)
            old = now_ms - KEEP_HISTORY_MS
            self.interest_rows = [r for r in self.interest_rows if _time(r) >= old]
            for venue, rows in self.income_rows.items():
                self.income_rows[venue] = [r for r in rows if _time(r) >= old]

    def _tx(self) -> int:
        self._next_id += 1
        return self._next_id

    def _charge_loan(self, asset: str, kind: str, at_ms: int) -> None:
        """An hour of interest: principal · daily rate / 24 (the docs' sample row: 45.3313 USDT
        at 0.00013233 a day → 0.00024995), added to the interest owed."""
        h = self.holdings[asset]
        rate = MARGIN_DAILY_INTEREST.get(asset, 0.0)
        interest = h.cross_margin_borrowed * rate / 24.0
        h.cross_margin_interest += interest
        self.interest_rows.append(
            _interest_row(self._tx(), at_ms, asset, h.cross_margin_borrowed, interest, rate, kind)
        )

    def _charge_negative_wallets(self, at_ms: int) -> None:
        """A day's interest on each negative futures wallet, taken from that wallet."""
        for asset, h in self.holdings.items():
            owed = -(min(h.um_wallet, 0.0) + min(h.cm_wallet, 0.0))
            if owed <= 0.0:
                continue
            rate = MARGIN_DAILY_INTEREST.get(asset, 0.0)
            interest = owed * rate
            if h.um_wallet < 0.0:
                h.um_wallet -= interest
            else:
                h.cm_wallet -= interest
            self.interest_rows.append(
                _interest_row(self._tx(), at_ms, asset, owed, interest, rate, "PORTFOLIO")
            )

    def _pay_funding(self, q: Quote, at_ms: int) -> None:
        """Longs pay shorts when the rate is positive: −size · mark · rate (USDⓈ-M, in the
        margin asset) and −contracts · size / mark · rate (COIN-M, in the coin)."""
        for leg in self.um_legs:
            mark, rate = q.mark(leg.symbol), funding_rate(q.basis[leg.symbol])
            margin = UM_SYMBOLS[leg.symbol][1]
            fee = -leg.amount * mark * rate
            self.holdings.setdefault(margin, Holding()).um_wallet += fee
            self.income_rows["UM"].append(_income_row(self._tx(), at_ms, leg.symbol, margin, fee))
        for cm in self.cm_legs:
            mark, rate = q.mark(cm.symbol), funding_rate(q.basis[cm.symbol])
            coin = CM_SYMBOLS[cm.symbol][0]
            fee = -cm.size_usd / mark * rate
            self.holdings.setdefault(coin, Holding()).cm_wallet += fee
            self.income_rows["CM"].append(_income_row(self._tx(), at_ms, cm.symbol, coin, fee))

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
        maint += self.loan_maint(q)
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

    # ---- Binance JSON --------------------------------------------------------------------
    def margin_asset_leverage_json(self) -> list[dict[str, object]] | None:
        """``/sapi/v1/portfolio/margin-asset-leverage``: one row per borrowed asset, or None when
        the account does not answer that endpoint (its truth has no margin-asset leverage)."""
        leverage = self.truth.margin_asset_leverage
        if leverage is None:
            return None
        return [{"asset": asset, "leverage": leverage} for asset in self.borrowed_assets()]

    def account_json(self, q: Quote, now_ms: int) -> dict[str, object]:
        f = self.reported_figures(q)
        available = max(f["account_equity"] - f["initial"], 0.0)
        withdrawable = max(f["account_equity"] - WITHDRAW_MM_MULTIPLE * f["maint"], 0.0)
        return {
            "uniMMR": dec(f["uni_mmr"]) if f["maint"] > 0 else NO_MAINT_MARGIN_UNI_MMR,
            "accountEquity": dec(f["account_equity"]),
            "actualEquity": dec(f["actual_equity"]),
            "accountInitialMargin": dec(f["initial"]),
            "accountMaintMargin": dec(f["maint"]),
            "accountStatus": account_status(f["uni_mmr"]),
            "virtualMaxWithdrawAmount": dec(withdrawable),
            "totalAvailableBalance": dec(available),
            "totalMarginOpenLoss": dec(0.0),
            "updateTime": now_ms,
        }

    def balance_json(self, q: Quote, now_ms: int) -> list[dict[str, object]]:
        upnl = self.um_upnl_by_asset(q)
        cm_upnl = self.cm_upnl_by_asset(q)
        rows: list[dict[str, object]] = []
        for asset, h in self.holdings.items():
            total = h.cross_margin_asset - h.cross_margin_borrowed + h.um_wallet + h.cm_wallet
            rows.append(
                {
                    "asset": asset,
                    "totalWalletBalance": dec(total),
                    "crossMarginAsset": dec(h.cross_margin_asset),
                    "crossMarginBorrowed": dec(h.cross_margin_borrowed),
                    "crossMarginFree": dec(h.cross_margin_asset),
                    "crossMarginInterest": dec(h.cross_margin_interest),
                    "crossMarginLocked": dec(0.0),
                    "umWalletBalance": dec(h.um_wallet),
                    "umUnrealizedPNL": dec(upnl.get(asset, 0.0)),
                    "cmWalletBalance": dec(h.cm_wallet),
                    "cmUnrealizedPNL": dec(cm_upnl.get(asset, 0.0)),
                    "updateTime": now_ms,
                    "negativeBalance": dec(max(-total, 0.0)),
                }
            )
        return rows

    def um_position_risk_json(self, q: Quote, now_ms: int) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for leg in self.um_legs:
            mark = q.mark(leg.symbol)
            rows.append(
                {
                    "symbol": leg.symbol,
                    "positionAmt": f"{leg.amount:.3f}",
                    "entryPrice": dec(leg.entry_price),
                    "markPrice": dec(mark),
                    "unRealizedProfit": dec(leg.amount * (mark - leg.entry_price)),
                    "liquidationPrice": dec(0.0),
                    "leverage": str(leg.leverage),
                    "maxNotionalValue": "20000000",
                    "positionSide": "BOTH",
                    "notional": dec(leg.amount * mark),
                    "updateTime": now_ms,
                }
            )
        return rows

    def cm_position_risk_json(self, q: Quote, now_ms: int) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for leg in self.cm_legs:
            mark = q.mark(leg.symbol)
            rows.append(
                {
                    "symbol": leg.symbol,
                    "positionAmt": f"{leg.contracts:.0f}",
                    "entryPrice": dec(leg.entry_price),
                    "markPrice": dec(mark),
                    "unRealizedProfit": dec(leg.pnl_coin(mark)),
                    "liquidationPrice": dec(0.0),
                    "leverage": str(leg.leverage),
                    "positionSide": "BOTH",
                    "updateTime": now_ms,
                    "maxQty": "100",
                    "notionalValue": dec(leg.size_usd / mark),
                }
            )
        return rows

    def um_account_json(self, q: Quote, now_ms: int) -> dict[str, object]:
        wallets = {a: h.um_wallet for a, h in self.holdings.items()}
        assets = _wallet_rows(wallets, self.um_upnl_by_asset(q))
        positions: list[dict[str, object]] = []
        for leg in self.um_legs:
            mark = q.mark(leg.symbol)
            maint, initial = (
                self.um_leg_maint(leg, q),
                abs(leg.amount * mark) / leg.leverage,
            )
            a = assets.setdefault(
                UM_SYMBOLS[leg.symbol][1],
                {"wallet": 0.0, "upnl": 0.0, "maint": 0.0, "initial": 0.0},
            )
            a["maint"] += maint
            a["initial"] += initial
            positions.append(
                {
                    "symbol": leg.symbol,
                    "initialMargin": dec(initial),
                    "maintMargin": dec(maint),
                    "unrealizedProfit": dec(leg.amount * (mark - leg.entry_price)),
                    "positionInitialMargin": dec(initial),
                    "openOrderInitialMargin": "0",
                    "leverage": str(leg.leverage),
                    "entryPrice": dec(leg.entry_price),
                    "maxNotional": "20000000",
                    "bidNotional": "0",
                    "askNotional": "0",
                    "positionSide": "BOTH",
                    "positionAmt": f"{leg.amount:.3f}",
                    "updateTime": now_ms,
                }
            )
        return _futures_account_json(assets, positions, now_ms)

    def cm_account_json(self, q: Quote, now_ms: int) -> dict[str, object]:
        wallets = {a: h.cm_wallet for a, h in self.holdings.items()}
        assets = _wallet_rows(wallets, self.cm_upnl_by_asset(q))
        positions: list[dict[str, object]] = []
        for leg in self.cm_legs:
            mark = q.mark(leg.symbol)
            maint = self.cm_leg_maint(leg, q)
            initial = leg.notional_coin(mark) / leg.leverage
            a = assets.setdefault(
                CM_SYMBOLS[leg.symbol][0],
                {"wallet": 0.0, "upnl": 0.0, "maint": 0.0, "initial": 0.0},
            )
            a["maint"] += maint
            a["initial"] += initial
            positions.append(
                {
                    "symbol": leg.symbol,
                    "positionAmt": f"{leg.contracts:.0f}",
                    "initialMargin": dec(initial),
                    "maintMargin": dec(maint),
                    "unrealizedProfit": dec(leg.pnl_coin(mark)),
                    "positionInitialMargin": dec(initial),
                    "openOrderInitialMargin": "0",
                    "leverage": str(leg.leverage),
                    "positionSide": "BOTH",
                    "entryPrice": dec(leg.entry_price),
                    "maxQty": "100",
                    "updateTime": now_ms,
                }
            )
        return _futures_account_json(assets, positions, now_ms)


def _time(row: dict[str, object]) -> int:
    t = row.get("interestAccuredTime", row.get("time"))
    return t if isinstance(t, int) else 0


def _interest_row(
    tx: int, at_ms: int, asset: str, principal: float, interest: float, rate: float, kind: str
) -> dict[str, object]:
    """One row of ``/papi/v1/margin/marginInterestHistory``, shaped like the docs' sample."""
    return {
        "txId": tx,
        "interestAccuredTime": at_ms,
        "asset": asset,
        "rawAsset": asset,
        "principal": dec(principal),
        "interest": dec(interest),
        "interestRate": f"{rate:.8f}",
        "type": kind,
    }


def _income_row(tx: int, at_ms: int, symbol: str, asset: str, income: float) -> dict[str, object]:
    """One ``FUNDING_FEE`` row of ``/papi/v1/um/income`` / ``/papi/v1/cm/income``."""
    return {
        "symbol": symbol,
        "incomeType": "FUNDING_FEE",
        "income": dec(income),
        "asset": asset,
        "info": "FUNDING_FEE",
        "time": at_ms,
        "tranId": str(tx),
        "tradeId": "",
    }


def _wallet_rows(wallets: dict[str, float], upnl: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per asset with a futures wallet or PnL: wallet, PnL, and MM / IM to be summed in."""
    return {
        asset: {"wallet": wallets.get(asset, 0.0), "upnl": upnl.get(asset, 0.0)}
        | {"maint": 0.0, "initial": 0.0}
        for asset in dict.fromkeys([*(a for a, w in wallets.items() if w), *upnl])
    }


def _futures_account_json(
    assets: dict[str, dict[str, float]], positions: list[dict[str, object]], now_ms: int
) -> dict[str, object]:
    return {
        "assets": [
            {
                "asset": asset,
                "crossWalletBalance": dec(a["wallet"]),
                "crossUnPnl": dec(a["upnl"]),
                "maintMargin": dec(a["maint"]),
                "initialMargin": dec(a["initial"]),
                "positionInitialMargin": dec(a["initial"]),
                "openOrderInitialMargin": dec(0.0),
                "updateTime": now_ms,
            }
            for asset, a in assets.items()
        ],
        "positions": positions,
    }


def account_status(uni_mmr: float) -> str:
    """The simulator's mapping (Binance does not publish one; see docs/binance-pm-notes.md)."""
    if uni_mmr > 1.5:
        return "NORMAL"
    if uni_mmr > 1.2:
        return "MARGIN_CALL"
    if uni_mmr > 1.05:
        return "REDUCE_ONLY"
    if uni_mmr > 1.0:
        return "ACTIVE_LIQUIDATION"
    return "BANKRUPTED"


def _mark(index_usd: dict[str, float], base: str) -> float:
    return round(index_usd[base] / index_usd["USDT"], 4)


def preset_basis(index_usd: dict[str, float]) -> AccountBook:
    """Long 10 BTC spot in the PM wallet, short 10 BTC of BTCUSDT perpetual, 20,000 USDT."""
    btc_usdt = index_usd["BTC"] / index_usd["USDT"]
    return AccountBook(
        name="basis",
        truth=TRUTH["basis"],
        holdings={
            "BTC": Holding(cross_margin_asset=10.0),
            "USDT": Holding(cross_margin_asset=5_000.0, um_wallet=15_000.0),
        },
        um_legs=[UmLeg("BTCUSDT", -10.0, round(btc_usdt, 1))],
    )


def preset_directional(index_usd: dict[str, float]) -> AccountBook:
    """Overlevered long: 15,000 USDT behind 5 BTC and 60 ETH of perpetuals (≈ 30x)."""
    return AccountBook(
        name="directional",
        truth=TRUTH["directional"],
        holdings={"USDT": Holding(um_wallet=15_000.0)},
        um_legs=[
            UmLeg("BTCUSDT", 5.0, _mark(index_usd, "BTC"), leverage=50),
            UmLeg("ETHUSDT", 60.0, _mark(index_usd, "ETH"), leverage=50),
        ],
    )


def preset_coinm_hedger(index_usd: dict[str, float]) -> AccountBook:
    """20 BTC spot plus 1 BTC in the COIN-M wallet, short BTCUSD_PERP for the spot's USD value;
    200 ETH spot hedged with ETHUSD_PERP the same way."""
    btc_contracts = -round(20.0 * index_usd["BTC"] / 100.0)
    eth_contracts = -round(200.0 * index_usd["ETH"] / 10.0)
    return AccountBook(
        name="coinm_hedger",
        truth=TRUTH["coinm_hedger"],
        holdings={
            "BTC": Holding(cross_margin_asset=20.0, cm_wallet=1.0),
            "ETH": Holding(cross_margin_asset=200.0),
            "USDT": Holding(cross_margin_asset=10_000.0),
        },
        cm_legs=[
            CmLeg("BTCUSD_PERP", btc_contracts, round(index_usd["BTC"], 1), leverage=5),
            CmLeg("ETHUSD_PERP", eth_contracts, round(index_usd["ETH"], 2), leverage=5),
        ],
    )


def preset_borrower(index_usd: dict[str, float]) -> AccountBook:
    """A cross-margin USDT loan funding ETH: 100 ETH bought with 200,000 borrowed USDT."""
    return AccountBook(
        name="borrower",
        truth=TRUTH["borrower"],
        holdings={
            "ETH": Holding(cross_margin_asset=100.0),
            "USDT": Holding(cross_margin_asset=0.0, cross_margin_borrowed=200_000.0),
            "BNB": Holding(cross_margin_asset=50.0),
        },
    )


def preset_near_liquidation(index_usd: dict[str, float]) -> AccountBook:
    """10 BTC long on 5,600 USDT: uniMMR ≈ 1.2, in the reduce-only band at the start prices."""
    return AccountBook(
        name="near_liquidation",
        truth=TRUTH["near_liquidation"],
        holdings={"USDT": Holding(um_wallet=5_600.0)},
        um_legs=[UmLeg("BTCUSDT", 10.0, _mark(index_usd, "BTC"), leverage=125)],
    )


def preset_borrower_pro(index_usd: dict[str, float]) -> AccountBook:
    """The borrower's holdings on a PM Pro account: it answers margin-asset-leverage (5x for
    its USDT loan, hence 8 % loan MMR) and is valued with the tiered table."""
    book = preset_borrower(index_usd)
    return AccountBook(name="borrower_pro", holdings=book.holdings, truth=TRUTH["borrower_pro"])


def preset_opaque(index_usd: dict[str, float]) -> AccountBook:
    """200 ETH bought partly with a 100,000 USDT loan, valued by the exchange with an ETH haircut
    (50 %) in neither published table: no table choice reproduces its accountEquity.
    uniMMR ≈ 25 at the start prices (350,000 − 100,000 over 10,000)."""
    return AccountBook(
        name="opaque",
        truth=TRUTH["opaque"],
        holdings={
            "ETH": Holding(cross_margin_asset=200.0),
            "USDT": Holding(cross_margin_asset=0.0, cross_margin_borrowed=100_000.0),
        },
    )


PRESETS: dict[str, Callable[[dict[str, float]], AccountBook]] = {
    "basis": preset_basis,
    "directional": preset_directional,
    "coinm_hedger": preset_coinm_hedger,
    "borrower": preset_borrower,
    "near_liquidation": preset_near_liquidation,
    "borrower_pro": preset_borrower_pro,
    "opaque": preset_opaque,
}
