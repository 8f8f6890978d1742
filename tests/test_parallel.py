"""Islands: the same seed gives the same plan with 1 or 2 workers, on loky and on dask."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from invswarm.engine import island_tasks
from invswarm.engine.models.sfi import load_steel
from invswarm.engine.models.sfi.swarm import make_problem
from invswarm.engine.parallel import IslandOptions, island_seed, run_islands
from invswarm.engine.pso import PsoOptions, check_seeds

OPTS = PsoOptions(swarm_size=12, max_iter=30, seed=5)


@pytest.fixture(scope="module")
def inst():
    return load_steel(6)


def _run(inst, jobs, backend="loky"):
    return run_islands(make_problem, inst, OPTS,
                       IslandOptions(islands=2, jobs=jobs, backend=backend,
                                     migrate_every=10))


def test_one_and_two_loky_workers_agree(inst):
    one = _run(inst, 1)
    two = _run(inst, 2)
    assert one.cost == two.cost
    assert (one.x == two.x).all()
    assert one.nit == 30 and one.nfev == two.nfev == 2 * 12 * 31


@pytest.mark.slow
def test_dask_backend_agrees_with_loky(inst, monkeypatch):
    """On joblib's dask backend, named or the caller's, the epochs go to the dask client as
    futures (``joblib.Parallel`` is patched to fail), with the loky result."""
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    def no_parallel(*args, **kwargs):
        raise AssertionError("joblib.Parallel used on the dask backend")

    loky = _run(inst, 1)
    monkeypatch.setattr(island_tasks, "Parallel", no_parallel)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with parallel_config(backend="dask"):
            on_dask = _run(inst, 2, backend=None)
        named = _run(inst, 2, backend="dask")
    assert on_dask.cost == named.cost == loky.cost
    assert (on_dask.x == loky.x).all() and on_dask.nfev == loky.nfev


@pytest.mark.slow
def test_dask_islands_keep_their_swarms_on_the_workers(inst, monkeypatch, tmp_path):
    """On dask the swarms stay on the workers between epochs (``EpochTasks``, which sends
    them, is patched to fail); a run that saves checkpoints sends them back at every epoch
    (``DaskIslands`` patched to fail). Both give the plan of one loky worker."""
    distributed = pytest.importorskip("distributed")
    from invswarm.engine.checkpoint import Checkpoint

    loky = _run(inst, 1)

    def refused(*args, **kwargs):
        raise AssertionError("this runner was not to be used")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with monkeypatch.context() as m:
            m.setattr(island_tasks.EpochTasks, "epoch", refused)
            resident = _run(inst, 2, backend="dask")
        with monkeypatch.context() as m:
            m.setattr(island_tasks.DaskIslands, "epoch", refused)
            saved = run_islands(make_problem, inst, OPTS,
                                IslandOptions(islands=2, jobs=2, backend="dask",
                                              migrate_every=10),
                                checkpoint=Checkpoint(str(tmp_path / "run.npz"), "dask"))
    for out in (resident, saved):
        assert out.cost == loky.cost and (out.x == loky.x).all() and out.nfev == loky.nfev


def test_migration_spreads_the_best(inst):
    out = _run(inst, 1)
    best = [b for _, b in out.history]
    assert all(b <= a for a, b in zip(best, best[1:]))
    assert len({island_seed(5, i) for i in range(4)}) == 4


def test_a_time_limit_shorter_than_the_warm_up_still_gives_the_initial_swarms(inst):
    out = run_islands(make_problem, inst, PsoOptions(swarm_size=12, max_iter=None,
                                                     time_limit=1e-9, seed=5),
                      IslandOptions(islands=2, jobs=1))
    assert out.message == "time_limit"
    assert out.nfev >= 2 * 12
    assert out.cost == make_problem(inst).evaluate(out.x[None])[0]


_built = []


def _counted_problem(inst):
    _built.append(inst.name)
    return make_problem(inst)


def test_the_problem_is_built_once_per_run_in_each_process(inst):
    _built.clear()
    out = run_islands(_counted_problem, inst, OPTS, IslandOptions(islands=2, migrate_every=10))
    assert out.nit == 30  # three epochs of two islands, in this process
    assert _built == [inst.name]


class _FailsElsewhere:
    """A ``make_problem`` that works in the process that made it and fails in any other."""

    def __init__(self):
        self.pid = os.getpid()

    def __call__(self, inst):
        if os.getpid() != self.pid:
            raise RuntimeError("made to fail in a worker")
        return make_problem(inst)


def test_an_error_in_a_worker_reaches_the_caller(inst):
    with pytest.raises(RuntimeError, match="in a worker"):
        run_islands(_FailsElsewhere(), inst, OPTS, IslandOptions(islands=2, jobs=2))


def test_bad_seed_particles_are_named():
    problem_n = make_problem(load_steel(6)).n_var
    with pytest.raises(ValueError, match=r"seeds\[1\]: expected a particle of"):
        check_seeds([np.full(problem_n, 0.5), np.zeros(3)], problem_n)
    with pytest.raises(ValueError, match=r"seeds\[0\]: values must be finite"):
        check_seeds([np.full(problem_n, np.nan)], problem_n)


def test_island_options_are_validated():
    with pytest.raises(ValueError, match="islands"):
        IslandOptions(islands=0)
    with pytest.raises(ValueError, match="backend"):
        IslandOptions(backend="spark")


def test_islands_run_in_turn_share_the_time_limit(inst):
    # One epoch would outlast the limit: each of four islands run in turn in this process
    # gets a quarter of it (each used to get all of it: the run took about four times the
    # limit).
    t0 = time.perf_counter()
    out = run_islands(make_problem, inst, PsoOptions(swarm_size=12, max_iter=None,
                                                     time_limit=2.0, seed=5),
                      IslandOptions(islands=4, jobs=1, migrate_every=10**7))
    assert out.message == "time_limit" and out.nit == 10**7
    assert time.perf_counter() - t0 < 4.0


def test_islands_with_a_worker_each_stay_in_their_workers(inst, monkeypatch):
    # Epoch by epoch, each swarm would go to a worker and back; resident islands send only
    # their bests. The migrations are the same, so is the result.
    one = _run(inst, 1)

    def no_epochs(*args):
        raise AssertionError("swarms sent epoch by epoch")

    monkeypatch.setattr(island_tasks.EpochTasks, "epoch", no_epochs)
    two = _run(inst, 2)
    assert (two.cost, two.nit, two.nfev) == (one.cost, one.nit, one.nfev)
    assert (two.x == one.x).all()
    assert two.history == one.history


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cancelled_run_stops_its_islands_after_the_same_epoch(inst, jobs):
    seen = []

    def cancel_second(info):
        seen.append(info["iteration"])
        return len(seen) == 2

    out = run_islands(make_problem, inst, OPTS,
                      IslandOptions(islands=2, jobs=jobs, migrate_every=10),
                      callback=cancel_second)
    assert out.message == "cancelled" and seen == [10, 20] and out.nit == 20
    # With an iteration budget ending there instead, the islands and migrations are the same.
    budget = run_islands(make_problem, inst, replace(OPTS, max_iter=20),
                         IslandOptions(islands=2, jobs=1, migrate_every=10))
    assert out.cost == budget.cost and (out.x == budget.x).all()


def test_an_error_in_the_callback_stops_the_islands_in_the_workers(inst):
    def fails(info):
        raise KeyError("made to fail")

    with pytest.raises(KeyError, match="made to fail"):
        run_islands(make_problem, inst, replace(OPTS, max_iter=10**6),
                    IslandOptions(islands=2, jobs=2, migrate_every=10), callback=fails)
    # Islands left running would hold both workers: the next run would never start.
    with ThreadPoolExecutor(1) as pool:
        again = pool.submit(_run, inst, 2).result(timeout=60)
    assert again.cost == _run(inst, 1).cost


def test_one_island_on_two_workers_has_no_migrant(inst):
    alone = run_islands(make_problem, inst, OPTS, IslandOptions(islands=1, jobs=2,
                                                                migrate_every=10))
    here = run_islands(make_problem, inst, OPTS, IslandOptions(islands=1, jobs=1,
                                                               migrate_every=10))
    assert alone.cost == here.cost and (alone.x == here.x).all()


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_evaluation_budget_counts_every_island(inst, jobs):
    # Initial swarms 2 x 12, then 10 + 10 + 4 iterations of both islands: 24 + 24 x 24 = 600;
    # one more iteration would make 624.
    opts = PsoOptions(swarm_size=12, max_iter=None, max_evals=610, seed=5)
    out = run_islands(make_problem, inst, opts,
                      IslandOptions(islands=2, jobs=jobs, migrate_every=10))
    assert (out.message, out.nit, out.nfev) == ("max_evals", 24, 600)
    assert [it for it, _ in out.history] == [10, 20, 24]


@pytest.mark.parametrize("jobs", [1, 2])
def test_islands_stop_when_the_best_stalls(inst, jobs):
    opts = PsoOptions(swarm_size=12, max_iter=None, stall_iter=20, ftol=0.5, seed=5)
    out = run_islands(make_problem, inst, opts,
                      IslandOptions(islands=2, jobs=jobs, migrate_every=10))
    # No epoch halves the best (ftol) after the first: two more epochs, then the stall.
    assert (out.message, out.nit) == ("stall", 30)
    first = out.history[0][1]
    assert all(b > 0.5 * first for _, b in out.history[1:])



def dies_in_workers(inst_and_parent):
    """A problem whose workers die as they build it (as one starting when Ctrl-C reaches the
    process group does); importable, so that loky can send it."""
    inst, parent = inst_and_parent
    if os.getpid() != parent:
        os._exit(1)
    return make_problem(inst)


def test_a_stopped_run_keeps_the_best_it_knows_when_a_worker_dies(inst):
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    from invswarm.engine.termination import StopToken

    problem = make_problem(inst)
    seed = np.full(problem.n_var, 0.5)
    iopts = IslandOptions(islands=2, jobs=2, migrate_every=10)
    arg = (inst, os.getpid())
    with pytest.raises(TerminatedWorkerError):
        run_islands(dies_in_workers, arg, OPTS, iopts, seeds=[seed])
    token = StopToken()
    token.stop()
    out = run_islands(dies_in_workers, arg, OPTS, iopts, seeds=[seed], stop=token)
    assert out.message == "stopped"
    assert (out.x == seed).all()
    assert out.cost == problem.evaluate(seed[None])[0]
