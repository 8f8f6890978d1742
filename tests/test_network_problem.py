"""The network decoder: every particle decodes to a plan the donor-protection check
authorizes; the greedy particle is the greedy rule."""

from __future__ import annotations

import numpy as np

from invswarm.engine.models.network import (
    Plan,
    authorize,
    electronics_case,
    evaluate,
    generate,
    plan_costs,
)
from invswarm.engine.models.network.problem import NetworkProblem
from tests.network_random import random_instance


def test_no_decoded_plan_is_ever_refused():
    rng = np.random.default_rng(31)
    decoded = shipped = 0
    instances = [electronics_case()] + [random_instance(rng) for _ in range(30)]
    for inst in instances:
        prob = NetworkProblem(inst)
        if prob.n_var == 0:
            continue
        X = rng.random((400, prob.n_var))
        out = prob.batch(X)
        assert (out.flags == 0).all(), f"{inst.name}: {np.unique(out.flags)}"
        decoded += X.shape[0]
        shipped += int(out.kpis[:, 4].sum())
    assert decoded >= 10_000
    assert shipped > decoded  # plans with shipments, not empty ones


def test_the_explaining_check_agrees_on_decoded_plans():
    # the shipped case has a link with no reverse link: no loan may use it
    rng = np.random.default_rng(32)
    inst = electronics_case()
    prob = NetworkProblem(inst)
    assert (inst.reverse[prob.arc_link] < 0).any()
    loans = 0
    for x in rng.random((200, prob.n_var)):
        plan = prob.decode(x)
        assert authorize(inst, plan, data=prob.data).ok
        assert Plan.from_json(plan.to_json(inst), inst).n_shipments == plan.n_shipments
        loans += int((plan.kind == 1).sum())
        assert abs(evaluate(inst, plan, prob.data).cost - prob.evaluate(x[None])[0]) <= 1e-9 * 1e5
    assert loans > 50


def test_decode_is_what_batch_evaluates():
    inst = generate(firms=6, materials=3, periods=8, density=0.6, seed=4)
    prob = NetworkProblem(inst)
    X = np.random.default_rng(0).random((20, prob.n_var))
    plans = [prob.decode(x) for x in X]
    np.testing.assert_allclose(plan_costs(prob.data, plans).cost, prob.evaluate(X), rtol=1e-12)
    # decoding one material gives that material's shipments of the whole decode
    for x, plan in zip(X, plans):
        for m in range(inst.n_materials):
            part = prob.decode(x, materials=[m])
            mine = plan.material == m
            assert (part.material == m).all()
            np.testing.assert_array_equal(part.qty, plan.qty[mine])
            np.testing.assert_array_equal(part.link, plan.link[mine])


def test_greedy_fills_shortages_from_the_cheapest_donor_permanently():
    inst = electronics_case()
    prob = NetworkProblem(inst)
    plan = prob.decode(prob.greedy_particle())
    assert plan.n_shipments > 0
    assert (plan.kind == 0).all()
    ev = evaluate(inst, plan)
    assert ev.kpis["backlog_unit_periods"] < ev.kpis["backlog_unit_periods"] \
        + ev.kpis["backlog_unit_periods_avoided"]
    # a particle whose arcs are all off decodes to no sharing
    off = prob.greedy_particle()
    R, A = prob.recv_firm.size, prob.arc_link.size
    off[2 * R + A:] = 0.0
    assert prob.decode(off).n_shipments == 0
    # each receiver's donors are tried cheapest first
    for r in range(prob.recv_firm.size):
        a0 = prob.recv_arc_ptr[r]
        costs = [inst.unit_cost[prob.arc_link[a], prob.recv_mat[r]]
                 for a in range(a0, prob.recv_arc_ptr[r + 1])]
        assert costs == sorted(costs)


def test_a_halted_problem_evaluates_swarms_to_inf_but_still_decodes_a_particle():
    inst = generate(firms=8, materials=12, periods=8, density=0.3, seed=3)
    prob = NetworkProblem(inst)
    X = np.random.default_rng(5).random((6, prob.n_var))
    before = prob.evaluate(X)
    assert np.isfinite(before).all()
    prob.halt[0] = 1  # as a stop sets it, from another thread, while a swarm is decoded
    assert prob.batch(X) is None
    assert np.isinf(prob.evaluate(X)).all() and prob.refused == 0
    one = prob.decode(X[0])
    assert plan_costs(prob.data, [one]).cost[0] == before[0]
