"""Solves that run in the background of a host program: submit, watch, stop, collect.

A :class:`Job` runs :func:`~invswarm.engine.solve.solve` in a thread of this process with a
stop token of its own, so a scheduler can go on with its work, read the progress, and stop
the run from any thread (its best plan is kept). Every job sends its events to the caller's
callback, beginning with ``start`` and ending with exactly one final event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import network
from .result import Result
from .solve import SolveOptions, solve
from .termination import StopToken

#: The events a job may end with (its last event is always one of them).
FINAL = ("done", "stopped", "time_limit", "failed")


@dataclass(frozen=True)
class Best:
    """The best plan a job has found so far.

    Attributes
    ----------
    plan : dict
        The plan document (as in a result's ``plan``).
    cost : float
        Its kernel cost.
    elapsed : float
        Seconds from the job's start to the moment it was found.
    """

    plan: dict
    cost: float
    elapsed: float


class Job:
    """One solve in a thread; made by :func:`submit`.

    Attributes
    ----------
    status : {"running", "done", "stopped", "time_limit", "failed"}
        ``done``: ended by its own rule (an optimum, a budget of iterations, a local optimum);
        ``stopped``: by :meth:`stop`; ``time_limit``: by its time limit; ``failed``: raised.
    """

    def __init__(self, inst, method: str, opts: SolveOptions | None, warm_start: Any,
                 pins: Any, on_event: Callable[[dict], None] | None):
        self._stop = StopToken()
        self._on_event = on_event
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._progress: dict | None = None
        self._best: tuple | None = None  # (plan object, cost, elapsed)
        self._result: Result | None = None
        self._error: Exception | None = None
        self.status = "running"
        self._t0 = time.perf_counter()
        self._args = (inst, method, opts, warm_start, pins)
        self._thread = threading.Thread(target=self._run, name="invswarm-job", daemon=True)
        self._thread.start()

    def _emit(self, kind: str, **fields) -> None:
        if self._on_event is not None:
            self._on_event({"event": kind, "elapsed": time.perf_counter() - self._t0,
                            **fields})

    def _progressed(self, info: dict) -> None:
        with self._lock:
            self._progress = dict(info)
        self._emit("progress", **{k: v for k, v in info.items() if k != "elapsed"})

    def _found(self, plan, cost: float) -> None:
        with self._lock:
            self._best = (plan, float(cost), time.perf_counter() - self._t0)

    def _run(self) -> None:
        inst, method, opts, warm_start, pins = self._args
        final: dict = {}
        try:
            self._emit("start", method=method)
            res = solve(inst, method, opts, warm_start=warm_start, pins=pins,
                        callback=self._progressed, stop=self._stop, on_best=self._found)
            with self._lock:
                self._result = res
            if self._stop.stopped:
                self.status = "stopped"
            elif res.status == "time_limit" or res.status.startswith("Time limit"):
                self.status = "time_limit"
            else:
                self.status = "done"
            final = {"status": res.status, "cost": res.cost}
        except Exception as exc:  # reported to the caller by result(), not lost
            self._error = exc
            self.status = "failed"
            final = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            self._done.set()
            try:
                self._emit(self.status, **final)
            except Exception:  # a failing callback must not hide the result
                pass

    def progress(self) -> dict | None:
        """The last progress report (``iteration``, ``evaluations``, ``best`` cost, ``bound``,
        ``phase``, ``elapsed`` seconds), or None before the first."""
        with self._lock:
            return None if self._progress is None else dict(self._progress)

    def best(self) -> Best | None:
        """The best plan found so far, with its kernel cost; None before the first.

        Anytime, from any thread: a ``pso`` run offers each new best of its swarms, local
        searches and kicks as it finds it; the other methods their result's plan when they
        end. Once the job has ended, its result's plan and cost.
        """
        with self._lock:
            res, best = self._result, self._best
        if res is not None:
            return Best(plan=res.plan, cost=res.cost, elapsed=res.wall_s)
        if best is None:
            return None
        plan, cost, elapsed = best
        inst = self._args[0]
        doc = plan.to_json(inst) if isinstance(inst, network.Instance) else plan.to_json()
        return Best(plan=doc, cost=cost, elapsed=elapsed)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job has ended, at most ``timeout`` seconds; True when it has."""
        return self._done.wait(timeout)

    def stop(self, timeout: float | None = None) -> Result | None:
        """Stop the run cooperatively and wait for it to end (at most ``timeout`` seconds);
        returns its result, with the best plan found so far, or None if it has not ended."""
        self._stop.stop()
        if not self.wait(timeout):
            return None
        return self._result

    def result(self, timeout: float | None = None) -> Result:
        """The result, once the job has ended; raises what the solve raised, or
        TimeoutError when it has not ended within ``timeout`` seconds."""
        if not self.wait(timeout):
            raise TimeoutError(f"the job has not ended within {timeout} s")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def submit(inst, method: str = "pso", opts: SolveOptions | None = None, *,
           warm_start: Any = None, pins: Any = None,
           on_event: Callable[[dict], None] | None = None) -> Job:
    """Start solving ``inst`` in the background; returns at once. ``warm_start`` and
    ``pins`` are :func:`~invswarm.engine.solve.solve`'s.

    ``on_event(event)`` receives dicts with ``event`` (``start``, ``progress``, then one of
    :data:`FINAL`) and ``elapsed`` seconds, plus for ``progress`` the iteration, evaluations
    and best cost, for the final event the result's status and cost (or the error). It is
    called from the job's thread; it should return quickly.
    """
    return Job(inst, method, opts, warm_start, pins, on_event)
