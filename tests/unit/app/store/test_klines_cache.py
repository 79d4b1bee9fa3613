"""The kline cache on SQLite and PostgreSQL, fed by a stand-in for the exchange whose answers
are written here (listing, gaps, the bar still open): what a refresh asks, what it keeps, and
that a window once asked is never asked again. The same over real HTTP against the simulator:
tests/integration/test_klines_cache.py."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from app.store.klines import KlineCache, KlinePolicy, intersect, merge, subtract
from app.store.store import Store
from connectors.binance.klines import BudgetSpent, KlinePage
from risk.episodes import Episode
from risk.market_history import INTERVAL_MS, SPOT, UM_MARK, KlineKey
from tests.support.start_time import START_MS

H = 3_600_000
M = 60_000
DAY = 86_400_000
BTC_1H = KlineKey(SPOT, "BTCUSDT", "1h")
NEW_1H = KlineKey(SPOT, "NEWUSDT", "1h")
MARK_1M = KlineKey(UM_MARK, "BTCUSDT", "1m")


class Exchange:
    """Answers pages as Binance would: the bars opening in the window, none before the
    listing, none in a gap, none after now (the clock the test moves)."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.listing: dict[str, int] = {}
        self.gaps: dict[str, tuple[int, int]] = {}
        self.asked: list[tuple[KlineKey, int, int]] = []
        self.pages_left: int | None = None  # None: no budget in the way

    def page(self, key: KlineKey, start_ms: int, end_ms: int) -> KlinePage:
        if self.pages_left is not None:
            if self.pages_left == 0:
                raise BudgetSpent("the minute's kline budget is spent")
            self.pages_left -= 1
        self.asked.append((key, start_ms, end_ms))
        step = INTERVAL_MS[key.interval]
        gap = self.gaps.get(key.symbol, (0, 0))
        bars: list[object] = [
            [
                t,
                str(100 + t // step % 50),
                str(101 + t // step % 50),
                "99",
                "100",
                "0",
                t + step - 1,
            ]
            for t in range(start_ms, end_ms + 1, step)
            if t >= self.listing.get(key.symbol, 0)
            and not gap[0] <= t < gap[1]
            and t <= self.now_ms
        ]
        return KlinePage(key, start_ms, end_ms, bars, 2)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.create_schema()
    yield s
    s.close()


def cache(store: Store, **policy: float) -> KlineCache:
    return KlineCache(store, KlinePolicy(episodes=(), **policy))


def test_spans() -> None:
    assert merge([(5, 9), (1, 3), (3, 4), (8, 12)]) == [(1, 4), (5, 12)]
    assert subtract([(0, 10), (20, 30)], [(2, 4), (8, 22)]) == [(0, 2), (4, 8), (22, 30)]
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]


def test_policy_windows() -> None:
    now = START_MS + 90 * M + 5_000  # 01:30:05 on the start day
    episode = Episode("E", "2020-03-12T00:00:00Z", "2020-03-13T12:00:00Z", "x")
    policy = KlinePolicy(hourly_days=180, minute_days=3, episodes=(episode,))
    top_h = START_MS + 2 * H  # the bar open now (01:00) is wanted: its end
    # 4,320 bars, and the episode's 36 hours (at both intervals: replays take either)
    assert policy.wanted("1h", now) == [
        (episode.start_ms, episode.end_ms),
        (top_h - 180 * 24 * H, top_h),
    ]
    top_m = START_MS + 91 * M
    assert policy.wanted("1m", now) == [
        (episode.start_ms, episode.end_ms),
        (top_m - 3 * 1440 * M, top_m),
    ]


def test_incremental_refresh_asks_only_the_new_bars(store: Store) -> None:
    now = START_MS + 30 * M  # 00:30: the bar of 00:00 is open
    ex = Exchange(now)
    c = cache(store, hourly_days=2)
    first = c.refresh(ex, [BTC_1H], now)
    # 48 slots, one page: the open bar counts as not yet asked
    assert ex.asked == [(BTC_1H, START_MS - 47 * H, START_MS)]
    assert first.per_key[BTC_1H].bars_added == 48 and first.complete
    assert c.checked(BTC_1H) == [(START_MS - 47 * H, START_MS)]
    ex.asked.clear()
    ex.now_ms = now + 2 * H  # 02:30
    second = c.refresh(ex, [BTC_1H], ex.now_ms)
    # the bar open at the last refresh (00:00) again, with the two after it
    assert ex.asked == [(BTC_1H, START_MS, START_MS + 2 * H)]
    assert second.per_key[BTC_1H].bars_added == 2 and second.requests == 1
    (series,) = c.read([BTC_1H], 0, ex.now_ms)
    # 2 days back from 02:00's bar: 48 bars, the two oldest dropped as the window moved
    assert len(series.open_time_ms) == 48
    assert series.open_time_ms[0] == START_MS + 2 * H - 47 * H
    assert c.states([BTC_1H])[BTC_1H].newest_ms == START_MS + 2 * H


def test_a_gap_is_recorded_and_never_asked_again(store: Store) -> None:
    now = START_MS + 30 * M
    ex = Exchange(now)
    ex.gaps["BTCUSDT"] = (START_MS - 10 * H, START_MS - 7 * H)  # three bars Binance lacks
    c = cache(store, hourly_days=2)
    assert c.refresh(ex, [BTC_1H], now).per_key[BTC_1H].gap_bars == 3
    ex.asked.clear()
    for hours in (1, 2, 3):
        ex.now_ms = now + hours * H
        done = c.refresh(ex, [BTC_1H], ex.now_ms)
        assert done.per_key[BTC_1H].gap_bars == 3
    assert all(start >= START_MS for _key, start, _end in ex.asked)  # never the gap's window
    assert len(ex.asked) == 3


def test_a_symbol_listed_yesterday_is_not_backfilled_again(store: Store) -> None:
    now = START_MS + 30 * M
    ex = Exchange(now)
    ex.listing["NEWUSDT"] = START_MS - DAY
    c = cache(store, hourly_days=180)
    first = c.refresh(ex, [NEW_1H], now)
    # 180 days = 4,320 slots: five pages of at most 1,000, newest first; 25 bars exist
    assert first.requests == 5 and first.per_key[NEW_1H].bars_added == 25
    assert first.per_key[NEW_1H].listing_ms == START_MS - DAY
    ex.asked.clear()
    ex.now_ms = now + H
    second = c.refresh(ex, [NEW_1H], ex.now_ms)
    assert ex.asked == [(NEW_1H, START_MS, START_MS + H)] and second.requests == 1
    assert c.states([NEW_1H])[NEW_1H].listing_ms == START_MS - DAY


def test_a_refresh_stopped_by_the_budget_goes_on_where_it_stopped(store: Store) -> None:
    now = START_MS + 30 * M
    ex = Exchange(now)
    ex.pages_left = 2
    keys = [BTC_1H, NEW_1H]
    # 2,400 slots: pages of 1,000 from the oldest (1,000, 1,000, 400), asked newest first
    c = cache(store, hourly_days=100)
    stopped = c.refresh(ex, keys, now)
    assert "budget" in stopped.stopped and stopped.requests == 2
    # every series' newest page before any older one
    assert ex.asked == [
        (BTC_1H, START_MS - 399 * H, START_MS),
        (NEW_1H, START_MS - 399 * H, START_MS),
    ]
    first_pages = list(ex.asked)
    ex.asked.clear()
    ex.pages_left = None
    done = c.refresh(ex, keys, now)
    # each: the two older pages, and the bar still open (00:00) again: it may have moved
    assert done.complete and done.requests == 6
    assert sorted(ex.asked) == sorted(
        [(k, START_MS, START_MS) for k in keys]
        + [(k, START_MS - 2_399 * H, START_MS - 1_400 * H) for k in keys]
        + [(k, START_MS - 1_399 * H, START_MS - 400 * H) for k in keys]
    )
    assert not set(first_pages) & set(ex.asked)  # no closed bar asked twice
    series = c.read(keys, 0, now)
    assert [len(s.open_time_ms) for s in series] == [2_400, 2_400]


def test_minute_bars_leave_with_their_window(store: Store) -> None:
    now = START_MS + 30 * M
    ex = Exchange(now)
    c = cache(store, minute_days=1 / 24)  # the last hour of minutes
    c.refresh(ex, [MARK_1M], now)
    ex.now_ms = now + 45 * M
    c.refresh(ex, [MARK_1M], ex.now_ms)
    (series,) = c.read([MARK_1M], 0, ex.now_ms)
    assert len(series.open_time_ms) == 60
    assert series.open_time_ms[0] == START_MS + 75 * M - 59 * M
    assert c.checked(MARK_1M) == [(START_MS + 16 * M, START_MS + 75 * M)]


def test_read_gives_every_key_in_order(store: Store) -> None:
    ex = Exchange(START_MS)
    c = cache(store, hourly_days=1)
    c.refresh(ex, [BTC_1H], START_MS)
    keys: Sequence[KlineKey] = [NEW_1H, BTC_1H]
    new, btc = c.read(keys, START_MS - 5 * H, START_MS)
    assert new.key == NEW_1H and len(new.open_time_ms) == 0
    assert btc.key == BTC_1H and list(btc.open_time_ms) == [
        START_MS - k * H for k in range(5, -1, -1)
    ]
    assert btc.high[0] == 101 + (START_MS - 5 * H) // H % 50
