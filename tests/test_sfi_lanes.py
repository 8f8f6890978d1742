"""Plans played in lockstep cost, to the last bit, what they cost played one by one."""

import numpy as np
import pytest

from invswarm.engine.models.sfi import batch_costs
from invswarm.engine.models.sfi.evaluate import kernel_data
from invswarm.kernels import sfi_lanes

from .sfi_random import random_instance, random_plan


@pytest.mark.parametrize("seed", range(30))
def test_lockstep_costs_equal_one_by_one(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=8, max_scenarios=3)
    plans = [random_plan(rng, inst) for _ in range(int(rng.integers(1, 12)))]
    arrays = [np.ascontiguousarray(np.stack([getattr(p, f) for p in plans]))
              for f in ("pdp", "generic", "codp", "dedicated")]
    # One by one: the detailed path plays each (plan, scenario) pair alone.
    alone, _, _ = batch_costs(inst, *arrays, detail=True)
    lockstep, _, _ = batch_costs(inst, *arrays)
    np.testing.assert_array_equal(lockstep, alone)
    # Any block of plans gives the same costs.
    data = list(kernel_data(inst))
    weights = data.pop(18)
    NS = inst.n_scenarios
    cost_ps = np.full(len(plans) * NS, np.nan)
    cut = int(rng.integers(0, len(plans) + 1))
    for lo, hi in ((0, cut), (cut, len(plans))):
        if hi > lo:
            sfi_lanes.lane_costs(lo, hi, *arrays, *data, cost_ps)
    mean = np.zeros(len(plans))
    for s in range(NS):  # the kernel's reduction order
        mean += weights[s] * cost_ps[s::NS]
    np.testing.assert_array_equal(mean, alone)
