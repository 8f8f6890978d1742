"""glibc's thresholds in a worker started as a dask nanny starts it (``worker_memory.py``)."""

import os
import subprocess
import sys

import pytest

# Each case runs in a fresh interpreter: glibc reads MALLOC_* at start, and the setting is
# once per process. It prints whether the thresholds were set, and how many blocks glibc had
# mapped on their own while a 4 MiB array was alive (mallinfo2's ``hblks``).
PROBE = """
import ctypes, ctypes.util
import numpy as np
from invswarm.engine.worker_memory import keep_large_blocks

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = Info
first = keep_large_blocks()
again = keep_large_blocks()
before = libc.mallinfo2().hblks
block = np.ones(2**19)
print(first, again, libc.mallinfo2().hblks - before)
"""


def _probe(**env) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_dask_workers_large_blocks_come_from_the_heap():
    # as a nanny starts a worker: each large block mapped on its own, unless set here
    assert _probe(MALLOC_TRIM_THRESHOLD_="65536") == ["True", "False", "0"]
    # left alone: without the variable glibc adapts by itself, and a threshold the caller
    # chose stays
    assert _probe()[:2] == ["False", "False"]
    assert _probe(MALLOC_TRIM_THRESHOLD_="65536", MALLOC_MMAP_THRESHOLD_="131072") == \
        ["False", "False", "1"]
