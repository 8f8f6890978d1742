"""The network's crossover of two plans, material by material (engine/models/network/search.py)."""

from __future__ import annotations

import numpy as np

from invswarm.engine.models.network import KernelData, plan_costs
from invswarm.engine.models.network.problem import NetworkProblem
from invswarm.engine.models.network.search import crossover
from tests.network_random import random_instance


def _by_material(plan, m):
    keep = plan.material == m
    return sorted(zip(plan.link[keep].tolist(), plan.period[keep].tolist(),
                      plan.qty[keep].tolist(), plan.kind[keep].tolist()))


def test_crossover_takes_whole_materials_and_never_costs_more():
    rng = np.random.default_rng(41)
    improved = 0
    for _ in range(40):
        inst = random_instance(rng)
        prob = NetworkProblem(inst)
        if prob.n_var == 0:
            continue
        data = KernelData(inst)
        a, b = (prob.decode(x) for x in rng.random((2, prob.n_var)))
        plan, cost = crossover(data, a, b)
        out = plan_costs(data, [a, plan])
        assert out.flags[1] == 0 and cost == out.cost[1]
        assert cost <= out.cost[0]
        improved += cost < out.cost[0]
        for m in range(inst.n_materials):
            assert _by_material(plan, m) in (_by_material(a, m), _by_material(b, m))
        same, same_cost = crossover(data, a, a)
        assert same_cost == out.cost[0] and _by_material(same, 0) == _by_material(a, 0)
    assert improved >= 5


def test_a_search_whose_run_has_ended_sets_up_no_material(monkeypatch):
    from invswarm.engine.models.network import generate, search
    from invswarm.engine.models.network.swarm import solve_greedy
    from invswarm.engine.termination import Budget, StopToken

    inst = generate(firms=8, materials=20, periods=8, density=0.4, seed=2)
    greedy, _ = solve_greedy(inst)
    scored = []
    real = search.plan_costs

    def counting(*args, **kw):
        scored.append(None)
        return real(*args, **kw)

    monkeypatch.setattr(search, "plan_costs", counting)
    token = StopToken()
    token.stop()
    plan, cost = search.local_search(inst, greedy, budget=Budget(60.0, stop=token))
    # the plan scored once before and once after: no material's own plan was scored
    assert len(scored) == 2 and cost == plan_costs(KernelData(inst), [greedy]).cost[0]
    scored.clear()
    search.local_search(inst, greedy, budget=Budget(60.0), max_passes=1)
    assert len(scored) > 2  # a running search does score each material's plan
