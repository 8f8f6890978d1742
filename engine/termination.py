"""When a run ends: a wall-clock deadline counted from the call, and a stop that any thread may
ask for. Every method and every phase of one solve (warm-up, swarms, islands, local search,
kicks, the exact solver) checks the same :class:`Budget`, so a stop or a time limit ends the
whole run with its best plan so far, not just the phase that happens to be running.
"""

from __future__ import annotations

import math
import threading
import time

#: Reason of a stop asked for without one.
STOPPED = "stopped"


class StopToken:
    """A cooperative stop request, safe to set from any thread (or a signal handler).

    The run checks it between units of work (a chunk of swarm iterations, an island epoch, a
    block of local-search moves, a poll of the exact solver's process) and ends with the best
    plan it has. The first reason given is kept.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason: str | None = None

    def stop(self, reason: str = STOPPED) -> None:
        """Ask the run to stop; ``reason`` becomes the result's status."""
        if self._reason is None:
            self._reason = reason
        self._event.set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> str | None:
        """The reason of the first stop asked for, or None."""
        return self._reason if self.stopped else None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop is asked for or ``timeout`` seconds pass; True when stopped."""
        return self._event.wait(timeout)


class Budget:
    """The wall-clock limit and the stop token of one run, shared by all its phases.

    Parameters
    ----------
    time_limit : float or None
        Seconds from ``start``; None: no time limit.
    stop : StopToken, optional
        The caller's token (default: a new one).
    start : float, optional
        ``time.perf_counter()`` at the call (default: now), so that the time limit counts
        everything from the call, compilation included.
    """

    def __init__(self, time_limit: float | None = None, stop: StopToken | None = None,
                 start: float | None = None) -> None:
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit: must be > 0, got {time_limit!r}")
        self.start = time.perf_counter() if start is None else float(start)
        self.time_limit = time_limit
        #: ``time.perf_counter()`` at which the time limit is reached (inf: none).
        self.deadline = math.inf if time_limit is None else self.start + time_limit
        self.token = stop if stop is not None else StopToken()

    @property
    def stopped(self) -> bool:
        """A stop was asked for (the time limit aside)."""
        return self.token.stopped

    def left(self) -> float:
        """Seconds left before the deadline (0 once stopped; inf with no time limit)."""
        if self.token.stopped:
            return 0.0
        return max(0.0, self.deadline - time.perf_counter())

    def done(self) -> bool:
        """Stopped, or past the deadline."""
        return self.token.stopped or time.perf_counter() >= self.deadline
