"""A value per key kept only in its newest version: what a view draws for every viewer of the
same thing (one account, one range) until the data behind it changes.

Why not ``functools.lru_cache`` keyed by the version: every new report is a new key, so it
fills with superseded versions nobody asks for again, up to its size, each as large as a whole
figure (a one-hour history grows with every report in the hour). Here a newer version replaces
the older at once, so the memory held is one value per key, however long the screens stay open
(the soak benchmark, ``bench/bench_soak.py``, found the difference).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class NewestOnly(Generic[K, V]):
    """``get(key, version, build)``: the value built for ``key`` at ``version``; built again
    (and the older one dropped) when ``version`` differs. At most ``max_keys`` keys: beyond,
    the least recently used key goes."""

    def __init__(self, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._values: dict[K, tuple[Hashable, V]] = {}
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, key: K, version: Hashable, build: Callable[[], V]) -> V:
        with self._lock:
            held = self._values.pop(key, None)
            if held is not None:
                self._values[key] = held  # most recently used last
                if held[0] == version:
                    return held[1]
        value = build()  # outside the lock: a slow build never holds up other keys
        with self._lock:
            self.builds += 1
            self._values.pop(key, None)
            self._values[key] = (version, value)
            while len(self._values) > self.max_keys:
                del self._values[next(iter(self._values))]
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)
