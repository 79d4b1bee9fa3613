"""Mark-price updates applied to a poll's snapshot and market: the between-polls figures. Pure.

Between two account polls only prices move: each mark update gives a contract's new mark (and
its index). ``remark`` returns the poll's ``(AccountSnapshot, MarketState)`` as they read at the
new prices, so ``evaluate()`` gives the figures a full poll at those prices would:

- ``MarketState.mark_price``: each updated contract's mark (a position's, or a listed contract's).
- Each position's mark and unrealized PnL, and the PnL in its balance row (the asset it settles
  in). Binance's formulas ("A Beginner's Guide to Futures Trading", "How to calculate unrealized
  PNL", https://binance.com/en-IN/support/announcement/a-beginner-s-guide-to-futures-trading-360039304272):
  USDⓈ-M  PnL = position size · direction · (mark − entry)               (in the quote asset)
  COIN-M  PnL = contracts · contract multiplier · direction · (1/entry − 1/mark)   (in the coin)
  With the sign of the amount as the direction, the change from the poll's mark m0 to m1 is
  amount · (m1 − m0) (USDⓈ-M) and contracts · size · (1/m0 − 1/m1) (COIN-M): added to Binance's
  own PnL, so the entry price (display-only) is never needed.
- Each asset index price moves by the same fraction as its driver's index (``index_driver``)
  since the poll (``MarkBasis``: the poll's index price per contract).

Binance's own figures (``snapshot.reported``, the positions' reported MM) stay as polled: they
are shown beside pmdesk's with the poll's age. Fail closed: a mark or index that is missing,
zero, negative or not finite never leaves the poll's value standing — the mark is dropped (its
MM unknown), the position's PnL is NaN (equity unknown) and a reason names the symbol.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from risk.market import MarketState
from risk.reasons import EQUITY, MAINT, UnknownReason
from risk.snapshot import AccountSnapshot, AssetBalance, CmPosition, UmPosition
from risk.symbols import CM_SYMBOL

UM_MARKS_PATH = "/fapi/v1/premiumIndex"
CM_MARKS_PATH = "/dapi/v1/premiumIndex"
INDEX_PATH = "/sapi/v1/portfolio/asset-index-price"
"""The payloads whose figures a mark update replaces (named in the reasons it gives)."""


@dataclass(frozen=True)
class MarkUpdate:
    """One contract's mark and index price at ``event_time_ms`` (a stream event or a REST row)."""

    symbol: str
    mark_price: float
    index_price: float
    event_time_ms: int


@dataclass(frozen=True)
class MarkBasis:
    """What the poll's premium index said: each listed contract's index price (NaN: unreadable),
    the base an index driver's move is measured from."""

    contract_index_price: Mapping[str, float]


def index_driver(asset: str, index_symbols: Iterable[str]) -> str | None:
    """The perpetual whose index price moves an asset's index between polls: the COIN-M
    ``<asset>USD_PERP`` (a USD index, like the asset's) first, else ``<asset>USDT``, ``USDC``."""
    symbols = set(index_symbols)
    for candidate in (f"{asset}USD_PERP", f"{asset}USDT", f"{asset}USDC"):
        if candidate in symbols:
            return candidate
    return None


def _price(value: float) -> bool:
    return math.isfinite(value) and value > 0.0


def _mark_or_nan(u: MarkUpdate) -> float:
    return u.mark_price if _price(u.mark_price) else math.nan


def _marks_path(symbol: str) -> str:
    return CM_MARKS_PATH if CM_SYMBOL.match(symbol) else UM_MARKS_PATH


@dataclass
class _Moved:
    """The PnL change per balance field and asset, and the reasons found on the way."""

    um_pnl: dict[str, float] = dataclasses.field(default_factory=dict)
    cm_pnl: dict[str, float] = dataclasses.field(default_factory=dict)
    reasons: list[UnknownReason] = dataclasses.field(default_factory=list)

    def add(self, into: dict[str, float], asset: str, change: float) -> None:
        into[asset] = into.get(asset, 0.0) + change

    def unknown_pnl(self, symbol: str, problem: str) -> None:
        self.reasons.append(
            UnknownReason(
                _marks_path(symbol), "markPrice", problem, symbol, frozenset({EQUITY, MAINT})
            )
        )


def _um(p: UmPosition, u: MarkUpdate, moved: _Moved) -> UmPosition:
    """Linear: amount · (new − old) in the quote (margin) asset."""
    if _price(u.mark_price) and _price(p.mark_price):
        change = p.position_amt_qty * (u.mark_price - p.mark_price)
    else:
        change = math.nan
        moved.unknown_pnl(p.symbol, f"cannot re-mark from {p.mark_price!r} to {u.mark_price!r}")
    moved.add(moved.um_pnl, p.margin_asset, change)
    return dataclasses.replace(
        p, mark_price=_mark_or_nan(u), unrealized_pnl_qty=p.unrealized_pnl_qty + change
    )


def _cm(p: CmPosition, u: MarkUpdate, moved: _Moved) -> CmPosition:
    """Inverse: contracts · size · (1/old − 1/new) in the coin."""
    if _price(u.mark_price) and _price(p.mark_price):
        change = (
            p.position_amt_contracts
            * p.contract_size_usd
            * (1.0 / p.mark_price - 1.0 / u.mark_price)
        )
    else:
        change = math.nan
        moved.unknown_pnl(p.symbol, f"cannot re-mark from {p.mark_price!r} to {u.mark_price!r}")
    moved.add(moved.cm_pnl, p.margin_asset, change)
    return dataclasses.replace(
        p, mark_price=_mark_or_nan(u), unrealized_pnl_qty=p.unrealized_pnl_qty + change
    )


def _balance(b: AssetBalance, moved: _Moved) -> AssetBalance:
    um, cm = moved.um_pnl.get(b.asset), moved.cm_pnl.get(b.asset)
    if um is None and cm is None:
        return b
    return dataclasses.replace(
        b,
        um_unrealized_pnl_qty=b.um_unrealized_pnl_qty + (um or 0.0),
        cm_unrealized_pnl_qty=b.cm_unrealized_pnl_qty + (cm or 0.0),
    )


def _marks(
    market: MarketState, held: set[str], basis: MarkBasis, latest: Mapping[str, MarkUpdate]
) -> tuple[dict[str, float], list[UnknownReason], set[str]]:
    """The new mark by symbol, the reasons, and the symbols whose old mark problem the new
    (valid) mark replaces."""
    marks = dict(market.mark_price)
    reasons: list[UnknownReason] = []
    replaced: set[str] = set()
    for symbol, u in latest.items():
        if symbol not in held and symbol not in basis.contract_index_price:
            continue  # neither a position nor a listed contract: nothing reads its mark
        if _price(u.mark_price):
            marks[symbol] = u.mark_price
            replaced.add(symbol)
            continue
        marks.pop(symbol, None)
        if symbol in held:
            reasons.append(
                UnknownReason(
                    _marks_path(symbol),
                    "markPrice",
                    f"mark update {u.mark_price!r}: not a price",
                    symbol,
                    frozenset({MAINT}),
                )
            )
    return marks, reasons, replaced


def _index_prices(
    market: MarketState, basis: MarkBasis, latest: Mapping[str, MarkUpdate]
) -> tuple[dict[str, float], int, list[UnknownReason]]:
    """Each asset index moved by its driver's index since the poll; the newest event time."""
    ratio: dict[str, float] = {}
    newest_ms = 0
    for symbol, u in latest.items():
        if symbol not in basis.contract_index_price:
            continue
        newest_ms = max(newest_ms, u.event_time_ms)
        at_poll = basis.contract_index_price[symbol]
        if _price(at_poll):
            ratio[symbol] = u.index_price / at_poll
    index = dict(market.index_price_usd)
    reasons: list[UnknownReason] = []
    driven = False
    for asset, price in market.index_price_usd.items():
        driver = index_driver(asset, ratio)
        if driver is None:
            continue
        driven = True
        moved = price * ratio[driver]
        if _price(moved):
            index[asset] = moved
            continue
        del index[asset]
        reasons.append(
            UnknownReason(
                INDEX_PATH,
                "assetIndexPrice",
                f"{driver}'s index update {latest[driver].index_price!r}: not a price",
                asset,
                frozenset({EQUITY, MAINT}),
            )
        )
    time_ms = max(market.time_ms, newest_ms) if driven else market.time_ms
    return index, time_ms, reasons


def remark(
    snapshot: AccountSnapshot,
    market: MarketState,
    basis: MarkBasis,
    updates: Iterable[MarkUpdate],
) -> tuple[AccountSnapshot, MarketState]:
    """The poll's snapshot and market at the marks of ``updates`` (the newest per symbol wins;
    each is applied from the poll's prices, never chained). Pure: the inputs are not changed."""
    latest = {u.symbol: u for u in updates}
    held = {p.symbol for p in snapshot.um_positions} | {p.symbol for p in snapshot.cm_positions}
    moved = _Moved()
    um = tuple(
        _um(p, latest[p.symbol], moved) if p.symbol in latest else p for p in snapshot.um_positions
    )
    cm = tuple(
        _cm(p, latest[p.symbol], moved) if p.symbol in latest else p for p in snapshot.cm_positions
    )
    marks, mark_reasons, replaced = _marks(market, held, basis, latest)
    index, time_ms, index_reasons = _index_prices(market, basis, latest)
    # A poll's problem with a contract's mark is about the value the update replaced.
    kept = tuple(
        r
        for r in market.problems
        if not (
            r.field == "markPrice"
            and r.path in (UM_MARKS_PATH, CM_MARKS_PATH)
            and r.item in replaced
        )
    )
    new_snapshot = dataclasses.replace(
        snapshot,
        um_positions=um,
        cm_positions=cm,
        balances=tuple(_balance(b, moved) for b in snapshot.balances),
        problems=snapshot.problems + tuple(moved.reasons),
    )
    new_market = dataclasses.replace(
        market,
        mark_price=marks,
        index_price_usd=index,
        time_ms=time_ms,
        problems=kept + tuple(mark_reasons) + tuple(index_reasons),
    )
    return new_snapshot, new_market
