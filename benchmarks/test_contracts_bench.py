"""Contracts micro-benchmarks: the kernel's ns per scenario-period cell against the plain
reference and the NumPy version, and the manufacturers' equilibrium on the shipped case
(1,000 scenarios of 104 periods: 5 disruption scenarios x 200 demand paths).

Run with ``make bench``. The kernels are warmed up before any timing. Figures are printed and
stored in pytest-benchmark's ``extra_info``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.timing import median_time
from invswarm.engine.models.contracts import seed_case
from invswarm.engine.models.contracts.equilibrium import equilibrium, profits
from invswarm.engine.models.contracts.evaluate import KernelData, run
from invswarm.engine.models.contracts.problem import clearing_plan
from invswarm.kernels import contracts as kc
from tests.contracts_random import random_contract
from tests.reference import contracts as ref
from tests.reference import contracts_numpy
from tests.test_contracts_kernel import kernel_arguments

#: The must-show goals: the largest unilateral gain left, and the wall time of the search.
GAIN_GOAL, TIME_GOAL_S = 1e-3, 60.0


@pytest.mark.parametrize("mode", ["guaranteed", "flexible"])
def test_contracts_kernel_throughput(benchmark, mode):
    inst = seed_case(mode, paths=200)
    data = KernelData(inst)
    rng = np.random.default_rng(0)
    W, K = map(np.array, zip(*[random_contract(rng, inst) for _ in range(32)]))
    out = run(data, W, K)                                   # compiled / loaded from cache
    args = kernel_arguments(data, out, W)
    P, D = W.shape[0], inst.n_scenarios
    NQ = inst.n_retailers + inst.n_manufacturers
    outs = [np.zeros((P, D, NQ, kc.N_MONEY)), np.zeros((P, D, NQ, kc.N_UNITS)),
            np.zeros((P, D, NQ + 2)), np.zeros((P, D, NQ + 2))]
    cells = P * D * inst.paths * inst.n_periods
    benchmark(kc.simulate, *args, *outs)
    kernel_ns = benchmark.stats.stats.median / cells * 1e9
    npy = [np.zeros_like(a) for a in outs]
    numpy_ns = median_time(lambda: contracts_numpy.simulate(*args, *npy), 3) / cells * 1e9
    for a, b in zip(npy, outs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)
    # the plain reference on 2 contracts and the first 10 paths
    small = data.u[:10]
    t0 = time.perf_counter()
    for p in range(2):
        r = ref.evaluate(inst, mode, W[p], K[p], small, y=out.y[p])
    ref_ns = (time.perf_counter() - t0) / (2 * D * 10 * inst.n_periods) * 1e9
    check = run(KernelData(inst, u=small), W[1:2], K[1:2])
    np.testing.assert_allclose(check.money[0], r["money"], rtol=1e-9, atol=1e-9)
    benchmark.extra_info.update(cells=cells, kernel_ns_per_cell=kernel_ns,
                                numpy_ns_per_cell=numpy_ns, reference_ns_per_cell=ref_ns,
                                speedup_numpy=numpy_ns / kernel_ns,
                                speedup_reference=ref_ns / kernel_ns)
    print(f"\ncontracts kernel, {mode}: {kernel_ns:.1f} ns per contract-scenario-period cell "
          f"(2 x 2 network, 32 contracts x 1,000 scenarios x 104 periods); NumPy "
          f"{numpy_ns:.1f} ns (x{numpy_ns / kernel_ns:.1f}); plain reference {ref_ns:,.0f} ns "
          f"(x{ref_ns / kernel_ns:,.0f})")
    assert ref_ns / kernel_ns > 10 and numpy_ns / kernel_ns > 1


@pytest.mark.parametrize("mode", ["flexible", "guaranteed"])
def test_contracts_equilibrium_on_the_shipped_case(benchmark, mode):
    inst = seed_case(mode, paths=200)
    data = KernelData(inst)
    profits(data, clearing_plan(inst))                      # compiled / loaded from cache
    c0 = time.process_time()
    eq = benchmark.pedantic(equilibrium, args=(inst,), kwargs={"data": data}, rounds=1,
                            iterations=1)
    cpu = time.process_time() - c0
    wall = benchmark.stats.stats.median
    gain = float(eq.relative_gains.max())
    benchmark.extra_info.update(wall_s=wall, cpu_s=cpu, converged=eq.converged,
                                largest_relative_gain=gain, start=eq.start,
                                evaluations=eq.evaluations)
    print(f"\ncontracts equilibrium, {mode}, 1,000 scenarios x 104 periods: {wall:.1f} s wall "
          f"({cpu:.1f} s CPU), {'converged' if eq.converged else 'not converged'} from the "
          f"{eq.start} clearing contract, largest unilateral gain left {100 * gain:.4f} %, "
          f"{eq.evaluations:,} evaluations")
    assert eq.converged and gain <= GAIN_GOAL and wall <= TIME_GOAL_S
