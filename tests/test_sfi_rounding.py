"""Plans rounded from the flow relaxation, of the whole horizon or of windows of periods."""

from types import SimpleNamespace

import numpy as np
import pytest

from invswarm.engine.models.sfi import Instance, evaluate, generate, violations
from invswarm.engine.models.sfi.milp import (
    _unpool,
    relaxation,
    round_relaxed,
    solve_relaxation,
)
from invswarm.engine.models.sfi.rounding import relaxed_plan


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_windowed_relaxation_gives_a_feasible_plan(seed):
    inst = Instance.from_json(generate(periods=28, categories=3, products_per_category=3,
                                       scenarios=1 + seed, seed=seed))
    flow, whole = relaxation(inst, rules=False)
    assert _same(relaxed_plan(inst, windows=1), whole)
    plans = [relaxed_plan(inst, windows=w) for w in (2, 2, 3)]
    assert _same(plans[0], plans[1])  # threads do not change it
    for plan in plans:
        assert violations(inst, plan) == []
        assert evaluate(inst, plan).cost >= flow * (1 - 1e-7)


def test_windowed_relaxation_within_a_time_limit():
    inst = Instance.from_json(generate(periods=28, categories=3, products_per_category=3,
                                       seed=0))
    assert relaxed_plan(inst, time_limit=1e-6, windows=2) is None


def test_generic_draws_are_the_relaxations_draws_from_new_generic_buffers():
    inst = Instance.from_json(generate(periods=8, categories=2, products_per_category=3,
                                       scenarios=2, seed=2))
    _, model, x = solve_relaxation(inst, None, rules=False)
    drawn = np.zeros((inst.n_categories, inst.n_periods))
    for (p, t), cols in model.generic_draws.items():
        drawn[inst.category[p], t] += sum(w * x[j] for j, w in cols)
    made = np.zeros_like(drawn)
    for (c, t, _), j in model.g.items():
        made[c, t] += x[j]
    assert drawn.sum() > 0.1 * made.sum() > 0  # the relaxation pools on this instance
    assert np.all(drawn <= made + 1e-6)
    for unpool in (False, True):
        plan = round_relaxed(model, inst, x, unpool=unpool)
        assert violations(inst, plan) == []
    # Unpooled, the generic buffers keep only what the relaxation does not draw.
    assert round_relaxed(model, inst, x, unpool=True).generic.sum() <= (made - drawn).sum() + 1e-6
    # With several scenarios the default keeps the generic buffers.
    assert np.array_equal(round_relaxed(model, inst, x).generic,
                          round_relaxed(model, inst, x, unpool=False).generic)


def test_unpooling_gives_each_product_its_share_as_dedicated_stock():
    inst = Instance.from_json(generate(periods=2, categories=1, products_per_category=2,
                                       seed=0))
    k = int(np.intersect1d(inst.usable_pdp(0), inst.codp_candidates(1))[0])
    # Product 0 draws 30 units from the generic buffer of period 0, product 1 the weighted
    # mean of 10 and 30 (two scenarios).
    model = SimpleNamespace(generic_draws={(0, 0): [(0, 1.0)], (1, 0): [(1, 0.5), (2, 0.5)]})
    x = np.array([30.0, 10.0, 30.0])
    pdp = np.array([[k, k]])
    gen = np.array([[60.0, 5.0]])
    codp = np.array([[7, 7], [7, 7]])
    ded = np.array([[100.0, 0.0], [5.0, 0.0]])
    _unpool(model, inst, x, pdp, gen, codp, ded)
    np.testing.assert_array_equal(ded, [[130.0, 0.0], [25.0, 0.0]])
    np.testing.assert_array_equal(gen, [[10.0, 5.0]])
    # Product 1's share outweighs its own quantity: its stock moves to the PDP.
    np.testing.assert_array_equal(codp, [[7, 7], [k, 7]])


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n))
               for n in ("pdp", "generic", "codp", "dedicated"))
