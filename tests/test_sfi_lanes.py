"""Plans decoded and played in lockstep: to the last bit, what they are one by one."""

import numpy as np
import pytest

from invswarm.engine.models.sfi import batch_costs
from invswarm.engine.models.sfi.evaluate import kernel_data
from invswarm.engine.models.sfi.problem import SfiProblem
from invswarm.kernels import sfi_decode, sfi_lanes

from .sfi_random import random_instance, random_plan


@pytest.mark.parametrize("seed", range(30))
def test_lockstep_costs_equal_one_by_one(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=8, max_scenarios=3)
    # Blocks of one pass of the lanes, partly filled, and of more than one pass.
    n = int(rng.integers(1, 12) if seed % 3 else rng.integers(sfi_lanes.LANES + 1,
                                                               2 * sfi_lanes.LANES + 8))
    plans = [random_plan(rng, inst) for _ in range(n)]
    arrays = [np.ascontiguousarray(np.stack([getattr(p, f) for p in plans]))
              for f in ("pdp", "generic", "codp", "dedicated")]
    # One by one: the detailed path plays each (plan, scenario) pair alone.
    alone, _, _ = batch_costs(inst, *arrays, detail=True)
    lockstep, _, _ = batch_costs(inst, *arrays)
    np.testing.assert_array_equal(lockstep, alone)
    # Any block of plans gives the same costs.
    data = kernel_data(inst)
    weights = data.weights
    NS = inst.n_scenarios
    cost_ps = np.full(len(plans) * NS, np.nan)
    cut = int(rng.integers(0, len(plans) + 1))
    for lo, hi in ((0, cut), (cut, len(plans))):
        if hi > lo:
            sfi_lanes.lane_costs(lo, hi, *arrays, data, cost_ps)
    mean = np.zeros(len(plans))
    for s in range(NS):  # the kernel's reduction order
        mean += weights[s] * cost_ps[s::NS]
    np.testing.assert_array_equal(mean, alone)


def _near_snap_points(rng, prob, X):
    """Quantities of some particles just around their buffers' snap points."""
    T = prob.inst.n_periods
    for name, ub, points in (("generic", prob.ub_g, prob.snap_g),
                             ("dedicated", prob.ub_q, prob.snap_q)):
        x = X[:, prob.encoding.slice(name)].reshape(X.shape[0], -1, T)
        for i in range(X.shape[0]):
            for r, t in zip(*np.nonzero(ub > 0)):
                pts = points[r, t][points[r, t] >= 0]
                if pts.size and rng.random() < 0.5:
                    x[i, r, t] = min(1.0, rng.choice(pts) * rng.uniform(0.95, 1.05) / ub[r, t])
        X[:, prob.encoding.slice(name)] = x.reshape(X.shape[0], -1)


@pytest.mark.parametrize("seed", range(30))
def test_lockstep_decode_equals_one_by_one(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=8, max_scenarios=3)
    prob = SfiProblem(inst)
    X = rng.random((int(rng.integers(4, 40)), prob.n_var))
    X[:2] = np.round(X[:2])  # corners of the cube
    X[2] = 1.0  # every quantity at its bound: over capacity wherever capacity binds
    _near_snap_points(rng, prob, X[3:])
    alone = prob.decode_arrays(X)  # decode_one, particle by particle
    L = X.shape[0]
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    lanes = (np.empty((C, T, L), np.int64), np.empty((C, T, L)),
             np.empty((P, T, L), np.int64), np.empty((P, T, L)))
    sfi_decode.decode_lanes(np.ascontiguousarray(X.T), prob.decode_data, *lanes)
    for one, lane in zip(alone, lanes):
        np.testing.assert_array_equal(np.moveaxis(lane, -1, 0), one)
    # The swarm's costs: decoded and played in blocks, as played one by one.
    np.testing.assert_array_equal(prob.evaluate(X),
                                  batch_costs(inst, *alone, detail=True)[0])
