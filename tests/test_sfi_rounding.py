"""Plans rounded from the flow relaxation, of the whole horizon or of windows of periods."""

import numpy as np
import pytest

from invswarm.engine.models.sfi import Instance, evaluate, generate, violations
from invswarm.engine.models.sfi.milp import relaxation
from invswarm.engine.models.sfi.rounding import relaxed_plan


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


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n))
               for n in ("pdp", "generic", "codp", "dedicated"))
