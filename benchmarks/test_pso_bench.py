"""PSO driver micro-benchmarks: throughput against pyswarms, worker scaling on loky and dask.

Run with ``make bench`` (plan quality is ``invswarm bench``'s). Every run is warmed up (kernels
compiled or loaded from the cache) before it is timed; the figures are printed and stored in
``extra_info``.
"""

from __future__ import annotations

import time

import numba
import numpy as np

from invswarm.engine.models.sfi import load_steel
from invswarm.engine.models.sfi.swarm import make_problem
from invswarm.engine.parallel import IslandOptions, run_islands
from invswarm.engine.pso import PsoOptions, run
from tests.reference import sfi_numpy


def _pyswarms_seconds(problem, objective, n_particles: int, iters: int) -> float:
    """Wall time of pyswarms' GlobalBestPSO minimising ``objective`` over ``problem``'s cube."""
    import pyswarms as ps

    np.random.seed(0)  # noqa: NPY002 - pyswarms reads the legacy generator
    opt = ps.single.GlobalBestPSO(n_particles=n_particles, dimensions=problem.n_var,
                                  options={"c1": 1.49445, "c2": 1.49445, "w": 0.729},
                                  bounds=(np.zeros(problem.n_var), np.ones(problem.n_var)))
    t0 = time.perf_counter()
    opt.optimize(objective, iters=iters, verbose=False)
    return time.perf_counter() - t0


def test_throughput_against_pyswarms(benchmark):
    """Evaluations per second, same problem, swarm size and iterations.

    Medians of 3 rounds, the drivers alternating. Also at 6, 8 and 12 periods (fused against
    pyswarms driving the same kernel): both drivers' work per evaluation grows with the number
    of variables, so the ratio does not come from the choice of horizon.
    """
    inst = load_steel(24)
    problem = make_problem(inst)
    n_particles, iters = 64, 200
    opts = PsoOptions(swarm_size=n_particles, max_iter=iters, seed=0)
    run(problem, PsoOptions(swarm_size=n_particles, max_iter=2))

    def fused():
        return run(problem, opts)[0]

    def pyswarms_run(objective):
        return _pyswarms_seconds(problem, objective, n_particles, iters)

    def numpy_objective(X):
        # The decoder stays in Numba: only the cost is NumPy.
        return sfi_numpy.costs(inst, *problem.decode_arrays(X))

    def evaluate_only():
        # A driver that costs nothing: the swarm's decode and cost, `iters` times.
        X = np.random.default_rng(0).random((n_particles, problem.n_var))
        t0 = time.perf_counter()
        for _ in range(iters):
            problem.evaluate(X)
        return time.perf_counter() - t0

    py_s, eval_s = [], []

    def others():
        # Timed before each fused round, so that the machine speeding up or slowing down
        # during the run (it is shared) weighs on the three alike.
        py_s.append(pyswarms_run(problem.evaluate))
        eval_s.append(evaluate_only())

    out = benchmark.pedantic(fused, setup=others, rounds=3, iterations=1)
    fused_rate = out.nfev / benchmark.stats.stats.median
    py_rate = n_particles * iters / float(np.median(py_s))
    np_rate = n_particles * iters / pyswarms_run(numpy_objective)
    eval_rate = n_particles * iters / float(np.median(eval_s))
    ratio, ratio_np = fused_rate / py_rate, fused_rate / np_rate
    by_periods = {}
    for T in (6, 8, 12):
        p = make_problem(load_steel(T))
        run(p, PsoOptions(swarm_size=n_particles, max_iter=2))
        fused_T, py_T = [], []
        for _ in range(3):  # alternating, as above
            o = run(p, opts)[0]
            fused_T.append(o.nfev / o.wall_s)
            py_T.append(n_particles * iters / _pyswarms_seconds(p, p.evaluate, n_particles, iters))
        by_periods[f"ratio_T{T}"] = float(np.median(fused_T) / np.median(py_T))
    # What pyswarms adds per iteration bounds the ratio: a driver with no cost of its own
    # would reach eval_rate / py_rate.
    benchmark.extra_info.update(fused_evals_per_s=fused_rate, pyswarms_kernel_evals_per_s=py_rate,
                                pyswarms_numpy_evals_per_s=np_rate, ratio=ratio,
                                ratio_numpy=ratio_np, evaluate_only_evals_per_s=eval_rate,
                                ratio_ceiling=eval_rate / py_rate, **by_periods)
    print(f"\nthroughput steel T=24, {n_particles} particles x {iters} iterations: fused "
          f"{fused_rate:,.0f} eval/s, pyswarms driving the same kernel {py_rate:,.0f} eval/s "
          f"(x{ratio:.1f}), pyswarms with a NumPy objective {np_rate:,.0f} eval/s "
          f"(x{ratio_np:.1f}); decode and cost alone {eval_rate:,.0f} eval/s (a driver "
          f"costing nothing would be x{eval_rate / py_rate:.1f} pyswarms); against pyswarms "
          f"driving the same kernel at 6, 8, 12 periods: "
          + ", ".join(f"x{by_periods[f'ratio_T{T}']:.1f}" for T in (6, 8, 12)))
    assert ratio_np >= 20
    assert ratio >= 10


#: Pairs of one- and two-worker runs of :func:`test_two_workers_against_one`.
PAIRS = 7


def test_two_workers_against_one(benchmark):
    """Same total budget (2 islands of 64 particles, 1,000 iterations each); one worker runs
    them in turn. One and two workers alternate :data:`PAIRS` times; the speed-up is the
    median of the pairs' ratios, each a one-worker run and the two-worker run right after
    it. This shared 2-core machine's speed drifts by a quarter within minutes (one worker,
    by hand: 85,000 to 108,000 evaluations per second in nine pairs), so each ratio compares
    runs made at nearly the same speed. The goal is for the default migration interval; the
    same is measured with a migration every 25 iterations, to show what frequent round
    trips to the workers cost."""
    inst = load_steel(24)
    opts = PsoOptions(swarm_size=64, max_iter=1000, seed=0)

    def islands(jobs, migrate_every):
        t0 = time.perf_counter()
        out = run_islands(make_problem, inst, opts,
                          IslandOptions(islands=2, jobs=jobs, migrate_every=migrate_every))
        return out, time.perf_counter() - t0

    def one_worker(migrate_every):
        threads = numba.get_num_threads()
        try:
            numba.set_num_threads(1)  # one worker, one core
            return islands(1, migrate_every)
        finally:
            numba.set_num_threads(threads)

    def rate(run):
        out, seconds = run
        return out.nfev / seconds

    def paired(pairs):
        """Median one- and two-worker rates, and the median of the pairs' ratios."""
        return (float(np.median([rate(a) for a, _ in pairs])),
                float(np.median([rate(b) for _, b in pairs])),
                [rate(b) / rate(a) for a, b in pairs])

    default = IslandOptions().migrate_every
    islands(2, default)  # start the workers and load their caches
    pairs = [(one_worker(default), islands(2, default)) for _ in range(PAIRS - 1)]
    last = one_worker(default)
    pairs.append((last, benchmark.pedantic(lambda: islands(2, default), rounds=1,
                                           iterations=1)))
    threaded, threaded_s = islands(1, default)  # one process, Numba threads on both cores
    assert len({out.cost for pair in pairs for out, _ in pair} | {threaded.cost}) == 1
    one_rate, two_rate, ratios = paired(pairs)
    speedup = float(np.median(ratios))
    rates = {"one_worker": one_rate, "two_workers": two_rate,
             "one_process_two_threads": threaded.nfev / threaded_s}
    one_25, two_25, ratios_25 = paired([(one_worker(25), islands(2, 25)) for _ in range(3)])
    benchmark.extra_info.update(**rates, speedup=speedup, migrate_every=default,
                                speedups=ratios,
                                speedup_migrate_every_25=float(np.median(ratios_25)))
    print(f"\nislands steel T=24, a migration every {default} iterations: 1 worker "
          f"{rates['one_worker']:,.0f} eval/s, 2 workers {rates['two_workers']:,.0f} eval/s "
          f"(medians of {PAIRS}); x{speedup:.2f}, the median of {PAIRS} paired runs' ratios "
          f"({min(ratios):.2f} to {max(ratios):.2f}); 1 process with 2 Numba threads "
          f"{rates['one_process_two_threads']:,.0f} eval/s; every 25 iterations: 1 worker "
          f"{one_25:,.0f}, 2 workers {two_25:,.0f} (x{np.median(ratios_25):.2f}, median of 3 "
          f"pairs)")
    assert speedup >= 1.8


def test_two_dask_workers_against_one(benchmark):
    """The same islands on a dask LocalCluster (loopback) of one and of two workers.

    The epochs go to the cluster's workers as dask futures either way (``engine/parallel.py``,
    ``_Epochs``), so both figures pay for sending the swarms at every migration.
    """
    from distributed import Client, LocalCluster
    from joblib import parallel_config

    inst = load_steel(24)
    opts = PsoOptions(swarm_size=64, max_iter=1000, seed=0)

    def islands(workers):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster), parallel_config(backend="dask"):
            iopts = IslandOptions(islands=2, jobs=2, backend=None)
            # workers load the kernels from the cache before the timed run
            run_islands(make_problem, inst, PsoOptions(swarm_size=64, max_iter=2), iopts)
            t0 = time.perf_counter()
            out = run_islands(make_problem, inst, opts, iopts)
            return out, out.nfev / (time.perf_counter() - t0)

    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, one_rate = islands(1)
    finally:
        numba.set_num_threads(threads)
    two, two_rate = benchmark.pedantic(lambda: islands(2), rounds=1, iterations=1)
    assert one.cost == two.cost
    speedup = two_rate / one_rate
    benchmark.extra_info.update(one_worker=one_rate, two_workers=two_rate, speedup=speedup)
    print(f"\nislands on dask, steel T=24: 1 worker {one_rate:,.0f} eval/s, 2 workers "
          f"{two_rate:,.0f} eval/s (x{speedup:.2f})")
    assert speedup > 1.0
