"""A network plan is a set of moves: its cost and verdict do not depend on the order its
shipments are listed in (docs/models/network.md, "Departures").

The instances here are built to have what makes the order matter: one donor shipping in one
period to several receivers, on links of different lead times, with stock of several expiries,
to receivers whose requirements start at different periods.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.network import Instance, KernelData, Plan, authorize, plan_costs
from invswarm.engine.models.network import milp as nmilp
from invswarm.engine.models.network.evaluate import batch_costs
from invswarm.engine.models.network.plan import LOAN, PERMANENT
from invswarm.kernels import network as knet
from tests.network_random import as_reference
from tests.reference import network as ref

FIELDS = ("link", "material", "period", "qty", "kind", "ret")


def _pair(firm, m, T, lots=(), requirements=None, protected=0.0):
    return {"firm": firm, "material": m,
            "lots": [{"qty": q, "last_period": e} for q, e in lots],
            "receipts": [0.0] * T, "requirements": list(requirements or [0.0] * T),
            "protected": protected, "hold": 0.01, "shortage": 1.0}


def issue_case() -> tuple[Instance, Plan]:
    """One donor holds 10 units usable to period 2 and 10 that never expire; in period 1 it
    ships 10 to A and 10 to B (lead time 1); A needs them in period 2, B in period 3."""
    T = 3
    doc = {"model": "network", "name": "two-receivers", "periods": T,
           "materials": [{"name": "flux", "life": None, "value": 8.0}],
           "firms": [{"name": "donor"}, {"name": "A"}, {"name": "B"}],
           "stock": [_pair(0, 0, T, lots=[(10.0, 2), (10.0, None)]),
                     _pair(1, 0, T, requirements=[0.0, 10.0, 0.0]),
                     _pair(2, 0, T, requirements=[0.0, 0.0, 10.0])],
           "links": [{"from": 0, "to": 1, "lead_time": 1, "unit_cost": 0.01, "fixed_cost": 1.0},
                     {"from": 0, "to": 2, "lead_time": 1, "unit_cost": 0.01, "fixed_cost": 1.0}],
           "loans": {"durations": [2]}}
    inst = Instance.from_json(doc)
    plan = Plan.from_json({"shipments": [
        {"from": 0, "to": 1, "material": 0, "period": 1, "qty": 10},
        {"from": 0, "to": 2, "material": 0, "period": 1, "qty": 10}]}, inst)
    return inst, plan


def _permuted(plan: Plan, order) -> Plan:
    order = np.asarray(order, np.int64)
    return Plan.from_arrays(*(getattr(plan, n)[order] for n in FIELDS))


def test_the_short_dated_units_go_to_the_receiver_that_needs_them_first():
    inst, plan = issue_case()
    data = KernelData(inst)
    both = plan_costs(data, [plan, _permuted(plan, [1, 0])])
    # A uses the short-dated units in period 2; B's come from the lot that never expires
    assert both.flags.tolist() == [0, 0]
    assert both.cost[0] == both.cost[1]
    assert both.breakdown[0, 2] == 0.0  # no waste
    assert np.isclose(both.cost[0], 0.01 * 20 + 2 * 1.0 + 0.01 * 10)
    out = nmilp.fixed_plan_objective(inst, _permuted(plan, [1, 0]), MilpOptions(time_limit=60))
    assert out.optimal and abs(out.objective - both.cost[0]) <= 1e-6


@st.composite
def hub_cases(draw, short_dated: bool = False):
    """A donor (firm 0) linked to 2 to 4 receivers by lead times 1 or 2 (and back, for
    loans), one or two materials, and a plan whose shipments leave the donor in one period.

    Returns the instance, a plan of permanent shipments that the donor's stock covers in any
    order (it ships no more than its units usable on every arrival), and the same plan with
    some shipments made loans (feasible or not).
    """
    T = draw(st.integers(3, 7))
    R = draw(st.integers(2, 4))
    M = draw(st.integers(1, 2))
    t0 = draw(st.integers(0, T - 3))
    units = st.integers(1, 400).map(lambda x: x / 10)
    # the units of short-dated stock expire on arrival or one period after
    expiry = (st.integers(t0 + 2, min(T, t0 + 3)) if short_dated
              else st.none() | st.integers(1, T))
    needs = st.sampled_from([0.0, 0.0, 4.0, 10.0, 25.0])
    materials, stock = [], []
    for m in range(M):
        materials.append({"name": f"m{m}", "life": draw(st.none() | st.integers(1, 4)),
                          "value": draw(st.sampled_from([0.0, 2.0, 8.0]))})
        # and a lot that never expires, so that there is something to ship in any case
        lots = draw(st.lists(st.tuples(units, expiry), min_size=1, max_size=4))
        lots.append((draw(units), None))
        stock.append(_pair(0, m, T, lots=lots))
        for r in range(1, R + 1):
            stock.append(_pair(r, m, T, lots=draw(st.lists(st.tuples(units, expiry),
                                                           max_size=1)),
                               requirements=draw(st.lists(needs, min_size=T, max_size=T))))
    links = []
    for r in range(1, R + 1):
        links.append({"from": 0, "to": r, "lead_time": draw(st.integers(1, 2)),
                      "unit_cost": draw(st.sampled_from([0.0, 0.05, 0.3])),
                      "fixed_cost": draw(st.sampled_from([0.0, 2.0]))})
        links.append({"from": r, "to": 0, "lead_time": 1, "unit_cost": 0.05, "fixed_cost": 0.0})
    doc = {"model": "network", "name": "hub", "periods": T, "materials": materials,
           "firms": [{"name": f"f{f}"} for f in range(R + 1)], "stock": stock, "links": links,
           "loans": {"durations": [2, 3]}}
    inst = Instance.from_json(doc)
    # shipments leaving the donor in t0: at least two, to receivers drawn with repetition
    n = draw(st.integers(2, 5))
    recv = draw(st.lists(st.integers(1, R), min_size=n, max_size=n))
    mats = draw(st.lists(st.integers(0, M - 1), min_size=n, max_size=n))
    shares = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    loans = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    rows, loan_rows = [], []
    for m in range(M):
        # units usable on every arrival (t0 + 2 at the latest), none used by the donor itself
        ok = sum(q for q, e in ((lot["qty"], lot["last_period"]) for lot in stock[m * (R + 1)]
                                ["lots"]) if e is None or e - 1 >= t0 + 2)
        mine = [k for k in range(n) if mats[k] == m]
        total = sum(shares[k] for k in mine)
        for k in mine:
            lk = inst.link_index(0, recv[k])
            q = np.floor(ok * shares[k] / total * 100) / 100
            if q <= 0:
                continue
            rows.append((lk, m, t0, q, PERMANENT, -1))
            r = t0 + 3
            if loans[k] and r <= T - 1:
                loan_rows.append((lk, m, t0, q, LOAN, r))
            else:
                loan_rows.append(rows[-1])
    plans = [Plan.from_arrays(*zip(*rs)) if rs else Plan.empty() for rs in (rows, loan_rows)]
    return inst, plans[0], plans[1]


def _same_verdict(inst, data, plans):
    verdicts = [authorize(inst, p, data=data) for p in plans]
    first = verdicts[0]
    for v in verdicts[1:]:
        assert v.ok == first.ok
        assert v.refusals == first.refusals


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(case=hub_cases(), perms=st.lists(st.randoms(use_true_random=False), min_size=3,
                                         max_size=3))
def test_cost_breakdown_kpis_and_verdict_do_not_depend_on_the_listing(case, perms):
    inst, plan, with_loans = case
    data = KernelData(inst)
    for p in (plan, with_loans):
        orders = [list(range(p.n_shipments))]
        for rnd in perms:
            orders.append(rnd.sample(orders[0], len(orders[0])))
        plans = [_permuted(p, o) for o in orders]
        out = plan_costs(data, plans)
        for arr in (out.cost, out.flags, out.breakdown, out.kpis, out.firm):
            assert (arr == arr[0]).all()
        _same_verdict(inst, data, plans)
        # the plain reference, in the listed order and in a permuted one, agrees
        for q in (plans[0], plans[-1]):
            r = ref.evaluate(inst, as_reference(q, inst))
            assert r.feasible == (out.flags[0] == 0)
            assert abs(r.cost - out.cost[0]) <= 1e-9 * max(1.0, abs(r.cost))
    # the donor ships no more than it holds usable on every arrival: covered in any order
    assert plan_costs(data, [plan]).flags[0] == 0


@settings(max_examples=60, deadline=None)
@given(case=hub_cases(), seed=st.integers(0, 2**32 - 1))
def test_the_kernel_orders_a_periods_departures_itself(case, seed):
    # moves handed to the kernel in any order within a period cost the same (the decoder
    # hands them over in the order it made them)
    inst, _, plan = case
    data = KernelData(inst)
    mv = plan.moves(inst)
    rng = np.random.default_rng(seed)
    shuffled = np.lexsort((rng.random(mv.link.size), mv.dep, mv.material))
    costs = []
    for order in (np.arange(mv.link.size), shuffled):
        ptr = np.array([0, mv.link.size], np.int64)
        out = batch_costs(
            data, ptr, *(np.ascontiguousarray(getattr(mv, n)[order])
                         for n in ("link", "material", "dep", "qty", "kind", "dur")))
        costs.append((out.cost[0], out.flags[0], out.breakdown[0, :3].copy()))
    assert costs[0][1] == costs[1][1]
    assert np.allclose(costs[0][2], costs[1][2], rtol=1e-12, atol=1e-9)
    assert abs(costs[0][0] - costs[1][0]) <= 1e-12 * max(1.0, abs(costs[0][0]))


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(case=hub_cases(short_dated=True), perm=st.randoms(use_true_random=False))
def test_milp_with_the_plan_fixed_costs_what_the_kernel_says(case, perm):
    # the permanent plan is feasible by construction; the one with loans may not be
    inst, plan, loaned = case
    data = KernelData(inst)
    for listed, must_hold in ((plan, True), (loaned, False)):
        p = _permuted(listed, perm.sample(range(listed.n_shipments), listed.n_shipments))
        c = plan_costs(data, [p])
        out = nmilp.fixed_plan_objective(inst, p, MilpOptions(time_limit=60))
        if c.flags[0] != 0:
            assert not must_hold
            assert not out.optimal, "the MILP accepts a plan the kernel refuses"
            continue
        assert out.optimal, out.status
        assert abs(out.objective - c.cost[0]) <= 1e-6 * max(1.0, abs(c.cost[0]))


def test_the_departure_rank_is_the_documented_order():
    inst, plan = issue_case()
    req = inst.requirements
    # A (needs in period 2) before B (needs in period 3); a payback before both
    a = knet.departure_rank(0, 0, PERMANENT, 0, inst.link_to, inst.lead, req)
    b = knet.departure_rank(1, 0, PERMANENT, 0, inst.link_to, inst.lead, req)
    pb = knet.departure_rank(1, 0, knet.PAYBACK, 0, inst.link_to, inst.lead, req)
    assert pb < a < b
