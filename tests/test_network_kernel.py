"""The batched network kernel against the plain reference (tests/reference/network.py)."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.models.network import KernelData, electronics_case, plan_costs
from invswarm.engine.models.network.evaluate import BREAKDOWN, KPIS
from tests.network_random import as_reference, random_feasible_plan, random_instance, random_plan
from tests.reference import network as ref


def _close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _compare(inst, data, plans):
    out = plan_costs(data, plans)
    for p, plan in enumerate(plans):
        r = ref.evaluate(inst, as_reference(plan, inst))
        assert _close(out.cost[p], r.cost), (out.cost[p], r.cost)
        for c, name in enumerate(BREAKDOWN):
            assert _close(out.breakdown[p, c], r.breakdown[name]), name
        for c, name in enumerate(KPIS):
            assert _close(out.kpis[p, c], r.kpis[name]), name
        for f in range(inst.n_firms):
            assert _close(out.firm[p, f, 0], r.firm_own[f])
            assert _close(out.firm[p, f, 1], r.firm_paid[f])
            assert _close(out.firm[p, f, 2], r.firm_net[f])
            assert _close(out.firm[p, f, 3], r.firm_met[f])
        assert (out.flags[p] == 0) == r.feasible, (out.flags[p], r.reasons)
    return out


@pytest.mark.slow
def test_kernel_equals_reference_on_random_feasible_plans():
    rng = np.random.default_rng(11)
    n_ship = 0
    for _ in range(60):
        inst = random_instance(rng)
        data = KernelData(inst)
        plans = [random_feasible_plan(rng, inst, data) for _ in range(6)]
        n_ship += sum(p.n_shipments for p in plans)
        out = _compare(inst, data, plans)
        assert (out.flags == 0).all()
    assert n_ship > 300  # the plans are not mostly empty


def test_kernel_equals_reference_on_any_plan_including_refused_ones():
    rng = np.random.default_rng(12)
    refused = 0
    for _ in range(40):
        inst = random_instance(rng)
        data = KernelData(inst)
        out = _compare(inst, data, [random_plan(rng, inst) for _ in range(4)])
        refused += int((out.flags != 0).sum())
    assert refused > 20


@pytest.mark.parametrize("seed", [0, 1])
def test_shipped_case_random_plans(seed):
    inst = electronics_case()
    data = KernelData(inst)
    rng = np.random.default_rng(seed)
    _compare(inst, data, [random_feasible_plan(rng, inst, data, tries=30) for _ in range(5)])
