"""The exact network MILP against the kernel: on random plans fixed in it, and on its own
optimum."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine import milp_process
from invswarm.engine.milp import MilpOptions, run
from invswarm.engine.models.network import KernelData, electronics_case, plan_costs
from invswarm.engine.models.network import milp as nmilp
from invswarm.engine.models.network.swarm import solve_greedy
from tests.network_random import random_feasible_plan, random_instance, random_plan

pytestmark = pytest.mark.slow  # exact solves (HiGHS)


def test_fixed_random_plans_cost_what_the_kernel_says():
    rng = np.random.default_rng(21)
    checked = 0
    for _ in range(25):
        inst = random_instance(rng)
        data = KernelData(inst)
        plan = random_feasible_plan(rng, inst, data, tries=40)
        out = nmilp.fixed_plan_objective(inst, plan, MilpOptions(time_limit=60))
        assert out.optimal, out.status
        kern = plan_costs(data, [plan]).cost[0]
        assert abs(out.objective - kern) <= 1e-6 * max(1.0, abs(kern))
        checked += plan.n_shipments
    assert checked > 50


def test_fixing_a_refused_plan_is_infeasible():
    # a donor that gives away its protected stock: the MILP must refuse it too
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(40):
        inst = random_instance(rng)
        data = KernelData(inst)
        plan = random_plan(rng, inst, n=3)
        if plan.n_shipments == 0 or plan_costs(data, [plan]).flags[0] == 0:
            continue
        out = nmilp.fixed_plan_objective(inst, plan, MilpOptions(time_limit=60))
        assert not out.optimal, "the MILP accepts a plan the kernel refuses"
        found += 1
    assert found >= 5


@pytest.mark.parametrize("seed", range(12))
def test_optimum_is_kernel_cost_and_beats_greedy(seed):
    inst = random_instance(np.random.default_rng(100 + seed))
    data = KernelData(inst)
    plan, out = nmilp.solve(inst, MilpOptions(time_limit=60, gap=0.0))
    assert out.optimal, out.status
    c = plan_costs(data, [plan])
    assert c.flags[0] == 0
    assert abs(c.cost[0] - out.objective) <= 1e-6 * max(1.0, abs(out.objective))
    greedy, _ = solve_greedy(inst)
    assert out.objective <= plan_costs(data, [greedy]).cost[0] + 1e-6


def test_shipped_case_warm_start_is_accepted():
    inst = electronics_case()
    greedy, _ = solve_greedy(inst)
    out = nmilp.fixed_plan_objective(inst, greedy)
    assert out.optimal
    assert abs(out.objective - plan_costs(KernelData(inst), [greedy]).cost[0]) <= 1e-6 * 1e4


def _greedy_models(seed: int, n: int):
    """``n`` random instances: each with its greedy plan's cost, the plan and its exact
    model."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        inst = random_instance(rng)
        data = KernelData(inst)
        greedy, _ = solve_greedy(inst)
        yield plan_costs(data, [greedy]).cost[0], greedy, nmilp.build(inst, data=data)


def test_completed_start_is_the_first_incumbent():
    for greedy_cost, greedy, model in _greedy_models(8, 10):
        start = nmilp.completed_start(model, greedy, MilpOptions(time_limit=30))
        assert start is not None and start[1].size == model.builder.n_cols
        out = run(model.builder.to_highs(), MilpOptions(time_limit=30, gap=0.0), start)
        first = out.trace[0][1]  # the incumbent HiGHS reported first
        assert first <= greedy_cost + 1e-6 * max(1.0, first)


def test_the_solver_process_completes_a_partial_start_first():
    for greedy_cost, greedy, model in _greedy_models(9, 3):
        out = milp_process.solve(model.builder, MilpOptions(time_limit=30, gap=0.0,
                                                            complete=0.5),
                                 nmilp.start_of(model, greedy))
        assert out.trace[0][1] <= greedy_cost + 1e-6 * max(1.0, out.trace[0][1])
