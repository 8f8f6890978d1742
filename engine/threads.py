"""The thread budget of the runs in this process: how many CPUs it may use, and each run's share.

A run (one :func:`~invswarm.engine.solve.solve`, or one :class:`~invswarm.engine.jobs.Job`)
asks for ``threads`` (default: all the CPUs this process may use, :func:`available_cpus`)
and gets a :class:`Share`: what it asked for, but no more than the CPUs divided among the
runs of the process (at least one). The share caps everything the run starts: its Numba
threads, its island workers (``jobs``, each with one Numba thread) and the exact solver's
HiGHS threads. A run adopts its current share at each look at its budget (between chunks of
iterations, blocks of moves, epochs): when a second run starts beside it, it shrinks at its
next look, and grows again when the other ends. Numba's ``set_num_threads`` holds for the
calling thread only, which is what lets two runs in two threads of one process use different
numbers.
"""

from __future__ import annotations

import math
import os
import threading

import numba

#: Where the cgroup (v2) CPU quota of this process is read.
CPU_MAX = "/sys/fs/cgroup/cpu.max"


def available_cpus(cpu_max: str = CPU_MAX) -> int:
    """CPUs this process may use: those of its affinity mask, fewer when a cgroup quota
    allows less (``cpu.max``: quota and period in microseconds, rounded up), and never more
    than Numba's thread pool."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        with open(cpu_max) as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, min(cpus, numba.config.NUMBA_NUM_THREADS))


class Share:
    """One run's share of the CPUs; made by :func:`claim`, ended by :meth:`release`."""

    def __init__(self, ledger: _Ledger, asked: int):
        self._ledger = ledger
        self.asked = asked
        self._applied: int | None = None

    @property
    def count(self) -> int:
        """The threads the run may use now."""
        return self._ledger.count(self)

    def apply(self) -> int:
        """Give the calling thread's Numba kernels the current share; returns it."""
        n = self.count
        if n != self._applied:
            numba.set_num_threads(n)
            self._applied = n
        return n

    def release(self) -> None:
        self._ledger.release(self)


class _Ledger:
    """The runs of this process and their shares."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: list[Share] = []
        self._cpus = 1  # available_cpus() at the last claim

    def claim(self, threads: int | None) -> Share:
        if threads is not None and not threads >= 0:
            raise ValueError(f"threads: must be >= 0, got {threads!r}")
        cpus = available_cpus()
        share = Share(self, cpus if not threads else min(int(threads), cpus))
        with self._lock:
            self._cpus = cpus
            self._runs.append(share)
        return share

    def count(self, share: Share) -> int:
        with self._lock:
            return max(1, min(share.asked, self._cpus // max(1, len(self._runs))))

    def release(self, share: Share) -> None:
        with self._lock:
            if share in self._runs:
                self._runs.remove(share)


_LEDGER = _Ledger()


def claim(threads: int | None = None) -> Share:
    """A share of this process's CPUs for a run that asks for ``threads`` (None or 0: all)."""
    return _LEDGER.claim(threads)
