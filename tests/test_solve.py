"""Every method, on random instances: a feasible plan whose reported cost is the kernel's."""

import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models.sfi import Instance, Plan, evaluate, violations
from invswarm.engine.solve import METHODS, SolveOptions, solve

from .sfi_random import random_instance


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", METHODS)
def test_each_method_returns_a_feasible_plan_at_its_kernel_cost(method, seed):
    rng = np.random.default_rng(500 + seed)
    inst = random_instance(rng)
    if seed % 3 == 0:  # a category that no product belongs to
        doc = inst.to_json()
        doc["categories"].append({"name": "empty", "pdp_candidates": [1]})
        doc["initial"]["generic"].append({"stage": 1, "qty": 5})
        inst = Instance.from_json(doc)
    opts = SolveOptions(max_iter=4, swarm_size=6, seed=seed,
                        time_limit=30 if method == "exact" else None)
    res = solve(inst, method, opts)
    plan = Plan.from_json(res.plan, inst)
    assert violations(inst, plan) == []
    assert res.cost == pytest.approx(evaluate(inst, plan).cost, rel=1e-12, abs=1e-9)
    if method == "exact":
        assert res.bound <= res.cost * (1 + 1e-6) + 1e-6


def test_unknown_method_is_named():
    with pytest.raises(InputError, match="method: unknown method 'genetic'"):
        solve(random_instance(np.random.default_rng(0)), "genetic")
