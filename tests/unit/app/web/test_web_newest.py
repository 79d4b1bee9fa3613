"""The views' shared figure cache keeps one value per key, the newest: however many reports
come and go while the screens stay open, it holds no superseded figure (the soak benchmark's
leak with a history viewer open: an LRU keyed by report id kept up to 32 one-hour figures)."""

from __future__ import annotations

import functools

import pytest

from app.web.newest import NewestOnly


def _figure(version: int) -> list[int]:
    return [version] * 100


def test_many_versions_of_one_key_keep_one_value() -> None:
    cache: NewestOnly[str, list[int]] = NewestOnly(max_keys=8)
    for version in range(1_000):  # a report a second for a quarter of an hour, give or take
        assert (
            cache.get("sim-basis/1h", version, functools.partial(_figure, version))
            == [version] * 100
        )
    assert len(cache) == 1
    assert cache.builds == 1_000


def test_the_same_version_is_built_once_for_every_viewer() -> None:
    cache: NewestOnly[tuple[str, str], str] = NewestOnly(max_keys=8)
    built: list[int] = []

    def build() -> str:
        built.append(7)
        return "figure 7"

    for _viewer in range(10):
        assert cache.get(("a", "1h"), 7, build) == "figure 7"
    assert built == [7]
    assert cache.get(("a", "1h"), 8, lambda: "figure 8") == "figure 8"
    assert cache.get(("a", "1h"), 7, lambda: "figure 7 again") == "figure 7 again"  # dropped
    assert cache.builds == 3


def test_keys_beyond_the_limit_drop_the_least_recently_used() -> None:
    cache: NewestOnly[str, str] = NewestOnly(max_keys=2)
    cache.get("a", 1, lambda: "a1")
    cache.get("b", 1, lambda: "b1")
    cache.get("a", 1, lambda: "unused")  # a is used again: b is now the oldest
    cache.get("c", 1, lambda: "c1")
    assert len(cache) == 2
    assert cache.get("a", 1, lambda: "rebuilt") == "a1"
    assert cache.get("b", 1, lambda: "b rebuilt") == "b rebuilt"


def test_a_cache_with_no_room_is_refused() -> None:
    with pytest.raises(ValueError):
        NewestOnly(max_keys=0)
