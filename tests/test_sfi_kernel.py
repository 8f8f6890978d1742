"""The batched SFI kernel against the plain reference (tests/reference/sfi.py)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from invswarm.engine.models.sfi import COMPONENTS, KPIS, batch_costs, evaluate, load_steel
from invswarm.engine.models.sfi.plan import violations

from .reference import sfi as ref
from .sfi_random import instances_with_plans, random_instance, random_plan

PLANS_PER_INSTANCE = 4


def _close(a, b, rtol=1e-9):
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances_with_plans(PLANS_PER_INSTANCE))
def test_kernel_equals_reference_on_random_feasible_plans(case):
    # 250 instances x 4 plans = 1,000 random feasible plans, scenarios included.
    inst, plans = case
    for plan in plans:
        assert violations(inst, plan) == []
    cost, bd, kp, use = batch_costs(
        inst,
        np.stack([p.pdp for p in plans]), np.stack([p.generic for p in plans]),
        np.stack([p.codp for p in plans]), np.stack([p.dedicated for p in plans]),
        detail=True, usage=True)
    C, P = inst.n_categories, inst.n_products
    for i, plan in enumerate(plans):
        want = ref.expected(inst, plan)
        assert _close(cost[i], want["cost"]), (cost[i], want["cost"])
        for t in range(inst.n_periods):
            for k, name in enumerate(COMPONENTS):
                assert _close(bd[i, t, k], want["periods"][t][name]), (t, name)
        for k, name in enumerate(KPIS):
            assert _close(kp[i, k], want["kpis"][name]), name
        np.testing.assert_allclose(use[i, :C], want["use"]["generic"], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(use[i, C:C + P], want["use"]["dedicated"], rtol=1e-9,
                                   atol=1e-9)
        np.testing.assert_allclose(use[i, C + P:], want["use"]["unmet"], rtol=1e-9, atol=1e-9)


def test_cost_without_detail_equals_cost_with_detail():
    rng = np.random.default_rng(7)
    inst = random_instance(rng, max_scenarios=4)
    plans = [random_plan(rng, inst) for _ in range(9)]
    args = [np.stack([getattr(p, f) for p in plans])
            for f in ("pdp", "generic", "codp", "dedicated")]
    plain, _, _ = batch_costs(inst, *args)
    detailed, bd, _ = batch_costs(inst, *args, detail=True)
    np.testing.assert_array_equal(plain, detailed)
    np.testing.assert_allclose(bd.sum(axis=(1, 2)), plain, rtol=1e-12)


def test_steel_case_breakdown_sums_to_cost_and_cp_co_split():
    inst = load_steel(6)
    d = inst.orders[0]
    rng = np.random.default_rng(3)
    plan = random_plan(rng, inst)
    ev = evaluate(inst, plan)
    assert ev.breakdown.shape == (6, len(COMPONENTS))
    np.testing.assert_allclose(ev.prep_cost + ev.fulfil_cost, ev.breakdown.sum(axis=1))
    assert _close(ev.cost, ev.breakdown.sum())
    assert ev.kpis["units_ordered"] == pytest.approx(d.sum())
    assert 0.0 <= ev.kpis["on_time_rate"] <= 1.0


def test_shape_mismatch_is_a_clear_error():
    inst = load_steel(6)
    with pytest.raises(ValueError, match="generic: expected shape"):
        batch_costs(inst, np.ones((2, 3, 6)), np.ones((2, 3, 5)), np.ones((2, 9, 6)),
                    np.ones((2, 9, 6)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances_with_plans(5))
def test_numpy_baseline_equals_kernel(case):
    from .reference import sfi_numpy

    inst, plans = case
    arrays = [np.stack([getattr(p, f) for p in plans])
              for f in ("pdp", "generic", "codp", "dedicated")]
    want, _, _ = batch_costs(inst, *arrays)
    np.testing.assert_allclose(sfi_numpy.costs(inst, *arrays), want, rtol=1e-9, atol=1e-9)
