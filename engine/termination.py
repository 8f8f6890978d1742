"""When a run ends: a wall-clock deadline counted from the call, a budget of evaluations, a
stall budget, a target cost, and a stop that any thread may ask for. Every method and every
phase of one solve (warm-up, swarms, islands, local search, kicks, the exact solver) checks
the same :class:`Budget`, so a termination ends the whole run with its best plan so far, not
just the phase that happens to be running.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

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
        self._flags: list[np.ndarray] = []

    def stop(self, reason: str = STOPPED) -> None:
        """Ask the run to stop; ``reason`` becomes the result's status."""
        if self._reason is None:
            self._reason = reason
        self._event.set()
        for flag in self._flags:
            flag[0] = 1

    def also_sets(self, flag: np.ndarray) -> None:
        """Set ``flag[0] = 1`` at the stop (now, when stopped already): the flag of a compiled
        kernel, which cannot ask for the stop itself."""
        if not any(f is flag for f in self._flags):
            self._flags.append(flag)
        if self.stopped:
            flag[0] = 1

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


def halt_on(problem, *tokens: StopToken | None) -> None:
    """Make each token given (None: skipped) set ``problem.halt``, the flag its compiled
    evaluation reads, at its stop, when the problem has one (a network's)."""
    halt = getattr(problem, "halt", None)
    for token in tokens:
        if token is not None and halt is not None:
            token.also_sets(halt)


class Budget:
    """The terminations of one run, shared by all its phases: a wall-clock limit, a budget of
    evaluations, a stall budget, a target cost and the stop token.

    Evaluations are the run's one currency of work: a particle evaluated by a swarm is one, a
    move scored by a local search a fraction (each model's ``MOVES_PER_EVALUATION``). The run's
    phases spend them (:meth:`spend`) and report their best cost (:meth:`record`); each phase
    ends when :meth:`reason` is not None, so the first termination reached ends the whole run.
    Apart from the time limit and the stop, the rule holds no clock: a run without them ends at
    the same point on any machine and any number of workers.

    Parameters
    ----------
    time_limit : float or None
        Seconds from ``start``; None: no time limit.
    stop : StopToken, optional
        The caller's token (default: a new one).
    start : float, optional
        ``time.perf_counter()`` at the call (default: now), so that the time limit counts
        everything from the call, compilation included.
    max_evals : float or None
        Evaluations of the whole run.
    stall_evals : float or None
        The run ends when the best cost has not fallen by a relative ``ftol`` within this many
        evaluations of the phase running (each phase starts its own count: :meth:`enter`).
    target : float or None
        The run ends once its best cost is at most this.
    ftol : float
    on_best : callable, optional
        ``on_best(plan, cost)``, called with each new best plan a phase offers
        (:meth:`record`), from the run's thread.
    threads : invswarm.engine.threads.Share, optional
        The run's share of the CPUs: each look at the budget (:meth:`reason`, :meth:`record`,
        from the run's thread) gives the thread's Numba kernels its current size.
    """

    def __init__(self, time_limit: float | None = None, stop: StopToken | None = None,
                 start: float | None = None, *, max_evals: float | None = None,
                 stall_evals: float | None = None, target: float | None = None,
                 ftol: float = 1e-6, on_best=None, threads=None) -> None:
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit: must be > 0, got {time_limit!r}")
        for name, v in (("max_evals", max_evals), ("stall_evals", stall_evals)):
            if v is not None and not v > 0:
                raise ValueError(f"{name}: must be > 0, got {v!r}")
        if target is not None and not math.isfinite(target):
            raise ValueError(f"target: must be a finite number, got {target!r}")
        self.start = time.perf_counter() if start is None else float(start)
        self.time_limit = time_limit
        #: ``time.perf_counter()`` at which the time limit is reached (inf: none).
        self.deadline = math.inf if time_limit is None else self.start + time_limit
        self.token = stop if stop is not None else StopToken()
        self.max_evals = max_evals
        self.stall_evals = stall_evals
        self.target = target
        self.ftol = ftol
        self.on_best = on_best
        self.threads = threads
        #: Evaluations spent so far.
        self.evaluations = 0.0
        #: The best cost recorded so far.
        self.best = math.inf
        #: The phase running (``start``, ``swarm``, ``polish``, ``kicks``, ``exact``...).
        self.phase = "start"
        self._ref = math.inf  # the best the stall termination last counted as a gain
        self._gain_at = 0.0  # evaluations at that gain (or at the phase's start)
        self._offered = math.inf  # the cost of the last plan given to on_best

    @property
    def stopped(self) -> bool:
        """A stop was asked for (the time limit aside)."""
        return self.token.stopped

    def left(self) -> float:
        """Seconds left before the deadline (0 once stopped; inf with no time limit)."""
        if self.token.stopped:
            return 0.0
        return max(0.0, self.deadline - time.perf_counter())

    def evals_left(self) -> float:
        """Evaluations left (inf with no evaluation budget)."""
        if self.max_evals is None:
            return math.inf
        return max(0.0, self.max_evals - self.evaluations)

    def figures(self) -> dict:
        """What the budget has counted (for a checkpoint: :meth:`restore`)."""
        return {"evaluations": self.evaluations, "best": self.best, "ref": self._ref,
                "gain_at": self._gain_at, "phase": self.phase}

    def restore(self, figures: dict | None) -> None:
        """Take up the counts of :meth:`figures` (a resumed run)."""
        if figures:
            self.evaluations, self.best = figures["evaluations"], figures["best"]
            self._ref, self._gain_at = figures["ref"], figures["gain_at"]
            self.phase = figures["phase"]

    def spend(self, evaluations: float) -> None:
        """Count work done (in evaluations)."""
        self.evaluations += evaluations

    def enter(self, phase: str) -> None:
        """A new phase starts: its stall count starts with it."""
        self.phase = phase
        self._ref = self.best
        self._gain_at = self.evaluations

    def record(self, cost: float, plan=None) -> None:
        """A phase's best cost so far; ``plan`` (the plan, or a function that makes it) goes
        to ``on_best`` when it is the best of the run so far."""
        self._look()
        if cost < self.best:
            self.best = cost
        if cost < self._ref - self.ftol * max(abs(self._ref), 1e-12) or self._ref == math.inf:
            self._ref = cost
            self._gain_at = self.evaluations
        if plan is not None and self.on_best is not None and cost < self._offered:
            self._offered = cost
            self.on_best(plan() if callable(plan) else plan, cost)

    def _look(self) -> None:
        """The phases look at the budget between units of work (from the run's thread): the
        run's Numba threads follow its share of the CPUs there."""
        if self.threads is not None:
            self.threads.apply()

    def reason(self) -> str | None:
        """Why the run must end now (the stop's reason, ``time_limit``, ``max_evals``,
        ``target``, ``stall``), or None."""
        self._look()
        if self.token.stopped:
            return self.token.reason
        if time.perf_counter() >= self.deadline:
            return "time_limit"
        if self.max_evals is not None and self.evaluations >= self.max_evals:
            return "max_evals"
        if self.target is not None and self.best <= self.target:
            return "target"
        if self.stall_evals is not None and self.evaluations - self._gain_at >= \
                self.stall_evals:
            return "stall"
        return None

    def done(self) -> bool:
        """A termination is reached (see :meth:`reason`)."""
        return self.reason() is not None
