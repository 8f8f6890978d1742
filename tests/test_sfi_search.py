"""The constructive start and the local search: feasible, consistent, never worse."""

import numpy as np
import pytest

from invswarm.engine.models.sfi import evaluate, load_steel, violations
from invswarm.engine.models.sfi.search import heuristic_plan, local_search

from .sfi_random import random_instance, random_plan


@pytest.mark.parametrize("seed", range(12))
def test_heuristic_and_local_search_on_random_instances(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng)
    start = heuristic_plan(inst)
    assert violations(inst, start) == []
    for plan in (start, random_plan(rng, inst)):
        before = evaluate(inst, plan).cost
        better, cost = local_search(inst, plan, time_budget=5)
        assert violations(inst, better) == []
        assert cost == pytest.approx(evaluate(inst, better).cost, rel=1e-12)
        assert cost <= before


def test_local_search_improves_the_steel_start():
    inst = load_steel(6)
    start = heuristic_plan(inst)
    _, cost = local_search(inst, start, time_budget=30)
    assert cost < 0.9 * evaluate(inst, start).cost
