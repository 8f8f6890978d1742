"""Validation of contracts instances and plans: every rejection names the field and the
problem; the published schemas accept what the engine writes; the generator is seeded."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models import contracts
from invswarm.engine.models.contracts import Instance, Plan, generate, seed_case_doc
from tests.mutate import mutated

SCHEMA_DIR = Path(contracts.__file__).parent


def _schema(name):
    return json.loads((SCHEMA_DIR / name).read_text())


BAD = [
    (("model",), "network", "model", "must be 'contracts'"),
    (("periods",), 0, "periods", "must be >= 1"),
    (("periods_per_year",), 2.5, "periods_per_year", "must be an integer"),
    (("mode",), "pooled", "mode", "must be one of guaranteed, flexible"),
    (("mode",), None, "mode", "missing required field"),
    (("safety_factor",), -1, "safety_factor", "must be >= 0"),
    (("retailers",), [], "retailers", "must not be empty"),
    (("retailers", 0, "market_power"), 0, "retailers[0].market_power", "must be > 0"),
    (("retailers", 1, "lead_time"), 0, "retailers[1].lead_time", "must be >= 1"),
    (("retailers", 1, "hold"), float("nan"), "retailers[1].hold", "NaN"),
    (("retailers", 1, "backlog"), "high", "retailers[1].backlog", "must be a number"),
    (("retailers", 0, "phi"), 1.0, "retailers[0].phi", "must be <= 0.99"),
    (("retailers", 0, "cv"), -0.1, "retailers[0].cv", "must be >= 0"),
    (("retailers", 0, "colour"), "red", "retailers[0].colour", "unknown field"),
    (("retailers", 1, "name"), "R1", "retailers[1].name", "duplicate name"),
    (("manufacturers", 0, "capacity"), float("inf"), "manufacturers[0].capacity",
     "must be finite"),
    (("manufacturers", 1, "overtime_cost"), 100.0, "manufacturers[1].overtime_cost",
     "must be >= unit_cost"),
    (("manufacturers", 1, "unit_cost"), None, "manufacturers[1].unit_cost",
     "missing required field"),
    (("manufacturers", 0, "lead_time"), 1.5, "manufacturers[0].lead_time",
     "must be an integer"),
    (("price_cap",), 300.0, "price_cap", "must be >= every unit_cost"),
    (("demand", "correlation"), 1.0, "demand.correlation", "must be < 1"),
    (("demand", "paths"), 0, "demand.paths", "must be >= 1"),
    (("demand", "seeds"), 3, "demand.seeds", "unknown field"),
    (("disruptions",), [], "disruptions", "must not be empty"),
    (("disruptions", 1, "events", 0, "manufacturer"), 2,
     "disruptions[1].events[0].manufacturer", "unknown manufacturer 2"),
    (("disruptions", 1, "events", 0, "start"), 105, "disruptions[1].events[0].start",
     "must be <= 104"),
    (("disruptions", 1, "events", 0, "share"), 1.5, "disruptions[1].events[0].share",
     "must be <= 1"),
    (("disruptions", 2, "weight"), -0.1, "disruptions[2].weight", "must be >= 0"),
    (("disruptions", 2, "name"), "none", "disruptions[2].name", "duplicate name"),
    # the ranges (engine/limits.py): every number has an upper bound too
    (("retailers", 0, "market_power"), 1e13, "retailers[0].market_power", "must be <= 1e+12"),
    (("retailers", 1, "hold"), 2e12, "retailers[1].hold", "must be <= 1e+12"),
    (("manufacturers", 0, "capacity"), 10**400, "manufacturers[0].capacity", "must be <= 1e+12"),
    (("manufacturers", 1, "backlog"), 1e300, "manufacturers[1].backlog", "must be <= 1e+12"),
    (("disruptions", 1, "events", 0, "length"), 10**30, "disruptions[1].events[0].length",
     "must be <= 100000"),
    (("disruptions", 2, "weight"), 1e13, "disruptions[2].weight", "must be <= 1e+12"),
]


@pytest.mark.parametrize("path,value,field,problem", BAD)
def test_bad_instances_name_the_field(path, value, field, problem):
    with pytest.raises(InputError) as err:
        Instance.from_json(mutated(seed_case_doc(), path, value))
    assert err.value.field == field
    assert problem in err.value.problem


def test_weights_must_not_all_be_zero():
    doc = seed_case_doc()
    for s in doc["disruptions"]:
        s["weight"] = 0
    with pytest.raises(InputError) as err:
        Instance.from_json(doc)
    assert err.value.field == "disruptions"


@pytest.mark.parametrize("path,value,field,problem", [
    b for b in BAD if "NaN" not in b[3] and "finite" not in b[3] and "duplicate" not in b[3]
    and b[2] not in ("price_cap", "manufacturers[1].overtime_cost",
                     "disruptions[1].events[0].manufacturer", "disruptions[1].events[0].start")])
def test_schema_rejects_what_it_can_express(path, value, field, problem):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mutated(seed_case_doc(), path, value), _schema("instance.schema.json"))


def test_round_trip_and_schemas_accept_what_the_engine_writes():
    docs = [seed_case_doc(), seed_case_doc("flexible", paths=10),
            generate(retailers=3, manufacturers=4, periods=20, scenarios=4, seed=5)]
    for doc in docs:
        jsonschema.validate(doc, _schema("instance.schema.json"))
        inst = Instance.from_json(doc)
        again = Instance.from_json(inst.to_json())
        for name in ("z", "lead_r", "cv", "phi", "capacity", "unit_cost", "lead_m",
                     "cap_factor"):
            assert np.array_equal(getattr(inst, name), getattr(again, name)), name
        # normalized weights normalized again: equal to rounding
        assert np.allclose(inst.weights, again.weights, rtol=1e-15, atol=0)
        jsonschema.validate(inst.to_json(), _schema("instance.schema.json"))


def test_disruption_capacity_factors():
    inst = Instance.from_json(seed_case_doc())
    assert inst.scenario_names[0] == "none" and (inst.cap_factor[0] == 1).all()
    # M1 at half capacity in weeks 27..30 (0-based 26..29), M2 untouched
    f = inst.cap_factor[1]
    assert (f[0, 26:30] == 0.5).all() and (f[0, :26] == 1).all() and (f[0, 30:] == 1).all()
    assert (f[1] == 1).all()
    both = inst.cap_factor[4]
    assert (both[0, 26:38] == 0.5).all() and (both[1, 38:50] == 0.5).all()
    assert both[1, 37] == 1 and both[0, 38] == 1
    assert inst.weights.sum() == pytest.approx(1.0)


def test_overlapping_events_take_the_largest_share_and_the_horizon_clips():
    doc = seed_case_doc()
    doc["disruptions"] = [{"name": "x", "events": [
        {"manufacturer": 1, "start": 100, "length": 10, "share": 0.3},
        {"manufacturer": 1, "start": 102, "length": 1, "share": 0.8}]}]
    f = Instance.from_json(doc).cap_factor[0, 1]
    assert f[98] == 1 and f[99] == pytest.approx(0.7) and f[101] == pytest.approx(0.2)
    assert f[103] == pytest.approx(0.7) and f.size == 104


def test_generator_is_seeded_and_sized():
    a = generate(retailers=3, manufacturers=2, periods=30, scenarios=3, seed=4)
    b = generate(retailers=3, manufacturers=2, periods=30, scenarios=3, seed=4)
    c = generate(retailers=3, manufacturers=2, periods=30, scenarios=3, seed=5)
    assert a == b and a != c
    inst = Instance.from_json(a)
    assert (inst.n_retailers, inst.n_manufacturers, inst.n_scenarios) == (3, 2, 3)
    with pytest.raises(InputError) as err:
        generate(retailers=0)
    assert err.value.field == "retailers"


PLAN = {"w": [1000.0, 1100.0], "k": [[150.0, 130.0], [150.0, 130.0]]}

BAD_PLANS = [
    ({"w": [1000.0], "k": PLAN["k"]}, "w", "must have length 2"),
    ({"w": [350.0, 1100.0], "k": PLAN["k"]}, "w[0]", "must be >= 400"),
    ({"w": [1000.0, 2500.0], "k": PLAN["k"]}, "w[1]", "must be <= 2000"),
    ({"w": PLAN["w"], "k": [[150.0, 130.0]]}, "k", "must have length 2"),
    ({"w": PLAN["w"], "k": [[150.0, 130.0], [150.0]]}, "k[1]", "must have length 2"),
    ({"w": PLAN["w"], "k": [[150.0, -1.0], [150.0, 130.0]]}, "k[0][1]", "must be >= 0"),
    ({"w": PLAN["w"], "k": [[200.0, 130.0], [150.0, 130.0]]}, "k",
     "caps at manufacturer 0 (M1) sum to 350, above its capacity 300"),
    ({"w": PLAN["w"]}, "k", "missing required field"),
    ({"w": PLAN["w"], "k": PLAN["k"], "y": 1}, "y", "unknown field"),
]


@pytest.mark.parametrize("doc,field,problem", BAD_PLANS)
def test_bad_plans_name_the_field(doc, field, problem):
    inst = Instance.from_json(seed_case_doc())
    with pytest.raises(InputError) as err:
        Plan.from_json(doc, inst)
    assert err.value.field == field
    assert problem in err.value.problem


def test_plan_round_trip_and_schema():
    inst = Instance.from_json(seed_case_doc())
    jsonschema.validate(PLAN, _schema("plan.schema.json"))
    assert Plan.from_json(PLAN, inst).to_json() == PLAN
