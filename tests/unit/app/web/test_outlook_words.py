"""The Outlook in words: odds a person can weigh, never "0 %", unknown as words; the view's
panels and the Overview's line from a stored outlook (hand-made figures)."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from app.store.outlooks import StoredOutlook
from app.web.pages.outlook import content
from app.web.pages.outlook_figure import fan_figure
from app.web.pages.outlook_words import (
    age_words,
    chance_error_words,
    fan_stderr_words,
    odds_words,
    pct_words,
    share_words,
)
from app.web.pages.overview_outlook import words
from risk.outlook_result import Driver, FanPoint
from tests.support.outlooks import outlook

T0 = 1_767_225_600_000


@pytest.mark.parametrize(
    ("p", "n", "said"),
    [
        (0.025, 10_000, "1 in 40"),  # 1 / 0.025 = 40
        (0.0123, 10_000, "1 in 81"),  # 1 / 0.0123 = 81.3
        (0.00037, 10_000, "1 in 2,700"),  # 1 / 0.00037 = 2,702.7, two significant figures
        (0.0001, 10_000, "1 in 10,000"),  # one path of 10,000
        (0.0, 10_000, "less than 1 in 10,000"),  # no path: small, never zero
        (0.0, 2_000, "less than 1 in 2,000"),
        (0.5, 10_000, "50 in 100"),
        (0.999, 10_000, "99 in 100"),  # never "100 in 100" unless every path did
        (1.0, 10_000, "every simulated path"),
        (math.nan, 10_000, "unknown"),
    ],
)
def test_odds(p: float, n: int, said: str) -> None:
    assert odds_words(p, n) == said


def test_percent_with_its_standard_error_and_never_zero_percent() -> None:
    # s.e. of 2.5 % over 10,000 paths: sqrt(0.025 × 0.975 / 10,000) = 0.00156
    assert pct_words(0.025, math.sqrt(0.025 * 0.975 / 10_000)) == "2.5 % ± 0.16 % (1 s.e.)"
    assert pct_words(0.0, 0.0) == "no path touched it"
    assert pct_words(1.0, 0.0) == "every path touched it"  # never "100.0 % ± 0.00 %"
    assert pct_words(math.nan, math.nan) == "unknown"


def test_age_turns_stale_past_the_limit() -> None:
    assert age_words(T0, T0 + 42_000, 300.0) == ("42 s old", False)
    assert age_words(T0, T0 + 720_000, 300.0) == ("STALE: 12 min old", True)


def _text(node: Any) -> str:
    """Every string in a Dash component tree."""
    if isinstance(node, str):
        return node
    if isinstance(node, list | tuple):
        return " ".join(_text(n) for n in node)
    children = getattr(node, "children", None)
    return "" if children is None else _text(children)


def test_the_view_says_each_horizon_and_the_correlation_break_beside_it() -> None:
    o = outlook(T0, {1.0: 0.0, 8.0: 0.004, 24.0: 0.025}, broken={1.0: 0.001, 8.0: 0.02, 24.0: 0.1})
    got = content(StoredOutlook(7, "a", T0, o), "a", None)
    assert _text(got["headline"]) == (
        "Liquidation: 1 in 40 over the next 24 h   2.5 % ± 0.16 % (1 s.e.)"
    )
    rows = got["horizons"]
    cells = [[_text(c) for c in r.children] for r in rows[1:]]
    assert cells[0][:3] == [
        "within 1 h",
        "less than 1 in 10,000 no path touched it",
        # s.e. sqrt(0.001 × 0.999 / 10,000) = 0.000316 → 0.032 %
        "1 in 1,000 0.10 % ± 0.032 % (1 s.e.)",
    ]
    assert cells[2][1].startswith("1 in 40 ") and cells[2][2].startswith("1 in 10 ")
    assert not re.search(r"(?<![\d.])0(\.0+)? %", _text(rows))  # never a bare "0 %"
    replays = [[_text(c) for c in r.children] for r in got["replays"][1:]]
    assert replays[0][3:] == ["1.31", "never"]
    assert replays[1][3] == "0.97" and replays[1][4].startswith("at 2025-10-10 ")
    assert "computed at 00:00:00 UTC" in got["table_basis"]
    assert "10,000 paths" in got["fan_basis"] and "0.16 points" in got["fan_basis"]
    # The fan's edges: s.e. 0.004 t and 0.006 t at t up to 24 h -> at most 0.144 (uniMMR).
    assert "s.e. of at most 0.144 (uniMMR)" in got["fan_basis"]
    drivers = [_text(li) for li in got["drivers"]]
    assert drivers[0].startswith("BTC 70 % ± 4 % of the tail's loss")
    assert "one Monte-Carlo standard error" in got["drivers_basis"]
    assert "1 h klines 2026-06-03 to 2026-11-30" in got["method"]


def test_an_unknown_outlook_is_words_and_no_numbers() -> None:
    o = outlook(T0, unknown="no klines cached for BTCUSDT")
    got = content(StoredOutlook(8, "a", T0, o), "a", None)
    assert got["headline"] == "⊘ outlook unknown: no klines cached for BTCUSDT"
    assert got["horizons"] == [] and got["replays"] == [] and got["drivers"] == []
    assert got["fan"]["data"] == []
    assert "OUTLOOK UNKNOWN" in got["fan"]["layout"]["annotations"][0]["text"]
    none = content(None, "a", None)
    assert none["headline"] == "⊘ NO OUTLOOK COMPUTED YET"


def test_fan_draws_binance_levels_and_the_quantile_bands() -> None:
    o = outlook(T0)
    fig = fan_figure(o, "r")
    names = [t.get("name") for t in fig["data"]]
    assert "Binance liquidation 1.05" in names and "warning 1.2" in names
    assert "5-95 % of paths" in names and "median" in names
    liq = next(t for t in fig["data"] if t.get("name") == "Binance liquidation 1.05")
    assert liq["y"] == [1.05, 1.05] and liq["x"] == [0, 24.0]


def test_overview_line_says_the_longest_horizon_and_its_age() -> None:
    o = outlook(T0, {1.0: 0.001, 8.0: 0.01, 24.0: 0.025}, broken={1.0: 0.01, 8.0: 0.02, 24.0: 0.05})
    value, note, cls = words(StoredOutlook(1, "a", T0, o), T0 + 30_000)
    assert value == "liquidation 1 in 40 over the next 24 h"
    assert note == "2.5 % ± 0.16 % (1 s.e.) · if correlations break 1 in 20 · 30 s old"
    assert cls == "overview-outlook"
    _, stale_note, stale_cls = words(StoredOutlook(1, "a", T0, o), T0 + 600_000)
    assert stale_note.endswith("STALE: 10 min old") and "outlook-stale" in stale_cls
    unknown = outlook(T0, unknown="account figures unknown")
    assert words(StoredOutlook(2, "a", T0, unknown), T0)[0] == (
        "outlook unknown: account figures unknown"
    )
    assert words(None, T0)[0] == "no outlook yet"


def test_errors_never_computed_are_said_unknown() -> None:
    fan = (FanPoint(0.0, 3, 3, 3, 3, 3), FanPoint(1.0, 2, 2.5, 3, 3.5, 4))
    assert fan_stderr_words(fan) == "the band edges' Monte-Carlo s.e. is unknown"
    assert share_words(Driver("BTC", 0.5, -3.0)) == "50 % ± unknown of the tail's loss"
    assert share_words(Driver("BTC", 1.0, -3.0, 0.0)) == "100 % of the tail's loss"


def test_a_chance_of_nought_has_no_error_in_points() -> None:
    assert (
        chance_error_words(0.0, 0.0, "10,000 paths") == "none of the 10,000 paths touched the level"
    )
    assert chance_error_words(1.0, 0.0, "500 paths") == "all of the 500 paths touched the level"
    assert chance_error_words(0.025, 0.00156, "10,000 paths") == "a Monte-Carlo s.e. of 0.16 points"
