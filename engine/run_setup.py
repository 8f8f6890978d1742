"""How one :func:`~invswarm.engine.solve.solve` call is set up: its options
(:class:`SolveOptions`), turned into each method's options and one budget for the whole run
(docs/embedding.md), its checkpoint, its progress reports, and the status and extras of its
result.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .checkpoint import Checkpoint, run_key
from .errors import InputError, NoSolution
from .milp import MilpOptions
from .parallel import IslandOptions, swarm_evaluations
from .pso import PsoOptions
from .termination import Budget


@dataclass(frozen=True)
class SolveOptions:
    """Options of :func:`solve` (each method reads the ones it uses).

    Attributes
    ----------
    time_limit : float or None
        Seconds (exact: default 60; swarms: with no ``max_iter`` or ``max_evals`` either,
        10).
    gap : float
        Relative gap at which the exact solver stops.
    threads : int or None
        The run's thread budget: its Numba threads, its island workers (``jobs`` is cut to
        it) and the exact solver's threads. None or 0: the CPUs this process may use
        (affinity and cgroup quota); runs side by side in one process share them
        (:mod:`.threads`).
    max_iter : int or None
        Iterations of each swarm (with ``per-period``: of each period's swarm). With ``pso``
        it bounds the whole run: the polish gets as many evaluations as the swarms had
        (:data:`POLISH_EVALS`, docs/embedding.md).
    max_evals : int or None
        ``pso``: evaluations of the whole run, swarms and polish (a move of the local search
        counts as a fraction: see docs/embedding.md); the swarms get a
        ``1 / (1 + POLISH_EVALS)`` share. Other swarm methods: evaluations of each swarm.
    stall_iter : int or None
        Swarm methods: a swarm ends when its best cost has not fallen by a relative 1e-6 in
        this many iterations; ``pso``: so does each phase of the polish, in as many
        iterations' worth of evaluations.
    target : float or None
        ``pso``: the run ends once its best cost is at most this.
    swarm_size : int
    seed : int
    jobs : int
        Workers for the islands of ``pso`` and the parts of ``decompose``.
    islands : int
        Number of swarms. It is not tied to ``jobs``, so that a seed gives the same result
        whatever the number of workers.
    migrate_every : int
        ``pso``: iterations between two migrations of the islands' bests.
    topology : {"gbest", "ring"}
        ``pso`` and ``per-period``: each particle follows the swarm's best, or its ring
        neighbourhood's.
    backend : {"loky", "dask"}
        Where those workers run: loky processes on this machine, or the workers of the
        running dask client (``engine/cluster.py``).
    verbose : bool
        Print the exact solver's log.
    checkpoint : str or None
        ``pso``: a file where the swarms' state is saved at each migration and when they end,
        and resumed from when it is there (docs/embedding.md); removed when the run ends by
        its own rule, kept when it is stopped.
    """

    time_limit: float | None = None
    gap: float = 1e-4
    threads: int | None = None
    max_iter: int | None = None
    max_evals: int | None = None
    stall_iter: int | None = None
    target: float | None = None
    # A swarm's and the islands' defaults are those of their own options (stated once).
    swarm_size: int = PsoOptions.swarm_size
    seed: int = 0
    jobs: int = 1
    islands: int = 2
    migrate_every: int = IslandOptions.migrate_every
    topology: str = PsoOptions.topology
    backend: str = "loky"
    verbose: bool = False
    checkpoint: str | None = None


@contextmanager
def warming(warm):
    """Run ``warm`` (kernels loaded from the cache, or compiled) in a thread while the block
    runs: the exact solver runs in a child process, and the plan it returns is scored by the
    kernels afterwards, inside the time limit."""
    thread = threading.Thread(target=warm, name="invswarm-warmup", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def checked_options(make, **kw):
    """Build an options dataclass, turning its ValueError into an InputError on the field."""
    try:
        return make(**kw)
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise InputError(field, problem) from None


def milp_options(opts: SolveOptions, budget: Budget) -> MilpOptions:
    """The exact solver's options: its time limit counts from the call (``deadline``)."""
    time_limit = opts.time_limit or 60.0
    deadline = time.time() + time_limit - (time.perf_counter() - budget.start)
    return checked_options(MilpOptions, time_limit=time_limit, gap=opts.gap,
                           threads=budget.threads.count, verbose=opts.verbose,
                           deadline=deadline)


def exact_figures(plan, out, mo: MilpOptions) -> tuple[str, float, float, dict]:
    """Status, objective, bound and result extras of an exact solve; no plan raises."""
    if plan is None:
        raise NoSolution(f"the exact solver found no plan ({out.status}) within "
                         f"{mo.time_limit:g} s")
    extra = {"solver": {"name": "HiGHS", "status": out.status, "nodes": out.nodes,
                        "solve_s": out.wall_s, "time_limit": mo.time_limit,
                        "gap_limit": mo.gap},
             "history": {"exact": [[t, finite(inc), finite(b)] for t, inc, b in out.trace]}}
    return exact_status(out), out.objective, out.bound, extra


def exact_status(out) -> str:
    """The result's status (:data:`~invswarm.engine.result.STATUSES`) of the exact solver's
    outcome ``out``; HiGHS's own text stays in the result's ``extra["solver"]["status"]``."""
    if out.optimal:
        return "optimal"
    text = out.status.lower()
    if "time limit" in text:
        return "time_limit"
    if "interrupt" in text or "stopped" in text:
        return "stopped"
    return "not_optimal"


#: The polish's evaluations per evaluation of the swarms in a ``pso`` run bounded by
#: iterations or evaluations (docs/embedding.md, the budget's Decision).
POLISH_EVALS = 1.0


def swarm_budget(opts: SolveOptions, po: PsoOptions, io: IslandOptions, budget: Budget
                 ) -> Budget:
    """The run's budget for ``pso``: the swarm's time limit (10 s when the caller gave no time,
    iteration or evaluation budget), still counted from the call, and the evaluations of the
    whole run: ``max_evals``, or with ``max_iter`` the swarms' evaluations times
    ``1 + POLISH_EVALS``, whichever is less."""
    max_evals = opts.max_evals
    if opts.max_iter is not None:
        by_iter = swarm_evaluations(po, io) * (1 + POLISH_EVALS)
        max_evals = by_iter if max_evals is None else min(max_evals, by_iter)
    stall = None if opts.stall_iter is None else opts.stall_iter * po.swarm_size * io.islands
    return run_budget(opts, budget, po.time_limit, max_evals, stall)


def run_budget(opts: SolveOptions, budget: Budget, time_limit: float | None,
               max_evals: float | None, stall_evals: float | None = None) -> Budget:
    """The whole run's budget: ``time_limit`` counted from the call (``budget.start``), the
    evaluation and stall budgets given, and the caller's target, stop, ``on_best`` and threads
    (those of ``budget``)."""
    return checked_options(Budget, time_limit=time_limit, stop=budget.token,
                           start=budget.start, max_evals=max_evals, stall_evals=stall_evals,
                           target=opts.target, on_best=budget.on_best, threads=budget.threads)


def swarm_options(opts: SolveOptions, budget: Budget, whole_run: bool = False
                  ) -> tuple[PsoOptions, IslandOptions]:
    """The swarm and island options (10 s when no time, iteration or evaluation budget;
    no more workers than the run's threads). ``whole_run``: ``max_evals`` is the run's,
    swarms and polish (``pso``)."""
    time_limit = opts.time_limit
    if time_limit is None and opts.max_iter is None and opts.max_evals is None:
        time_limit = 10.0
    max_evals = opts.max_evals
    if whole_run and max_evals is not None:
        max_evals = max(1, int(max_evals / (1 + POLISH_EVALS)))
    po = checked_options(PsoOptions, swarm_size=opts.swarm_size, max_iter=opts.max_iter,
                         max_evals=max_evals, time_limit=time_limit,
                         stall_iter=opts.stall_iter, seed=opts.seed, topology=opts.topology,
                         history=True)
    jobs = opts.jobs if opts.jobs < 1 else min(opts.jobs, budget.threads.count)
    io = checked_options(IslandOptions, islands=opts.islands, jobs=jobs, backend=opts.backend,
                         migrate_every=opts.migrate_every)
    return po, io


def checkpoint_of(inst, opts: SolveOptions, pins_doc: Any = None) -> Checkpoint | None:
    """The run's checkpoint, named by the instance, the pins and the options that shape the
    search (not the workers, the time limit or the threads: a run may resume with others)."""
    if opts.checkpoint is None:
        return None
    shaping = {k: getattr(opts, k) for k in ("max_iter", "max_evals", "stall_iter", "target",
                                             "swarm_size", "seed", "islands",
                                             "migrate_every", "topology")}
    return Checkpoint(opts.checkpoint, run_key(inst.to_json(), pins_doc, "pso", shaping))


def reporter(callback, budget: Budget):
    """``callback`` (or None) fed with the run's figures: evaluations of the whole run, seconds
    from the call and the phase running (the swarms report their own)."""
    if callback is None:
        return None

    def report(info: dict):
        return callback({**{k: v for k, v in info.items() if k != "x"},
                         "evaluations": budget.evaluations, "bound": info.get("bound"),
                         "elapsed": time.perf_counter() - budget.start, "phase": budget.phase,
                         "time_left": finite(budget.left()),
                         "evaluations_left": finite(budget.evals_left())})

    return report


def exact_reporter(callback, budget: Budget, mo: MilpOptions):
    """``callback`` (or None) fed with the exact solver's trace points: its incumbent's cost
    (None before the first) and its bound."""
    if callback is None:
        return None

    def report(point: tuple) -> None:
        _, incumbent, bound = point
        callback({"evaluations": None, "best": finite(incumbent), "bound": finite(bound),
                  "elapsed": time.perf_counter() - budget.start, "phase": "exact",
                  "time_left": max(0.0, mo.deadline - time.time()),
                  "evaluations_left": None})

    return report


def swarm_figures(info: dict, opts: SolveOptions) -> tuple[str, dict]:
    """The status and result extras of a swarm run (the evaluation budget that ``max_iter``
    implies ends the run as ``max_iter``)."""
    status = info.get("message") or "done"
    if status == "max_evals" and opts.max_evals is None:
        status = "max_iter"
    extra = {"swarm": {k: v for k, v in info.items() if k != "history"},
             "history": {"pso": [list(h) for h in info.get("history", [])]}}
    return status, extra
