"""The manufacturers' side: best responses against the closed form, against a coarse grid,
the equilibrium's gains left, and the system objective."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.models.contracts import Instance, Plan, seed_case, seed_case_doc
from invswarm.engine.models.contracts.cournot import equilibrium as cournot
from invswarm.engine.models.contracts.equilibrium import (
    EquilibriumOptions,
    best_response,
    equilibrium,
    grid_best_response,
    profits,
    system_optimum,
)
from invswarm.engine.models.contracts.evaluate import KernelData
from invswarm.engine.models.contracts.problem import (
    SystemProblem,
    clearing_plan,
    decode_block,
    encode_block,
)
from invswarm.engine.pso import PsoOptions
from tests.contracts_random import random_contract, random_instance


def _closed_form_case(j: int, mode: str) -> tuple[Instance, Plan]:
    """Two equal retailers (z = 2,000), no noise, no disruption. Manufacturer j: unit cost
    400 and a capacity that never binds; its rival: unit cost 300, price 500, caps of 100 per
    retailer (which bind)."""
    rival = 1 - j
    mans = [None, None]
    mans[j] = {"name": "J", "capacity": 1e5, "unit_cost": 400.0, "overtime_cost": 600.0,
               "lead_time": 2, "hold": 3.0, "backlog": 30.0}
    mans[rival] = {"name": "rival", "capacity": 200.0, "unit_cost": 300.0,
                   "overtime_cost": 450.0, "lead_time": 1, "hold": 3.0, "backlog": 30.0}
    doc = {"model": "contracts", "periods_per_year": 52, "periods": 52, "mode": mode,
           "safety_factor": 1.65, "price_cap": 2000.0,
           "retailers": [{"name": f"R{i}", "market_power": 2000.0, "lead_time": 2 + i,
                          "hold": 5.0, "backlog": 50.0} for i in range(2)],
           "manufacturers": mans, "demand": {"paths": 1}}
    w = np.zeros(2)
    k = np.zeros((2, 2))
    w[rival], k[:, rival] = 500.0, 100.0
    w[j], k[:, j] = 1500.0, 1000.0
    return Instance.from_json(doc), Plan.from_arrays(w, k)


@pytest.mark.parametrize("mode", ["guaranteed", "flexible"])
@pytest.mark.parametrize("j", [0, 1])
def test_best_response_matches_the_closed_form(j, mode):
    inst, plan = _closed_form_case(j, mode)
    data = KernelData(inst)
    R, ca, K_rival, z_sum = 2, 400.0, 200.0, 4000.0
    w_star = (z_sum + R * ca - (R + 1) * K_rival) / (2 * R)
    S = (z_sum - R * w_star) / (R + 1)
    profit_star = inst.n_periods / inst.periods_per_year * (w_star - ca) * (S - K_rival)
    # undercutting the rival pays less than the closed form (so the closed form is the best)
    assert (500.0 - ca) * (z_sum - R * 500.0) / (R + 1) < profit_star
    br = best_response(data, plan, j, PsoOptions(swarm_size=16, max_iter=30, seed=j))
    assert br.plan.w[j] == pytest.approx(w_star, rel=1e-6)
    assert br.profit == pytest.approx(profit_star, rel=1e-6)
    assert profits(data, br.plan)[R + j] == pytest.approx(br.profit, rel=1e-12)
    # j's caps do not bind: the retailers buy less than them; the rival's do
    ys, _ = cournot(br.plan.w, br.plan.k, inst.z)
    assert (ys[:, j] < br.plan.k[:, j] - 1e-6).all()
    assert ys[:, 1 - j] == pytest.approx(100.0)
    # both modes give the same profits there
    other = KernelData(inst.with_mode("flexible" if mode == "guaranteed" else "guaranteed"))
    assert profits(other, br.plan) == pytest.approx(profits(data, br.plan), rel=1e-12)


def test_encoding_repairs_and_round_trips():
    rng = np.random.default_rng(2)
    inst = random_instance(rng, max_retailers=4)
    for j in range(inst.n_manufacturers):
        X = rng.random((50, 1 + inst.n_retailers)) * 1.5 - 0.2
        w, k = decode_block(inst, j, X)
        assert (w >= inst.unit_cost[j]).all() and (w <= inst.price_cap).all()
        assert (k >= 0).all() and (k.sum(axis=1) <= inst.capacity[j] * (1 + 1e-12)).all()
        wp, kp = random_contract(rng, inst)
        plan = Plan.from_arrays(wp, kp)
        x = encode_block(inst, j, plan)
        w1, k1 = decode_block(inst, j, x[None])
        assert w1[0] == pytest.approx(wp[j], rel=1e-12)
        assert np.allclose(k1[0], kp[:, j], rtol=1e-12, atol=1e-9)
    prob = SystemProblem(KernelData(inst))
    plan = Plan.from_arrays(*random_contract(rng, inst))
    back = prob.decode(prob.encode(plan))
    assert np.allclose(back.w, plan.w, rtol=1e-12) and np.allclose(back.k, plan.k, atol=1e-9)


def test_best_response_beats_the_coarse_grid_on_small_cases():
    rng = np.random.default_rng(21)
    for mode in ("guaranteed", "flexible"):
        inst = random_instance(rng, paths=6, periods=20, mode=mode, max_retailers=2)
        data = KernelData(inst)
        plan = Plan.from_arrays(*random_contract(rng, inst))
        for j in range(inst.n_manufacturers):
            _, grid_best = grid_best_response(data, plan, j, points=7)
            br = best_response(data, plan, j, PsoOptions(swarm_size=16, max_iter=30, seed=1))
            assert br.profit >= grid_best - 1e-9 * max(1.0, abs(grid_best))
            assert br.profit >= profits(data, plan)[inst.n_retailers + j] - 1e-9


@pytest.mark.parametrize("mode", ["guaranteed", "flexible"])
def test_equilibrium_with_equal_retailers_leaves_no_gain(mode):
    """The seed case with two equal retailers (capacities binding): the best responses stop
    at the market-clearing contract, no gain above 0.1 % left, none on a coarse grid."""
    doc = seed_case_doc(mode, paths=20)
    for r in doc["retailers"]:
        r.update(market_power=1900.0, lead_time=2, cv=0.25)
    inst = Instance.from_json(doc)
    data = KernelData(inst)
    eq = equilibrium(inst, EquilibriumOptions(), data=data)
    assert eq.converged
    assert eq.relative_gains.max() <= 1e-3
    R = inst.n_retailers
    for j in range(inst.n_manufacturers):
        _, grid_best = grid_best_response(data, eq.plan, j, points=9)
        assert grid_best <= eq.profits[R + j] * (1 + 1e-3)
    # both manufacturers sell their whole capacity at one price: the market clears
    assert eq.plan.w[0] == pytest.approx(eq.plan.w[1], rel=1e-9)
    assert eq.plan.k.sum(axis=0) == pytest.approx(inst.capacity, rel=1e-9)


def test_gauss_seidel_reports_the_gains_it_leaves():
    """From a start far from equilibrium, with one round only, the check round reports
    what each manufacturer would still gain (a positive figure, not hidden)."""
    inst = seed_case(paths=5)
    data = KernelData(inst)
    start = Plan.from_arrays(np.array([1500.0, 1500.0]), np.array([[150.0, 130.0],
                                                                   [150.0, 130.0]]))
    eq = equilibrium(inst, EquilibriumOptions(max_rounds=1), start=start, data=data)
    assert not eq.converged and eq.rounds == 2
    assert eq.relative_gains.max() > 1e-3
    # an independent search (another seed) finds a gain of that size too
    j = int(np.argmax(eq.gains))
    again = best_response(data, eq.plan, j, PsoOptions(swarm_size=32, max_iter=30, seed=9))
    assert again.profit - eq.profits[2 + j] >= 0.5 * eq.gains[j]


def test_system_optimum_is_at_least_the_equilibrium_and_random_contracts():
    inst = seed_case(paths=10)
    data = KernelData(inst)
    plan, chain, _ = system_optimum(inst, PsoOptions(swarm_size=16, max_iter=30, seed=0),
                                    data=data)
    assert chain == pytest.approx(profits(data, plan).sum(), rel=1e-12)
    assert chain >= profits(data, clearing_plan(inst)).sum() - 1e-9
    rng = np.random.default_rng(0)
    prob = SystemProblem(data)
    X = rng.random((64, prob.n_var))
    assert chain >= -prob.evaluate(X).min() - 1e-9


def test_unequal_demand_noise_leaves_guaranteed_supply_without_a_pure_equilibrium():
    """The shipped case with the second retailer's demand noisier (30 % instead of 25 %):
    under guaranteed supply a manufacturer gains by concentrating its capacity on one
    retailer, so the search reports no equilibrium, and an independent best response (another
    seed) from its reported contract finds a gain above ``eps`` too."""
    doc = seed_case_doc("guaranteed", paths=50)
    doc["retailers"][1]["cv"] = 0.30
    inst = Instance.from_json(doc)
    data = KernelData(inst)
    opts = EquilibriumOptions(max_rounds=1)
    eq = equilibrium(inst, opts, data=data)
    assert not eq.converged
    assert eq.relative_gains.max() > opts.eps
    R = inst.n_retailers
    found = [best_response(data, eq.plan, j, PsoOptions(swarm_size=32, max_iter=30, seed=9)
                           ).profit / eq.profits[R + j] - 1 for j in range(2)]
    assert max(found) > opts.eps
