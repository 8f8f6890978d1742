"""Move costs played from the first changed period against whole plans played from the start."""

import numpy as np
import pytest

from invswarm.engine.models.sfi import batch_costs, plan_use, violations
from invswarm.engine.models.sfi.moves import _raise_codps, apply_move, pooling_moves
from invswarm.engine.models.sfi.scoring import MoveScorer
from invswarm.engine.models.sfi.search import _MoveMaker

from .sfi_random import random_instance, random_plan


def _every_move(inst, plan):
    """The moves the local search makes in every (category, period) cell of ``plan``."""
    near = np.ones((inst.n_categories, inst.n_periods), dtype=bool)
    return _MoveMaker(inst).moves(plan, plan_use(inst, plan)[1], near)[0]


def _random_moves(rng, inst, plan, n):
    """Arbitrary edits, many of them breaking a rule (negative units, over capacity, a PDP
    no product can follow, a CODP before the PDP), over one or several periods."""
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    moves = []
    for _ in range(n):
        move = []
        for _ in range(int(rng.integers(1, 4))):
            which = int(rng.integers(0, 4))
            row = int(rng.integers(0, C if which in (0, 1) else P))
            t = int(rng.integers(0, T))
            if which in (0, 2):
                # Candidates only: the kernel leaves the candidate rule to _apply.
                cands = inst.pdp_candidates(row) if which == 0 else inst.codp_candidates(row)
                v = int(rng.choice(cands))
            else:
                v = float(rng.choice([-5.0, 0.0, rng.integers(0, 3000)]))
            move.append((which, row, t, v))
        moves.append(move)
    return moves


@pytest.mark.parametrize("seed", range(40))
def test_move_costs_equal_whole_plays(seed):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=8)
    plan = random_plan(rng, inst)
    moves = _every_move(inst, plan)
    moves += pooling_moves(inst, plan, None, every_period=True)
    picked = [moves[j] for j in rng.permutation(len(moves))[:150]]
    picked += _random_moves(rng, inst, plan, 60)
    scorer = MoveScorer(inst)
    scorer.start(plan)
    costs = scorer.costs(picked)
    refused = 0
    for move, cost in zip(picked, costs):
        trial = apply_move(inst, plan, move)
        if trial is None:
            assert cost == np.inf, move
            refused += 1
            continue
        want = batch_costs(inst, trial.pdp[None], trial.generic[None], trial.codp[None],
                           trial.dedicated[None])[0][0]
        assert cost == pytest.approx(want, rel=1e-10, abs=1e-6), move
    assert refused < len(picked)


@pytest.mark.parametrize("seed", range(20))
def test_apply_refuses_what_breaks_a_rule_of_the_model(seed):
    """``_apply`` checks only the periods a move edits: it refuses a move exactly when the
    whole plan with the move's edits breaks a rule (:func:`violations`)."""
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=6)
    plan = random_plan(rng, inst)
    made = _every_move(inst, plan)
    moves = [made[j] for j in rng.permutation(len(made))[:100]]
    moves += _random_moves(rng, inst, plan, 100)
    moves += [[(1, 0, 0, np.nan)], [(3, 0, 0, np.inf)], [(0, 0, 0, inst.n_stages)],
              [(2, 0, 0, -1)]]
    stages = np.arange(inst.n_stages)
    moves += [[(0, c, int(rng.integers(inst.n_periods)), int(k))]
              for c in range(inst.n_categories)
              for k in np.setdiff1d(stages, inst.pdp_candidates(c))]
    moves += [[(2, p, int(rng.integers(inst.n_periods)), int(k))]
              for p in range(inst.n_products)
              for k in np.setdiff1d(stages, inst.codp_candidates(p))]
    refused = 0
    for move in moves:
        arrays = [a.copy() for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)]
        raised = True
        for which, r, t, v in move:
            arrays[which][r, t] = v
            if which == 0:
                raised = raised and 0 <= v < inst.n_stages and _raise_codps(
                    inst, arrays[2], r, t, v)
        breaks = not raised or bool(violations(inst, type(plan)(*arrays)))
        got = apply_move(inst, plan, move)
        assert (got is None) == breaks, move
        refused += got is None
        if got is not None:
            for a, b in zip(arrays, (got.pdp, got.generic, got.codp, got.dedicated)):
                np.testing.assert_array_equal(a, b)
    assert 0 < refused < len(moves)


def test_trajectory_costs_sum_to_the_plan_cost():
    rng = np.random.default_rng(3)
    inst = random_instance(rng, max_periods=8, max_scenarios=3)
    plan = random_plan(rng, inst)
    scorer = MoveScorer(inst)
    start_cost = scorer.start(plan)
    tr_cost, tr_ccost = scorer.tr[5], scorer.tr[6]
    want, bd, _ = batch_costs(inst, plan.pdp[None], plan.generic[None], plan.codp[None],
                              plan.dedicated[None], detail=True)
    assert start_cost == pytest.approx(want[0], rel=1e-12)
    # The categories' shares make up each period's cost.
    np.testing.assert_allclose(tr_ccost.sum(axis=2), tr_cost, rtol=1e-12, atol=1e-9)
    assert inst.weights @ tr_cost.sum(axis=1) == pytest.approx(want[0], rel=1e-12)
    # The state at the start is the instance's; an unchanged plan costs the plan's cost.
    np.testing.assert_array_equal(scorer.tr[1][:, 0], np.broadcast_to(
        inst.init_generic_qty, scorer.tr[1][:, 0].shape))
    assert scorer.costs([[(1, 0, 0, float(plan.generic[0, 0]))]])[0] == pytest.approx(
        want[0], rel=1e-12)
    # Each period's cost is the breakdown's sum for that period.
    np.testing.assert_allclose(inst.weights @ tr_cost, bd[0].sum(axis=1), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", [0, 2])
def test_moves_shift_make_to_order_capacity_between_categories(seed):
    """Where the make-to-order capacity runs out, a move in one category changes what the
    products of others after it in the service order get (and their backlog, hence their
    next periods): the play of the touched categories must still cost what a whole play does."""
    from invswarm.engine.models.sfi import Instance, generate
    from invswarm.engine.models.sfi.start import heuristic_plan

    inst = Instance.from_json(generate(periods=6, categories=4, products_per_category=3,
                                       scenarios=2, seed=seed))
    rng = np.random.default_rng(seed)
    plan = heuristic_plan(inst)
    plan.dedicated[:] = np.floor(plan.dedicated * rng.uniform(0.3, 1.0, plan.dedicated.shape))
    scorer = MoveScorer(inst)
    scorer.start(plan)
    assert (scorer.tr[7][:, :, -1] <= 0).any()  # the capacity runs out somewhere
    moves = _every_move(inst, plan)
    picked = [moves[j] for j in rng.permutation(len(moves))[:300]]
    costs = scorer.costs(picked)
    for move, cost in zip(picked, costs):
        trial = apply_move(inst, plan, move)
        if trial is None:
            assert cost == np.inf, move
            continue
        want = batch_costs(inst, trial.pdp[None], trial.generic[None], trial.codp[None],
                           trial.dedicated[None])[0][0]
        assert cost == pytest.approx(want, rel=1e-10, abs=1e-6), move


@pytest.mark.parametrize("seed", range(12))
def test_trajectory_played_again_from_the_first_changed_period(seed):
    """A scorer started on a plan after another plays the trajectory only from the first
    period they differ in: the arrays and the cost are those of a play of the whole plan, to
    the last bit, along a chain of moves (one period, several, none) and after the caller
    edits the last plan's arrays in place."""
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=8, max_scenarios=3)
    T = inst.n_periods
    plan = random_plan(rng, inst)
    scorer = MoveScorer(inst)
    scorer.start(plan)
    played = 0
    for step in range(25):
        if step % 5 == 4:  # a plan that differs in many periods
            other = random_plan(rng, inst)
            trial = apply_move(inst, plan, [(1, c, t, float(other.generic[c, t]))
                                        for c in range(inst.n_categories)
                                        for t in range(T) if rng.random() < 0.5])
        elif step % 7 == 6:
            trial = plan  # unchanged
        else:
            moves = _every_move(inst, plan)
            trial = apply_move(inst, plan, moves[int(rng.integers(len(moves)))])
        if trial is None:
            continue
        plan = trial
        edits = [None, (0, T - 1)] if step == 12 else [None]
        for edit in edits:
            if edit is not None:
                # Edited in place after the scorer played it: the scorer kept what it played.
                plan.dedicated[edit] = max(0.0, plan.dedicated[edit] - 1.0)
            cost = scorer.start(plan)
            fresh = MoveScorer(inst)
            assert cost == fresh.start(plan)
            for a, b in zip(scorer.tr, fresh.tr):
                np.testing.assert_array_equal(a, b)
            played += 1
    assert played >= 10
