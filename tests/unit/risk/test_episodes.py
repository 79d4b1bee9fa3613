"""Replays: today's book through a hand-made 10-bar episode, the minimum uniMMR and the first
bar at or below Binance's liquidation level worked by hand; episodes parsed from CSV text."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from risk.episodes import Episode, parse_episodes, replay
from risk.market_history import SPOT, UM_INDEX, UM_MARK, KlineKey, KlineSeries
from risk.model import RiskRules
from risk.outlook import calibrated_book
from risk.outlook_data import history_from_series
from risk.outlook_value import path_book
from tests.support.books import directional_long, market

HOUR = 3_600_000
T0 = 1_760_097_600_000  # 2025-10-10T12:00:00Z
# The bar before the episode, then its 10 bars (BTC closes, USD).
CLOSES = [50_000, 50_000, 49_000, 48_000, 47_500, 46_000, 45_150, 47_000, 45_100, 46_500, 48_000]


def series(venue: str, symbol: str, closes: Sequence[float], interval: str = "1h") -> KlineSeries:
    step = HOUR if interval == "1h" else 60_000
    times = T0 - step + step * np.arange(len(closes), dtype=np.int64)
    c = np.array(closes, dtype=np.float64)
    return KlineSeries(KlineKey(venue, symbol, interval), times, c, c, c, c)


EPISODE = Episode("Hand-made", "2025-10-10T12:00:00Z", "2025-10-10T21:00:00Z", "ten bars")


def uni(price: float, mark: float | None = None) -> float:
    """1 BTC long BTCUSDT from 50,000, 5,000 USDT: (5,000 + mark - 50,000) / (0.4 % of mark)."""
    m = price if mark is None else mark
    return (5_000 + m - 50_000) / (0.004 * m)


def test_ten_bars_give_the_minimum_and_the_first_liquidation_bar_by_hand() -> None:
    history = history_from_series([series(SPOT, "BTCUSDT", CLOSES)], "1h")
    pb = path_book(calibrated_book(directional_long(), market(), RiskRules()))
    result = replay(pb, EPISODE, None, history, 1.05)
    assert result.bars == 10 and result.interval == "1h" and result.missing == ""
    # Lowest close 45,100 (bar 8): (5,000 - 4,900) / 180.4 = 0.5543...
    assert result.min_uni_mmr == pytest.approx(100 / 180.4)
    assert result.min_at_ms == T0 + 7 * HOUR
    # 45,150 (bar 6): 150 / 180.6 = 0.83 <= 1.05, the first; 45,500 would have been 2.75.
    assert uni(45_150) <= 1.05 < uni(46_000)
    assert result.liquidation_at_ms == T0 + 5 * HOUR


def test_the_basis_moves_the_mark() -> None:
    """A basis of -0.1 % at the lowest bar (0 before): mark 45,100 * 0.999 = 45,054.9,
    uniMMR (5,000 + 45,054.9 - 50,000) / (0.004 * 45,054.9) = 54.9 / 180.2196."""
    basis = [0.0] * len(CLOSES)
    basis[8] = -0.001
    marks = [c * (1 + b) for c, b in zip(CLOSES, basis, strict=True)]
    history = history_from_series(
        [
            series(SPOT, "BTCUSDT", CLOSES),
            series(UM_INDEX, "BTCUSDT", CLOSES),
            series(UM_MARK, "BTCUSDT", marks),
        ],
        "1h",
    )
    pb = path_book(calibrated_book(directional_long(), market(), RiskRules()))
    result = replay(pb, EPISODE, None, history, 1.05)
    assert result.min_uni_mmr == pytest.approx(54.9 / 180.2196, rel=1e-9)


def test_minute_bars_are_used_when_they_cover_the_episode() -> None:
    hourly = history_from_series([series(SPOT, "BTCUSDT", CLOSES)], "1h")
    minutes = history_from_series([series(SPOT, "BTCUSDT", [50_000, 49_000, 44_000], "1m")], "1m")
    pb = path_book(calibrated_book(directional_long(), market(), RiskRules()))
    result = replay(pb, EPISODE, minutes, hourly, 1.05)
    assert result.interval == "1m" and result.bars == 2
    assert result.min_uni_mmr == pytest.approx(uni(44_000))


def test_no_prices_is_said_in_words_never_a_calm_number() -> None:
    history = history_from_series([series(SPOT, "ETHUSDT", CLOSES)], "1h")
    pb = path_book(calibrated_book(directional_long(), market(), RiskRules()))
    result = replay(pb, EPISODE, None, history, 1.05)
    assert "BTC" in result.missing and math.isnan(result.min_uni_mmr)
    assert result.liquidation_at_ms is None and result.bars == 0


def test_episodes_parse_from_csv_text() -> None:
    text = (
        "name,start_utc,end_utc,description\n"
        'Yen carry unwind,2024-08-04T12:00:00Z,2024-08-05T18:00:00Z,"BTC 58,350 to 49,513"\n'
    )
    (episode,) = parse_episodes(text)
    assert episode.name == "Yen carry unwind" and episode.description == "BTC 58,350 to 49,513"
    assert episode.end_ms - episode.start_ms == 30 * HOUR
    with pytest.raises(ValueError, match="line 2"):
        parse_episodes("name,start_utc,end_utc,description\nX,2024-08-05,2024-08-04,bad\n")
    with pytest.raises(ValueError, match="columns"):
        parse_episodes("name,start\nX,2024\n")
