"""Setups and round-off (kernels/sfi_setup.py): no amount of up to SETUP_EPS units pays a setup
or re-setup, in the kernel (the play of one plan, the lockstep lanes, the local search's plays),
the references and the MILP with the plan fixed; an amount above it does.

The plans that leave specks are built in exact arithmetic: orders, backlog and stock of three
decimals (1234.567), and new buffers made for exactly the orders they meet (what the reference,
playing with ``fractions.Fraction``, draws from them). Played exactly, nothing is left over; in
floating point the draws leave specks of about 1e-13 units behind, in the buffers or in the
demand that the next source then meets.
"""

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.sfi import COMPONENTS, Plan, batch_costs, violations
from invswarm.engine.models.sfi.evaluate import kernel_data
from invswarm.engine.models.sfi.milp import fixed_plan_objective, solve
from invswarm.engine.models.sfi.moves import apply_move
from invswarm.engine.models.sfi.scoring import MoveScorer
from invswarm.kernels import sfi_lanes
from invswarm.kernels.sfi_setup import SETUP_EPS

from .reference import sfi as ref
from .reference import sfi_numpy
from .sfi_random import random_instance, random_plan

pytestmark = pytest.mark.slow  # hundreds of plays, solves and MILPs with plans fixed

SETUPS = [COMPONENTS.index("setup_new"), COMPONENTS.index("setup_reuse")]
#: Amounts made that pay no setup (SETUP_EPS itself included: it must be exceeded).
TINY = (1e-9, 1e-8, 1e-7, SETUP_EPS)
#: Amounts left over that pay no re-setup when drawn. Leftovers pile up where a product's
#: buffers follow one another (each serves the demand the one before left to it), so none is
#: a divisor of SETUP_EPS: a pile of exactly SETUP_EPS would be a difference a few units in
#: the last place away from the step, and those would decide.
LEFTOVERS = (1e-9, 1e-8, 7e-8, 3e-7)
#: An amount that pays its setup.
ABOVE = 2e-6


def _decimal(x) -> Fraction:
    """The decimal number a float was written from (1234.567, not the nearest binary
    fraction): the shortest decimal that reads back as the float."""
    return Fraction(repr(float(x)))


def _thousandths(rng, a):
    return np.floor(a * rng.uniform(0.5, 1.0, np.shape(a)) * 1000) / 1000


def _fractional(rng, inst):
    """``inst`` with its orders, backlog and initial stock cut to random amounts of three
    decimals."""
    return dataclasses.replace(inst, **{
        name: _thousandths(rng, getattr(inst, name))
        for name in ("orders", "init_backlog", "init_generic_qty", "init_dedicated_qty")})


def _speck_case(seed: int, leftover: float = 0.0):
    """An instance with quantities of three decimals and a re-setup cost at every stage, and a
    plan whose new buffers are made for exactly the orders they meet, plus ``leftover`` units
    (before the last period, where the capacity leaves room), carried into the next period
    (where they meet demand, and the next buffer's ``leftover`` is carried on with them)."""
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=12, max_scenarios=1)
    resetup = np.where(inst.setup_reuse > 0, inst.setup_reuse,
                       rng.uniform(100, 800, inst.setup_reuse.shape))
    inst = _fractional(rng, dataclasses.replace(inst, setup_reuse=resetup))
    plan = random_plan(rng, inst)
    plan = Plan(plan.pdp, _thousandths(rng, plan.generic), plan.codp,
                _thousandths(rng, plan.dedicated))
    use = ref.simulate(inst, plan, 0, units=_decimal)["use"]
    made = [[[u for u in row] for row in use[kind]] for kind in ("generic", "dedicated")]
    T = inst.n_periods
    for t in range(T - 1):
        room = _decimal(inst.capacity[t]) - sum(row[t] for rows in made for row in rows)
        grow = [row for rows in made for row in rows if row[t] > 0]
        if leftover and len(grow) * _decimal(leftover) <= room:
            for row in grow:
                row[t] += _decimal(leftover)
    gen, ded = (np.array([[float(u) for u in row] for row in rows]).reshape(-1, T)
                for rows in made)
    plan = Plan(plan.pdp, gen, plan.codp, ded)
    assert violations(inst, plan) == []
    return inst, plan


def _kernel(inst, plan):
    """The kernel's cost and breakdown of one plan (played alone, ``_play``)."""
    cost, bd, _ = batch_costs(inst, plan.pdp[None], plan.generic[None], plan.codp[None],
                              plan.dedicated[None], detail=True)
    return cost[0], bd[0]


def _lanes(inst, plans):
    """The costs of ``plans`` played in lockstep (``lane_costs``), whatever their number."""
    arrays = [np.ascontiguousarray(np.stack([getattr(p, f) for p in plans]))
              for f in ("pdp", "generic", "codp", "dedicated")]
    data = kernel_data(inst)
    weights = data.weights
    NS = inst.n_scenarios
    cost_ps = np.full(len(plans) * NS, np.nan)
    sfi_lanes.lane_costs(0, len(plans), *arrays, data, cost_ps)
    mean = np.zeros(len(plans))
    for s in range(NS):  # the kernel's reduction order
        mean += weights[s] * cost_ps[s::NS]
    return mean


def _reference(inst, plan, units=float):
    """The reference's cost and breakdown (T, len(COMPONENTS)) of a one-scenario instance."""
    run = ref.simulate(inst, plan, 0, units=units)
    return run["cost"], np.array([[row[k] for k in COMPONENTS] for row in run["periods"]])


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), leftover=st.sampled_from((0.0,) + LEFTOVERS + (ABOVE,)))
def test_round_off_decides_no_setup(seed, leftover):
    """The kernel's floating-point play costs what the exact play costs, setups included, and
    the lockstep lanes and the NumPy version what the kernel does."""
    inst, plan = _speck_case(seed, leftover)
    cost, bd = _kernel(inst, plan)
    exact, exact_bd = _reference(inst, plan, units=_decimal)
    assert _rel(cost, exact) <= 1e-9, (cost, exact)
    np.testing.assert_allclose(bd[:, SETUPS], exact_bd[:, SETUPS], rtol=1e-12, atol=1e-9)
    floating, _ = _reference(inst, plan)
    assert _rel(cost, floating) <= 1e-9
    np.testing.assert_array_equal(_lanes(inst, [plan]), [cost])
    arrays = [a[None] for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)]
    assert _rel(sfi_numpy.costs(inst, *arrays)[0], cost) <= 1e-9


def test_the_speck_plans_leave_specks_that_would_pay_setups(monkeypatch):
    """The test above is not vacuous: played in floating point with no threshold (the
    reference's ``SETUP_EPS`` set to 0), many of these plans pay setups the exact play does not
    (re-setups of carried specks); with it, none does. Counted over 100 plans."""
    paid = 0
    for seed in range(100):
        inst, plan = _speck_case(seed)
        exact, exact_bd = _reference(inst, plan, units=_decimal)
        cost, bd = _kernel(inst, plan)
        assert _rel(cost, exact) <= 1e-9
        with monkeypatch.context() as m:
            m.setattr(ref, "SETUP_EPS", 0.0)
            _, zero_bd = _reference(inst, plan)
        extra = zero_bd[:, SETUPS].sum() - exact_bd[:, SETUPS].sum()
        assert extra >= -1e-9
        paid += extra > 1e-9
    assert paid >= 5, paid


@pytest.mark.parametrize("leftover", (0.0, 1e-7, ABOVE))
@pytest.mark.parametrize("seed", range(12))
def test_milp_with_a_speck_plan_fixed_equals_the_kernel(seed, leftover):
    inst, plan = _speck_case(seed, leftover)
    out = fixed_plan_objective(inst, plan, MilpOptions(time_limit=60, gap=0.0))
    assert out.optimal, out.status
    assert _rel(out.objective, _kernel(inst, plan)[0]) <= 1e-6


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_solved_plans_cost_their_objective_with_fractional_orders(seed):
    """Orders of three decimals: the solver's plans leave specks in the play, and the kernel
    charges them no setup, as the solver does not."""
    rng = np.random.default_rng(seed)
    inst = _fractional(rng, random_instance(rng, max_periods=3, max_scenarios=2))
    plan, out = solve(inst, MilpOptions(time_limit=60, gap=0.0))
    assert out.optimal, out.status
    assert _rel(_kernel(inst, plan)[0], out.objective) <= 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_local_search_plays_count_setups_as_the_kernel(seed):
    """The local search's plays (the trajectory from the start, moves from their first
    changed period) cost speck plans, and moves that make or leave tiny amounts, as a play of
    the whole plan does."""
    inst, plan = _speck_case(seed, 1e-7 if seed % 2 else 0.0)
    scorer = MoveScorer(inst)
    assert scorer.start(plan) == pytest.approx(_kernel(inst, plan)[0], rel=1e-12)
    rng = np.random.default_rng(seed)
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    moves = []
    for amount in TINY + (ABOVE,):
        for _ in range(6):
            which = int(rng.integers(1, 3)) * 2 - 1  # generic (1) or dedicated (3) units
            row = int(rng.integers(0, C if which == 1 else P))
            t = int(rng.integers(0, T))
            qty = (plan.generic if which == 1 else plan.dedicated)[row, t]
            # Make the amount alone, or leave it over: the buffer grown by it.
            moves.append([(which, row, t, float(amount if rng.random() < 0.5 else qty + amount))])
    costs = scorer.costs(moves)
    played = 0
    for move, cost in zip(moves, costs):
        trial = apply_move(inst, plan, move)
        if trial is None:  # over capacity
            assert cost == np.inf
            continue
        assert cost == pytest.approx(_kernel(inst, trial)[0], rel=1e-10, abs=1e-6), move
        played += 1
    assert played >= len(moves) // 2


def _not_made(rng, inst, plan, n):
    """Up to ``n`` (array, row, period) cells of buffers the plan does not make, in periods
    with a unit of capacity left."""
    room = inst.capacity - plan.generic.sum(axis=0) - plan.dedicated.sum(axis=0) >= 1.0
    cells = [(name, r, t) for name in ("generic", "dedicated")
             for r, t in zip(*np.nonzero((getattr(plan, name) == 0) & room))]
    return [cells[j] for j in rng.permutation(len(cells))[:n]]


def _with(plan, cells, amount):
    arrays = {f: getattr(plan, f).copy() for f in ("pdp", "generic", "codp", "dedicated")}
    for name, r, t in cells:
        arrays[name][r, t] = amount
    return Plan(**arrays)


def _unit_bound(inst) -> float:
    """More than any one unit can change a plan's cost by: a unit moved along every draw and
    kept or lost in every period (delay, lost sale, shortfall, holding, disposal)."""
    per_draw = (inst.delay_penalty.max() * (inst.remaining.max() + (inst.prep + inst.fulfil).max())
                + inst.lost_penalty.max() + inst.service_penalty.max()
                + inst.hold.max() * (inst.prep + inst.fulfil).max()
                + inst.disposal_rate * inst.value.max())
    return 2 * per_draw * (inst.n_categories + 2 * inst.n_products) * inst.n_periods


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), amount=st.sampled_from(TINY + (ABOVE,)))
def test_an_amount_made_pays_its_setup_above_eps(seed, amount):
    """Buffers the plan does not make, made with a tiny amount: no setup up to SETUP_EPS
    units, the buffer's setup above it, in the kernel (alone and in lockstep) and the
    reference; the rest of the cost moves by no more than the amount can. (Above SETUP_EPS,
    what is not drawn is carried, and pays a re-setup where the next period draws it.)"""
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_scenarios=1)
    plan = random_plan(rng, inst)
    cells = _not_made(rng, inst, plan, 3)
    tiny = _with(plan, cells, amount)
    cost, bd = _kernel(inst, plan)
    tiny_cost, tiny_bd = _kernel(inst, tiny)
    setup = {"generic": inst.setup_generic, "dedicated": inst.setup_dedicated}
    charged = np.zeros(inst.n_periods)
    for name, r, t in cells:
        stage = (plan.pdp if name == "generic" else plan.codp)[r, t]
        charged[t] += setup[name][stage] if amount > SETUP_EPS else 0.0
    np.testing.assert_allclose(tiny_bd[:, SETUPS[0]] - bd[:, SETUPS[0]], charged, atol=1e-9)
    if amount <= SETUP_EPS:
        np.testing.assert_allclose(tiny_bd[:, SETUPS[1]], bd[:, SETUPS[1]], atol=1e-9)
    rest = (tiny_cost - tiny_bd[:, SETUPS].sum()) - (cost - bd[:, SETUPS].sum())
    assert abs(rest) <= 1e-9 * max(1.0, cost) + len(cells) * amount * _unit_bound(inst)
    assert _rel(_reference(inst, tiny)[0], tiny_cost) <= 1e-9
    np.testing.assert_array_equal(_lanes(inst, [plan, tiny]), [cost, tiny_cost])


@pytest.mark.parametrize("amount", TINY + (ABOVE,))
@pytest.mark.parametrize("seed", range(6))
def test_milp_with_tiny_amounts_made_fixed_equals_the_kernel(seed, amount):
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=4)
    plan = random_plan(rng, inst)
    cells = _not_made(rng, inst, plan, 3)
    assert cells
    tiny = _with(plan, cells, amount)
    out = fixed_plan_objective(inst, tiny, MilpOptions(time_limit=60, gap=0.0))
    assert out.optimal, out.status
    assert _rel(out.objective, _kernel(inst, tiny)[0]) <= 1e-6


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), amount=st.sampled_from(TINY + (ABOVE,)))
def test_carried_stock_pays_its_re_setup_above_eps(seed, amount):
    """Initial stock of a tiny amount, each buffer the first source of its demand in period 1
    (no dedicated stock made then, none carried for the generic buffers' products): drawn
    whole wherever that demand is positive, it pays its re-setup only above SETUP_EPS units,
    in every scenario, in the kernel (alone and in lockstep) and the reference; and the MILP
    with the plan fixed costs it as the kernel does."""
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, max_periods=3, max_scenarios=3)
    plan = random_plan(rng, inst)
    plan.dedicated[:, 0] = 0.0
    C, P = inst.n_categories, inst.n_products
    kind = rng.integers(0, 2)  # generic or dedicated stock carried in
    empty = dataclasses.replace(inst, init_generic_qty=np.zeros(C),
                                init_dedicated_qty=np.zeros(P))
    tiny = dataclasses.replace(empty, **{("init_generic_qty", "init_dedicated_qty")[kind]:
                                         np.full((C, P)[kind], amount)})
    cost, bd = _kernel(empty, plan)
    tiny_cost, tiny_bd = _kernel(tiny, plan)
    demand = inst.init_backlog[None] + inst.orders[:, :, 0]  # (NS, P)
    if kind == 0:
        drawn = np.zeros((inst.n_scenarios, C))
        np.add.at(drawn.T, inst.category, demand.T)
        stages = inst.init_generic_stage
    else:
        drawn, stages = demand, inst.init_dedicated_stage
    resetups = inst.weights @ (drawn > 0) @ inst.setup_reuse[stages]
    want = resetups if amount > SETUP_EPS else 0.0
    assert tiny_bd[0, SETUPS[1]] - bd[0, SETUPS[1]] == pytest.approx(want, abs=1e-9)
    np.testing.assert_allclose(tiny_bd[1:, SETUPS[1]], bd[1:, SETUPS[1]], atol=1e-9)
    np.testing.assert_allclose(tiny_bd[:, SETUPS[0]], bd[:, SETUPS[0]], atol=1e-9)
    assert _rel(ref.expected(tiny, plan)["cost"], tiny_cost) <= 1e-9
    np.testing.assert_array_equal(_lanes(tiny, [plan]), [tiny_cost])
    out = fixed_plan_objective(tiny, plan, MilpOptions(time_limit=60, gap=0.0))
    assert out.optimal and _rel(out.objective, tiny_cost) <= 1e-6
