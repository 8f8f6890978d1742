"""Every method, on random instances: a feasible plan whose reported cost is the kernel's."""

import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models import network
from invswarm.engine.models.sfi import Instance, Plan, evaluate, violations
from invswarm.engine.result import STATUSES
from invswarm.engine.solve import MODEL_METHODS, SolveOptions, solve
from invswarm.engine.termination import StopToken

from . import network_random
from .sfi_random import random_instance


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", MODEL_METHODS["sfi"])
def test_each_method_returns_a_feasible_plan_at_its_kernel_cost(method, seed):
    rng = np.random.default_rng(500 + seed)
    inst = random_instance(rng)
    if seed % 3 == 0:  # a category that no product belongs to
        doc = inst.to_json()
        doc["categories"].append({"name": "empty", "pdp_candidates": [1]})
        doc["initial"]["generic"].append({"stage": 1, "qty": 5})
        inst = Instance.from_json(doc)
    limits = {"exact": 30, "relax-round": 5}
    opts = SolveOptions(max_iter=4, swarm_size=6, seed=seed, time_limit=limits.get(method))
    res = solve(inst, method, opts)
    plan = Plan.from_json(res.plan, inst)
    assert violations(inst, plan) == []
    assert res.cost == pytest.approx(evaluate(inst, plan).cost, rel=1e-12, abs=1e-9)
    if method in ("exact", "relax-round"):
        assert res.bound <= res.cost * (1 + 1e-6) + 1e-6
    assert res.status in STATUSES
    assert res.success == (res.status == "optimal" if method == "exact" else True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", MODEL_METHODS["network"])
def test_each_network_method_returns_an_authorized_plan_at_its_kernel_cost(method, seed):
    inst = network_random.random_instance(np.random.default_rng(700 + seed))
    opts = SolveOptions(max_iter=3, swarm_size=6, seed=seed, islands=1,
                        time_limit=30 if method == "exact" else None)
    res = solve(inst, method, opts)
    plan = network.Plan.from_json(res.plan, inst)
    assert network.authorize(inst, plan).ok
    assert res.cost == pytest.approx(network.evaluate(inst, plan).cost, rel=1e-12, abs=1e-9)
    if method != "greedy":  # the greedy rule may ship at a loss; the others never do
        none = network.evaluate(inst, network.Plan.empty()).cost
        assert res.cost <= none + 1e-9 * max(1.0, none)
    if method == "exact":
        assert res.bound <= res.cost * (1 + 1e-6) + 1e-6
    assert res.status in STATUSES
    assert res.to_json()["success"] == res.success


def test_a_stopped_run_is_not_a_success_and_says_why():
    stop = StopToken()
    stop.stop()
    res = solve(random_instance(np.random.default_rng(3)), "pso",
                SolveOptions(max_iter=50, swarm_size=6), stop=stop)
    assert res.status == "stopped" and not res.success
    assert res.to_json()["success"] is False


def test_unknown_method_is_named():
    with pytest.raises(InputError, match="method: unknown method 'genetic'"):
        solve(random_instance(np.random.default_rng(0)), "genetic")
    with pytest.raises(InputError, match="unknown method 'per-period' for the network model"):
        solve(network.electronics_case(), "per-period")


@pytest.mark.slow
def test_an_exact_run_out_of_time_before_any_plan_returns_the_constructive_plan():
    from invswarm.engine.models.sfi.families import generate_family
    from invswarm.engine.models.sfi.start import heuristic_plan

    # six scenarios of 9 products over 24 periods: HiGHS reports no plan within a second
    inst = Instance.from_json(generate_family("uncertain", periods=24, categories=3,
                                              products_per_category=3, seed=101))
    res = solve(inst, "exact", SolveOptions(time_limit=1.0))
    assert res.status == "time_limit" and not res.success
    assert "time limit" in res.extra["solver"]["status"].lower()  # HiGHS's own text
    plan = Plan.from_json(res.plan, inst)
    assert violations(inst, plan) == []
    assert res.cost == evaluate(inst, heuristic_plan(inst)).cost
    assert not res.bound > res.cost


@pytest.mark.parametrize("model", ["sfi", "network"])
def test_an_exact_run_whose_model_takes_its_time_to_build_ends_on_time(model):
    """The model's build counts against the time limit, and a stop reaches it: the run
    ends with the start it had (the constructive plan; the greedy one) before HiGHS
    starts."""
    from invswarm.engine.milp_process import BUILD_ENDED, STOPPED
    from invswarm.engine.models.sfi.start import heuristic_plan

    if model == "sfi":
        inst = random_instance(np.random.default_rng(5))
        fallback = evaluate(inst, heuristic_plan(inst)).cost
    else:
        inst = network_random.random_instance(np.random.default_rng(5))
        fallback = solve(inst, "greedy").cost
    res = solve(inst, "exact", SolveOptions(time_limit=1e-3))
    assert res.status == "time_limit" and res.extra["solver"]["status"] == BUILD_ENDED
    stop = StopToken()
    stop.stop()
    stopped = solve(inst, "exact", SolveOptions(time_limit=60.0), stop=stop)
    assert stopped.status == "stopped" and stopped.extra["solver"]["status"] == STOPPED
    for r in (res, stopped):
        assert r.cost == pytest.approx(fallback, rel=1e-12) and not r.success


def test_the_swarms_topology_and_migrations_reach_the_run():
    inst = random_instance(np.random.default_rng(4))
    opts = SolveOptions(max_iter=8, swarm_size=8, seed=2)
    base = solve(inst, "pso", opts)
    assert solve(inst, "pso", opts).plan == base.plan
    ring = solve(inst, "pso", SolveOptions(max_iter=8, swarm_size=8, seed=2, topology="ring"))
    assert ring.extra["history"]["pso"] != base.extra["history"]["pso"]
    with pytest.raises(InputError, match="topology: must be 'gbest' or 'ring'"):
        solve(inst, "pso", SolveOptions(max_iter=8, topology="star"))
    with pytest.raises(InputError, match="migrate_every"):
        solve(inst, "pso", SolveOptions(max_iter=8, migrate_every=0))
