"""A snapshot and market compiled into numpy arrays, ready to be valued under many price rows.

Assets are indexed 0..A−1 (every asset held, borrowed, or underlying/margining a position);
positions 0..P−1 per venue. Tier tables of different lengths are padded to one width with
floors of +∞ so a broadcast comparison finds each value's tier. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np

from risk.market import COLLATERAL_TABLE_PATH, FLAT, TIERED, Bracket, CollateralTier, MarketState
from risk.reasons import EQUITY, MAINT, UnknownReason
from risk.rules import RiskRules
from risk.snapshot import AccountSnapshot
from risk.tiers import FloatArray

IntArray = np.ndarray[tuple[int], np.dtype[np.intp]]


@dataclass(frozen=True)
class TierTable:
    """Padded tier tables, one row per item: value v in row i gives v · rate + sign · cum."""

    floor: FloatArray  # (N, K), +inf padding
    rate: FloatArray  # (N, K)
    cum: FloatArray  # (N, K)

    @staticmethod
    def empty() -> TierTable:
        z = np.zeros((0, 1))
        return TierTable(z, z, z)


def _pad(rows: list[list[tuple[float, float, float]]]) -> TierTable:
    """rows[i] = [(floor, rate, cum), ...] ascending → padded arrays."""
    if not rows:
        return TierTable.empty()
    lengths = np.array([len(r) for r in rows], dtype=np.intp)
    width = max(1, int(lengths.max()))
    chain = itertools.chain.from_iterable
    flat = np.fromiter(chain(chain(rows)), dtype=np.float64, count=3 * int(lengths.sum()))
    flat = flat.reshape(-1, 3)
    item = np.repeat(np.arange(len(rows)), lengths)
    k = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    floor = np.full((len(rows), width), np.inf)
    rate = np.zeros((len(rows), width))
    cum = np.zeros((len(rows), width))
    floor[item, k], rate[item, k], cum[item, k] = flat[:, 0], flat[:, 1], flat[:, 2]
    return TierTable(floor, rate, cum)


def bracket_rows(table: tuple[Bracket, ...]) -> list[tuple[float, float, float]]:
    return [(b.floor, b.maint_margin_ratio, b.cum) for b in table]


def collateral_rows(table: tuple[CollateralTier, ...]) -> list[tuple[float, float, float]]:
    # An asset with no published tiers is not collateral: one tier at rate 0.
    return [(t.floor_usd, t.collateral_rate, t.cum_usd) for t in table] or [(0.0, 0.0, 0.0)]


@dataclass(frozen=True)
class Book:
    assets: tuple[str, ...]
    stable: np.ndarray  # (A,) bool
    price_usd: FloatArray  # (A,) index price
    equity_qty: FloatArray  # (A,) x_a at the snapshot (includes reported unrealized PnL)
    borrowed_qty: FloatArray  # (A,) cross-margin loans
    collateral: TierTable  # (A, T)
    has_collateral_rate: np.ndarray  # (A,) bool
    # USDⓈ-M: mark in quote units; PnL and MM accrue in the quote (margin) asset.
    um_symbol: tuple[str, ...]
    um_side: tuple[str, ...]
    um_amt_qty: FloatArray  # (U,) signed base quantity
    um_mark: FloatArray  # (U,)
    um_base: IntArray  # (U,) asset index
    um_quote: IntArray  # (U,) asset index
    um_brackets: TierTable  # (U, K)
    # COIN-M: contracts of a fixed USD size, margined and settled in the coin.
    cm_symbol: tuple[str, ...]
    cm_side: tuple[str, ...]
    cm_contracts: FloatArray  # (C,) signed
    cm_size_usd: FloatArray  # (C,)
    cm_mark: FloatArray  # (C,) USD per coin
    cm_coin: IntArray  # (C,) asset index
    cm_brackets: TierTable  # (C, K) in coin quantity
    loan_mmr: FloatArray  # (A,) cross-margin loan MMR per asset
    open_loss_usd: float
    collateral_table: str = TIERED  # FLAT or TIERED: which of Binance's tables ``collateral`` is
    reasons: tuple[UnknownReason, ...] = ()  # why figures are unknown (empty: none is)

    @property
    def n_assets(self) -> int:
        return len(self.assets)

    def index(self, asset: str) -> int:
        return self.assets.index(asset)


UNKNOWN_TABLE: tuple[Bracket, ...] = (Bracket(0.0, math.inf, math.nan, math.nan, math.nan),)
"""A symbol with no usable brackets: its maintenance margin is NaN (unknown), never 0."""


def _tables_by_symbol(symbols: list[str], tables: dict[str, tuple[Bracket, ...]]) -> TierTable:
    """Pad each distinct bracket table object once (positions of one symbol, and symbols the
    market state maps to one shared schedule), then give every position its row. A symbol
    without brackets gets NaN rates (the caller records why)."""
    distinct: dict[int, int] = {}
    first: list[tuple[Bracket, ...]] = []
    row = np.empty(len(symbols), dtype=np.intp)
    for i, s in enumerate(symbols):
        table = tables.get(s) or UNKNOWN_TABLE
        j = distinct.setdefault(id(table), len(distinct))
        if j == len(first):
            first.append(table)
        row[i] = j
    padded = _pad([bracket_rows(t) for t in first])
    if not symbols:
        return padded
    return TierTable(padded.floor[row], padded.rate[row], padded.cum[row])


def collateral_table(
    market: MarketState, table: str, assets: tuple[str, ...] | list[str]
) -> tuple[TierTable, np.ndarray]:
    """One of Binance's two collateral tables over ``assets``, and which assets it lists."""
    rates = market.collateral_flat if table == FLAT else market.collateral_tiers
    rates = rates or {}
    return (
        _pad([collateral_rows(rates.get(a, ())) for a in assets]),
        np.array([a in rates for a in assets], dtype=bool),
    )


def _relevant(reason: UnknownReason, assets: set[str], symbols: set[str], table: str) -> bool:
    """A market problem matters when it names an asset the account holds or owes, a symbol it
    has a position in, or no row at all (an unreadable row might be the one that matters).
    Collateral problems matter only in the table that values the account."""
    tables = {path: name for name, path in COLLATERAL_TABLE_PATH.items()}
    if tables.get(reason.path, table) != table:
        return False
    return not reason.item or reason.item in assets or reason.item in symbols


def with_collateral_table(book: Book, market: MarketState, table: str) -> Book:
    """The same book valued with Binance's other collateral table: its rates, and its
    problems instead of the first table's (the brackets and prices stay as compiled)."""
    collateral, listed = collateral_table(market, table, book.assets)
    paths = set(COLLATERAL_TABLE_PATH.values())
    symbols = set(book.um_symbol) | set(book.cm_symbol)
    reasons = [r for r in book.reasons if r.path not in paths] + [
        r
        for r in market.problems
        if r.path == COLLATERAL_TABLE_PATH[table] and _relevant(r, set(book.assets), symbols, table)
    ]
    return dataclasses.replace(
        book,
        collateral=collateral,
        has_collateral_rate=listed,
        collateral_table=table,
        reasons=tuple(reasons),
    )


def compile_book(
    snapshot: AccountSnapshot,
    market: MarketState,
    rules: RiskRules,
    table: str | None = None,
    loan_mmr: dict[str, float] | None = None,
) -> Book:
    """The account's arrays. ``table``: which collateral table values equity (default: the
    rules' assumptions, else the tiered table when read, else the flat); ``loan_mmr``: per
    borrowed asset (default: the rules' assumptions, else ``rules.default_loan_mmr``).

    Never raises for missing data: a price, mark or bracket table that is missing makes the
    figures it feeds NaN, and ``Book.reasons`` says why (with the snapshot's and the market's
    own problems that touch this account)."""
    if table is None:
        if rules.assumptions is not None:
            table = rules.assumptions.collateral_table
        else:
            table = TIERED if market.collateral_tiers or market.collateral_flat is None else FLAT
    if loan_mmr is None:
        loan_mmr = rules.assumptions.loan_mmr if rules.assumptions is not None else {}
    um = [p for p in snapshot.um_positions if p.position_amt_qty != 0.0]
    cm = [p for p in snapshot.cm_positions if p.position_amt_contracts != 0.0]
    column: dict[str, int] = {}

    def idx(asset: str) -> int:
        return column.setdefault(asset, len(column))

    for b in snapshot.balances:
        if b.equity_qty != 0.0 or b.cross_margin_borrowed_qty != 0.0:
            idx(b.asset)
    um_base = np.array([idx(p.base_asset) for p in um], dtype=np.intp)
    um_quote = np.array([idx(p.margin_asset) for p in um], dtype=np.intp)
    cm_coin = np.array([idx(p.margin_asset) for p in cm], dtype=np.intp)
    names = list(column)
    symbols = {p.symbol for p in um} | {p.symbol for p in cm}
    reasons = [r for r in market.problems if _relevant(r, set(names), symbols, table)]
    named = {r.item for r in reasons} | {r.item for r in snapshot.problems}

    def missing(path: str, field: str, problem: str, item: str, affects: frozenset[str]) -> None:
        if item not in named:
            reasons.append(UnknownReason(path, field, problem, item, affects))
            named.add(item)

    def mark(symbol: str, venue: str) -> float:
        value = market.mark_price.get(symbol)
        if value is None or not (value > 0 and math.isfinite(value)):
            path = "/fapi/v1/premiumIndex" if venue == "UM" else "/dapi/v1/premiumIndex"
            missing(path, "markPrice", "no mark price", symbol, frozenset({MAINT}))
            return math.nan
        return value

    um_mark = np.array([mark(p.symbol, "UM") for p in um], dtype=np.float64)
    first_leg = {p.base_asset: k for k, p in reversed(list(enumerate(um)))}
    holds = {b.asset for b in snapshot.balances if b.equity_qty or b.cross_margin_borrowed_qty}
    price = np.zeros(len(names))
    for i, asset in enumerate(names):
        if asset in market.index_price_usd:
            price[i] = market.index_price_usd[asset]
            continue
        # A perpetual's base that the account neither holds nor owes (not a collateral asset:
        # no PM index price): its price only sets the direction of moves and the hedge rows,
        # so its mark · quote price serves. An asset that is held or owed needs its own index.
        leg = first_leg.get(asset)
        quote_price = None if leg is None else market.index_price_usd.get(um[leg].margin_asset)
        if asset in holds or leg is None or quote_price is None:
            missing(
                "/sapi/v1/portfolio/asset-index-price",
                "assetIndexPrice",
                "no index price",
                asset,
                frozenset({EQUITY, MAINT}),
            )
            price[i] = math.nan
            continue
        price[i] = um_mark[leg] * quote_price
    for venue, positions, tables, path in (
        ("UM", um, market.um_brackets, "/papi/v1/um/leverageBracket"),
        ("CM", cm, market.cm_brackets, "/papi/v1/cm/leverageBracket"),
    ):
        for p in positions:
            if not tables.get(p.symbol):
                missing(
                    path, "brackets", f"no {venue} leverage brackets", p.symbol, frozenset({MAINT})
                )

    equity = np.zeros(len(names))
    borrowed = np.zeros(len(names))
    for b in snapshot.balances:
        if b.asset in column:
            equity[column[b.asset]] += b.equity_qty
            borrowed[column[b.asset]] += b.cross_margin_borrowed_qty
    collateral, listed = collateral_table(market, table, names)
    return Book(
        assets=tuple(names),
        stable=np.array([a in rules.stablecoins for a in names], dtype=bool),
        price_usd=price,
        equity_qty=equity,
        borrowed_qty=borrowed,
        collateral=collateral,
        has_collateral_rate=listed,
        um_symbol=tuple(p.symbol for p in um),
        um_side=tuple(p.position_side for p in um),
        um_amt_qty=np.array([p.position_amt_qty for p in um], dtype=np.float64),
        um_mark=um_mark,
        um_base=um_base,
        um_quote=um_quote,
        um_brackets=_tables_by_symbol([p.symbol for p in um], market.um_brackets),
        cm_symbol=tuple(p.symbol for p in cm),
        cm_side=tuple(p.position_side for p in cm),
        cm_contracts=np.array([p.position_amt_contracts for p in cm], dtype=np.float64),
        cm_size_usd=np.array([p.contract_size_usd for p in cm], dtype=np.float64),
        cm_mark=np.array([mark(p.symbol, "CM") for p in cm], dtype=np.float64),
        cm_coin=cm_coin,
        cm_brackets=_tables_by_symbol([p.symbol for p in cm], market.cm_brackets),
        loan_mmr=np.array(
            [loan_mmr.get(a, rules.default_loan_mmr) for a in names], dtype=np.float64
        ),
        open_loss_usd=snapshot.open_margin_order_loss_usd,
        collateral_table=table,
        reasons=tuple(snapshot.problems) + tuple(reasons),
    )
