"""PM versus classic: the same book as Binance's separate classic accounts, compared by what
liquidates each (maintenance margin), not by leverage-chosen initial margin.

Classic accounts do not share collateral. The same book would sit in three kinds of account,
each with its own liquidation line and its own idea of what counts as collateral:

1. **USDⓈ-M futures wallet in Multi-Assets mode.** Binance FAQ "What Is Multi-Assets Mode and
   Which Assets Are Supported" (faq 29b45c485d664028b9ca1cdf90b24f6f): "Assets like BTC, ETH, and
   BNB used as collateral in the Multi-Assets Mode will receive a 5% value haircut. For example,
   BNB valued at $1,000 will be considered as $950"; assets must be transferred to the USDⓈ-M
   Futures wallet before they count; "Multi-Assets Mode operates exclusively in Cross Margin
   Mode"; per-asset transfer-in limits depend on the VIP level. An older copy of the same FAQ's
   table: BTC, ETH, BNB 95 %; XRP, ADA, DOT, SOL 90 %; USDT, USDC 99.99 % (``MULTI_ASSETS_RATE``).
   The wallet is liquidated when its margin balance (collateral at those rates + the positions'
   unrealized PnL) no longer covers the positions' maintenance margin, from the same leverage
   brackets PM uses.
2. **COIN-M futures, one wallet per coin.** Binance FAQ on COIN-M futures (faq
   a4470430e3164c13932be8967961aede): the contracts are "collateralized and settled in
   cryptocurrencies": each coin's wallet must hold that coin's positions' maintenance margin in
   the coin itself; no other asset backs it.
3. **Cross margin.** Binance FAQ "Introduction to Binance Cross Margin Pro" (faq
   0b5441a1c1ff431bb2e135dfa8e6ffba): Margin Level = Total Asset / (Total Liability + Interest);
   liquidation at "Margin Level ≤ 1.1 (Cross Margin 3x and 5x leverage)" — Classic, leverage
   "Fixed at account level, 3x or 5x" — and ≤ 1.0 in Pro mode ("The maximum leverage is 10x");
   in Classic "Liquidation is not affected by asset haircut", so assets count at full value.

Under PM one pool backs every leg: adjusted equity = Σ holdings at their PM collateral rates
(+ unrealized PnL), liquidated when it falls below ``liquidation level × Σ MM`` (uniMMR FAQ
4868b2f1aa6c4d08af973328462bb0bd); hedged legs offset inside that one equity.

What this module does *not* claim: a "PM saves $X" figure. At the liquidation lines the two
regimes ask for similar amounts; the difference is *where* collateral must sit and *what* counts
there, and whether a hedge's two legs can offset (``move`` figures). Pure python; figures that
cannot be computed are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from risk.book import Book
from risk.snapshot import AccountSnapshot
from risk.tiers import FloatArray
from risk.valuation import BaseMargins, cm_maint_margin_coin, value_rows

MULTI_ASSETS_RATE: dict[str, float] = {
    "BTC": 0.95,
    "ETH": 0.95,
    "BNB": 0.95,
    "XRP": 0.90,
    "ADA": 0.90,
    "DOT": 0.90,
    "SOL": 0.90,
    "USDT": 0.9999,
    "USDC": 0.9999,
}
"""USDⓈ-M Multi-Assets collateral value ratio per asset (FAQ 29b45c485d664028b9ca1cdf90b24f6f,
older copy of its table; the current text confirms BTC/ETH/BNB at 95 %). An asset not listed is
not accepted as margin there as far as these sources go."""

CLASSIC_MARGIN_LIQUIDATION_LEVEL = 1.1
"""Cross Margin Classic (3x / 5x): liquidation at Margin Level ≤ 1.1 (FAQ 0b5441a1…)."""
CROSS_MARGIN_PRO_LIQUIDATION_LEVEL = 1.0
"""Cross Margin Pro (up to 10x): liquidation at Margin Level ≤ 1.0 (FAQ 0b5441a1…)."""

MOVE_FRACTION = 0.10
"""The uniform move of every non-stable asset the ``move`` figures use (±10 %)."""


def _floor0(x: float) -> float:
    """max(x, 0) that keeps NaN (unknown) NaN."""
    return x if math.isnan(x) else max(x, 0.0)


def _float(value: Any) -> float:
    """A stored figure: strict JSON keeps NaN and ∞ as null, read back as NaN (unknown)."""
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class CoinWallet:
    """One COIN-M wallet of the classic picture: the book's contracts margined in ``coin``.

    ``maint_qty``: Σ bracket MM of those contracts, in the coin; ``upnl_qty``: their unrealized
    PnL, in the coin. ``move_down_usd`` / ``move_up_usd``: the contracts' PnL on a uniform
    −/+ ``MOVE_FRACTION`` move, in USD at the moved price.
    """

    coin: str
    price_usd: float
    maint_qty: float
    upnl_qty: float
    move_down_usd: float
    move_up_usd: float

    @property
    def maint_usd(self) -> float:
        return self.maint_qty * self.price_usd

    @property
    def need_qty(self) -> float:
        """Coin the wallet must hold to sit above its liquidation line: MM − unrealized PnL."""
        return _floor0(self.maint_qty - self.upnl_qty)

    @property
    def need_usd(self) -> float:
        return self.need_qty * self.price_usd


@dataclass(frozen=True)
class Holding:
    """One asset the book holds (net of its loan), and where it can count as collateral.

    ``pm_counted_usd``: what PM counts of it (its collateral rate), against every leg.
    ``multi_assets_rate``: what the USDⓈ-M wallet counts per USD of it once moved there, None
    when Multi-Assets does not accept it. ``coin_m``: the book has COIN-M contracts margined in
    it (only those can use it). In a classic cross-margin account it counts at full value.
    """

    asset: str
    qty: float
    value_usd: float
    pm_counted_usd: float
    stable: bool
    multi_assets_rate: float | None
    coin_m: bool

    @property
    def multi_assets_usd(self) -> float | None:
        if self.multi_assets_rate is None:
            return None
        return self.value_usd * self.multi_assets_rate


@dataclass(frozen=True)
class ClassicComparison:
    """The same book as classic accounts against the PM account, all USD at index prices.

    USDⓈ-M wallet: ``um_maint_usd`` (bracket MM), ``um_upnl_usd`` (the positions' unrealized
    PnL). COIN-M: one ``CoinWallet`` per margin coin. Cross margin, as the book's margin side
    sits: ``margin_assets_usd`` (Total Asset: every cross-margin asset at full value),
    ``margin_debt_usd`` (loans + interest), and the parts of each that are non-stable (they move).
    PM: ``pm_maint_usd`` (Σ MM, loans at the calibrated MMR), ``pm_equity_usd`` (adjusted
    equity), ``pm_liquidation_uni_mmr``. Moves: the change on a uniform −/+ ``move_pct`` move of
    every non-stable asset, per leg under classic (where it lands) and for PM's one equity.
    """

    move_pct: float
    um_maint_usd: float
    um_upnl_usd: float
    um_move_down_usd: float
    um_move_up_usd: float
    coin_wallets: tuple[CoinWallet, ...]
    margin_assets_usd: float
    margin_debt_usd: float
    margin_assets_risky_usd: float
    margin_debt_risky_usd: float
    margin_liquidation_level: float
    holdings: tuple[Holding, ...]
    holdings_move_down_usd: float
    holdings_move_up_usd: float
    pm_maint_usd: float
    pm_equity_usd: float
    pm_liquidation_uni_mmr: float
    pm_equity_move_down_usd: float
    pm_equity_move_up_usd: float

    # --- USDⓈ-M wallet -------------------------------------------------------------------
    @property
    def has_um(self) -> bool:
        return self.um_maint_usd != 0.0  # NaN (unknown) counts as having positions

    @property
    def um_need_usd(self) -> float:
        """Collateral, at its Multi-Assets value, the wallet must hold to sit above its
        liquidation line: MM − the positions' unrealized PnL (a loss adds to it)."""
        return _floor0(self.um_maint_usd - self.um_upnl_usd)

    # --- cross margin --------------------------------------------------------------------
    @property
    def has_loans(self) -> bool:
        return self.margin_debt_usd != 0.0

    @property
    def margin_level(self) -> float:
        """Total Asset / (Total Liability + Interest); ∞ without loans."""
        if self.margin_debt_usd == 0.0:
            return math.inf
        return self.margin_assets_usd / self.margin_debt_usd

    @property
    def margin_need_assets_usd(self) -> float:
        """Total Asset at the liquidation line: level × (loans + interest)."""
        return self.margin_liquidation_level * self.margin_debt_usd

    @property
    def margin_need_equity_usd(self) -> float:
        """The same line as equity beyond the debt: (level − 1) × (loans + interest)."""
        return (self.margin_liquidation_level - 1.0) * self.margin_debt_usd

    @property
    def margin_shortfall_usd(self) -> float:
        """Assets to add to the margin account to reach its line (0 when above it)."""
        return _floor0(self.margin_need_assets_usd - self.margin_assets_usd)

    @property
    def margin_liquidation_move_pct(self) -> float | None:
        """The uniform move t of every non-stable asset at which the margin account, as it
        sits, reaches its line: A_s + A_r (1 + t) = level · (D_s + D_r (1 + t)), so
        t = (level · D − A) / (A_r − level · D_r). 0 when it is at or below the line now;
        None without loans or when no move between −100 % and +1000 % reaches it."""
        a, d = self.margin_assets_usd, self.margin_debt_usd
        if math.isnan(a) or math.isnan(d):
            return math.nan
        if d == 0.0:
            return None
        level = self.margin_liquidation_level
        if a <= level * d:
            return 0.0
        slope = self.margin_assets_risky_usd - level * self.margin_debt_risky_usd
        if slope == 0.0:
            return None
        t = (level * d - a) / slope
        return 100.0 * t if -1.0 < t <= 10.0 else None

    # --- both ----------------------------------------------------------------------------
    @property
    def classic_line_usd(self) -> float:
        """Equity (collateral + unrealized PnL) the classic accounts need in total at their
        liquidation lines, each part in its own account: USDⓈ-M MM + Σ COIN-M MM +
        (level − 1) × loans."""
        return (
            self.um_maint_usd
            + sum(w.maint_usd for w in self.coin_wallets)
            + self.margin_need_equity_usd
        )

    @property
    def pm_line_usd(self) -> float:
        """Adjusted equity PM needs at its liquidation line: level × Σ MM, from one pool."""
        return self.pm_liquidation_uni_mmr * self.pm_maint_usd

    @property
    def pm_headroom_usd(self) -> float:
        return self.pm_equity_usd - self.pm_line_usd

    @staticmethod
    def from_dict(body: dict[str, Any]) -> ClassicComparison | None:
        """Rebuild from a stored report (``dataclasses.asdict`` form, NaN stored as null);
        None for a report stored before this comparison existed."""
        names = {f.name for f in fields(ClassicComparison)}
        if not names <= set(body):
            return None
        wallets = tuple(
            CoinWallet(
                w["coin"],
                *(_float(w[k]) for k in _names(CoinWallet)[1:]),  # coin is text
            )
            for w in body["coin_wallets"]
        )
        holdings = tuple(
            Holding(
                h["asset"],
                _float(h["qty"]),
                _float(h["value_usd"]),
                _float(h["pm_counted_usd"]),
                bool(h["stable"]),
                None if h["multi_assets_rate"] is None else float(h["multi_assets_rate"]),
                bool(h["coin_m"]),
            )
            for h in body["holdings"]
        )
        plain = {k: _float(body[k]) for k in names if k not in ("coin_wallets", "holdings")}
        return ClassicComparison(coin_wallets=wallets, holdings=holdings, **plain)


def _names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def compare(
    snapshot: AccountSnapshot,
    book: Book,
    base: BaseMargins,
    adjusted_by_asset: FloatArray,
    pm_equity_usd: float,
    pm_maint_usd: float,
    pm_liquidation_uni_mmr: float,
    equity_known: bool,
    maint_known: bool,
) -> ClassicComparison:
    """The comparison for one evaluated book. ``equity_known`` / ``maint_known``: the report's
    adjusted equity / maintenance margin could be computed; figures that depend on an unknown
    one are NaN (fail closed), never a made-up 0."""
    nan = math.nan
    t = MOVE_FRACTION
    both = equity_known and maint_known
    price = book.price_usd
    stable = book.stable

    def known(ok: bool, value: float) -> float:
        return float(value) if ok else nan

    def usd(asset: str, qty: float) -> float:
        if qty == 0.0:
            return 0.0
        if asset in book.assets:
            return qty * float(price[book.index(asset)])
        return nan

    # USDⓈ-M: bracket MM (BaseMargins), unrealized PnL at the quote's price; the PnL of a
    # uniform move t is amount · mark · t in the quote (a stablecoin: its price holds).
    um = [p for p in snapshot.um_positions if p.position_amt_qty != 0.0]
    quote_price = price[book.um_quote]
    um_upnl = float(sum(p.unrealized_pnl_qty * q for p, q in zip(um, quote_price, strict=True)))
    um_delta = float((book.um_amt_qty * book.um_mark * quote_price).sum())

    # COIN-M, per margin coin: MM and unrealized PnL in the coin; the contracts' PnL on a move t
    # is contracts · size · (1/mark − 1/(mark (1 + t))) coin, worth that · price · (1 + t).
    cm = [p for p in snapshot.cm_positions if p.position_amt_contracts != 0.0]
    rows = np.arange(len(cm))
    size = book.cm_contracts * book.cm_size_usd
    cm_mm = cm_maint_margin_coin(book, np.abs(size) / book.cm_mark, rows)
    wallets = []
    for coin in dict.fromkeys(book.cm_coin.tolist()):
        mine = book.cm_coin == coin
        coin_price = float(price[coin])

        def move(step: float, mine: np.ndarray = mine, coin_price: float = coin_price) -> float:
            marks = book.cm_mark[mine]
            pnl = size[mine] * (1.0 / marks - 1.0 / (marks * (1.0 + step)))
            return float(pnl.sum()) * coin_price * (1.0 + step)

        wallets.append(
            CoinWallet(
                coin=book.assets[coin],
                price_usd=coin_price,
                maint_qty=known(maint_known, float(cm_mm[mine].sum())),
                upnl_qty=known(
                    equity_known,
                    sum(p.unrealized_pnl_qty for p, m in zip(cm, mine, strict=True) if m),
                ),
                move_down_usd=known(both, move(-t)),
                move_up_usd=known(both, move(t)),
            )
        )

    # Cross margin as the book's margin side sits: Total Asset at full value, loans + interest.
    assets = debt = assets_risky = debt_risky = 0.0
    for b in snapshot.balances:
        risky = b.asset not in book.assets or not bool(stable[book.index(b.asset)])
        a = usd(b.asset, b.cross_margin_asset_qty)
        d = usd(b.asset, b.cross_margin_borrowed_qty + b.cross_margin_interest_qty)
        assets, debt = assets + a, debt + d
        if risky:
            assets_risky, debt_risky = assets_risky + a, debt_risky + d

    # Holdings (net of loans) and where each can count.
    coins = {book.assets[c] for c in book.cm_coin.tolist()}
    value = np.where(book.equity_qty != 0.0, book.equity_qty * price, 0.0)
    holdings = tuple(
        Holding(
            asset=asset,
            qty=known(equity_known, float(book.equity_qty[a])),
            value_usd=known(equity_known, float(value[a])),
            pm_counted_usd=known(equity_known, float(adjusted_by_asset[a])),
            stable=bool(stable[a]),
            multi_assets_rate=MULTI_ASSETS_RATE.get(asset),
            coin_m=asset in coins,
        )
        for a, asset in enumerate(book.assets)
        if book.equity_qty[a] > 0.0
    )
    holdings_delta = float(value[~stable].sum())

    # PM: the same uniform move of every non-stable asset, valued by the book (tiers, brackets).
    direction = np.where(stable, 0.0, 1.0)[None, :]
    moved = value_rows(
        book, base, direction, np.zeros(2, dtype=np.intp), np.array([-t, t])
    ).equity_usd
    now = float(adjusted_by_asset.sum()) - book.open_loss_usd

    return ClassicComparison(
        move_pct=100.0 * t,
        um_maint_usd=known(maint_known, float(base.um_usd.sum())),
        um_upnl_usd=known(equity_known, um_upnl),
        um_move_down_usd=known(both, -t * um_delta),
        um_move_up_usd=known(both, t * um_delta),
        coin_wallets=tuple(wallets),
        margin_assets_usd=known(equity_known, assets),
        margin_debt_usd=known(equity_known, debt),
        margin_assets_risky_usd=known(equity_known, assets_risky),
        margin_debt_risky_usd=known(equity_known, debt_risky),
        margin_liquidation_level=CLASSIC_MARGIN_LIQUIDATION_LEVEL,
        holdings=holdings,
        holdings_move_down_usd=known(equity_known, -t * holdings_delta),
        holdings_move_up_usd=known(equity_known, t * holdings_delta),
        pm_maint_usd=known(maint_known, pm_maint_usd),
        pm_equity_usd=known(equity_known, pm_equity_usd),
        pm_liquidation_uni_mmr=pm_liquidation_uni_mmr,
        pm_equity_move_down_usd=known(both, float(moved[0]) - now),
        pm_equity_move_up_usd=known(both, float(moved[1]) - now),
    )
