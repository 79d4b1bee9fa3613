"""The kline cache over real HTTP against the simulator (python-binance, keyless): incremental
refresh, a gap Binance has, a symbol listed yesterday, the weight budget as the simulator
counts it, hours equal to the aggregate of their minutes, a named episode's crash, and
``pmdesk capture`` writing the klines the account needs. Small windows: seconds, not minutes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest

from app.cli import main
from app.episodes import load_episodes
from app.store.klines import KlineCache, KlinePolicy
from app.store.store import Store
from connectors.binance.capture import KLINES_DIR, read_capture
from connectors.binance.klines import KlineBudget, KlineFetcher, account_series, keyless_client
from connectors.simulator.clock import ManualClock
from connectors.simulator.request_log import LoggedRequest
from connectors.simulator.server import Simulator, SimulatorServer
from risk.market_history import CM_INDEX, SPOT, UM_INDEX, UM_MARK, KlineKey
from tests.support.start_time import START_MS

H = 3_600_000
M = 60_000
DAY = 86_400_000
BTC = KlineKey(SPOT, "BTCUSDT", "1h")


@pytest.fixture
def server(clock: ManualClock) -> Iterator[SimulatorServer]:
    s = SimulatorServer(Simulator(preset="basis", clock=clock)).start()
    s.requests.recording = True
    yield s
    s.stop()


def fetcher(server: SimulatorServer, clock: ManualClock, share: float = 0.10) -> KlineFetcher:
    return KlineFetcher(
        keyless_client(server.base_url), now_ms=clock.now_ms, budget=KlineBudget(share)
    )


def kline_requests(server: SimulatorServer) -> list[LoggedRequest]:
    return [e for e in server.requests.entries() if e.path.endswith("lines")]


def asked(entry: LoggedRequest) -> dict[str, int | str]:
    q = {k: v[0] for k, v in parse_qs(entry.query).items()}
    return {k: int(v) if v.isdigit() else v for k, v in q.items()}


def test_incremental_refresh_asks_only_for_the_new_bars(
    server: SimulatorServer, clock: ManualClock, store: Store
) -> None:
    keys = [BTC, KlineKey(UM_MARK, "BTCUSDT", "1h"), KlineKey(CM_INDEX, "BTCUSD", "1h")]
    cache = KlineCache(store, KlinePolicy(hourly_days=3, episodes=()))
    f = fetcher(server, clock)
    first = cache.refresh(f, keys, clock.now_ms())
    assert first.complete and first.requests == 3 and len(kline_requests(server)) == 3
    assert [e.api_key for e in kline_requests(server)] == ["", "", ""]  # keyless
    assert all(k.bars_added == 72 for k in first.per_key.values())  # 3 days, the open bar too
    clock.advance(2 * 3600)
    second = cache.refresh(f, keys, clock.now_ms())
    new = kline_requests(server)[3:]
    assert len(new) == 3 and second.requests == 3
    # only the bar open at the first refresh, again, and the two hours since
    for entry in new:
        assert (asked(entry)["startTime"], asked(entry)["endTime"]) == (START_MS, START_MS + 2 * H)
    assert all(k.bars_added == 2 for k in second.per_key.values())
    # the re-read bar holds its final figures: what the exchange answers for it now
    (cached,) = cache.read([BTC], START_MS, START_MS)
    direct = f.page(BTC, START_MS, START_MS).bars[0]
    assert isinstance(direct, list)
    assert cached.close[0] == float(direct[4]) and cached.high[0] == float(direct[2])


def test_a_series_binance_does_not_serve_leaves_the_others_alone(
    server: SimulatorServer, clock: ManualClock, store: Store
) -> None:
    doge = KlineKey(SPOT, "DOGEUSDT", "1h")  # not listed by the simulator: -1121
    cache = KlineCache(store, KlinePolicy(hourly_days=1, episodes=()))
    done = cache.refresh(fetcher(server, clock), [doge, BTC], clock.now_ms())
    assert done.complete and "Invalid symbol" in done.per_key[doge].refused
    assert done.per_key[BTC].bars_added == 24 and done.per_key[doge].bars_added == 0


def test_a_gap_stays_a_gap(server: SimulatorServer, clock: ManualClock, store: Store) -> None:
    server.simulator.klines.drop_bars("BTCUSDT", START_MS - 10 * H, START_MS - 7 * H)
    cache = KlineCache(store, KlinePolicy(hourly_days=2, episodes=()))
    f = fetcher(server, clock)
    assert cache.refresh(f, [BTC], clock.now_ms()).per_key[BTC].gap_bars == 3
    (series,) = cache.read([BTC], 0, clock.now_ms())
    assert len(series.open_time_ms) == 48 - 3
    for _ in range(3):
        clock.advance(3600)
        assert cache.refresh(f, [BTC], clock.now_ms()).per_key[BTC].gap_bars == 3
    later = kline_requests(server)[1:]
    assert len(later) == 3 and all(int(asked(e)["startTime"]) >= START_MS for e in later)
    assert cache.states([BTC])[BTC].gap_bars == 3


def test_a_symbol_listed_yesterday(
    server: SimulatorServer, clock: ManualClock, store: Store
) -> None:
    new = KlineKey(SPOT, "NEWUSDT", "1h")
    listing = (START_MS - DAY) // H * H
    cache = KlineCache(store, KlinePolicy(hourly_days=30, episodes=()))
    f = fetcher(server, clock)
    first = cache.refresh(f, [new], clock.now_ms())
    assert first.per_key[new].bars_added == 25 and first.per_key[new].listing_ms == listing
    for hours in (1, 2):
        clock.advance(3600)
        again = cache.refresh(f, [new], clock.now_ms())
        assert again.requests == 1  # no backfill before the listing
        (entry,) = kline_requests(server)[hours:]
        assert asked(entry)["startTime"] == START_MS + (hours - 1) * H
    (series,) = cache.read([new], 0, clock.now_ms())
    assert series.open_time_ms[0] == listing and len(series.open_time_ms) == 27


def test_weight_stays_within_the_budget(
    server: SimulatorServer, clock: ManualClock, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    keys = [KlineKey(SPOT, f"{a}USDT", "1h") for a in ("BTC", "ETH", "SOL")]
    keys += [
        KlineKey(v, f"{a}USDT", "1h") for v in (UM_MARK, UM_INDEX) for a in ("BTC", "ETH", "SOL")
    ]
    # 1 % of the per-minute limits: api 6,000 -> 60, fapi 2,400 -> 24 a minute
    share = 0.01
    cache = KlineCache(store, KlinePolicy(hourly_days=45, episodes=()))
    f = fetcher(server, clock, share)
    assert (
        "at most 1 % of each API family's per-minute weight limit (api 60, fapi 24" in caplog.text
    )
    sim, minutes = server.simulator, 0
    while True:
        done = cache.refresh(f, keys, clock.now_ms())
        used = sim.limiter.used("127.0.0.1", sim.now_ms())
        # 45 days = 1,080 slots: pages of 1,000 (spot 2, futures 5) and of 80 (2 and 1)
        assert used.get("api", 0) <= 60 and used.get("fapi", 0) <= 24, used
        if done.complete:
            break
        assert "kline budget is spent" in done.stopped
        minutes += 1
        clock.advance(60)
    # fapi: 6 series x (1 + 5) = 36 > 24 a minute: it took a second minute, and no more
    assert minutes == 1
    assert [len(s.open_time_ms) for s in cache.read(keys, 0, clock.now_ms())] == [1_080] * 9


def test_hours_are_the_aggregate_of_their_minutes(
    server: SimulatorServer, clock: ManualClock, store: Store
) -> None:
    for _ in range(9):  # 3 hours of the live market, quoted every 20 minutes
        clock.advance(1200)
        server.simulator.market.quote()
    hour, minute = KlineKey(UM_MARK, "ETHUSDT", "1h"), KlineKey(UM_MARK, "ETHUSDT", "1m")
    cache = KlineCache(store, KlinePolicy(hourly_days=0.25, minute_days=0.25, episodes=()))
    assert cache.refresh(fetcher(server, clock), [hour, minute], clock.now_ms()).complete
    start, end = START_MS - 2 * H, START_MS + 3 * H - 1  # 2 generated hours, 3 live
    hours, minutes = cache.read([hour, minute], start, end)
    assert len(hours.open_time_ms) == 5 and len(minutes.open_time_ms) == 300
    for k in range(5):
        seg = slice(60 * k, 60 * (k + 1))
        assert hours.open[k] == minutes.open[seg][0]
        assert hours.high[k] == pytest.approx(np.max(minutes.high[seg]), rel=1e-9)
        assert hours.low[k] == pytest.approx(np.min(minutes.low[seg]), rel=1e-9)
        assert hours.close[k] == minutes.close[seg][-1]


def test_an_episode_window_shows_the_crash(
    server: SimulatorServer, clock: ManualClock, store: Store
) -> None:
    """data/episodes.csv, October 2025: "BTC ~-16 %, ETH ~-18 %" in 18 hours; the generated
    noise over the seven hours to the low is about 1.6 % (3 % a day), so within 4 points."""
    (october,) = [e for e in load_episodes() if e.name.startswith("October 2025")]
    keys = [KlineKey(SPOT, "BTCUSDT", "1m"), KlineKey(SPOT, "ETHUSDT", "1m")]
    cache = KlineCache(store, KlinePolicy(minute_days=0.01, episodes=(october,)))
    assert cache.refresh(fetcher(server, clock), keys, clock.now_ms()).complete
    btc, eth = cache.read(keys, october.start_ms, october.end_ms - 1)
    for series, fall in ((btc, 0.16), (eth, 0.18)):
        assert len(series.open_time_ms) == 18 * 60
        assert np.min(series.low) / series.open[0] - 1.0 == pytest.approx(-fall, abs=0.04)


def test_capture_writes_the_klines(
    server: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = server.simulator
    monkeypatch.setenv("PMDESK_EXCHANGE__BASE_URL", server.base_url)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_KEY", sim.api_key)
    monkeypatch.setenv("PMDESK_EXCHANGE__API_SECRET", sim.api_secret)
    target = tmp_path / "cap"
    assert main(["capture", str(target)]) == 0
    wanted = account_series(read_capture(target), "1h")
    # the basis book: 10 BTC and USDT, short BTCUSDT
    assert wanted == (
        KlineKey(SPOT, "BTCUSDT", "1h"),
        KlineKey(UM_INDEX, "BTCUSDT", "1h"),
        KlineKey(UM_MARK, "BTCUSDT", "1h"),
    )
    assert {p.name for p in (target / KLINES_DIR).iterdir()} == {k.file_name() for k in wanted}
    bars = json.loads((target / KLINES_DIR / BTC.file_name()).read_text())
    # the episodes' hours before the 180 days: 36 + 24 + 48 + 30 (October 2025 is inside them)
    before = [b for b in bars if b[0] < START_MS - 4_320 * H]
    assert len(before) == 138
    # 180 days back to the bar open now: 4,321 bars, or 4,320 when the exchange's clock, as the
    # client measured it, was a few milliseconds short of the simulator's start
    assert len(bars) - len(before) in (4_320, 4_321)
    assert [b[0] for b in bars] == sorted({b[0] for b in bars})
    assert all(e.api_key == "" for e in kline_requests(server))  # keyless
    assert (target / KLINES_DIR).stat().st_mode & 0o777 == 0o700
