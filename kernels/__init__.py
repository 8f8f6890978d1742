"""Numba kernels: arrays and scalars in, results written into ``out`` arrays. No RNG, no I/O.

Numba keys a cached function by its own source file only: a kernel calling one from another
file keeps its cached machine code when only the callee's file changes, and then runs the old
callee. So at import, the Numba cache files next to these modules are dropped whenever any
kernel source differs from the sources they were compiled from (a digest kept in
``__pycache__/kernels.stamp``). A cache elsewhere (``NUMBA_CACHE_DIR``) is not checked.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Idle OpenMP threads (Numba's threading layer here) sleep rather than spin between parallel
# regions, unless the caller chose otherwise: on a machine shared with other processes, or
# beside another run in this one, a spinning thread takes the core a working one needs
# (docs/embedding.md, "Threads"). Set before the layer starts, which is at the first
# parallel kernel call.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def drop_stale_cache(directory: Path) -> bool:
    """Remove the Numba cache files of ``directory`` when its ``*.py`` sources changed since
    the last call; returns whether they were removed. Unwritable directories are left alone."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    cache = directory / "__pycache__"
    stamp = cache / "kernels.stamp"
    try:
        if stamp.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for path in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            path.unlink(missing_ok=True)
        tmp = cache / f"kernels.stamp.{os.getpid()}"
        tmp.write_text(digest.hexdigest())
        os.replace(tmp, stamp)
    except OSError:
        return False
    return True


drop_stale_cache(Path(__file__).parent)
