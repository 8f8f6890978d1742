"""Whether the kernels of a model are compiled already, and compiling them.

The first run after an install (or after a kernel source changed) compiles the Numba kernels,
which takes minutes; later runs load them from the cache in a second or two. The command line
says so on stderr, with how long it took. A model's kernels count as compiled when a marker in
the kernels' cache directory holds the digest of the kernel sources that the cache was made
from (``kernels/__pycache__/kernels.stamp``, see :mod:`invswarm.kernels`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .. import kernels


def _cache() -> Path:
    return Path(kernels.__file__).parent / "__pycache__"


def _marker(model: str) -> Path:
    return _cache() / f"warm-{model}"


def _digest() -> str | None:
    try:
        return (_cache() / "kernels.stamp").read_text()
    except OSError:
        return None


def is_compiled(model: str) -> bool:
    """The kernels of ``model`` (``sfi`` or ``network``) are in the cache (as far as this
    process can tell: a cache elsewhere, ``NUMBA_CACHE_DIR``, counts as not)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return False
    digest = _digest()
    try:
        return digest is not None and _marker(model).read_text() == digest
    except OSError:
        return False


def compile_kernels(model: str) -> float:
    """Compile (or load from the cache) every kernel a run of ``model`` calls; returns the
    seconds it took and marks them compiled."""
    if model == "sfi":
        from .models.sfi.warmup import warmup
    else:
        from .models.network.problem import warmup
    t0 = time.perf_counter()
    warmup()
    seconds = time.perf_counter() - t0
    digest = _digest()
    if digest is not None:
        tmp = _marker(model).with_name(f"{_marker(model).name}.{os.getpid()}")
        try:
            tmp.write_text(digest)
            os.replace(tmp, _marker(model))
        except OSError:  # a read-only install: the message comes again, nothing worse
            pass
    return seconds
