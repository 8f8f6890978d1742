"""A thin model builder for HiGHS: columns and sparse rows gathered in arrays, passed at once."""

from __future__ import annotations

import math
import os
import sys
import time
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from .termination import StopToken

INF = highspy.kHighsInf


class BuildStopped(Exception):
    """A model's build was ended from outside (:class:`ModelBuilder` ``ended``)."""


#: Share of a build's time that freeing its partial model takes, at most (the maps from its
#: decisions to columns; the builder's own arrays are freed at once): a build that must end
#: by a deadline ends that much before it.
FREE_SHARE = 0.05
#: Share of a build's time that handing the model to HiGHS in a child process takes (copying
#: its arrays, pickling them, the child reading them and passing them to HiGHS), at most.
HANDOFF_SHARE = 0.15
#: Share of an LP's build time that handing it to HiGHS (in a child process for a large one)
#: and HiGHS's start (presolve, scaling, the simplex's first factorization, none of which
#: looks at the clock) take, at most (on the SFI relaxation of the bench's 30 x 10 x 52
#: instance).
LP_START_SHARE = 1.5


def ended_at(until: float | None, stop: StopToken | None = None, share: float = FREE_SHARE
             ) -> Callable[[], bool]:
    """An ``ended`` for a :class:`ModelBuilder` made now: True once ``stop`` is set, or once
    ``time.perf_counter()`` is so near ``until`` (None: never) that what follows the build
    (``share`` of the time since: freeing it, :data:`FREE_SHARE`; handing it on,
    :data:`HANDOFF_SHARE`; an LP's start, :data:`LP_START_SHARE`) would take the rest."""
    until = math.inf if until is None else until
    began = time.perf_counter()

    def ended() -> bool:
        now = time.perf_counter()
        return (stop is not None and stop.stopped) or now + share * (now - began) >= until

    return ended


def built_within(build: Callable, until: float | None, stop: StopToken | None,
                 share: float):
    """``build(ended=...)``'s model (``ended``: :func:`ended_at` of ``until``, ``stop`` and
    ``share``, for the model's builder), or None when the build was ended, or ended so late
    that what must follow it (``share`` of its time) would pass ``until``."""
    ended = ended_at(until, stop, share)
    try:
        model = build(ended=ended)
    except BuildStopped:
        return None
    return None if ended() else model


def solve_until(opts: MilpOptions) -> float:
    """The ``time.perf_counter()`` instant by which a solve with ``opts`` must end: its
    ``deadline`` (a ``time.time()`` instant) or its time limit from now, whichever is first
    (the model's build counts against both)."""
    left = opts.time_limit
    if opts.deadline is not None:
        left = min(left, opts.deadline - time.time())
    return time.perf_counter() + left


class ModelBuilder:
    """Columns (bounds, cost, integrality) and rows (sparse, two-sided) of a MILP.

    Everything is kept in flat typed arrays (:mod:`array`) as it is added: handing a model of
    millions of nonzeros to HiGHS (:meth:`arrays`) is then a copy, and freeing it takes no
    time, where Python lists of numbers would take a share of the build for each.

    With ``ended`` (a function of no arguments), columns are added only while it returns
    False (it is asked every :data:`LOOK_EVERY` columns), else :class:`BuildStopped` is
    raised: a caller with a deadline or a stop does not wait for a large model's build.
    """

    #: Columns added between two looks at ``ended``.
    LOOK_EVERY = 256

    def __init__(self, ended: Callable[[], bool] | None = None):
        self.ended = ended
        self._lb = array("d")
        self._ub = array("d")
        self._int = array("i")  # HighsVarType: 0 continuous, 1 integer
        self.cost = array("d")
        # int32, as HiGHS takes them: a model past its range fails here, not in HiGHS
        self._starts = array("i", [0])
        self._idx = array("i")
        self._val = array("d")
        self._rlo = array("d")
        self._rhi = array("d")
        self.offset = 0.0

    @property
    def n_cols(self) -> int:
        return len(self._lb)

    @property
    def n_rows(self) -> int:
        return len(self._rlo)

    @property
    def n_nonzeros(self) -> int:
        return len(self._idx)

    def col(self, lb: float = 0.0, ub: float = INF, cost: float = 0.0,
            integer: bool = False) -> int:
        """Add one column; returns its index."""
        if self.ended is not None and len(self._lb) % self.LOOK_EVERY == 0 and self.ended():
            raise BuildStopped(f"the build was ended at {self.n_cols} columns")
        self._lb.append(lb)
        self._ub.append(ub)
        self.cost.append(cost)
        self._int.append(bool(integer))
        return len(self._lb) - 1

    def binary(self, cost: float = 0.0) -> int:
        return self.col(0.0, 1.0, cost, True)

    def fix(self, j: int, value: float) -> None:
        self._lb[j] = value
        self._ub[j] = value

    def upper(self, j: int) -> float:
        return self._ub[j]

    def row(self, idx, val, lo: float = -INF, hi: float = INF) -> None:
        """Add ``lo <= sum(val * x[idx]) <= hi``; repeated indices are summed. ``idx`` and
        ``val`` are sequences (lists or arrays) of the same length."""
        n = len(idx)
        if len(val) != n:
            raise ValueError(f"val: {len(val)} coefficients for {n} columns")
        _append(self._idx, idx, np.int32)
        _append(self._val, val, np.float64)
        self._starts.append(len(self._idx))
        self._rlo.append(lo)
        self._rhi.append(hi)

    def arrays(self, relax: bool = False) -> tuple:
        """The model as the arguments of ``Highs.passModel`` (numbers and arrays: they pickle
        fast, for :func:`highs_of` in another process); with ``relax``, every column
        continuous (the linear relaxation)."""
        integrality = (np.zeros(self.n_cols, dtype=np.int32) if relax
                       else _copy(self._int, np.int32))
        return (self.n_cols, self.n_rows, self.n_nonzeros, int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize), self.offset,
                _copy(self.cost, np.float64), _copy(self._lb, np.float64),
                _copy(self._ub, np.float64), _copy(self._rlo, np.float64),
                _copy(self._rhi, np.float64), _copy(self._starts, np.int32),
                _copy(self._idx, np.int32), _copy(self._val, np.float64), integrality)

    def violation(self, x: np.ndarray) -> float:
        """The largest amount by which the point ``x`` (shape (n_cols,)) breaks a column's
        bounds or a row's (in the rows' and columns' own units; integrality not checked)."""
        lb, ub = _copy(self._lb, np.float64), _copy(self._ub, np.float64)
        worst = max(0.0, float(np.max(lb - x, initial=0.0)), float(np.max(x - ub, initial=0.0)))
        idx, val = _copy(self._idx, np.int32), _copy(self._val, np.float64)
        rows = np.repeat(np.arange(self.n_rows), np.diff(_copy(self._starts, np.int32)))
        act = np.bincount(rows, weights=val * x[idx], minlength=self.n_rows)
        return max(worst, float(np.max(_copy(self._rlo, np.float64) - act, initial=0.0)),
                   float(np.max(act - _copy(self._rhi, np.float64), initial=0.0)))

    def to_highs(self, relax: bool = False) -> highspy.Highs:
        """The model in a new, silent HiGHS instance (:meth:`arrays`)."""
        return highs_of(self.arrays(relax))


def _append(to: array, values, dtype) -> None:
    """Append ``values`` (a list or an array) to ``to``, whose items are of ``dtype``."""
    if isinstance(values, np.ndarray):
        to.frombytes(np.ascontiguousarray(values, dtype).tobytes())
    else:
        to.extend(values)


def _copy(values: array, dtype) -> np.ndarray:
    """A NumPy copy of ``values`` (items of ``dtype``): the builder may grow after."""
    return np.frombuffer(values, dtype).copy() if len(values) else np.empty(0, dtype)


def highs_of(arrays: tuple) -> highspy.Highs:
    """A new, silent HiGHS instance holding the model of :meth:`ModelBuilder.arrays`."""
    with _quiet_stdout():
        h = highspy.Highs()
    h.silent()
    # The arrays in one call: setting them on a HighsLp copies them element by element.
    if h.passModel(*arrays) == highspy.HighsStatus.kError:
        # HiGHS then holds an empty model, which would "solve" to a wrong answer. The formats'
        # ranges keep every coefficient below HiGHS's limit (1e15), so this is a bug.
        raise RuntimeError("HiGHS refused the model (a coefficient or bound out of its range)")
    return h


@contextmanager
def _quiet_stdout():
    """Silence file descriptor 1: HiGHS prints its banner there when the first Highs is made,
    which would corrupt JSON written to stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@dataclass(frozen=True)
class MilpOptions:
    """Options of an exact solve.

    Attributes
    ----------
    time_limit : float
        Wall-clock limit in seconds.
    gap : float
        Relative MIP gap at which the solver stops (HiGHS ``mip_rel_gap``).
    threads : int
        HiGHS threads (0: HiGHS decides).
    verbose : bool
        Print HiGHS's log.
    deadline : float or None
        ``time.time()`` by which the solve must have ended, everything included (the caller's
        time limit counted from its call): HiGHS gets what is left of it, if less than
        ``time_limit``, and :func:`invswarm.engine.milp_process.solve` ends the solver at it
        rather than after a grace. None: ``time_limit`` from the solve's start.
    complete : float
        Share of ``time_limit`` that :func:`invswarm.engine.milp_process.solve` may spend
        first on :func:`complete` of a partial start (0: the start goes to HiGHS as it is).
    """

    time_limit: float = 60.0
    gap: float = 1e-4
    threads: int = 0
    verbose: bool = False
    deadline: float | None = None
    complete: float = 0.0

    def __post_init__(self):
        if not (self.time_limit > 0):
            raise ValueError(f"time_limit: must be > 0, got {self.time_limit!r}")
        if not (0 <= self.gap < 1):
            raise ValueError(f"gap: must lie in [0, 1), got {self.gap!r}")
        if self.threads < 0:
            raise ValueError(f"threads: must be >= 0, got {self.threads!r}")
        if not (0 <= self.complete < 1):
            raise ValueError(f"complete: must lie in [0, 1), got {self.complete!r}")


@dataclass(frozen=True, eq=False)
class MilpOutcome:
    """What HiGHS returned: the column values, objective, bound, gap, status, wall time,
    branch-and-bound nodes (-1: not known, for a solve ended by
    :func:`invswarm.engine.milp_process.solve`) and ``trace``: ``(seconds, incumbent,
    bound)`` whenever either improved."""

    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    status: str
    optimal: bool
    wall_s: float
    nodes: int
    trace: tuple = ()


#: Share of the time left to a deadline, and seconds, that HiGHS does not get: it looks at its
#: clock between steps of its own and stops some way past its limit.
DEADLINE_MARGIN = 0.01
MIN_MARGIN_S = 0.1


def interrupt_on(h: highspy.Highs, stop: StopToken | None) -> None:
    """Make ``h``'s solves (simplex, interior point, branch and bound) end at HiGHS's next
    look for an interrupt once ``stop`` is set; their status is then "Interrupt by user"."""
    if stop is None:
        return

    def check(event) -> None:
        if stop.stopped:
            event.interrupt()

    for callback in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
        callback.subscribe(check)


def complete(h: highspy.Highs, start: tuple[np.ndarray, np.ndarray], opts: MilpOptions,
             stop: StopToken | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Every column of a solution of ``h``'s model in which the columns of ``start``
    (indices, values) take its values, or None when HiGHS finds none within ``opts`` (or
    before ``stop``). ``h``'s bounds are changed: give it a model of its own.

    HiGHS takes a complete solution as its first incumbent at once; a partial one sends it
    into a search of its own to complete it first, which on larger models takes up its whole
    time limit and yields nothing. With the start's columns fixed, what is left (the
    dispatch of each stock, say) solves in a fraction of the time."""
    cols, vals = start
    h.changeColsBounds(int(cols.size), np.asarray(cols, np.int32),
                       np.asarray(vals, np.float64), np.asarray(vals, np.float64))
    interrupt_on(h, stop)
    out = run(h, opts)
    return None if out.x is None else (np.arange(out.x.size), out.x)


def run(h: highspy.Highs, opts: MilpOptions, start: tuple[np.ndarray, np.ndarray] | None = None,
        *, on_point: Callable | None = None) -> MilpOutcome:
    """Solve a model built by :class:`ModelBuilder` with the given options.

    ``start`` is a partial solution (column indices, values) that HiGHS completes into a
    first incumbent. ``on_point(point, x)`` is called with each point of the trace (see
    :class:`MilpOutcome`) as it is found, and ``x``, the new incumbent's column values, or
    None where only the bound rose.
    """
    limit = opts.time_limit
    if opts.deadline is not None:
        # HiGHS looks at its clock between steps: it is left a margin to stop by itself.
        limit = min(limit, max(1e-3, (opts.deadline - time.time()) * (1 - DEADLINE_MARGIN)
                               - MIN_MARGIN_S))
    h.setOptionValue("time_limit", float(limit))
    h.setOptionValue("mip_rel_gap", float(opts.gap))
    # Big-M rows multiply integrality slack by the M; a tight tolerance keeps the dispatch
    # exact to well under the 1e-6 the model requires.
    h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    h.setOptionValue("primal_feasibility_tolerance", 1e-9)
    if opts.threads:
        h.setOptionValue("threads", int(opts.threads))
    if opts.verbose:
        h.setOptionValue("output_flag", True)
        h.setOptionValue("log_to_console", True)
    if start is not None:
        idx, val = start
        h.setSolution(int(idx.size), np.asarray(idx, np.int32), np.asarray(val, np.float64))
    trace: list[tuple[float, float, float]] = []

    def record(event, improving: bool):
        d = event.data_out
        inc = float(d.objective_function_value) if math.isfinite(d.objective_function_value) \
            else math.inf
        point = (float(d.running_time), inc, float(d.mip_dual_bound))
        if not trace or point[1] < trace[-1][1] or point[2] > trace[-1][2]:
            trace.append(point)
            if on_point is not None:
                on_point(point, np.array(d.mip_solution) if improving else None)

    h.cbMipImprovingSolution.subscribe(lambda event: record(event, True))
    h.cbMipInterrupt.subscribe(lambda event: record(event, False))
    t0 = time.perf_counter()
    if h.run() == highspy.HighsStatus.kError:
        # HiGHS solved nothing; say so rather than return an empty outcome
        raise RuntimeError(f"HiGHS refused to solve ({h.modelStatusToString(h.getModelStatus())}"
                           f"); with a 'threads' option other than the first solve's in this "
                           f"thread, that is HiGHS's scheduler")
    wall = time.perf_counter() - t0
    status = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value) if has_x else None
    return MilpOutcome(
        x=x,
        objective=float(info.objective_function_value) if has_x else float("nan"),
        bound=float(info.mip_dual_bound),
        gap=float(info.mip_gap) if has_x else float("inf"),
        status=h.modelStatusToString(status),
        optimal=status == highspy.HighsModelStatus.kOptimal,
        wall_s=wall,
        nodes=int(info.mip_node_count),
        trace=tuple(trace),
    )
