"""The network by material (``decompose``): the one-material instances cost what the network
says, the priced bound stays below the optimum, the plan is feasible and as good as the
exact optimum where every part is solved, whatever the number of workers."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.network import KernelData, Plan, plan_costs
from invswarm.engine.models.network import milp as nmilp
from invswarm.engine.models.network.decompose import (
    DecomposeOptions,
    one_material,
    solve_decomposed,
    solve_part,
)
from invswarm.engine.models.network.pins import Pins
from invswarm.engine.models.network.swarm import solve_greedy
from invswarm.engine.run_setup import SolveOptions
from invswarm.engine.solve import solve
from invswarm.engine.termination import Budget, StopToken
from tests.network_random import random_feasible_plan, random_instance

pytestmark = pytest.mark.slow  # exact solves (HiGHS)


def test_one_material_costs_what_the_network_charges_that_material():
    rng = np.random.default_rng(31)
    checked = 0
    for _ in range(30):
        inst = random_instance(rng)
        data = KernelData(inst)
        plan = random_feasible_plan(rng, inst, data, tries=40)
        for m in np.unique(plan.material).tolist():
            alone = plan.of_material(m)
            sub = one_material(inst, m)
            sub_cost = plan_costs(KernelData(sub), [plan.of_material(m, 0)])
            full = plan_costs(data, [alone, Plan.empty()])
            # the other materials keep their no-sharing cost in both plans of the network
            empty_sub = plan_costs(KernelData(sub), [Plan.empty()]).cost[0]
            assert sub_cost.flags[0] == full.flags[0]
            assert sub_cost.cost[0] - empty_sub == pytest.approx(
                full.cost[0] - full.cost[1], rel=1e-9, abs=1e-6)
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("seed", range(8))
def test_bound_below_the_optimum_and_plan_at_it(seed):
    inst = random_instance(np.random.default_rng(400 + seed))
    data = KernelData(inst)
    greedy, _ = solve_greedy(inst)
    exact, out = nmilp.solve(inst, MilpOptions(time_limit=60, gap=0.0))
    assert out.optimal
    plan, info = solve_decomposed(inst, greedy, DecomposeOptions(), Budget(60), data=data)
    c = plan_costs(data, [plan])
    assert c.flags[0] == 0
    assert info["parts_optimal"] == info["parts"], str(info)
    tol = 1e-6 * max(1.0, out.objective)
    assert info["bound"] <= out.objective + tol
    assert c.cost[0] >= out.objective - tol
    assert c.cost[0] <= plan_costs(data, [greedy]).cost[0] + tol


def test_prices_of_a_link_period_add_up_to_its_fixed_cost():
    inst = random_instance(np.random.default_rng(402))
    movable = [m for m in range(inst.n_materials) if inst.listed[:, m].sum() > 1]
    reach = nmilp.link_periods(inst, movable)
    sharers = Counter(key for m in movable for key in reach[m])
    assert sharers, "an instance with nothing to share tests nothing"
    for key, k in sharers.items():
        assert sum(1 for m in movable if key in reach[m]) == k
    # each material's model has a fixed-cost binary exactly on the link-periods it reaches
    for m in movable:
        one = nmilp.build(inst, materials=[m], prices={key: 1.0 for key in reach[m]})
        none = nmilp.build(inst, materials=[m], prices={})
        assert one.builder.n_cols - none.builder.n_cols == len(reach[m])


def test_one_worker_and_two_give_the_same_plan():
    plans = []
    for jobs in (1, 2):
        res = solve(random_instance(np.random.default_rng(405)), "decompose",
                    SolveOptions(time_limit=60, jobs=jobs, threads=2))
        assert res.status == "done"
        plans.append(res.plan)
    assert plans[0] == plans[1]


def test_a_stop_keeps_the_plan_assembled_so_far():
    from invswarm.engine.models.network import generate

    inst = generate(firms=12, materials=30, periods=12, density=0.3, seed=3)
    token = StopToken()
    seen = []

    def stop_after_first(info):
        seen.append(info["parts_done"])
        token.stop()

    data = KernelData(inst)
    greedy, _ = solve_greedy(inst)
    plan, info = solve_decomposed(inst, greedy, DecomposeOptions(), Budget(60, stop=token),
                                  data=data, callback=stop_after_first)
    assert plan_costs(data, [plan]).flags[0] == 0
    assert info["message"] == "stopped" and info["parts_optimal"] < info["parts"]
    assert len(seen) == 1 and info["polish_s"] < 0.5


def test_a_part_whose_model_takes_its_time_to_build_keeps_its_start():
    from invswarm.engine.models.network import generate

    inst = generate(firms=12, materials=30, periods=12, density=0.3, seed=3)
    greedy, _ = solve_greedy(inst)
    m = max(range(inst.n_materials), key=lambda k: greedy.of_material(k).n_shipments)
    start = greedy.of_material(m, 0)
    part = solve_part(one_material(inst, m), m, {}, start, Pins.none(), 1e-6, os.getpid())
    assert part.plan is start and part.bound == -np.inf and not part.optimal
    # given the time, the same part is solved
    solved = solve_part(one_material(inst, m), m, {}, start, Pins.none(), 30.0, os.getpid())
    assert solved.bound > -np.inf
