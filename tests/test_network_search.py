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
