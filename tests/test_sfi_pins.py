"""Pinned SFI decisions: exact and pso keep the warm start's decisions in the kept periods and
cells; the repair keeps a plan feasible; the MILP with pins agrees with the kernel; bad pins
are named."""

from __future__ import annotations

import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.milp import MilpOptions, run
from invswarm.engine.models.sfi import Plan, evaluate, load_steel
from invswarm.engine.models.sfi import milp as smilp
from invswarm.engine.models.sfi.pins import TABLES, Pins
from invswarm.engine.models.sfi.plan import violations
from invswarm.engine.solve import SolveOptions, solve
from tests.sfi_random import random_instance, random_plan

FAST = SolveOptions(max_iter=3, swarm_size=8, islands=1, seed=4)


def _pins_doc(rng: np.random.Generator, inst) -> dict:
    T = inst.n_periods
    rows = {"pdp": inst.n_categories, "generic": inst.n_categories,
            "codp": inst.n_products, "dedicated": inst.n_products}
    periods = sorted({int(t) for t in rng.integers(1, T + 1, size=max(1, T // 3))})
    keep = [{"table": str(tb), "row": int(rng.integers(rows[tb])),
             "period": int(rng.integers(1, T + 1))}
            for tb in rng.choice(TABLES, size=3)]
    return {"keep_periods": periods, "keep": keep}


def _check_kept(inst, doc: dict, warm: dict, plan: dict) -> None:
    T = inst.n_periods
    for t in doc.get("keep_periods", []):
        for tb in TABLES:
            assert [row[t - 1] for row in plan[tb]] == [row[t - 1] for row in warm[tb]], (tb, t)
    for d in doc.get("keep", []):
        assert plan[d["table"]][d["row"]][d["period"] - 1] == \
            warm[d["table"]][d["row"]][d["period"] - 1], d
    assert len(plan["pdp"][0]) == T


def _cases(seed: int, n: int, max_periods: int = 5):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        inst = random_instance(rng, max_periods=max_periods, max_scenarios=2)
        out.append((inst, random_plan(rng, inst).to_json(), _pins_doc(rng, inst)))
    return out


def test_pso_keeps_the_pins():
    for inst, warm, doc in _cases(3, 4):
        res = solve(inst, "pso", FAST, warm_start=warm, pins=doc)
        _check_kept(inst, doc, warm, res.plan)


@pytest.mark.slow  # exact solves (HiGHS)
def test_exact_keeps_the_pins_and_agrees_with_the_kernel():
    optimal = 0
    for inst, warm, doc in _cases(4, 6, max_periods=3):
        res = solve(inst, "exact", SolveOptions(time_limit=20), warm_start=warm, pins=doc)
        _check_kept(inst, doc, warm, res.plan)
        assert res.cost == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
        optimal += res.status == "optimal"
    assert optimal >= 4


@pytest.mark.slow  # exact solves (HiGHS)
def test_milp_with_pins_and_a_pinned_plan_fixed_equals_the_kernel():
    rng = np.random.default_rng(5)
    for inst, warm, doc in _cases(5, 12):
        pins = Pins.from_json(doc, inst, Plan.from_json(warm, inst))
        plan = pins.apply(inst, random_plan(rng, inst))
        out = run(smilp.build(inst, plan, pins=pins).builder.to_highs(),
                  MilpOptions(time_limit=60))
        assert out.optimal, out.status
        kern = evaluate(inst, plan).cost
        assert abs(out.objective - kern) <= 1e-6 * max(1.0, abs(kern))


def test_apply_keeps_a_plan_feasible():
    rng = np.random.default_rng(6)
    for inst, warm, doc in _cases(6, 60):
        ref = Plan.from_json(warm, inst)
        pins = Pins.from_json(doc, inst, ref)
        for _ in range(5):
            plan = pins.apply(inst, random_plan(rng, inst))
            assert not violations(inst, plan)
            assert not pins.breaks((plan.pdp, plan.generic, plan.codp, plan.dedicated))


def _bad(inst, warm, pins, field: str, words: str, method: str = "pso") -> None:
    with pytest.raises(InputError) as exc:
        solve(inst, method, FAST, warm_start=warm, pins=pins)
    assert exc.value.field == field, exc.value
    assert words in exc.value.problem, exc.value


def test_bad_sfi_pins_name_the_field():
    inst = load_steel(3)
    warm = solve(inst, "pso", FAST).plan
    _bad(inst, None, {"keep_periods": [1]}, "pins", "warm start")
    _bad(inst, warm, {"keep_periods": [4]}, "pins.keep_periods[0]", "<= 3")
    _bad(inst, warm, {"keep_periods": 1}, "pins.keep_periods", "must be a list")
    _bad(inst, warm, {"periods": [1]}, "pins.periods", "")
    _bad(inst, warm, {"keep": [{"table": "pdq", "row": 0, "period": 1}]},
         "pins.keep[0].table", "pdp")
    _bad(inst, warm, {"keep": [{"table": "codp", "row": 99, "period": 1}]},
         "pins.keep[0].row", "<=")
    _bad(inst, warm, {"keep": [{"table": "codp", "row": 0}]}, "pins.keep[0].period",
         "missing")
    _bad(inst, warm, {"keep_periods": [1]}, "pins", "relax-round", method="relax-round")
