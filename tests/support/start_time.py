"""The simulated clock's start in the tests."""

from __future__ import annotations

# 2026-01-01T00:00:00Z: a fixed start so every run sees the same prices.
START_MS = 1_767_225_600_000
