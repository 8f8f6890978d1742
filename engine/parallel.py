"""Islands: independent swarms run through joblib, with the best migrating between epochs.

With loky and a worker per island, each island runs in one task for the whole run and only
the best particles cross between epochs (:class:`_Resident`); otherwise every epoch is one
task per island, its swarm sent to the worker and back (:class:`_Epochs`, dask included).

One level of parallelism at a time: each island task runs with one Numba thread when islands
run in worker processes, and the kernels are compiled (and their cache filled) in the parent
before any worker starts. With an iteration budget the result depends only on the seed: the
islands' seeds derive from it, migration happens at fixed iterations in island order, and the
kernels' random numbers are keyed by (seed, iteration, particle, dimension).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, replace
from multiprocessing import Pipe

import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor
from joblib.parallel import get_active_backend

from .pso import (
    SCHEDULE_ITER,
    PsoOptions,
    PsoOutcome,
    SwarmState,
    check_seeds,
    gain_below,
    initial_swarm,
    run,
)
from .termination import Budget, StopToken


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
        personal best of island i). With loky and a worker per island the islands stay in
        their workers and only best particles cross (:class:`_Resident`); otherwise each
        migration sends every swarm to its worker and back (:class:`_Epochs`). The islands
        benchmark of ``make bench`` (``benchmarks/test_pso_bench.py``) measures two workers
        against one at this default and at 25 iterations.
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


# The problem of the latest run, kept by each process from one epoch to the next: building it
# grows with the instance and would otherwise be paid at every epoch.
_built: dict = {}


def _problem(make_problem, instance, run_id):
    """``make_problem(instance)``, built once per run (``run_id``) in each process."""
    if _built.get("run") != run_id:
        _built.clear()
        _built.update(run=run_id, problem=make_problem(instance))
    return _built["problem"]


def _epoch(make_problem, instance, run_id, seeds, state, opts, it0, n_iter, schedule_iter,
           parent_pid, time_limit=None, stop=None):
    """One island's iterations between two migrations; ``time_limit`` (seconds) ends it early
    in a time-limited run, and so does ``stop`` (given only to epochs run in this process: a
    token does not cross to workers). In a worker process (any other than ``parent_pid``,
    whatever the backend and the number of workers) Numba gets one thread: one level of
    parallelism; and Ctrl-C, which a terminal sends to the whole process group, is left to
    the parent, which stops the run through its token and ends the islands after their
    epoch."""
    if os.getpid() != parent_pid:
        import numba

        numba.set_num_threads(1)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    problem = _problem(make_problem, instance, run_id)
    nfev = 0
    if state is None:
        state = initial_swarm(problem, opts, seeds)
        nfev = opts.swarm_size
    out, state = run(problem, replace(opts, max_iter=n_iter, time_limit=time_limit,
                                      max_evals=None, stall_iter=None),
                     state=state, it0=it0, schedule_iter=schedule_iter, stop=stop)
    return state, nfev + out.nfev


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
        ``n_jobs``, which run in turn, share the time left); ``stall_iter``, checked at the
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
        (:class:`_Epochs`, whose swarms come back to this process after each epoch: the same
        results as :class:`_Resident`).
    """
    t0 = time.perf_counter()
    # Compile (or load from cache) in the parent before workers start.
    run_id = uuid.uuid4().hex
    probe = _problem(make_problem, instance, run_id)
    seeds = check_seeds(seeds, probe.n_var)
    run(probe, PsoOptions(swarm_size=2, max_iter=1))
    island_opts = [replace(opts, seed=island_seed(opts.seed, i)) for i in range(iopts.islands)]
    total = opts.max_iter
    waves = -(-iopts.islands // min(iopts.n_jobs, iopts.islands))
    it, nfev, message = 0, 0, "max_iter"
    best_hist = []
    per_iter = opts.swarm_size * iopts.islands  # evaluations per iteration of all islands
    ref, last_gain = None, 0  # the stall termination's last gain, as in `run`
    migrants = [None] * iopts.islands
    common = (make_problem, instance, run_id, seeds)
    resident = (iopts.backend == "loky" and 1 < iopts.n_jobs and iopts.islands <= iopts.n_jobs
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
        with (_Resident if resident else _Epochs)(iopts, common, island_opts, stop) as islands:
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
    k = int(np.argmin([s.PBf.min() for s in states]))
    i = states[k].best
    return PsoOutcome(x=states[k].PB[i].copy(), cost=float(states[k].PBf[i]), nit=it, nfev=nfev,
                      wall_s=time.perf_counter() - t0, message=message, history=best_hist)


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


def _receive(state: SwarmState, migrant: tuple | None) -> None:
    """A migrant ``(x, cost)`` replaces the worst personal best of ``state`` when cheaper."""
    if migrant is None:
        return
    x, f = migrant
    worst = int(np.argmax(state.PBf))
    if f < state.PBf[worst]:
        state.PB[worst] = x
        state.PBf[worst] = f


def _receive_all(states: list[SwarmState | None], migrants: list) -> None:
    """:func:`_receive` for every island that has a swarm."""
    for state, migrant in zip(states, migrants):
        if state is not None:
            _receive(state, migrant)


def _best(state: SwarmState, nfev: int) -> tuple[np.ndarray, float, int]:
    """What an island reports after an epoch: its best particle and cost, and its
    evaluations."""
    i = state.best
    return state.PB[i].copy(), float(state.PBf[i]), nfev


# Worker processes of the loky executor: one thread for each library that may start a pool,
# the worker being the one level of parallelism (what joblib's loky backend sets when it runs
# as many workers as cores).
_WORKER_ENV = {name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                      "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
# Seconds an idle worker is kept (joblib's value; loky's own 10 s is shorter than a
# local-search phase between two swarm phases, and a worker takes about a second to start).
_IDLE_TIMEOUT = 300


def _executor(iopts: IslandOptions):
    """joblib's reusable loky executor, with ``iopts.n_jobs`` one-thread workers."""
    return get_reusable_executor(max_workers=iopts.n_jobs, timeout=_IDLE_TIMEOUT,
                                 env=_WORKER_ENV)


class _Epochs:
    """Islands run epoch by epoch: one task per island and epoch, its swarm sent to the
    worker and back.

    With ``backend="loky"`` and several workers the tasks go to joblib's reusable loky
    executor as futures: ``joblib.Parallel`` looks for finished tasks every 10 ms
    (``Parallel._retrieve``), which cost 10 to 20 ms per epoch (two tasks returning swarms of
    64 x 576 took 20 ms through ``Parallel`` and 4 ms as futures). On joblib's dask backend
    they go to its dask client as futures too, without ``Parallel``'s batching and collection
    at every epoch. Otherwise (one worker, or the caller's or another joblib backend) through
    ``joblib.Parallel``.
    """

    def __init__(self, iopts: IslandOptions, common: tuple, island_opts: list[PsoOptions],
                 stop: StopToken | None = None):
        self.iopts, self.common, self.opts = iopts, common, island_opts
        self.states: list[SwarmState | None] = [None] * len(island_opts)
        self.stack = ExitStack()
        self.stop = stop
        self.in_process = False

    def __enter__(self):
        if self.iopts.backend == "loky" and self.iopts.n_jobs > 1:
            executor = _executor(self.iopts)
            self.run = lambda tasks: [f.result() for f in [executor.submit(_epoch, *args)
                                                           for args in tasks]]
        elif (client := _dask_client(self.iopts.backend)) is not None:
            # pure=False: an epoch is never served from the results of an identical task.
            self.run = lambda tasks: client.gather([client.submit(_epoch, *args, pure=False)
                                                    for args in tasks])
        else:
            kwargs = {"n_jobs": self.iopts.n_jobs}
            if self.iopts.backend is not None:
                kwargs["backend"] = self.iopts.backend
            pool = self.stack.enter_context(Parallel(**kwargs))
            self.run = lambda tasks: pool(delayed(_epoch)(*args) for args in tasks)
            self.in_process = self.iopts.n_jobs == 1
        return self

    def __exit__(self, *exc):
        return self.stack.__exit__(*exc)

    def epoch(self, migrants: list, step: tuple) -> list[tuple]:
        """Every island's migrant received, then one epoch of each (``step``: the arguments
        of :func:`_epoch` after the options); returns each island's :func:`_best`."""
        _receive_all(self.states, migrants)
        last = (self.stop,) if self.in_process else ()
        results = self.run([(*self.common, s, o, *step, *last)
                            for s, o in zip(self.states, self.opts)])
        self.states = [r[0] for r in results]
        return [_best(*r) for r in results]

    def finish(self, migrants: list) -> list[SwarmState]:
        """The swarms, after the last migrants are received."""
        _receive_all(self.states, migrants)
        return self.states


def _dask_client(backend: str | None):
    """The dask client that joblib's dask backend would use, when that is the backend
    (``backend``, or the caller's ``joblib.parallel_config`` for None); else None."""
    if backend == "dask":
        from distributed import get_client

        return get_client()
    if backend is None:
        active, _ = get_active_backend()
        # By name: joblib's dask module imports distributed, an optional dependency.
        if type(active).__name__ == "DaskDistributedBackend":
            return active.client
    return None


class _Resident:
    """Islands that stay in their workers for the whole run.

    One task per island on the reusable loky executor (:func:`_island`) runs the island's
    epochs in turn; between two, it sends its best to this process through a pipe and waits
    for its migrant and the next epoch's length. Only best particles cross, not the swarms
    that each epoch of :class:`_Epochs` sends to the workers and back (two workers against
    one, steel T = 24, a migration every 250 iterations: 1.67 times epoch by epoch, 1.83
    resident, in two runs of ``make bench``; ``docs/pso.md``). The tasks must all run at
    once, so this needs a worker per island (``islands <= n_jobs``). The migrations are those
    of :class:`_Epochs`, so the results are the same.
    """

    def __init__(self, iopts: IslandOptions, common: tuple, island_opts: list[PsoOptions],
                 stop: StopToken | None = None):
        # ``stop`` is seen between epochs only: the islands run in other processes.
        self.iopts, self.common, self.opts = iopts, common, island_opts
        self.pipes = []
        self.futures = []

    def __enter__(self):
        self.executor = _executor(self.iopts)
        self.pipes = [Pipe() for _ in self.opts]
        return self

    def __exit__(self, *exc):
        # After an error or an interrupt here, islands still running end after their epoch:
        # their wait for a message on a pipe closed at this end fails.
        for pipe in self.pipes:
            for end in pipe:
                end.close()

    def epoch(self, migrants: list, step: tuple) -> list[tuple]:
        """As :meth:`_Epochs.epoch`."""
        if not self.futures:
            self.futures = [self.executor.submit(_island, *self.common, o, step, theirs)
                            for o, (_, theirs) in zip(self.opts, self.pipes)]
        else:
            for (ours, _), migrant in zip(self.pipes, migrants):
                ours.send((migrant, step))
        return [self._message(ours) for ours, _ in self.pipes]

    def finish(self, migrants: list) -> list[SwarmState]:
        """As :meth:`_Epochs.finish`; ends the islands' tasks."""
        for (ours, _), migrant in zip(self.pipes, migrants):
            ours.send((migrant, None))
        states = [f.result() for f in self.futures]
        self.futures = []
        return states

    def _message(self, conn):
        """The next message on ``conn``, or the error of an island's task that ended."""
        while not conn.poll(0.05):
            for f in self.futures:
                if f.done():
                    f.result()
                    raise RuntimeError("an island's task ended before the run")
        return conn.recv()


def _island(make_problem, instance, run_id, seeds, opts, step, conn):
    """One island's run in a worker of :class:`_Resident`: epochs of :func:`_epoch` (``step``:
    its arguments after the options) until a message without a next step; returns the
    swarm."""
    state = None
    while True:
        state, nfev = _epoch(make_problem, instance, run_id, seeds, state, opts, *step)
        conn.send(_best(state, nfev))
        migrant, step = conn.recv()
        _receive(state, migrant)
        if step is None:
            return state
