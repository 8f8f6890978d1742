"""Islands: independent swarms run through joblib, with the best migrating between epochs.

With loky and a worker per island, each island runs in one task for the whole run and only
the best particles cross between epochs (:class:`ResidentIslands`); on dask every epoch is one
task per island, its swarm kept on its worker (:class:`DaskIslands`); otherwise, and in a run
that saves checkpoints, every epoch is one task per island, its swarm sent to the worker and
back (:class:`EpochTasks`).

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
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from .island_tasks import (
    DaskIslands,
    EpochTasks,
    ResidentIslands,
    active_dask_client,
    built_problem,
)
from .pso import (
    SCHEDULE_ITER,
    PsoOptions,
    PsoOutcome,
    check_seeds,
    gain_below,
    run,
)
from .termination import Budget, StopToken


@dataclass(frozen=True)
class IslandOptions:
    """How islands run.

    Attributes
    ----------
    islands : int
        Number of swarms (at least ``jobs`` is useful).
    jobs : int
        joblib workers (1: in this process, in turn).
    backend : str or None
        joblib backend: ``"loky"`` (default, one machine) or ``"dask"`` (a dask.distributed
        client must exist; see ``engine/cluster.py``). None: the caller's
        ``joblib.parallel_config``.
    migrate_every : int
        Iterations between migrations (the best particle of island i-1 replaces the worst
        personal best of island i). With loky and a worker per island the islands stay in
        their workers and only best particles cross (:class:`ResidentIslands`); otherwise each
        migration sends every swarm to its worker and back (:class:`EpochTasks`). The islands
        benchmark of ``make bench`` (``benchmarks/test_pso_bench.py``) measures two workers
        against one at this default and at 25 iterations.
    """

    islands: int = 2
    jobs: int = 1
    backend: str | None = "loky"
    migrate_every: int = 250

    def __post_init__(self):
        if self.islands < 1:
            raise ValueError(f"islands: must be >= 1, got {self.islands}")
        if self.jobs < 1:
            raise ValueError(f"jobs: must be >= 1, got {self.jobs}")
        if self.migrate_every < 1:
            raise ValueError(f"migrate_every: must be >= 1, got {self.migrate_every}")
        if self.backend not in (None, "loky", "dask", "threading", "multiprocessing"):
            raise ValueError(f"backend: unknown joblib backend {self.backend!r}")


def swarm_evaluations(opts: PsoOptions, iopts: IslandOptions) -> int | None:
    """The evaluations the islands of a run may make, their initial swarms included (None:
    neither an iteration nor an evaluation budget)."""
    by_iter = None if opts.max_iter is None else \
        opts.swarm_size * iopts.islands * (opts.max_iter + 1)
    limits = [v for v in (by_iter, opts.max_evals) if v is not None]
    return min(limits) if limits else None


def island_seed(seed: int, island: int) -> int:
    """Seed of one island, derived from the run's seed."""
    return int(np.random.SeedSequence([seed, island]).generate_state(1, np.uint64)[0] >> 1)


def swarm_phase(problem, make_problem, instance, opts: PsoOptions, iopts: IslandOptions, *,
                seeds: list[np.ndarray] = (), callback=None, stop: StopToken | None = None,
                budget: Budget | None = None, checkpoint=None) -> PsoOutcome:
    """The swarm phase of a run, whether islands run or not: one swarm on ``problem`` in this
    process when ``iopts`` asks for one island on one worker and there is no checkpoint
    (nothing to migrate or save), else :func:`run_islands` of ``make_problem(instance)``.
    The arguments after ``iopts`` are :func:`run_islands`'s; the run's ``budget`` and its stop
    token bind either way."""
    if iopts.islands == 1 and iopts.jobs == 1 and checkpoint is None:
        out, _ = run(problem, opts, seeds=seeds, callback=callback, budget=budget)
        return out
    return run_islands(make_problem, instance, opts, iopts, seeds=seeds, callback=callback,
                       stop=stop, budget=budget, checkpoint=checkpoint)


def run_islands(make_problem, instance, opts: PsoOptions, iopts: IslandOptions,
                *, seeds: list[np.ndarray] = (), callback=None,
                stop: StopToken | None = None, budget: Budget | None = None,
                checkpoint=None) -> PsoOutcome:
    """Run ``iopts.islands`` swarms of ``opts`` with migration; returns the best outcome.

    Parameters
    ----------
    make_problem : callable
        ``make_problem(instance) -> problem``; must be importable (it is sent to workers).
    instance : object
        What ``make_problem`` takes.
    opts : PsoOptions
        Per-island options; the islands' seeds derive from ``opts.seed``. Terminations:
        ``max_iter``, the iteration budget of each island; ``max_evals``, of all islands
        together (an epoch is shortened to fit); ``time_limit``, which also ends an epoch
        early (iteration counts then hold the epochs' nominal lengths; islands beyond
        ``jobs``, which run in turn, share the time left); ``stall_iter``, checked at the
        end of each epoch: no gain of relative size ``ftol`` in the best of all islands for
        that many iterations. The first epoch always runs.
    seeds : list of ndarray
        Particles placed first in every island's initial swarm.
    callback : callable, optional
        Called after every epoch with ``iteration``, ``evaluations``, ``best``, ``x`` (the
        best particle), ``elapsed``; returning True cancels.
    stop : StopToken, optional
        When set, the run ends after the epoch running (its reason is the message); epochs
        run in this process (one worker) end at their next chunk of iterations.
    budget : Budget, optional
        The whole run's: charged the islands' evaluations and told their best cost after each
        epoch; its termination ends the run after the epoch running (an epoch is shortened to
        the evaluations it has left).
    checkpoint : invswarm.engine.checkpoint.Checkpoint, optional
        Saved after every epoch and when the swarms end, and resumed from when its file is
        there (see :mod:`invswarm.engine.checkpoint`). The islands then run epoch by epoch
        (:class:`EpochTasks`, whose swarms come back to this process after each epoch: the same
        results as :class:`ResidentIslands`).
    """
    t0 = time.perf_counter()
    # Compile (or load from cache) in the parent before workers start.
    run_id = uuid.uuid4().hex
    probe = built_problem(make_problem, instance, run_id)
    seeds = check_seeds(seeds, probe.n_var)
    run(probe, PsoOptions(swarm_size=2, max_iter=1))
    island_opts = [replace(opts, seed=island_seed(opts.seed, i)) for i in range(iopts.islands)]
    total = opts.max_iter
    waves = -(-iopts.islands // min(iopts.jobs, iopts.islands))
    it, nfev, message = 0, 0, "max_iter"
    best_hist = []
    per_iter = opts.swarm_size * iopts.islands  # evaluations per iteration of all islands
    ref, last_gain = None, 0  # the stall termination's last gain, as in `run`
    migrants = [None] * iopts.islands
    common = (make_problem, instance, run_id, seeds)
    resident = (iopts.backend == "loky" and 1 < iopts.jobs and iopts.islands <= iopts.jobs
                and checkpoint is None)
    kept: tuple | None = None  # the best (x, cost) the epochs reported
    saved = checkpoint.load(iopts.islands) if checkpoint is not None else None
    if saved is not None:
        restored, migrants, meta = saved
        it, nfev = meta["it"], meta["nfev"]
        best_hist = [tuple(h) for h in meta["history"]]
        ref, last_gain = meta["ref"], meta["last_gain"]
        kept = (np.array(meta["kept_x"]), meta["kept_cost"]) if meta["kept_x"] else None
        if budget is not None:
            budget.restore(meta["budget"])
    saved_at = it

    def save(states) -> None:
        checkpoint.save(states, migrants, {
            "it": it, "nfev": nfev, "history": best_hist, "ref": ref, "last_gain": last_gain,
            "kept_x": [] if kept is None else kept[0].tolist(),
            "kept_cost": None if kept is None else kept[1],
            "budget": None if budget is None else budget.figures()})

    if budget is not None and budget.left() == 0.0:
        # Out of time before the first epoch (a short time limit spent on the warm-up and the
        # seeds): the seeds are what the run has.
        x, cost = _best_known(probe, seeds, None, opts)
        return PsoOutcome(x=x, cost=cost, nit=0, nfev=0, wall_s=time.perf_counter() - t0,
                          message=budget.reason() or "time_limit", history=[])
    try:
        client = active_dask_client(iopts.backend) if checkpoint is None else None
        runner = (ResidentIslands if resident else
                  partial(DaskIslands, client) if client is not None else EpochTasks)
        with runner(iopts, common, island_opts, stop) as islands:
            if saved is not None:
                islands.states = restored
            while True:
                if checkpoint is not None and it > saved_at:
                    save(islands.states)
                    saved_at = it
                if total is not None and it >= total:
                    break
                # The first epoch always runs, so that every island has a swarm to report (the
                # compile above may have used up a short time limit).
                if opts.time_limit is not None and time.perf_counter() - t0 >= opts.time_limit \
                        and it > 0:
                    message = "time_limit"
                    break
                n = iopts.migrate_every if total is None else min(iopts.migrate_every, total - it)
                if budget is not None and it > 0 and (why := budget.reason()) is not None:
                    message = why
                    break
                for limit in (opts.max_evals, None if budget is None or budget.max_evals is None
                              else nfev + budget.evals_left()):
                    if limit is None:
                        continue
                    # All islands' iterations, and their initial swarms in the first epoch.
                    fit = int((limit - nfev - (0 if it else per_iter)) // per_iter)
                    if fit < 1 and it > 0:
                        message = "max_evals"
                        break
                    n = max(1, min(n, fit))
                if message == "max_evals":
                    break
                sched = total if total is not None else SCHEDULE_ITER
                # Islands beyond the workers run in turn: each gets its share of the time left.
                left = (None if opts.time_limit is None
                        else max(1e-3, (opts.time_limit - (time.perf_counter() - t0)) / waves))
                bests = islands.epoch(migrants, (it, n, sched, os.getpid(), left))
                spent = sum(b[2] for b in bests)
                nfev += spent
                it += n
                migrants = _ring(bests)
                best = min(b[1] for b in bests)
                best_hist.append((it, best))
                if kept is None or best < kept[1]:
                    kept = min((b[:2] for b in bests), key=lambda xc: xc[1])
                if budget is not None:
                    budget.spend(spent)
                    budget.record(best)
                if callback is not None and callback({"iteration": it, "evaluations": nfev,
                                                      "best": best, "x": kept[0],
                                                      "elapsed": time.perf_counter() - t0}):
                    message = "cancelled"
                    break
                if stop is not None and stop.stopped:
                    message = stop.reason
                    break
                if ref is None or best < gain_below(ref, opts.ftol):
                    ref, last_gain = best, it
                elif opts.stall_iter is not None and it - last_gain >= opts.stall_iter:
                    message = "stall"
                    break
            if checkpoint is not None and it > saved_at:
                save(islands.states)
            states = islands.finish(migrants)
    except Exception:
        # A worker still starting when Ctrl-C reached the process group dies of it before
        # it can leave it to this process: a stopped run keeps what it has.
        if stop is None or not stop.stopped:
            raise
        x, cost = _best_known(probe, seeds, kept, opts)
        return PsoOutcome(x=x, cost=cost, nit=it, nfev=nfev, wall_s=time.perf_counter() - t0,
                          message=stop.reason, history=best_hist)
    k = int(np.argmin([s.best_cost.min() for s in states]))
    i = states[k].best
    return PsoOutcome(x=states[k].best_position[i].copy(), cost=float(states[k].best_cost[i]),
                      nit=it, nfev=nfev, wall_s=time.perf_counter() - t0, message=message,
                      history=best_hist)


def _best_known(problem, seeds: list[np.ndarray], kept: tuple | None, opts: PsoOptions
                ) -> tuple[np.ndarray, float]:
    """The best of what the epochs reported and the seeds (a particle drawn from ``opts.seed``
    when there is neither)."""
    cands = [np.asarray(x, np.float64) for x in seeds]
    if not cands and kept is None:
        cands = [np.random.default_rng(opts.seed).random(problem.n_var)]
    best = kept
    if cands:
        costs = problem.evaluate(np.array(cands))
        k = int(np.argmin(costs))
        if best is None or costs[k] < best[1]:
            best = (cands[k], float(costs[k]))
    return best[0].copy(), float(best[1])


def _ring(bests: list[tuple]) -> list[tuple | None]:
    """Ring migration: island i receives the best ``(x, cost)`` of island i-1 (none when there
    is one island)."""
    n = len(bests)
    return [None] * n if n < 2 else [bests[(i - 1) % n][:2] for i in range(n)]
