"""Process-wide glibc allocator setting for numpy-heavy work (the risk evaluation).

glibc serves every allocation above its mmap threshold (128 KiB at start, raised as mmapped
chunks are freed) with fresh pages from the kernel, hands them back on free, and trims free memory
at the heap top back to the kernel. One evaluate makes hundreds of 100 KiB–2 MiB numpy
temporaries, so with the defaults a large share of its time is page faults on fresh pages, and
how large depends on the allocation history of the process. Fixing the thresholds keeps those
temporaries in the heap, reused from one evaluation to the next; the cost is that up to
``TRIM_THRESHOLD`` of freed memory stays with the process. Measured in ``bench/bench_risk.py``,
which prints the figures both ways.

Two more settings keep a process that runs for days from growing (``bench/bench_soak.py``): glibc
gives each thread that meets a locked arena an arena of its own, up to 8 per core, and each keeps
up to ``TRIM_THRESHOLD`` free at its top plus whatever holes its free chunks leave below it; the
web server's threads, the collector's and the websockets' all allocate. ``ARENA_MAX`` caps the
arenas (the GIL serialises Python anyway, so they buy little), and ``Trimmer`` hands the free
pages of every arena back to the kernel once every ``TRIM_EVERY_S`` (``malloc_trim(0)``, which
also releases free pages inside the heaps, not only at their tops). One evaluation after a trim
pays the page faults again: once a minute, not once an evaluation.

A no-op (returns False) where the C library has no ``mallopt`` (musl, macOS).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections.abc import Callable
from functools import cache

log = logging.getLogger(__name__)

# <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling for this setting on 64-bit
TRIM_THRESHOLD = 64 * 1024 * 1024
ARENA_MAX = 2
TRIM_EVERY_S = 60.0


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def keep_freed_memory() -> bool:
    """Serve allocations below 32 MiB from the heap, keep up to 64 MiB of freed memory, and at
    most ``ARENA_MAX`` arenas; True when the C library took all three settings. Call it before
    the process starts its threads (an arena once made stays)."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        and mallopt(M_ARENA_MAX, ARENA_MAX)
    )


def release_free_memory() -> bool:
    """``malloc_trim(0)``: every arena's free pages back to the kernel; True when some were."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return bool(trim(0))


class Trimmer:
    """Calls ``release`` every ``every_s`` on a daemon thread until stopped."""

    def __init__(
        self, every_s: float = TRIM_EVERY_S, release: Callable[[], bool] = release_free_memory
    ) -> None:
        self._every_s = every_s
        self._release = release
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="malloc-trim", daemon=True)
        self.rounds = 0

    def start(self) -> Trimmer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._release()
            except OSError:  # pragma: no cover - ctypes reports C errors this way
                log.exception("malloc_trim failed")
            self.rounds += 1
