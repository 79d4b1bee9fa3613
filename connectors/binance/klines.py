"""Klines through python-binance, keyless (MARKET_DATA: no signature, no key needed), one page at
a time, within a weight budget of their own.

A page is a window of at most ``limit`` bar slots with both ``startTime`` and ``endTime``
(``KlineFetcher.page``): every venue then answers the same bars (spot and USDⓈ-M give the first
``limit`` bars from startTime, COIN-M the ``limit`` closest to endTime, and a window of at most
``limit`` slots holds no more). Readers, all named methods of python-binance 1.0.37:
``get_klines`` (``/api/v3/klines``), ``futures_mark_price_klines`` / ``futures_index_price_klines``
(``/fapi/v1/markPriceKlines`` / ``indexPriceKlines``), ``futures_coin_mark_price_klines`` /
``futures_coin_index_price_klines`` (``/dapi/v1/...``).

Weight (each page's "Request Weight"): spot klines 2 whatever the limit
(https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints; as
generated in https://hexdocs.pm/binance_spot_rest/BinanceSpotRest.Endpoints.MarketData.Klines.Query.html);
futures mark- and index-price klines by ``limit``: [1,100) 1, [100,500) 2, [500,1000] 5, above
1000 10 (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price-Kline-Candlestick-Data,
.../usds-margined-futures/market-data/rest-api/Index-Price-Kline-Candlestick-Data,
https://developers.binance.com/docs/derivatives/coin-margined-futures/market-data/rest-api/Mark-Price-Kline-Candlestick-Data,
.../coin-margined-futures/market-data/rest-api/Index-Price-Kline-Candlestick-Data).
A futures page is therefore 1000 bars (5: 200 bars a weight) rather than 1500 (10: 150).
Limits: spot at most 1000 a page, futures 1500 (the same pages).

Budget: kline reads are history, never urgent: they use at most ``KLINE_SHARE`` (10 %) of each
API family's per-minute limit in any minute (``KlineBudget``), the rest being left to the
account polls (which plan with half of it: ``limits.SHARE``); past it a page is not asked
(``BudgetSpent``) and the caller goes on next minute. The IP gate's pauses (429 / 418 / weight
past its share) stop kline reads too (``blocked``), and every answer's used-weight header is
handed back (``on_used_weight``) so the gate counts kline weight with the polls'.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from connectors.binance.client import Client, RetryPolicy, call, exchange_now_ms, make_client
from connectors.binance.errors import BadPayload, ExchangeError
from connectors.binance.limits import LIMITS_PER_MINUTE, USED_WEIGHT_HEADER, family
from connectors.binance.parse import snapshot_from_payloads
from risk.market_history import (
    CM_INDEX,
    CM_MARK,
    INTERVAL_MS,
    SPOT,
    UM_INDEX,
    UM_MARK,
    VENUE_PATH,
    KlineKey,
    needed_series,
)
from risk.symbols import cm_symbol_coin, um_symbol_assets

log = logging.getLogger(__name__)

KLINE_SHARE = 0.10
MINUTE_MS = 60_000
MAX_LIMIT: dict[str, int] = {
    SPOT: 1000,
    UM_MARK: 1500,
    UM_INDEX: 1500,
    CM_MARK: 1500,
    CM_INDEX: 1500,
}
PAGE_LIMIT: dict[str, int] = dict.fromkeys(MAX_LIMIT, 1000)
"""Bars per page pmdesk asks: the most a spot page holds; for futures the most at weight 5."""

Reader = Callable[[Client, dict[str, object]], object]
READERS: dict[str, Reader] = {
    SPOT: lambda c, p: c.get_klines(**p),
    UM_MARK: lambda c, p: c.futures_mark_price_klines(**p),
    UM_INDEX: lambda c, p: c.futures_index_price_klines(**p),
    CM_MARK: lambda c, p: c.futures_coin_mark_price_klines(**p),
    CM_INDEX: lambda c, p: c.futures_coin_index_price_klines(**p),
}
NAME_PARAM: dict[str, str] = {
    SPOT: "symbol",
    UM_MARK: "symbol",
    UM_INDEX: "pair",
    CM_MARK: "symbol",
    CM_INDEX: "pair",
}


def kline_weight(venue: str, limit: int) -> int:
    """One page's request weight (the pages in the module's docstring)."""
    if venue == SPOT:
        return 2
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    return 5 if limit <= 1000 else 10


def keyless_client(base_url: str | None = None) -> Client:
    """A python-binance client with no key: kline endpoints need none."""
    return make_client("", "", base_url)


class BudgetSpent(Exception):  # noqa: N818 (a stop sign, not an error)
    """No page now: the minute's kline budget is spent, or the IP gate holds every read."""


class KlineBudget:
    """At most ``share`` of each family's per-minute weight limit on klines in any minute
    window (Binance counts weight per calendar minute)."""

    def __init__(self, share: float = KLINE_SHARE) -> None:
        self.share = share
        self._window = -1
        self._spent: dict[str, int] = {}
        self._lock = threading.Lock()

    def per_minute(self, fam: str) -> int:
        return math.floor(self.share * LIMITS_PER_MINUTE.get(fam, min(LIMITS_PER_MINUTE.values())))

    def spend(self, fam: str, weight: int, now_ms: int) -> bool:
        """Count ``weight`` in the minute of ``now_ms``; False (nothing counted) past the budget."""
        with self._lock:
            if now_ms // MINUTE_MS != self._window:
                self._window, self._spent = now_ms // MINUTE_MS, {}
            if self._spent.get(fam, 0) + weight > self.per_minute(fam):
                return False
            self._spent[fam] = self._spent.get(fam, 0) + weight
            return True

    def spent(self, now_ms: int) -> dict[str, int]:
        with self._lock:
            return dict(self._spent) if now_ms // MINUTE_MS == self._window else {}

    def words(self) -> str:
        limits = ", ".join(f"{f} {self.per_minute(f)}" for f in ("api", "fapi", "dapi"))
        return (
            f"kline reads use at most {self.share * 100:g} % of each API family's per-minute "
            f"weight limit ({limits} a minute); the rest is left to the account polls"
        )


@dataclass(frozen=True)
class KlinePage:
    key: KlineKey
    start_ms: int
    end_ms: int
    bars: list[object]  # Binance's raw arrays, oldest first
    weight: int


class KlineFetcher:
    """Pages of one IP's kline reads. Keep one per IP for as long as the process runs: its
    budget counts the minute across calls. ``blocked(now_ms)`` (the IP gate's hold, or None)
    stops reads while the exchange asked for a pause; ``on_used_weight(used, now_ms)`` receives
    each answer's used-weight header by family."""

    def __init__(
        self,
        client: Client,
        *,
        budget: KlineBudget | None = None,
        now_ms: Callable[[], int] | None = None,
        blocked: Callable[[int], object | None] | None = None,
        on_used_weight: Callable[[dict[str, int], int], None] | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.budget = budget or KlineBudget()
        self.now_ms = now_ms or (lambda: exchange_now_ms(client))
        self._blocked = blocked
        self._on_used = on_used_weight
        self._policy = policy or RetryPolicy()
        self.requests = 0
        self.weight = 0
        log.info("klines: %s", self.budget.words())

    def page(self, key: KlineKey, start_ms: int, end_ms: int) -> KlinePage:
        """The bars of ``key`` opening in [start_ms, end_ms], a window of at most
        ``PAGE_LIMIT`` slots; BudgetSpent when it may not be asked now; a typed
        ``ExchangeError`` when the exchange refuses or fails."""
        step = INTERVAL_MS[key.interval]
        slots = (end_ms - start_ms) // step + 1
        if not 1 <= slots <= MAX_LIMIT[key.venue]:
            raise ValueError(f"{key.file_name()}: a page of {slots} bars")
        path = VENUE_PATH[key.venue]
        fam, weight, now = family(path), kline_weight(key.venue, slots), self.now_ms()
        hold = self._blocked(now) if self._blocked is not None else None
        if hold is not None:
            raise BudgetSpent(f"kline reads paused with the polls: {hold}")
        if not self.budget.spend(fam, weight, now):
            raise BudgetSpent(f"the minute's kline budget is spent ({self.budget.words()})")
        params: dict[str, object] = {
            NAME_PARAM[key.venue]: key.symbol,
            "interval": key.interval,
            "startTime": start_ms,
            "endTime": end_ms,
            "limit": slots,
        }
        self.requests += 1
        self.weight += weight
        raw = call(self.client, path, lambda c: READERS[key.venue](c, params), self._policy)
        response = self.client.response
        header = response.headers.get(USED_WEIGHT_HEADER) if response is not None else None
        if self._on_used is not None and header is not None and header.isdigit():
            self._on_used({fam: int(header)}, now)
        if not isinstance(raw, list):
            raise BadPayload(path, "klines", "not a list of bars")
        return KlinePage(key, start_ms, end_ms, raw, weight)


def windows(start_ms: int, end_ms: int, step: int, slots: int) -> list[tuple[int, int]]:
    """[start_ms, end_ms] (bar open times, aligned to ``step``) cut into pages of at most
    ``slots`` bars, oldest first."""
    first = -(-start_ms // step) * step
    last = end_ms // step * step
    out = []
    while first <= last:
        top = min(last, first + (slots - 1) * step)
        out.append((first, top))
        first = top + step
    return out


def fetch_range(
    fetcher: KlineFetcher,
    key: KlineKey,
    start_ms: int,
    end_ms: int,
    wait: Callable[[float], None] | None = None,
    slots: int | None = None,
) -> list[object]:
    """Every bar of ``key`` opening in [start_ms, end_ms], oldest first (``pmdesk capture``).
    When the budget is spent: with ``wait`` (a sleep), waits for the next minute and goes on;
    without, raises BudgetSpent."""
    bars: list[object] = []
    step = INTERVAL_MS[key.interval]
    for lo, hi in windows(start_ms, end_ms, step, slots or PAGE_LIMIT[key.venue]):
        while True:
            try:
                bars += fetcher.page(key, lo, hi).bars
                break
            except BudgetSpent:
                if wait is None:
                    raise
                wait(MINUTE_MS / 1000.0 - (fetcher.now_ms() % MINUTE_MS) / 1000.0 + 0.5)
    return bars


def sleep_s(seconds: float) -> None:
    """``fetch_range``'s wait in a command: the next minute's budget (not test timing)."""
    time.sleep(seconds)


CAPTURE_HOURLY_DAYS = 180.0
CAPTURE_SHARE = 0.5
"""``pmdesk capture`` reads nothing else meanwhile: its klines may use pmdesk's whole share
(``limits.SHARE``) of each family's minute, waiting for the next minute past it."""


def account_series(payloads: Mapping[str, object], interval: str) -> tuple[KlineKey, ...]:
    """The series an account's captured payloads need (``needed_series``): every asset it
    holds or owes, every perpetual it holds and that perpetual's base."""
    snapshot, _market = snapshot_from_payloads(payloads)
    assets = {
        b.asset for b in snapshot.balances if b.equity_qty != 0.0 or b.cross_margin_borrowed_qty
    }
    um = {p.symbol for p in snapshot.um_positions if p.position_amt_qty != 0.0}
    cm = {p.symbol for p in snapshot.cm_positions if p.position_amt_contracts != 0.0}
    for symbol in um:
        pair = um_symbol_assets(symbol)
        if pair is not None:
            assets.add(pair[0])
    assets |= {cm_symbol_coin(s) for s in cm}
    return needed_series(sorted(assets), sorted(um), sorted(cm), interval)


def like(client: Client) -> Client:
    """A keyless client on the same hosts as ``client`` (its key is never sent)."""
    keyless = make_client("", "")
    for name in ("API_URL", "MARGIN_API_URL", "FUTURES_URL", "FUTURES_COIN_URL", "PAPI_URL"):
        setattr(keyless, name, getattr(client, name))
    keyless.timestamp_offset = getattr(client, "timestamp_offset", 0)
    return keyless


def capture_klines(
    client: Client,
    payloads: Mapping[str, object],
    *,
    episodes: Sequence[tuple[int, int]] = (),
    hourly_days: float = CAPTURE_HOURLY_DAYS,
    now_ms: Callable[[], int] | None = None,
    wait: Callable[[float], None] | None = sleep_s,
) -> dict[KlineKey, list[object]]:
    """What ``pmdesk capture`` writes under ``klines/``: each needed series' 1 h bars over the
    last ``hourly_days`` and over each episode window ([start_ms, end_ms)), oldest first, raw,
    read keyless from the same hosts as ``client`` in pages of the most bars a page holds (a
    capture is one command: fewer requests matter more than weight per bar)."""
    reader = like(client)
    fetcher = KlineFetcher(
        reader,
        budget=KlineBudget(CAPTURE_SHARE),
        now_ms=now_ms or (lambda: exchange_now_ms(reader)),
    )
    now = fetcher.now_ms()
    spans = [(s, min(e, now + 1) - 1) for s, e in episodes if s <= now]
    spans.append((now - int(hourly_days * 86_400_000), now))
    out: dict[KlineKey, list[object]] = {}
    for key in account_series(payloads, "1h"):
        bars: list[object] = []
        seen = -1
        try:
            for start, end in sorted(spans):
                start = max(start, seen + 1)
                if start <= end:
                    bars += fetch_range(fetcher, key, start, end, wait, MAX_LIMIT[key.venue])
                    seen = end
        except ExchangeError as exc:
            if not exc.refused:
                raise
            log.warning("%s: not captured, the exchange refused it (%s)", key.file_name(), exc)
            continue
        out[key] = bars
    return out
