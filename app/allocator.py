"""Process-wide glibc allocator setting for numpy-heavy work (the risk evaluation).

glibc serves every allocation above its mmap threshold (128 KiB at start, raised as mmapped
chunks are freed) with fresh pages from the kernel, hands them back on free, and trims free memory
at the heap top back to the kernel. One evaluate makes hundreds of 100 KiB–2 MiB numpy
temporaries, so with the defaults a large share of its time is page faults on fresh pages, and
how large depends on the allocation history of the process. Fixing the thresholds keeps those
temporaries in the heap, reused from one evaluation to the next; the cost is that up to
``TRIM_THRESHOLD`` of freed memory stays with the process. Measured in ``bench/bench_risk.py``,
which prints the figures both ways.

A no-op (returns False) where the C library has no ``mallopt`` (musl, macOS).
"""

from __future__ import annotations

import ctypes
import ctypes.util

# <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling for this setting on 64-bit
TRIM_THRESHOLD = 64 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Serve allocations below 32 MiB from the heap and keep up to 64 MiB of freed memory;
    True when the C library took both settings."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
