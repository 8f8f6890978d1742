"""The constructive start and the local search: feasible, consistent, never worse."""

import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models.sfi import evaluate, load_steel, plan_use, violations
from invswarm.engine.models.sfi.search import _MoveMaker, local_search
from invswarm.engine.models.sfi.start import _capacity_cut, heuristic_plan

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


def _cells_of(inst, move):
    """The (category, period) cells a move edits (a product's edits count for its
    category)."""
    return {(r if a in (0, 1) else int(inst.category[r]), t) for a, r, t, _ in move}


@pytest.mark.parametrize("seed", range(8))
def test_moves_are_made_in_the_cells_asked_for(seed):
    """A round of the local search makes moves only in its near cells: each move edits one
    of them, and each cell with orders gets moves."""
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=8)
    plan = random_plan(rng, inst)
    C, T = inst.n_categories, inst.n_periods
    near = rng.random((C, T)) < 0.3
    near[int(rng.integers(C)), int(rng.integers(T))] = True
    moves = _MoveMaker(inst).moves(plan, plan_use(inst, plan)[1], near)[0]
    cells = set(zip(*np.nonzero(near)))
    assert all(_cells_of(inst, m) & cells for m in moves)
    touched = set().union(*(_cells_of(inst, m) for m in moves)) if moves else set()
    orders = np.zeros((C, T))
    np.add.at(orders, inst.category, inst.orders.sum(axis=0))
    assert {(c, t) for c, t in cells if orders[c, t] > 0} <= touched


def test_local_search_names_what_an_infeasible_start_breaks():
    rng = np.random.default_rng(1)
    inst = random_instance(rng, max_periods=4)
    plan = random_plan(rng, inst)
    plan.dedicated[0, 0] = -3.0
    with pytest.raises(InputError, match=r"plan\.dedicated\[0\]\[0\]"):
        local_search(inst, plan, time_budget=1)


def test_local_search_improves_the_steel_start():
    inst = load_steel(6)
    start = heuristic_plan(inst)
    _, cost = local_search(inst, start, time_budget=30)
    assert cost < 0.9 * evaluate(inst, start).cost


@pytest.mark.parametrize("seed", range(8))
def test_capacity_cut_takes_the_cheapest_shortage_first(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng)
    P, T = inst.n_products, inst.n_periods
    want = np.floor(rng.uniform(0, 2, (P, T)) * inst.capacity / P)
    out = _capacity_cut(inst, want)
    assert np.all(out >= 0) and np.all(out <= want)
    assert np.all(out == np.floor(out))
    used = out.sum(axis=0)
    over = want.sum(axis=0) > inst.capacity
    assert np.all(used <= inst.capacity)
    assert np.all(used[over] >= inst.capacity[over] - P)  # only the rounding is lost
    assert np.all(out[:, ~over] == want[:, ~over])
    # A unit of a dearer shortage is cut only when every cheaper unit is.
    delay = inst.delay_penalty * np.maximum(0.0, inst.remaining[0] - inst.lead_time)
    for t in np.flatnonzero(over):
        keep = np.minimum(np.floor(inst.service_level * want[:, t]), want[:, t])
        cut_free = np.minimum(want[:, t] - out[:, t], want[:, t] - keep)
        cut_paid = want[:, t] - out[:, t] - cut_free
        dearest_cut = max([delay[p] for p in range(P) if cut_free[p] > 1]
                          + [delay[p] + inst.service_penalty[p] for p in range(P)
                             if cut_paid[p] > 1], default=-np.inf)
        cheaper_left = [delay[p] for p in range(P) if want[p, t] - keep[p] - cut_free[p] > 1]
        cheaper_left += [delay[p] + inst.service_penalty[p] for p in range(P)
                         if keep[p] - cut_paid[p] > 1]
        assert all(c >= dearest_cut for c in cheaper_left)


@pytest.mark.parametrize("seed", range(6))
def test_a_window_from_a_plans_carried_state_costs_the_plans_periods(seed):
    """The periods from ``a`` on, as an instance of their own that starts from what the plan
    carries into ``a``, cost what they cost in the whole plan's play (one scenario: the
    carried state is that scenario's). Without delay penalties: a window's carried backlog
    is late by its first period's length, as an instance's initial backlog is, not by the
    period before's."""
    from dataclasses import replace

    from invswarm.engine.models.sfi import Plan
    from invswarm.engine.models.sfi.scoring import MoveScorer, carried_states

    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=6, max_scenarios=1)
    inst = replace(inst, delay_penalty=np.zeros(inst.n_products))
    plan = random_plan(rng, inst)
    scorer = MoveScorer(inst)
    scorer.start(plan)
    tr_cost = scorer.tr[5][0]
    states = carried_states(inst, plan, range(inst.n_periods))
    for a in range(inst.n_periods):
        window = inst.window(a, inst.n_periods, states[a])
        tail = Plan(*(x[:, a:] for x in (plan.pdp, plan.generic, plan.codp, plan.dedicated)))
        assert evaluate(window, tail).cost == pytest.approx(tr_cost[a:].sum(), rel=1e-12)
    whole = inst.window(0, inst.n_periods, states[0])
    assert evaluate(whole, plan).cost == pytest.approx(evaluate(inst, plan).cost, rel=1e-12)
    with pytest.raises(ValueError, match="start, stop"):
        inst.window(1, 1, states[0])
