"""The application's wall clock, in UTC epoch milliseconds."""

import time


def now_ms() -> int:
    return int(time.time() * 1000)
