"""Where the islands of ``parallel.py`` run: an island's epoch as a task (:func:`_epoch`), run
epoch by epoch through joblib, loky futures or a dask client (:class:`EpochTasks`), epoch by
epoch on a dask cluster with the swarms kept on its workers (:class:`DaskIslands`), or kept in
its worker for the whole run (:class:`ResidentIslands`).

One level of parallelism at a time: each island task runs with one Numba thread when islands
run in worker processes.
"""

from __future__ import annotations

import copy
import os
import signal
import threading
import time
from contextlib import ExitStack
from dataclasses import replace
from multiprocessing import Pipe

import numpy as np
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor
from joblib.parallel import get_active_backend

from .pso import (
    PsoOptions,
    SwarmState,
    initial_swarm,
    run,
)
from .termination import StopToken, halt_on
from .worker_memory import keep_large_blocks

# The problem of the latest run, kept by each process from one epoch to the next: building it
# grows with the instance and would otherwise be paid at every epoch.
_built: dict = {}


def built_problem(make_problem, instance, run_id):
    """``make_problem(instance)``, built once per run (``run_id``) in each process."""
    if _built.get("run") != run_id:
        _built.clear()
        _built.update(run=run_id, problem=make_problem(instance))
    return _built["problem"]


def enter_worker(parent_pid: int) -> None:
    """Set up a task's process when it is a worker (any process but ``parent_pid``): one
    Numba thread, Ctrl-C left to the parent, large blocks kept on the heap
    (:func:`_epoch` says why)."""
    if os.getpid() == parent_pid:
        return
    import numba

    numba.set_num_threads(1)
    keep_large_blocks()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _epoch(make_problem, instance, run_id, seeds, state, opts, it0, n_iter, schedule_iter,
           parent_pid, time_limit=None, stop=None):
    """One island's iterations between two migrations; ``time_limit`` (seconds) ends it early
    in a time-limited run, and so does ``stop`` (given only to epochs run in this process: a
    token does not cross to workers). In a worker process (any other than ``parent_pid``,
    whatever the backend and the number of workers) Numba gets one thread: one level of
    parallelism; Ctrl-C, which a terminal sends to the whole process group, is left to
    the parent, which stops the run through its token and ends the islands after their
    epoch; and the kernels' scratch arrays stay on the heap where a dask nanny froze
    glibc's mmap threshold (:mod:`.worker_memory`)."""
    enter_worker(parent_pid)
    problem = built_problem(make_problem, instance, run_id)
    halt_on(problem, stop)
    nfev = 0
    if state is None:
        t0 = time.perf_counter()
        state, nfev = initial_swarm(problem, opts, seeds, ended=lambda: (
            (stop is not None and stop.stopped)
            or (time_limit is not None and time.perf_counter() - t0 >= time_limit)))
    out, state = run(problem, replace(opts, max_iter=n_iter, time_limit=time_limit,
                                      max_evals=None, stall_iter=None),
                     state=state, it0=it0, schedule_iter=schedule_iter, stop=stop)
    return state, nfev + out.nfev


def _receive(state: SwarmState, migrant: tuple | None) -> None:
    """A migrant ``(x, cost)`` replaces the worst personal best of ``state`` when cheaper."""
    if migrant is None:
        return
    x, f = migrant
    worst = int(np.argmax(state.best_cost))
    if f < state.best_cost[worst]:
        state.best_position[worst] = x
        state.best_cost[worst] = f


def _receive_all(states: list[SwarmState | None], migrants: list) -> None:
    """:func:`_receive` for every island that has a swarm."""
    for state, migrant in zip(states, migrants):
        if state is not None:
            _receive(state, migrant)


def _best(state: SwarmState, nfev: int) -> tuple[np.ndarray, float, int]:
    """What an island reports after an epoch: its best particle and cost, and its
    evaluations."""
    i = state.best
    return state.best_position[i].copy(), float(state.best_cost[i]), nfev


# Worker processes of the loky executor: one thread for each library that may start a pool,
# the worker being the one level of parallelism (what joblib's loky backend sets when it runs
# as many workers as cores).
_WORKER_ENV = {name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                      "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
# Seconds an idle worker is kept (joblib's value; loky's own 10 s is shorter than a
# local-search phase between two swarm phases, and a worker takes about a second to start).
_IDLE_TIMEOUT = 300


def loky_executor(jobs: int):
    """joblib's reusable loky executor with ``jobs`` one-thread workers (every caller asks
    for the same settings, so that runs side by side keep one executor)."""
    return get_reusable_executor(max_workers=jobs, timeout=_IDLE_TIMEOUT, env=_WORKER_ENV)


class EpochTasks:
    """Islands run epoch by epoch: one task per island and epoch, its swarm sent to the
    worker and back.

    With ``backend="loky"`` and several workers the tasks go to joblib's reusable loky
    executor as futures: ``joblib.Parallel`` looks for finished tasks every 10 ms
    (``Parallel._retrieve``), a wait at every epoch that futures do not have. On joblib's dask
    backend (a run that saves checkpoints: the others use :class:`DaskIslands`) they go to
    its dask client as futures too, each island to its worker (:func:`_placed`). Otherwise
    (one worker, or the caller's or another joblib backend) through ``joblib.Parallel``.
    """

    def __init__(self, iopts, common: tuple, island_opts: list[PsoOptions],
                 stop: StopToken | None = None):
        self.iopts, self.common, self.opts = iopts, common, island_opts
        self.states: list[SwarmState | None] = [None] * len(island_opts)
        self.stack = ExitStack()
        self.stop = stop
        self.in_process = False

    def __enter__(self):
        if self.iopts.backend == "loky" and self.iopts.jobs > 1:
            executor = loky_executor(self.iopts.jobs)
            self.run = lambda tasks: [f.result() for f in [executor.submit(_epoch, *args)
                                                           for args in tasks]]
        elif (client := active_dask_client(self.iopts.backend)) is not None:
            workers = _workers(client)
            self.run = lambda tasks: client.gather([
                client.submit(_epoch, *args, **_placed(workers, k))
                for k, args in enumerate(tasks)])
        else:
            kwargs = {"n_jobs": self.iopts.jobs}
            if self.iopts.backend is not None:
                kwargs["backend"] = self.iopts.backend
            pool = self.stack.enter_context(Parallel(**kwargs))
            self.run = lambda tasks: pool(delayed(_epoch)(*args) for args in tasks)
            self.in_process = self.iopts.jobs == 1
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


def active_dask_client(backend: str | None):
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


def _workers(client) -> list[str]:
    """The addresses of the workers of ``client``'s cluster, in a fixed order."""
    return sorted(client.scheduler_info()["workers"])


def _placed(workers: list[str], k: int) -> dict:
    """``client.submit``'s placement of island ``k``'s task: on worker ``k`` (modulo their
    number), at every epoch. The scheduler would otherwise place both of a one-thread
    worker's first two tasks on it (its queue takes a little more than one task per thread);
    an island that stays keeps its built problem and, in :class:`DaskIslands`, its swarm. A
    preference only: another worker runs the task if that one is gone. ``pure=False``: an
    epoch is never served from an identical task's result."""
    return {"workers": [workers[k % len(workers)]], "allow_other_workers": True,
            "pure": False}


def _next_epoch(make_problem, instance, run_id, seeds, previous, migrant, opts, *step):
    """:func:`_epoch` of an island of :class:`DaskIslands`: ``previous`` is its last epoch's
    ``(state, evaluations)`` (None before the first), which receives ``migrant`` first. The
    state is copied, not changed: it is the result of the last epoch's task, which dask may
    hand to another task or compute again (:func:`_received`)."""
    state = None if previous is None else _received(previous, migrant)
    return _epoch(make_problem, instance, run_id, seeds, state, opts, *step)


def _reported(result) -> tuple:
    """:func:`_best` of an epoch's ``(state, evaluations)``."""
    return _best(*result)


def _received(result, migrant) -> SwarmState:
    """A copy of an epoch's state (``result``: its ``(state, evaluations)``) with
    ``migrant`` received."""
    state = copy.deepcopy(result[0])
    _receive(state, migrant)
    return state


class DaskIslands:
    """Islands whose swarms stay on the workers of a dask cluster between epochs.

    Each epoch is one task per island, given the future of the island's last epoch: dask
    runs it where that result is (:func:`_placed`), so the swarm does not travel; only each
    island's best comes back (a small task on the result, :func:`_reported`), and the
    instance is sent to the workers once per run. The swarms come to this process at the end
    (:meth:`finish`). The migrations are those of :class:`EpochTasks`, so the results are
    the same. A stop is seen between epochs, as for every island in another process.
    """

    def __init__(self, client, iopts, common: tuple, island_opts: list[PsoOptions],
                 stop: StopToken | None = None):
        self.client, self.opts = client, island_opts
        self.common = common
        self.results: list = [None] * len(island_opts)

    def __enter__(self):
        make_problem, instance, run_id, seeds = self.common
        self.workers = _workers(self.client)
        self.common = (make_problem, self.client.scatter(instance, broadcast=True, hash=False),
                       run_id, seeds)
        return self

    def __exit__(self, *exc):
        self.results = [None] * len(self.opts)
        return False

    def epoch(self, migrants: list, step: tuple) -> list[tuple]:
        """As :meth:`EpochTasks.epoch`."""
        client = self.client
        self.results = [client.submit(_next_epoch, *self.common, r, m, o, *step,
                                      **_placed(self.workers, k))
                        for k, (r, m, o) in enumerate(zip(self.results, migrants, self.opts))]
        return client.gather([client.submit(_reported, r, **_placed(self.workers, k))
                              for k, r in enumerate(self.results)])

    def finish(self, migrants: list) -> list[SwarmState]:
        """As :meth:`EpochTasks.finish`."""
        return self.client.gather([self.client.submit(_received, r, m, **_placed(self.workers, k))
                                   for k, (r, m) in enumerate(zip(self.results, migrants))])


class ResidentIslands:
    """Islands that stay in their workers for the whole run.

    One task per island on the reusable loky executor (:func:`_island`) runs the island's
    epochs in turn; between two, it sends its best to this process through a pipe and waits
    for its migrant and the next epoch's length. Only best particles cross, not the swarms
    that each epoch of :class:`EpochTasks` sends to the workers and back (what two workers
    gain over one is measured in ``make bench``). The tasks must all run at once, so this
    needs a worker per island (``islands <= jobs``). The migrations are those
    of :class:`EpochTasks`, so the results are the same.
    """

    def __init__(self, iopts, common: tuple, island_opts: list[PsoOptions],
                 stop: StopToken | None = None):
        # ``stop`` is seen between epochs only: the islands run in other processes.
        self.iopts, self.common, self.opts = iopts, common, island_opts
        self.pipes = []
        self.futures = []

    def __enter__(self):
        self.executor = loky_executor(self.iopts.jobs)
        self.pipes = [Pipe() for _ in self.opts]
        return self

    def __exit__(self, *exc):
        # After an error or an interrupt here, islands still running end after their epoch:
        # their wait for a message on a pipe closed at this end fails.
        for pipe in self.pipes:
            for end in pipe:
                end.close()

    def epoch(self, migrants: list, step: tuple) -> list[tuple]:
        """As :meth:`EpochTasks.epoch`."""
        if not self.futures:
            self.futures = [self.executor.submit(_island, *self.common, o, step, theirs)
                            for o, (_, theirs) in zip(self.opts, self.pipes)]
        else:
            for (ours, _), migrant in zip(self.pipes, migrants):
                ours.send((migrant, step))
        return [self._message(ours) for ours, _ in self.pipes]

    def finish(self, migrants: list) -> list[SwarmState]:
        """As :meth:`EpochTasks.finish`; ends the islands' tasks."""
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
    """One island's run in a worker of :class:`ResidentIslands`: epochs of :func:`_epoch` (``step``:
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
