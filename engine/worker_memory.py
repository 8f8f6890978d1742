"""glibc's allocator in worker processes that a dask nanny started.

The nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_`` set (dask's
``distributed.nanny.pre-spawn-environ``, so that freed memory goes back to the system). Any such
variable turns off glibc's adaptive thresholds: every block above 128 KiB is then mapped afresh
and unmapped when freed, and the top of the heap is given back whenever 64 KiB of it are free.
The swarm kernels allocate their scratch arrays per block of particles and iteration (hundreds
of KiB to megabytes), so each would be new memory, zero-filled page by page, at every
iteration (what a dask worker gains back is in ``make bench``'s scaling benchmark).
:func:`keep_large_blocks` sets the thresholds glibc adapts to for such blocks: a worker so
keeps up to :data:`TRIM_THRESHOLD` bytes of freed heap, not 64 KiB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

#: ``mallopt``'s parameters (glibc's ``malloc.h``).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc adapts to on 64-bit systems
#: (``DEFAULT_MMAP_THRESHOLD_MAX``), and the trim threshold it then sets (twice that).
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

_done = False


def keep_large_blocks() -> bool:
    """Set glibc's mmap and trim thresholds to :data:`MMAP_THRESHOLD` and
    :data:`TRIM_THRESHOLD` in this process when ``MALLOC_TRIM_THRESHOLD_`` froze them and the
    caller did not choose an mmap threshold (``MALLOC_MMAP_THRESHOLD_`` unset). Once per
    process; True when they were set here. Does nothing off glibc."""
    global _done
    if _done:
        return False
    _done = True
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError):  # no C library by that name, or not glibc
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
