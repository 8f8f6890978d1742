"""Islands: independent swarms run through joblib, with the best migrating between epochs.

One level of parallelism at a time: each island task runs with one Numba thread when islands
run in worker processes, and the kernels are compiled (and their cache filled) in the parent
before any worker starts. With an iteration budget the result depends only on the seed: the
islands' seeds derive from it, migration happens at fixed iterations in island order, and the
kernels' random numbers are keyed by (seed, iteration, particle, dimension).
"""

from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor

from .pso import SCHEDULE_ITER, PsoOptions, PsoOutcome, SwarmState, check_seeds, initial_swarm, run


@dataclass(frozen=True)
class IslandOptions:
    """How islands run.

    Attributes
    ----------
    islands : int
        Number of swarms (at least ``n_jobs`` is useful).
    n_jobs : int
        joblib workers (1: in this process, in turn).
    backend : str or None
        joblib backend: ``"loky"`` (default, one machine) or ``"dask"`` (a dask.distributed
        client must exist; see ``engine/cluster.py``). None: the caller's
        ``joblib.parallel_config``.
    migrate_every : int
        Iterations between migrations (the best particle of island i-1 replaces the worst
        personal best of island i). Each migration is a round trip to the workers, which
        costs a few milliseconds; the islands benchmark of ``make bench``
        (``benchmarks/test_pso_bench.py``) measures two workers against one at this default
        and at 25 iterations, the default before (steel T = 24, 64 particles: there each
        25-iteration epoch is about 25 ms of work per worker).
    """

    islands: int = 2
    n_jobs: int = 1
    backend: str | None = "loky"
    migrate_every: int = 250

    def __post_init__(self):
        if self.islands < 1:
            raise ValueError(f"islands: must be >= 1, got {self.islands}")
        if self.n_jobs < 1:
            raise ValueError(f"n_jobs: must be >= 1, got {self.n_jobs}")
        if self.migrate_every < 1:
            raise ValueError(f"migrate_every: must be >= 1, got {self.migrate_every}")
        if self.backend not in (None, "loky", "dask", "threading", "multiprocessing"):
            raise ValueError(f"backend: unknown joblib backend {self.backend!r}")


def island_seed(seed: int, island: int) -> int:
    """Seed of one island, derived from the run's seed."""
    return int(np.random.SeedSequence([seed, island]).generate_state(1, np.uint64)[0] >> 1)


# The problem of the latest run, kept by each process from one epoch to the next (building
# it took 2.5 ms of each 64 x 25-iteration epoch of steel T = 24, and grows with the instance).
_built: dict = {}


def _problem(make_problem, instance, run_id):
    """``make_problem(instance)``, built once per run (``run_id``) in each process."""
    if _built.get("run") != run_id:
        _built.clear()
        _built.update(run=run_id, problem=make_problem(instance))
    return _built["problem"]


def _epoch(make_problem, instance, run_id, seeds, state, opts, it0, n_iter, schedule_iter,
           parent_pid, time_limit=None):
    """One island's iterations between two migrations; ``time_limit`` (seconds) ends it early
    in a time-limited run. In a worker process (any other than ``parent_pid``, whatever the
    backend and the number of workers) Numba gets one thread: one level of parallelism."""
    if os.getpid() != parent_pid:
        import numba

        numba.set_num_threads(1)
    problem = _problem(make_problem, instance, run_id)
    nfev = 0
    if state is None:
        state = initial_swarm(problem, opts, seeds)
        nfev = opts.swarm_size
    out, state = run(problem, replace(opts, max_iter=n_iter, time_limit=time_limit,
                                      max_evals=None, stall_iter=None),
                     state=state, it0=it0, schedule_iter=schedule_iter)
    return state, nfev + out.nfev


def run_islands(make_problem, instance, opts: PsoOptions, iopts: IslandOptions,
                *, seeds: list[np.ndarray] = (), callback=None) -> PsoOutcome:
    """Run ``iopts.islands`` swarms of ``opts`` with migration; returns the best outcome.

    Parameters
    ----------
    make_problem : callable
        ``make_problem(instance) -> problem``; must be importable (it is sent to workers).
    instance : object
        What ``make_problem`` takes.
    opts : PsoOptions
        Per-island options; the islands' seeds derive from ``opts.seed``. ``max_iter`` is the
        iteration budget of each island; ``time_limit`` also ends an epoch early (iteration
        counts then hold the epochs' nominal lengths; islands beyond ``n_jobs``, which run in
        turn, share the time left).
    seeds : list of ndarray
        Particles placed first in every island's initial swarm.
    callback : callable, optional
        Called after every epoch with ``iteration``, ``evaluations``, ``best``, ``elapsed``;
        returning True cancels.
    """
    t0 = time.perf_counter()
    # Compile (or load from cache) in the parent before workers start.
    run_id = uuid.uuid4().hex
    probe = _problem(make_problem, instance, run_id)
    seeds = check_seeds(seeds, probe.n_var)
    run(probe, PsoOptions(swarm_size=2, max_iter=1))
    island_opts = [replace(opts, seed=island_seed(opts.seed, i)) for i in range(iopts.islands)]
    states: list[SwarmState | None] = [None] * iopts.islands
    total = opts.max_iter
    waves = -(-iopts.islands // min(iopts.n_jobs, iopts.islands))
    it, nfev, message = 0, 0, "max_iter"
    best_hist = []
    with _runner(iopts) as pool:
        while True:
            if total is not None and it >= total:
                break
            # The first epoch always runs, so that every island has a swarm to report (the
            # compile above may have used up a short time limit).
            if opts.time_limit is not None and time.perf_counter() - t0 >= opts.time_limit \
                    and states[0] is not None:
                message = "time_limit"
                break
            n = iopts.migrate_every if total is None else min(iopts.migrate_every, total - it)
            sched = total if total is not None else SCHEDULE_ITER
            # Islands beyond the workers run in turn: each gets its share of the time left.
            left = (None if opts.time_limit is None
                    else max(1e-3, (opts.time_limit - (time.perf_counter() - t0)) / waves))
            results = pool([(make_problem, instance, run_id, seeds, states[i],
                             island_opts[i], it, n, sched, os.getpid(), left)
                            for i in range(iopts.islands)])
            states = [r[0] for r in results]
            nfev += sum(r[1] for r in results)
            it += n
            _migrate(states)
            best = min(float(s.PBf.min()) for s in states)
            best_hist.append((it, best))
            if callback is not None and callback({"iteration": it, "evaluations": nfev,
                                                  "best": best,
                                                  "elapsed": time.perf_counter() - t0}):
                message = "cancelled"
                break
    k = int(np.argmin([s.PBf.min() for s in states]))
    i = states[k].best
    return PsoOutcome(x=states[k].PB[i].copy(), cost=float(states[k].PBf[i]), nit=it, nfev=nfev,
                      wall_s=time.perf_counter() - t0, message=message, history=best_hist)


# Worker processes of the loky executor: one thread for each library that may start a pool,
# the worker being the one level of parallelism (what joblib's loky backend sets when it runs
# as many workers as cores).
_WORKER_ENV = {name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                      "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
# Seconds an idle worker is kept (joblib's value; loky's own 10 s is shorter than a
# local-search phase between two swarm phases, and a worker takes about a second to start).
_IDLE_TIMEOUT = 300


@contextmanager
def _runner(iopts: IslandOptions):
    """A function of a list of :func:`_epoch` argument tuples that runs them and returns their
    results in order.

    With ``backend="loky"`` and several workers the epochs go to joblib's reusable loky
    executor as futures: ``joblib.Parallel`` looks for finished tasks every 10 ms
    (``Parallel._retrieve``), which cost 10 to 20 ms per epoch (two tasks returning swarms of
    64 x 576 took 20 ms through ``Parallel`` and 4 ms as futures). Otherwise (one worker, or
    the caller's or another joblib backend, dask included) through ``joblib.Parallel``.
    """
    if iopts.backend == "loky" and iopts.n_jobs > 1:
        executor = get_reusable_executor(max_workers=iopts.n_jobs, timeout=_IDLE_TIMEOUT,
                                         env=_WORKER_ENV)
        yield lambda tasks: [f.result() for f in [executor.submit(_epoch, *args)
                                                  for args in tasks]]
        return
    kwargs = {"n_jobs": iopts.n_jobs}
    if iopts.backend is not None:
        kwargs["backend"] = iopts.backend
    with Parallel(**kwargs) as pool:
        yield lambda tasks: pool(delayed(_epoch)(*args) for args in tasks)


def _migrate(states: list[SwarmState]) -> None:
    """Ring migration: island i-1's best replaces island i's worst personal best."""
    n = len(states)
    if n < 2:
        return
    bests = [(s.PB[s.best].copy(), float(s.PBf.min())) for s in states]
    for i, s in enumerate(states):
        x, f = bests[(i - 1) % n]
        worst = int(np.argmax(s.PBf))
        if f < s.PBf[worst]:
            s.PB[worst] = x
            s.PBf[worst] = f
