"""PSO benchmarks: plan quality on the steel case, throughput against pyswarms, worker scaling.

Run with ``make bench``. Every solve is warmed up (kernels compiled or loaded from the cache)
before it is timed; the figures are printed and stored in ``extra_info``.
"""

from __future__ import annotations

import time

import numba
import numpy as np
import pytest

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.sfi import evaluate, load_steel
from invswarm.engine.models.sfi.milp import solve as solve_exact
from invswarm.engine.models.sfi.swarm import make_problem, solve_per_period, solve_pso
from invswarm.engine.parallel import IslandOptions, run_islands
from invswarm.engine.pso import PsoOptions, run
from tests.reference import sfi_numpy

SEEDS = range(5)
#: The issue's goals: median gap to the best known plan over 5 seeds, 10 s per run.
GOAL = {6: 0.002, 8: 0.002, 12: 0.002, 24: 0.005}
#: The seed paper's PSO gaps to its exact solution.
SEED_PSO_GAP = {6: 0.015, 8: 0.018, 12: 0.024, 24: 0.048}


@pytest.fixture(scope="module", autouse=True)
def warm():
    inst = load_steel(6)
    solve_pso(inst, PsoOptions(swarm_size=4, max_iter=2), sweeps=1, sweep_iter=2)
    solve_per_period(inst, PsoOptions(swarm_size=4, max_iter=2))


@pytest.mark.parametrize("periods", [6, 8, 12, 24])
def test_pso_quality_steel_case(benchmark, periods):
    inst = load_steel(periods)
    plan, out = solve_exact(inst, MilpOptions(time_limit=600, gap=1e-4))
    exact_cost, bound = evaluate(inst, plan).cost, out.bound

    def runs():
        rows = []
        for seed in SEEDS:
            t0 = time.perf_counter()
            p, _ = solve_pso(inst, PsoOptions(swarm_size=32, max_iter=None, time_limit=10,
                                              seed=seed))
            pso_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            q, _ = solve_per_period(inst, PsoOptions(swarm_size=32, max_iter=None,
                                                     time_limit=10, seed=seed))
            rows.append((evaluate(inst, p).cost, pso_s, evaluate(inst, q).cost,
                         time.perf_counter() - t0))
        return rows

    rows = benchmark.pedantic(runs, rounds=1, iterations=1)
    best = min([exact_cost] + [r[0] for r in rows])
    pso_gap = [(r[0] - best) / best for r in rows]
    pso_bound_gap = [(r[0] - bound) / r[0] for r in rows]
    base_gap = [(r[2] - best) / best for r in rows]
    med = float(np.median(pso_gap))
    benchmark.extra_info.update(
        best_known=best, exact_cost=exact_cost, bound=bound, pso_gaps=pso_gap,
        pso_median_gap=med, pso_median_gap_to_bound=float(np.median(pso_bound_gap)),
        pso_max_s=max(r[1] for r in rows), per_period_gaps=base_gap,
        per_period_median_gap=float(np.median(base_gap)), seed_paper_pso_gap=SEED_PSO_GAP[periods])
    print(f"\nsteel T={periods}: PSO median gap {100 * med:.3f} % (runs "
          f"{', '.join(f'{100 * g:.3f}' for g in pso_gap)} %), to the bound "
          f"{100 * float(np.median(pso_bound_gap)):.3f} %, <= {max(r[1] for r in rows):.1f} s; "
          f"per-period baseline median {100 * float(np.median(base_gap)):.2f} %; "
          f"seed paper's PSO {100 * SEED_PSO_GAP[periods]:.1f} %")
    assert med <= GOAL[periods]


def test_pso_large_generated(benchmark):
    """30 categories x 10 products x 52 periods: our PSO with a 60 s limit."""
    from invswarm.engine.models.sfi import Instance, generate
    from invswarm.engine.models.sfi.search import heuristic_plan

    inst = Instance.from_json(generate(periods=52, categories=30, products_per_category=10,
                                       seed=1))
    start = evaluate(inst, heuristic_plan(inst)).cost
    t0 = time.perf_counter()
    plan, info = benchmark.pedantic(
        solve_pso, args=(inst, PsoOptions(swarm_size=32, max_iter=None, time_limit=60)),
        rounds=1, iterations=1)
    wall = time.perf_counter() - t0
    cost = evaluate(inst, plan).cost
    benchmark.extra_info.update(cost=cost, constructive=start, wall_s=wall,
                                sweeps=info["sweeps"])
    print(f"\nPSO generated 30x10x52: {wall:.1f} s, cost {cost:,.0f}, "
          f"{100 * (start - cost) / start:.2f} % below the constructive plan, "
          f"{info['sweeps']} period sweeps")
    assert wall <= 66


def test_throughput_against_pyswarms(benchmark):
    """Evaluations per second, same problem, swarm size and iterations."""
    import pyswarms as ps

    inst = load_steel(24)
    problem = make_problem(inst)
    n_particles, iters = 64, 200
    opts = PsoOptions(swarm_size=n_particles, max_iter=iters, seed=0)
    run(problem, PsoOptions(swarm_size=n_particles, max_iter=2))

    def fused():
        return run(problem, opts)[0]

    out = benchmark.pedantic(fused, rounds=3, iterations=1)
    fused_s = benchmark.stats.stats.median
    fused_rate = out.nfev / fused_s

    def pyswarms_run(objective):
        np.random.seed(0)  # noqa: NPY002 - pyswarms reads the legacy generator
        opt = ps.single.GlobalBestPSO(n_particles=n_particles, dimensions=problem.n_var,
                                      options={"c1": 1.49445, "c2": 1.49445, "w": 0.729},
                                      bounds=(np.zeros(problem.n_var), np.ones(problem.n_var)))
        t0 = time.perf_counter()
        opt.optimize(objective, iters=iters, verbose=False)
        return time.perf_counter() - t0

    def numpy_objective(X):
        # The decoder stays in Numba: only the cost is NumPy.
        return sfi_numpy.costs(inst, *problem.decode_arrays(X))

    py_rate = n_particles * iters / float(np.median([pyswarms_run(problem.evaluate)
                                                     for _ in range(3)]))
    np_rate = n_particles * iters / pyswarms_run(numpy_objective)
    ratio, ratio_np = fused_rate / py_rate, fused_rate / np_rate
    benchmark.extra_info.update(fused_evals_per_s=fused_rate, pyswarms_kernel_evals_per_s=py_rate,
                                pyswarms_numpy_evals_per_s=np_rate, ratio=ratio,
                                ratio_numpy=ratio_np)
    print(f"\nthroughput steel T=24, {n_particles} particles x {iters} iterations: fused "
          f"{fused_rate:,.0f} eval/s, pyswarms driving the same kernel {py_rate:,.0f} eval/s "
          f"(x{ratio:.1f}), pyswarms with a NumPy objective {np_rate:,.0f} eval/s "
          f"(x{ratio_np:.1f})")
    assert ratio_np >= 20
    assert ratio >= 10


def test_two_workers_against_one(benchmark):
    """Same total budget (2 islands of 64 particles, 1,000 iterations each); one worker runs
    them in turn."""
    inst = load_steel(24)
    opts = PsoOptions(swarm_size=64, max_iter=1000, seed=0)

    def islands(n_jobs):
        t0 = time.perf_counter()
        out = run_islands(make_problem, inst, opts,
                          IslandOptions(islands=2, n_jobs=n_jobs, migrate_every=250))
        return out, time.perf_counter() - t0

    threads = numba.get_num_threads()
    islands(2)  # start the workers and load their caches
    try:
        numba.set_num_threads(1)  # one worker, one core
        one, one_s = islands(1)
    finally:
        numba.set_num_threads(threads)
    two, two_s = benchmark.pedantic(lambda: islands(2), rounds=1, iterations=1)
    threaded, threaded_s = islands(1)  # one process, Numba threads on both cores
    assert one.cost == two.cost == threaded.cost
    rates = {"one_worker": one.nfev / one_s, "two_workers": two.nfev / two_s,
             "one_process_two_threads": threaded.nfev / threaded_s}
    speedup = rates["two_workers"] / rates["one_worker"]
    benchmark.extra_info.update(**rates, speedup=speedup)
    print(f"\nislands steel T=24: 1 worker {rates['one_worker']:,.0f} eval/s, 2 workers "
          f"{rates['two_workers']:,.0f} eval/s (x{speedup:.2f}), 1 process with 2 Numba "
          f"threads {rates['one_process_two_threads']:,.0f} eval/s")
    assert speedup >= 1.8
