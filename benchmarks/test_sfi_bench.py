"""SFI kernel micro-benchmark: ns per cell against the plain reference and the NumPy version.

Run with ``make bench`` (the exact solver's and the swarms' figures are ``invswarm bench``'s).
Compile time is kept out of every timed region (the kernel is warmed up first). Figures are
printed and stored in pytest-benchmark's ``extra_info``.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.timing import median_time
from invswarm.engine.models.sfi import Instance, batch_costs, generate, load_steel
from tests.reference import sfi as ref
from tests.reference import sfi_numpy
from tests.sfi_random import random_plan

#: The seed paper's exact-algorithm times (minutes), for the side-by-side figure.
SEED_EXACT_MIN = {6: 6, 8: 21, 12: 90, 24: 258}


def _swarm(inst, n, seed=0):
    rng = np.random.default_rng(seed)
    plans = [random_plan(rng, inst) for _ in range(n)]
    return plans, tuple(np.stack([getattr(p, f) for p in plans])
                        for f in ("pdp", "generic", "codp", "dedicated"))


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
    ref_s = median_time(lambda: [ref.expected(inst, p) for p in ref_plans], 3)
    ref_ns = ref_s / (len(ref_plans) * cells / len(plans)) * 1e9
    np_s = median_time(lambda: sfi_numpy.costs(inst, *arrays), 3)
    np_ns = np_s / cells * 1e9
    kernel_ns = kernel_s / cells * 1e9
    for p, c in zip(ref_plans, costs):
        assert abs(ref.expected(inst, p)["cost"] - c) <= 1e-9 * max(1.0, abs(c))
    np.testing.assert_allclose(sfi_numpy.costs(inst, *arrays), costs, rtol=1e-9)
    ratio = ref_ns / kernel_ns
    benchmark.extra_info.update(cells=cells, kernel_ns_per_cell=kernel_ns,
                                reference_ns_per_cell=ref_ns, numpy_ns_per_cell=np_ns,
                                speedup=ratio, speedup_numpy=np_ns / kernel_ns)
    print(f"\nkernel {case}: {kernel_ns:.2f} ns per particle-period-product-scenario cell, "
          f"reference {ref_ns:,.0f} ns (x{ratio:,.0f}), NumPy {np_ns:,.1f} ns "
          f"(x{np_ns / kernel_ns:,.1f})")
    assert ratio > 100
