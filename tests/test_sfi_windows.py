"""Window re-optimization: feasible, never worse, exact over a window that spans the plan,
and it keeps pinned decisions."""

import math

import numpy as np
import pytest

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.sfi import evaluate, load_steel, milp, violations
from invswarm.engine.models.sfi.pins import Pins
from invswarm.engine.models.sfi.plan import Plan
from invswarm.engine.models.sfi.start import heuristic_plan
from invswarm.engine.models.sfi.windows import category_groups, spread, window_search
from invswarm.engine.termination import Budget, StopToken

from .sfi_random import random_instance, random_plan


@pytest.mark.parametrize("n", [1, 2, 5, 23, 51])
def test_a_sweep_cut_short_has_visited_the_whole_horizon(n):
    order = spread(list(range(n)))
    assert sorted(order) == list(range(n)) and order[0] == 0
    for k in range(2, n + 1):
        # every start lies near one of the first k: farthest-first keeps within twice the
        # distance of the most even k starts
        near = max(min(abs(j - s) for s in order[:k]) for j in range(n))
        assert near <= math.ceil((n - 1) / (k - 1))


@pytest.mark.parametrize("seed,workers", [(s, 1 + s % 2) for s in range(8)])
def test_windows_keep_plans_feasible_and_never_worse(seed, workers):
    # with two workers, a window's plan goes into a plan the other window may have changed
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=6)
    plan = random_plan(rng, inst)
    before = evaluate(inst, plan).cost
    budget = Budget(30.0)
    better, cost = window_search(inst, plan, before, budget, width=2, lookahead=1, step=1,
                                 workers=workers)
    assert violations(inst, better) == []
    assert cost == pytest.approx(evaluate(inst, better).cost, rel=1e-12)
    assert cost <= before
    assert budget.evaluations >= 1


@pytest.mark.slow
def test_a_window_that_found_nothing_is_solved_again_only_once_what_it_sees_changes():
    inst = load_steel(8)
    start = heuristic_plan(inst)
    settled, cost = window_search(inst, start, evaluate(inst, start).cost, Budget(120.0),
                                  limit=5.0)
    # the last period spoilt: its windows have something to mend, the others nothing
    spoilt = Plan(*(x.copy() for x in (settled.pdp, settled.generic, settled.codp,
                                        settled.dedicated)))
    spoilt.generic[:, -1] = 0.0
    spoilt.dedicated[:, -1] = 0.0
    windows = len(category_groups(inst)) * (inst.n_periods - 1)
    budget = Budget(120.0)
    mended, again = window_search(inst, spoilt, evaluate(inst, spoilt).cost, budget, limit=5.0)
    assert again < evaluate(inst, spoilt).cost
    # the first sweep solves every window; the next ones only those whose periods or carried
    # state changed (a window solved again in full each sweep would make twice as many)
    assert windows < budget.evaluations < 2 * windows


@pytest.mark.slow
def test_a_window_over_the_whole_horizon_is_the_exact_model():
    """One window of every period and category from the constructive plan ends at the
    exact solver's optimum."""
    inst = load_steel(4)
    exact, out = milp.solve(inst, MilpOptions(time_limit=60))
    assert out.optimal
    start = heuristic_plan(inst)
    plan, cost = window_search(inst, start, evaluate(inst, start).cost, Budget(60.0),
                               width=inst.n_periods, lookahead=0, limit=60.0, max_sweeps=1)
    assert cost == pytest.approx(evaluate(inst, exact).cost, rel=2e-4)


def test_windows_change_no_kept_decision():
    inst = load_steel(6)
    start = heuristic_plan(inst)
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    kept_t = np.zeros(T, bool)
    kept_t[[1, 4]] = True
    masks = tuple(np.repeat(kept_t[None], n, axis=0) for n in (C, C, P, P))
    masks[3][0, :] = True  # and every dedicated quantity of product 0
    pins = Pins(start, masks)
    plan, cost = window_search(inst, start, evaluate(inst, start).cost, Budget(20.0),
                               pins=pins, max_sweeps=1)
    assert cost < evaluate(inst, start).cost  # the free periods did change
    assert not pins.breaks((plan.pdp, plan.generic, plan.codp, plan.dedicated))


def test_a_stopped_run_gets_its_plan_back_at_once():
    inst = load_steel(6)
    start = heuristic_plan(inst)
    token = StopToken()
    token.stop()
    budget = Budget(60.0, stop=token)
    plan, cost = window_search(inst, start, evaluate(inst, start).cost, budget)
    assert plan is start and budget.evaluations == 0


def test_category_groups_cut_the_categories_in_order():
    rng = np.random.default_rng(3)
    inst = random_instance(rng, max_periods=3)
    for width, cells in ((1, 4), (2, 10), (3, 36), (3, 1)):
        groups = category_groups(inst, width, cells)
        assert np.concatenate(groups).tolist() == list(range(inst.n_categories))
        sizes = 1 + np.bincount(inst.category, minlength=inst.n_categories)
        for g in groups:
            assert len(g) == 1 or width * sizes[g].sum() <= cells


class _StopsAtAsk(StopToken):
    """A stop token that is set when it is asked for the ``n``-th time."""

    def __init__(self, n: int):
        super().__init__()
        self.asks, self.n = 0, n

    @property
    def stopped(self) -> bool:
        self.asks += 1
        if self.asks >= self.n:
            self.stop()
        return super().stopped


def test_a_stop_during_a_windows_build_ends_the_search_before_highs_runs():
    inst = load_steel(6)
    start = heuristic_plan(inst)
    # asked once by the search before the first window, then by the window's build
    token = _StopsAtAsk(2)
    budget = Budget(60.0, stop=token)
    plan, cost = window_search(inst, start, evaluate(inst, start).cost, budget)
    assert token.asks == 2 and plan is start and budget.evaluations == 0
