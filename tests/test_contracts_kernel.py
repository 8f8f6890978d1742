"""The batched contracts kernel against the plain reference (tests/reference/contracts.py),
and the steady state it must keep with no noise."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.models.contracts import seed_case
from invswarm.engine.models.contracts.evaluate import KernelData, demand_noise, run
from invswarm.kernels import contracts as kc
from tests.contracts_random import random_contract, random_instance
from tests.reference import contracts as ref
from tests.reference import contracts_numpy


def _assert_close(a, b, what, rel=1e-9):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    bad = np.abs(a - b) > rel * scale
    assert not bad.any(), (what, a[bad], b[bad])


@pytest.mark.parametrize("mode", ["guaranteed", "flexible"])
@pytest.mark.parametrize("disruptions", [False, True])
def test_kernel_equals_reference_on_random_contracts(mode, disruptions):
    rng = np.random.default_rng(100 + 2 * disruptions + (mode == "flexible"))
    n_contracts = 0
    for _ in range(25):
        inst = random_instance(rng, disruptions=disruptions, mode=mode, max_manufacturers=3)
        data = KernelData(inst)
        contracts = [random_contract(rng, inst) for _ in range(5)]
        W = np.array([c[0] for c in contracts])
        K = np.array([c[1] for c in contracts])
        out = run(data, W, K)
        for p, (w, k) in enumerate(contracts):
            r = ref.evaluate(inst, mode, w, k, data.u, y=out.y[p])
            _assert_close(out.money[p], r["money"], "money")
            _assert_close(out.units[p], r["units"], "units")
            _assert_close(out.var_o[p], r["var_o"], "var_o")
            _assert_close(out.var_d[p], r["var_d"], "var_d")
            n_contracts += 1
    assert n_contracts == 125


def kernel_arguments(data, out, w):
    """The arguments of ``kc.simulate`` after ``run`` (contracts ``w`` (P, M)), without the
    outputs."""
    from invswarm.engine.models.contracts.evaluate import safety_stocks

    inst = data.inst
    tns_r, tns_m = safety_stocks(inst, out.y, data.corr)
    return (data.mode, out.y, out.price, np.ascontiguousarray(w, np.float64), tns_r, tns_m,
            data.chain)


@pytest.mark.parametrize("mode", ["guaranteed", "flexible"])
def test_numpy_version_equals_kernel(mode):
    rng = np.random.default_rng(300 + (mode == "flexible"))
    for _ in range(15):
        inst = random_instance(rng, mode=mode, paths=4, max_manufacturers=3)
        data = KernelData(inst)
        W, K = map(np.array, zip(*[random_contract(rng, inst) for _ in range(6)]))
        out = run(data, W, K)
        P, D = W.shape[0], inst.n_scenarios
        NQ = inst.n_retailers + inst.n_manufacturers
        res = [np.zeros((P, D, NQ, kc.N_MONEY)), np.zeros((P, D, NQ, kc.N_UNITS)),
               np.zeros((P, D, NQ + 2)), np.zeros((P, D, NQ + 2))]
        contracts_numpy.simulate(*kernel_arguments(data, out, W), *res)
        for a, b, what in zip(res, (out.money, out.units, out.var_o, out.var_d),
                              ("money", "units", "var_o", "var_d")):
            _assert_close(a, b, what)


def test_demand_noise_follows_the_page():
    rng = np.random.default_rng(7)
    for _ in range(3):
        inst = random_instance(rng, paths=4, periods=9)
        u = ref.demand_noise(inst.paths, inst.n_periods, inst.demand_seed, inst.phi,
                             inst.correlation)
        _assert_close(demand_noise(inst), u, "u", rel=1e-12)


def test_noise_statistics_on_many_paths():
    inst = seed_case(paths=4000)
    u = demand_noise(inst)
    # stationary: variance 1 / (1 - phi^2) in every period, lag-1 autocorrelation phi
    v = u.var(axis=0)
    assert np.allclose(v, 1 / (1 - 0.3**2), rtol=0.1)
    lag = (u[:, :, 1:] * u[:, :, :-1]).mean() / u.var()
    assert lag == pytest.approx(0.3, abs=0.03)
    c = np.corrcoef(u[:, 0, :].ravel(), u[:, 1, :].ravel())[0, 1]
    assert c == pytest.approx(0.3, abs=0.03)


def _quiet(inst):
    """The instance with no demand noise and only the first (no-disruption) scenario."""
    from dataclasses import replace

    return replace(inst.with_scenarios([0]), cv=np.zeros(inst.n_retailers))


@pytest.mark.parametrize("mode", ["guaranteed", "flexible"])
def test_no_noise_no_disruption_keeps_the_steady_state(mode):
    inst = _quiet(seed_case(mode, paths=2))
    data = KernelData(inst)
    w = np.array([[1060.0, 1080.0], [900.0, 1500.0]])
    k = np.array([[[150.0, 100.0], [100.0, 100.0]], [[300.0, 0.0], [0.0, 260.0]]])
    out = run(data, w, k)
    T, n = inst.n_periods, inst.periods_per_year
    for p in range(2):
        y = out.y[p]
        R = 2
        for j in range(2):
            analytic = T / n * (w[p, j] - inst.unit_cost[j]) * y[:, j].sum()
            assert out.profit[p, 0, R + j] == pytest.approx(analytic, rel=1e-12)
            assert out.money[p, 0, R + j, kc.HOLDING] == pytest.approx(0, abs=1e-9)
            assert out.units[p, 0, R + j, kc.OVERTIME] == pytest.approx(0, abs=1e-9)
        for i in range(2):
            analytic = T / n * (out.price[p, i] * y[i].sum() - w[p] @ y[i])
            assert out.profit[p, 0, i] == pytest.approx(analytic, rel=1e-12)
            assert out.units[p, 0, i, kc.SERVED] == pytest.approx(
                out.units[p, 0, i, kc.DEMAND], rel=1e-12)
        assert np.abs(out.var_o[p]).max() < 1e-18


def test_both_modes_give_equal_profits_without_noise_and_disruption():
    inst = _quiet(seed_case(paths=2))
    w = np.array([[1060.0, 1080.0], [700.0, 700.0]])
    k = np.array([[[150.0, 100.0], [100.0, 100.0]], [[100.0, 50.0], [30.0, 200.0]]])
    g = run(KernelData(inst.with_mode("guaranteed")), w, k)
    f = run(KernelData(inst.with_mode("flexible")), w, k)
    assert np.allclose(g.profit, f.profit, rtol=1e-12)
    # and with noise and a disruption the modes do differ
    full = seed_case(paths=20)
    g = run(KernelData(full.with_mode("guaranteed")), w, k)
    f = run(KernelData(full.with_mode("flexible")), w, k)
    assert np.abs(g.profit - f.profit).max() > 1.0


def test_one_thread_and_two_give_the_same_bits():
    import numba

    rng = np.random.default_rng(3)
    inst = random_instance(rng, paths=5)
    data = KernelData(inst)
    W, K = map(np.array, zip(*[random_contract(rng, inst) for _ in range(7)]))
    a = run(data, W, K)
    numba.set_num_threads(1)
    try:
        b = run(data, W, K)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(a.money, b.money) and np.array_equal(a.var_o, b.var_o)
