"""SFI benchmarks: exact solve time of the steel case, kernel throughput against the reference.

Run with ``make bench``. Compile time is kept out of every timed region (the kernel is warmed
up first). Figures are printed and stored in pytest-benchmark's ``extra_info``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.sfi import Instance, batch_costs, evaluate, generate, load_steel
from invswarm.engine.models.sfi.milp import solve
from tests.reference import sfi as ref
from tests.sfi_random import random_plan

#: The seed paper's exact-algorithm times (minutes), for the side-by-side figure.
SEED_EXACT_MIN = {6: 6, 8: 21, 12: 90, 24: 258}


@pytest.mark.parametrize("periods", [6, 8, 12, 24])
def test_exact_steel_case(benchmark, periods):
    inst = load_steel(periods)
    opts = MilpOptions(time_limit=600, gap=1e-4)
    plan, out = benchmark.pedantic(solve, args=(inst, opts), rounds=1, iterations=1)
    cost = evaluate(inst, plan).cost
    gap = (cost - out.bound) / cost
    benchmark.extra_info.update(status=out.status, cost=cost, bound=out.bound, gap=gap,
                                wall_s=out.wall_s, seed_exact_s=60 * SEED_EXACT_MIN[periods])
    print(f"\nexact steel T={periods}: {out.status}, {out.wall_s:.1f} s, gap {100 * gap:.4f} %, "
          f"cost {cost:,.2f}, seed paper {SEED_EXACT_MIN[periods]} min "
          f"(x{60 * SEED_EXACT_MIN[periods] / out.wall_s:,.0f})")
    assert out.optimal and gap <= 1e-4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_generated_3x3x24(benchmark, seed):
    """Generated instances of the steel case's size (3 categories x 3 products x 24 periods):
    how far the exact solver gets in 60 s."""
    inst = Instance.from_json(generate(periods=24, categories=3, products_per_category=3,
                                       seed=seed))
    plan, out = benchmark.pedantic(solve, args=(inst, MilpOptions(time_limit=60, gap=1e-4)),
                                   rounds=1, iterations=1)
    cost = evaluate(inst, plan).cost
    gap = (cost - out.bound) / cost
    benchmark.extra_info.update(status=out.status, cost=cost, bound=out.bound, gap=gap,
                                wall_s=out.wall_s)
    print(f"\nexact generated 3x3x24 seed {seed}: {out.status}, {out.wall_s:.1f} s, gap "
          f"{100 * gap:.4f} %")
    assert gap < 0.01


def _swarm(inst, n, seed=0):
    rng = np.random.default_rng(seed)
    plans = [random_plan(rng, inst) for _ in range(n)]
    return plans, tuple(np.stack([getattr(p, f) for p in plans])
                        for f in ("pdp", "generic", "codp", "dedicated"))


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


@pytest.mark.parametrize("case", ["steel-24", "generated-9x24x32"])
def test_kernel_throughput_against_reference(benchmark, case):
    if case == "steel-24":
        inst = load_steel(24)
    else:
        inst = Instance.from_json(generate(periods=24, categories=3, products_per_category=3,
                                           scenarios=32, seed=1))
    plans, arrays = _swarm(inst, 256)
    batch_costs(inst, *(a[:2] for a in arrays))  # compile / load from cache
    cells = len(plans) * inst.n_periods * inst.n_products * inst.n_scenarios
    costs, _, _ = batch_costs(inst, *arrays)
    kernel_s = benchmark(batch_costs, inst, *arrays)[0] is not None and \
        benchmark.stats.stats.median
    ref_plans = plans[:4]
    ref_s = _median_time(lambda: [ref.expected(inst, p) for p in ref_plans], 3)
    ref_ns = ref_s / (len(ref_plans) * cells / len(plans)) * 1e9
    kernel_ns = kernel_s / cells * 1e9
    for p, c in zip(ref_plans, costs):
        assert abs(ref.expected(inst, p)["cost"] - c) <= 1e-9 * max(1.0, abs(c))
    ratio = ref_ns / kernel_ns
    benchmark.extra_info.update(cells=cells, kernel_ns_per_cell=kernel_ns,
                                reference_ns_per_cell=ref_ns, speedup=ratio)
    print(f"\nkernel {case}: {kernel_ns:.2f} ns per particle-period-product-scenario cell, "
          f"reference {ref_ns:,.0f} ns, x{ratio:,.0f}")
    assert ratio > 100
