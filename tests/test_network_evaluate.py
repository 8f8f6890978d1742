"""Evaluation and authorization of network plans: refusals name donor, material and period;
money adds up across firms."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.models.network import Instance, Plan, authorize, electronics_doc, evaluate
from invswarm.engine.models.network.plan import LOAN, PERMANENT


@pytest.fixture(scope="module")
def inst():
    return Instance.from_json(electronics_doc())


def _ship(inst, i, j, m, period, qty, kind=PERMANENT, ret=0):
    """One shipment (periods 1-based, as in JSON)."""
    return Plan.from_arrays([inst.link_index(i, j)], [m], [period - 1], [qty], [kind],
                            [ret - 1 if kind == LOAN else -1])


def test_a_transfer_within_the_surplus_is_authorized(inst):
    assert authorize(inst, _ship(inst, 0, 1, 0, 1, 100)).ok


def test_a_proposed_transfer_that_penalizes_the_donor_is_refused_with_its_period(inst):
    plan = _ship(inst, 0, 1, 0, 1, 300)
    assert authorize(inst, plan).ok
    verdict = authorize(inst, plan, proposed=_ship(inst, 0, 2, 0, 2, 250))
    assert not verdict.ok
    periods = sorted(r.period for r in verdict.refusals if r.rule == "donor_stock")
    # Aurora ends period 2 with 600 - 20 - 20 - 550 = 10 units, below its floor of 60
    assert periods[0] == 2
    assert all((r.firm, r.material) == (0, 0) for r in verdict.refusals)


def test_uncovered_shipments_and_double_roles_are_refused(inst):
    # Borealis holds 40 MCU at period 1
    v = authorize(inst, _ship(inst, 1, 0, 0, 1, 45))
    assert [r.rule for r in v.refusals if r.rule == "coverage"] == ["coverage"]
    cov = next(r for r in v.refusals if r.rule == "coverage")
    assert (cov.firm, cov.material, cov.period) == (1, 0, 1) and "5 units" in cov.message
    both = Plan.from_arrays(*(np.concatenate([getattr(_ship(inst, 0, 1, 0, 1, 50), n),
                                              getattr(_ship(inst, 1, 3, 0, 4, 10), n)])
                              for n in ("link", "material", "period", "qty", "kind", "ret")))
    assert "role" in {r.rule for r in authorize(inst, both).refusals}


def test_a_loan_comes_back_and_money_adds_up(inst):
    plan = _ship(inst, 0, 1, 0, 3, 100, LOAN, ret=9)
    assert authorize(inst, plan).ok
    ev = evaluate(inst, plan)
    none = evaluate(inst, Plan.empty())
    assert ev.kpis["loans"] == 1 and ev.kpis["loaned_units"] == 100
    firms = ev.firms
    assert sum(f["payments_net"] for f in firms) == pytest.approx(0.0, abs=1e-9)
    # the borrower pays the fee: 0.05 per unit and period, 100 units, 6 periods
    assert firms[1]["payments_net"] == pytest.approx(0.05 * 100 * 6)
    paid = sum(f["transfer_paid"] for f in firms)
    assert paid == pytest.approx(ev.breakdown["transfer_unit"] + ev.breakdown["transfer_fixed"])
    change = sum(f["cost_change"] for f in firms)
    assert change == pytest.approx(ev.cost - none.cost)
    # the loan avoids Borealis's backlog early on
    assert ev.kpis["backlog_unit_periods_avoided"] > 0
    assert ev.kpis["plan_adherence"] > none.kpis["plan_adherence"]


def test_permanent_transfer_avoids_waste_of_expiring_flux(inst):
    # Cobalt's flux lot of 220 expires in period 3; Delta needs 30 a period
    ev = evaluate(inst, _ship(inst, 2, 3, 1, 1, 60))
    assert ev.feasible
    assert ev.kpis["waste_avoided"] == pytest.approx(60)
    # Delta is late in periods 2-4, 6-8 and 10-12 alone; with the flux only in 4, 8 and 12
    assert ev.kpis["delays_avoided"] == 6
