"""Exact solves in a child process, ended at their time limit even where HiGHS does not stop.

HiGHS (1.16) computes an analytic centre at the root of a MIP in a task of its own: an
interior point solve capped at 200 iterations but not in time, which the root node waits for
before its heuristics run. Neither HiGHS's time limit nor an interrupt from a callback reaches
that wait: on the bench's large generated SFI instances a solve can run far past its limit,
with the root waiting in ``finishAnalyticCenterComputation``. A planner who asks for ten
minutes must get an answer in about ten minutes, so :func:`solve` runs HiGHS in a child process
(``python -m invswarm.engine.milp_process DIR PARENT_PID``) which writes each new point of the
trace and each new incumbent into ``DIR`` as it finds them, and ends the child :func:`grace`
seconds after the limit if it is still running, with the last incumbent and bound it
reported. The child also exits when its parent is gone.

Large linear programs (:func:`solve_lp`) go to a child too, for the same reason: HiGHS's start
on an LP (presolve, scaling, the first factorization) looks for no interrupt, and on the
relaxations of large instances it outlasts a stop's latency and a time limit's tolerance.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from .jsonio import write_atomic
from .lp import LpOptions, LpSolution, run_lp
from .milp import (
    HANDOFF_SHARE,
    MilpOptions,
    MilpOutcome,
    ModelBuilder,
    built_within,
    complete,
    highs_of,
    run,
    solve_until,
)
from .termination import StopToken

#: Status of an outcome whose solver was ended by :func:`solve`.
ENDED = "Time limit reached (HiGHS did not stop; ended by invswarm)"
#: Status of an outcome whose solver was ended because its caller asked to stop.
STOPPED = "Stopped by the caller (HiGHS ended by invswarm)"
#: Status of an outcome whose time ran out while its model was built (HiGHS never started).
BUILD_ENDED = "Time limit reached while the model was built (HiGHS not started)"


#: Seconds between two looks at the child (for its exit, the time, a stop).
POLL_S = 0.1
#: Nonzeros from which :func:`solve_lp` solves an LP in a child: HiGHS's start grows with the
#: model, while a child costs a Python process's start and the model's pickle.
CHILD_NONZEROS = 100_000


def grace(time_limit: float) -> float:
    """Seconds past ``time_limit`` before the solver is ended: HiGHS checks its limit between
    steps of its own, so it stops some seconds past it by itself (the exact runs of
    docs/models/sfi.md's tables show by how much), and is left those seconds to return its own
    outcome."""
    return 5.0 + 0.05 * time_limit


def solve(builder: ModelBuilder, opts: MilpOptions,
          start: tuple[np.ndarray, np.ndarray] | None = None,
          stop: StopToken | None = None, progress=None) -> MilpOutcome:
    """:func:`invswarm.engine.milp.run` on the model of ``builder``, in a child process ended
    :func:`grace` seconds after ``opts.time_limit`` if still running (the time limit counts
    from the start of the solve, as HiGHS counts it, not from the start of the process), or
    at ``opts.deadline`` when it has one.

    Returns the child's outcome, or, where it was ended, an outcome with status :data:`ENDED`
    (or :data:`STOPPED` when ``stop`` was set), the last incumbent and bound it reported (no
    incumbent: ``x`` None, objective NaN) and its trace. Raises RuntimeError with the child's
    error when it fails.

    A stop ends the child rather than interrupting HiGHS from a callback: the root's analytic
    centre (above) does not see an interrupt either, and what the child reported is on disk.
    ``progress(point)``, when given, is called with each new point of the trace ``(seconds,
    incumbent, bound)`` the child reports, seen at the parent's looks at it. With
    ``opts.complete``, the child first completes ``start``
    (:func:`~invswarm.engine.milp.complete`), within the solve's time.
    """
    with _child((builder.arrays(), opts, start), opts.verbose) as (d, child):
        ended = _wait(child, d, opts.time_limit + grace(opts.time_limit), stop, opts.deadline,
                      progress)
        if ended is not None:
            return _reported(d, ended, STOPPED if stop is not None and stop.stopped else ENDED)
        return _outcome(d, child)


def solve_lp(builder: ModelBuilder, opts: LpOptions, until: float | None = None,
             stop: StopToken | None = None) -> LpSolution | None:
    """:func:`invswarm.engine.lp.run_lp` on the linear relaxation of ``builder``'s model
    (every column continuous), with at most what is left to ``until`` (a
    ``time.perf_counter()`` instant; None: ``opts``' limit only) as HiGHS's time limit. None
    when the LP is not solved by then, or when ``stop`` is set meanwhile.

    A model of :data:`CHILD_NONZEROS` or more is solved in a child process, ended at ``until``
    or at the stop (the start of HiGHS's solve looks for neither); a smaller one in this
    process, stopped at HiGHS's next look for an interrupt."""
    if until is not None:
        left = until - time.perf_counter()
        if left <= 0:
            return None
        opts = replace(opts, time_limit=left if opts.time_limit is None
                       else min(opts.time_limit, left))
    if builder.n_nonzeros < CHILD_NONZEROS:
        return run_lp(builder.to_highs(relax=True), opts, stop)
    deadline = None if until is None else time.time() + until - time.perf_counter()
    with _child((builder.arrays(relax=True), opts, None), verbose=False) as (d, child):
        if _wait(child, d, math.inf, stop, deadline) is not None:
            return None
        return _outcome(d, child)


@contextmanager
def _child(payload: tuple, verbose: bool):
    """A child process solving ``payload`` (:func:`_main`), and its directory: yields
    ``(directory, child)``; the child is ended on leaving if it still runs."""
    with tempfile.TemporaryDirectory(prefix="invswarm-milp-") as tmp:
        d = Path(tmp)
        write_atomic(d / "model.pkl", pickle.dumps(payload, protocol=5), sync=False)
        # The child's stdout is the caller's only for HiGHS's log (it prints its banner there).
        child = subprocess.Popen([sys.executable, "-m", "invswarm.engine.milp_process", tmp,
                                  str(os.getpid())],
                                 stdout=None if verbose else subprocess.DEVNULL)
        try:
            yield d, child
        finally:
            if child.poll() is None:  # ended, or the caller was interrupted
                child.kill()
                child.wait()


def _outcome(d: Path, child: subprocess.Popen):
    """What the child that exited wrote in ``d``; raises RuntimeError with its error when it
    failed."""
    if child.returncode != 0 or not (d / "outcome.pkl").exists():
        error = d / "error.txt"
        raise RuntimeError("the solver's process failed (exit code "
                           f"{child.returncode}): "
                           + (error.read_text() if error.exists() else "no error reported"))
    return pickle.loads((d / "outcome.pkl").read_bytes())


def built_in_time(build: Callable, opts: MilpOptions, stop: StopToken | None):
    """``build(ended=...)``'s model, or None when its build would leave no time to hand it to
    HiGHS (:data:`~invswarm.engine.milp.HANDOFF_SHARE`) by ``opts``' deadline or time
    limit, or when ``stop`` is set meanwhile (``ended``: for the model's builder)."""
    return built_within(build, solve_until(opts), stop, HANDOFF_SHARE)


def not_started(stop: StopToken | None) -> MilpOutcome:
    """The outcome of a solve ended before HiGHS started: its model's build took its time
    (:class:`~invswarm.engine.milp.BuildStopped`), or ``stop`` was set meanwhile."""
    return MilpOutcome(x=None, objective=math.nan, bound=-math.inf, gap=math.inf,
                       status=STOPPED if stop is not None and stop.stopped else BUILD_ENDED,
                       optimal=False, wall_s=0.0, nodes=-1)


def _wait(child: subprocess.Popen, d: Path, allowed: float, stop: StopToken | None,
          deadline: float | None = None, progress=None) -> float | None:
    """Wait for ``child``; returns None when it exits, or the seconds it had been solving when
    ``allowed`` seconds of solving passed first (it writes ``started`` when it starts), when
    ``time.time()`` reached ``deadline``, or when ``stop`` was set. Between looks, the trace's
    new last point goes to ``progress``."""
    began = None
    t0 = time.perf_counter()
    seen = 0  # bytes of the trace reported
    while True:
        if progress is not None:
            size = (d / "trace.f64").stat().st_size if (d / "trace.f64").exists() else 0
            size -= size % 24  # whole points only
            if size > seen:
                with open(d / "trace.f64", "rb") as f:
                    f.seek(size - 24)
                    progress(tuple(map(float, np.frombuffer(f.read(24), np.float64))))
                seen = size
        poll = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.time()))
        try:
            child.wait(timeout=poll)
            return None
        except subprocess.TimeoutExpired:
            pass
        if deadline is not None and time.time() >= deadline:
            return time.perf_counter() - (began if began is not None else t0)
        if began is None and (d / "started").exists():
            began = time.perf_counter()
        if stop is not None and stop.stopped:
            return time.perf_counter() - (began if began is not None else t0)
        if began is not None and time.perf_counter() - began >= allowed:
            return time.perf_counter() - began


def _reported(d: Path, seconds: float, status: str) -> MilpOutcome:
    """The outcome of an ended solve from what it reported (see :func:`_main`)."""
    # Whole records only: the child may have been ended in the middle of one.
    flat = np.fromfile(d / "trace.f64") if (d / "trace.f64").exists() else np.empty(0)
    trace = [tuple(map(float, p)) for p in flat[:flat.size - flat.size % 3].reshape(-1, 3)]
    x = np.load(d / "incumbent.npy") if (d / "incumbent.npy").exists() else None
    objective = min((p[1] for p in trace), default=math.inf) if x is not None else math.nan
    bound = max((p[2] for p in trace), default=-math.inf)
    gap = abs(objective - bound) / max(1.0, abs(objective)) if x is not None else math.inf
    return MilpOutcome(x=x, objective=objective, bound=bound, gap=gap, status=status,
                       optimal=False, wall_s=seconds, nodes=-1, trace=tuple(trace))


def _main(directory: str, parent: int | None = None) -> int:
    """The child: solve ``DIR/model.pkl``; for an exact solve append each new point of the
    trace to ``trace.f64`` (three doubles), write ``incumbent.npy`` at each new incumbent and
    ``outcome.pkl`` at the end (both atomically, so that an ended child leaves whole files);
    for an LP (:class:`~invswarm.engine.lp.LpOptions`) ``outcome.pkl`` only; or
    ``error.txt``. Exits when the process ``parent`` (if given) is gone: killed before it
    could end the child, whose solve may hold gigabytes."""
    d = Path(directory)
    if parent is not None:
        threading.Thread(target=_exit_without, args=(parent,), daemon=True).start()
    try:
        arrays, opts, start = pickle.loads((d / "model.pkl").read_bytes())
        h = highs_of(arrays)
        if isinstance(opts, LpOptions):
            write_atomic(d / "outcome.pkl", pickle.dumps(run_lp(h, opts), protocol=5),
                         sync=False)
            return 0
        # Appended, not rewritten: a long search finds thousands of points.
        with open(d / "trace.f64", "ab", buffering=0) as points:

            def on_point(point, x):
                # The incumbent before its point: an ended child's objective is then never
                # below its incumbent's cost.
                if x is not None:
                    buf = io.BytesIO()
                    np.save(buf, x)
                    write_atomic(d / "incumbent.npy", buf.getvalue(), sync=False)
                points.write(np.asarray(point, np.float64).tobytes())

            (d / "started").touch()
            if start is not None and opts.complete:
                start = complete(highs_of(arrays), start, replace(
                    opts, time_limit=opts.complete * opts.time_limit)) or start
            out = run(h, opts, start, on_point=on_point)
        write_atomic(d / "outcome.pkl", pickle.dumps(out, protocol=5), sync=False)
        return 0
    except Exception:
        write_atomic(d / "error.txt", traceback.format_exc(), sync=False)
        return 1


def _exit_without(parent: int) -> None:
    """End this process once ``parent`` has exited (this process is then adopted)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


if __name__ == "__main__":
    # The parent decides when a solve ends: Ctrl-C on a terminal reaches the whole process
    # group, and the parent ends this child itself, with what it reported.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(_main(sys.argv[1], int(sys.argv[2])))
