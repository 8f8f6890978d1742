"""The exact SFI MILP against the kernel: fixed plans, solved plans, cuts, warm start."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.sfi import Instance, batch_costs, evaluate, generate, load_steel
from invswarm.engine.models.sfi.milp import (
    build,
    fixed_plan_objective,
    relaxation,
    relaxation_bound,
    solve,
    start_of,
)
from invswarm.engine.models.sfi.plan import violations

from .sfi_random import instances, instances_with_plans, random_instance, random_plan

pytestmark = pytest.mark.slow  # exact solves (HiGHS)

EXACT = MilpOptions(time_limit=60, gap=0.0)


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances_with_plans(1))
def test_milp_with_a_random_plan_fixed_equals_the_kernel(case):
    inst, (plan,) = case
    out = fixed_plan_objective(inst, plan, EXACT)
    assert out.optimal, out.status
    assert _rel(out.objective, evaluate(inst, plan).cost) <= 1e-6


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances_with_plans(1))
def test_a_played_start_is_a_complete_point_of_the_model_at_the_plans_cost(case):
    inst, (plan,) = case
    model = build(inst, cuts=False, start=plan)
    m = model.builder
    assert model.start is not None and model.start.shape == (m.n_cols,)
    assert m.violation(model.start) <= 1e-9
    binary = np.asarray(m.arrays()[-1], bool)
    assert np.isin(model.start[binary], (0.0, 1.0)).all()
    objective = float(np.dot(m.cost, model.start)) + m.offset
    assert _rel(objective, evaluate(inst, plan).cost) <= 1e-6


def test_a_start_the_optimality_cuts_cut_off_is_offered_as_its_decisions():
    inst = load_steel(6)
    plan = random_plan(np.random.default_rng(0), inst)  # more stock than the cuts allow
    model = build(inst, start=plan)
    assert model.start is None
    idx, val = start_of(model, plan)
    assert 0 < idx.size < model.builder.n_cols  # for HiGHS to complete
    assert build(inst, cuts=False, start=plan).start is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_periods=3, max_scenarios=2), plans_seed=st.integers(0, 2**32 - 1))
# A fractional optimum: a buffer of 4.787833464198046 units meets a backlog of
# 23 - 18.212166535801956 = 4.787833464198044 units, and the next period draws the 2e-15 units
# left over (no re-setup: docs/models/sfi.md, "Setups and round-off"): the instance of seed
# 749160.
@example(inst=random_instance(np.random.default_rng(749160), max_periods=3, max_scenarios=2),
         plans_seed=749160)
def test_solved_plan_costs_the_objective_and_beats_random_plans(inst, plans_seed):
    # The 30 plans to beat come from a seed: drawn by Hypothesis too, they would make an
    # example of several thousand numbers, and they are not what a failure should shrink.
    rng = np.random.default_rng(plans_seed)
    plan, out = solve(inst, EXACT)
    assert out.optimal, out.status
    cost = evaluate(inst, plan).cost
    assert _rel(cost, out.objective) <= 1e-6
    others = [random_plan(rng, inst) for _ in range(30)]
    costs, _, _ = batch_costs(inst, np.stack([p.pdp for p in others]),
                              np.stack([p.generic for p in others]),
                              np.stack([p.codp for p in others]),
                              np.stack([p.dedicated for p in others]))
    assert cost <= costs.min() * (1 + 1e-6) + 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_periods=3, max_scenarios=2))
def test_optimality_cuts_keep_the_optimum(inst):
    _, with_cuts = solve(inst, EXACT, cuts=True)
    _, without = solve(inst, EXACT, cuts=False)
    assert with_cuts.optimal and without.optimal
    assert _rel(with_cuts.objective, without.objective) <= 1e-6


def test_steel_case_six_periods_is_solved_to_proven_optimality():
    inst = load_steel(6)
    plan, out = solve(inst, MilpOptions(time_limit=120, gap=1e-4))
    assert out.optimal
    assert out.gap <= 1e-4
    assert _rel(evaluate(inst, plan).cost, out.objective) <= 1e-6
    # The same with the decisions fixed in the MILP.
    assert _rel(fixed_plan_objective(inst, plan).objective, out.objective) <= 1e-6


def test_warm_start_never_worsens_the_result():
    inst = load_steel(6)
    start = random_plan(np.random.default_rng(0), inst)
    start_cost = evaluate(inst, start).cost
    plan, out = solve(inst, MilpOptions(time_limit=120, gap=1e-4), warm_start=start)
    assert out.optimal
    assert evaluate(inst, plan).cost <= start_cost


def test_options_are_validated():
    for bad in (dict(time_limit=0), dict(gap=-1), dict(threads=-2)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            MilpOptions(**bad)


def test_model_size_grows_linearly_with_the_products():
    """The make-to-order capacity is drawn by every demand class: its exhaustion rows must not
    repeat all earlier draws, or the model grows with the square of the products."""
    def nnz(k):
        doc = generate(periods=4, categories=2, products_per_category=k, seed=3)
        return build(Instance.from_json(doc)).builder.n_nonzeros

    small, large = nnz(5), nnz(40)
    assert large / small < 8 * 1.25  # 8 times the products


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_periods=3, max_scenarios=2))
def test_linear_relaxation_bounds_the_optimum(inst):
    _, out = solve(inst, EXACT)
    lp = relaxation_bound(inst)
    assert out.optimal and np.isfinite(lp)
    assert lp <= out.objective * (1 + 1e-7) + 1e-6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(max_periods=4, max_scenarios=2))
def test_rounded_relaxations_are_feasible_plans_above_their_bounds(inst):
    lp, plan = relaxation(inst)
    flow, flow_plan = relaxation(inst, rules=False)
    # Without the dispatch rules the model is a relaxation of the one with them.
    assert flow <= lp * (1 + 1e-7) + 1e-6
    for bound, p in ((lp, plan), (flow, flow_plan)):
        assert np.isfinite(bound)
        assert violations(inst, p) == []
        assert evaluate(inst, p).cost >= bound * (1 - 1e-7) - 1e-6


def test_unusable_pdp_candidates_are_not_relaxed():
    """A PDP above a product's highest CODP candidate is no choice: the relaxation may not
    spread a buffer onto it. On this generated instance (seed 1; 7 of 32 PDP candidates
    unusable) that lifts the relaxation from 9.3 % to within 0.5 % of the optimum, known to
    be 36,750,765 within 0.01 % (HiGHS, 120 s, by hand)."""
    inst = Instance.from_json(generate(periods=12, categories=10, products_per_category=10,
                                       seed=1))
    assert sum(inst.usable_pdp(c).size for c in range(10)) == 25
    assert relaxation_bound(inst) >= 0.995 * 36_750_765


def test_linear_relaxation_of_the_steel_case():
    """The steel case's relaxation is close to its optimum (within 1 % at six periods)."""
    inst = load_steel(6)
    _, out = solve(inst, MilpOptions(time_limit=120, gap=1e-4))
    lp = relaxation_bound(inst)
    assert out.bound * 0.99 <= lp <= out.bound * (1 + 1e-7)
