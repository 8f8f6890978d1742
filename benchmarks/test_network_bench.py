"""Network kernel micro-benchmarks: the batch kernel against the plain reference, and decoding
throughput. Plan quality on the network cases is ``invswarm bench``'s (``--experiments
network``).

Compile time is kept out of every timed region; figures are printed and stored in
``extra_info``.
"""

from __future__ import annotations

import time

import numpy as np

from invswarm.engine.models.network import KernelData, electronics_case, generate, plan_costs
from invswarm.engine.models.network.problem import NetworkProblem
from tests.network_random import as_reference, random_feasible_plan
from tests.reference import network as ref


def test_kernel_against_reference(benchmark):
    inst = electronics_case()
    data = KernelData(inst)
    rng = np.random.default_rng(0)
    plans = [random_feasible_plan(rng, inst, data, tries=20) for _ in range(64)]
    plan_costs(data, plans[:2])  # compiled before timing
    out = benchmark(plan_costs, data, plans)
    kernel_s = benchmark.stats.stats.median
    t0 = time.perf_counter()
    for p in plans[:8]:
        r = ref.evaluate(inst, as_reference(p, inst))
    ref_s = (time.perf_counter() - t0) / 8
    assert abs(r.cost - out.cost[7]) <= 1e-9 * max(1.0, abs(r.cost))
    per_plan = kernel_s / len(plans)
    benchmark.extra_info.update(kernel_us_per_plan=1e6 * per_plan,
                                reference_us_per_plan=1e6 * ref_s, speedup=ref_s / per_plan,
                                shipments_per_plan=float(np.mean([p.n_shipments
                                                                  for p in plans])))
    print(f"\nnetwork kernel, electronics case: {1e6 * per_plan:.1f} µs per plan, reference "
          f"{1e6 * ref_s:,.0f} µs (x{ref_s / per_plan:,.0f})")
    assert ref_s / per_plan > 10


def test_decoder_throughput(benchmark):
    inst = generate(firms=50, materials=200, periods=26, density=0.1, seed=1)
    prob = NetworkProblem(inst)
    X = np.random.default_rng(0).random((32, prob.n_var))
    prob.evaluate(X[:2])  # compiled before timing
    out = benchmark.pedantic(prob.batch, args=(X,), rounds=3, iterations=1)
    rate = X.shape[0] / benchmark.stats.stats.median
    benchmark.extra_info.update(plans_per_s=rate, n_var=prob.n_var)
    print(f"\nnetwork decoder + kernel, 50x200x26 ({prob.n_var} variables): {rate:.1f} plans "
          f"per second")
    assert (out.flags == 0).all()
