"""Validation of network instances and plans: every rejection names the field and the
problem; the published schemas accept what the engine writes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models import network
from invswarm.engine.models.network import Instance, Plan, electronics_doc, generate
from tests.mutate import mutated

SCHEMA_DIR = Path(network.__file__).parent


def _mutate(path, value):
    """The electronics case with one field changed (``None``: deleted)."""
    return mutated(electronics_doc(), path, value)


BAD = [
    (("model",), "sfi", "model", "must be 'network'"),
    (("periods",), 0, "periods", "must be >= 1"),
    (("stock", 0, "firm"), 9, "stock[0].firm", "unknown firm 9"),
    (("stock", 2, "material"), 3, "stock[2].material", "unknown material 3"),
    (("stock", 1, "firm"), 0, "stock[1]", "listed twice"),
    (("links", 0, "to"), 0, "links[0]", "link from firm 0 to itself"),
    (("links", 3, "from"), 1, "links[3]", "duplicate of links[1]"),
    (("links", 2, "lead_time"), -1, "links[2].lead_time", "must be >= 1"),
    (("links", 2, "lead_time"), 1.5, "links[2].lead_time", "must be an integer"),
    (("links", 2, "unit_cost"), [0.1], "links[2].unit_cost", "must have length 3"),
    (("stock", 4, "lots", 0, "last_period"), 0, "stock[4].lots[0].last_period",
     "expires before period 1"),
    (("stock", 1, "requirements"), [45] * 11, "stock[1].requirements", "must have length 12"),
    (("stock", 1, "receipts"), [0] * 13, "stock[1].receipts", "must have length 12"),
    (("stock", 3, "hold"), float("nan"), "stock[3].hold", "NaN"),
    (("stock", 3, "shortage"), -1, "stock[3].shortage", "must be >= 0"),
    (("stock", 3, "shortage"), None, "stock[3].shortage", "missing required field"),
    (("stock", 3, "protect"), 4, "stock[3].protect", "unknown field"),
    (("materials", 1, "life"), 0, "materials[1].life", "must be >= 1"),
    (("materials", 2, "name"), "MCU-32", "materials[2].name", "duplicate name"),
    (("loans", "durations"), [2, 0], "loans.durations[1]", "must be >= 1"),
    # Once an OverflowError: an integer too large for a C long.
    (("materials", 1, "life"), 2**64, "materials[1].life",
     "must be <= 10000, got 18446744073709551616"),
    (("links", 2, "lead_time"), 10**30, "links[2].lead_time",
     "must be <= 10000, got an integer of about 31 digits"),
    (("links", 2, "unit_cost"), 1e13, "links[2].unit_cost", "must be <= 1e+12"),
    (("stock", 4, "lots", 0, "last_period"), 10**5, "stock[4].lots[0].last_period",
     "must be <= 10000"),
    (("stock", 1, "receipts", 3), float("inf"), "stock[1].receipts[3]", "must be finite"),
]


@pytest.mark.parametrize("path,value,field,problem", BAD)
def test_bad_instances_name_the_field(path, value, field, problem):
    with pytest.raises(InputError) as err:
        Instance.from_json(_mutate(path, value))
    assert err.value.field == field
    assert problem in err.value.problem


def test_arrays_too_large_are_refused_before_they_are_made():
    doc = electronics_doc()
    doc["periods"] = 10_000
    doc["materials"] = [{"name": f"m{m}", "value": 1} for m in range(300)]
    with pytest.raises(InputError) as err:
        Instance.from_json(doc)
    assert err.value.field == "periods"
    assert "5 firms x 300 materials x 10001 expiry buckets" in err.value.problem


def _plan(**kw):
    s = {"from": 0, "to": 1, "material": 0, "period": 2, "qty": 10, "kind": "permanent"}
    s.update(kw)
    return {"shipments": [{k: v for k, v in s.items() if v is not None}]}


BAD_PLANS = [
    (_plan(**{"from": 7}), "shipments[0].from", "unknown firm 7"),
    (_plan(material=5), "shipments[0].material", "unknown material 5"),
    (_plan(to=4), "shipments[0]", "no link from firm 0 to firm 4"),
    (_plan(material=2), "shipments[0].from", "does not hold or require material 2"),
    (_plan(period=12), "shipments[0].period", "after the horizon"),
    (_plan(period=0), "shipments[0].period", "must be >= 1"),
    (_plan(qty=0), "shipments[0].qty", "must be > 0"),
    (_plan(qty=2e12), "shipments[0].qty", "must be <= 1e+12"),
    (_plan(period=2**70), "shipments[0].period", "must be <= 12"),
    (_plan(kind="gift"), "shipments[0].kind", "must be 'permanent' or 'loan'"),
    (_plan(kind="loan", return_period=5), "shipments[0].return_period", "loan duration 3"),
    (_plan(kind="loan"), "shipments[0].return_period", "missing required field"),
    (_plan(return_period=6), "shipments[0].return_period", "only a loan"),
    (_plan(**{"from": 3, "to": 1, "kind": "loan", "return_period": 4}),
     "shipments[0].return_period", "before the loan arrives"),
]


@pytest.mark.parametrize("doc,field,problem", BAD_PLANS)
def test_bad_plans_name_the_field(doc, field, problem):
    inst = Instance.from_json(electronics_doc())
    with pytest.raises(InputError) as err:
        Plan.from_json(doc, inst)
    assert err.value.field == field, err.value
    assert problem in err.value.problem


def test_a_loan_needs_the_reverse_link():
    doc = electronics_doc()
    doc["links"] = [ln for ln in doc["links"] if (ln["from"], ln["to"]) != (1, 0)]
    inst = Instance.from_json(doc)
    with pytest.raises(InputError, match="reverse link 1 -> 0"):
        Plan.from_json(_plan(kind="loan", return_period=4), inst)


def test_round_trip_and_schemas():
    inst_schema = json.loads((SCHEMA_DIR / "instance.schema.json").read_text())
    plan_schema = json.loads((SCHEMA_DIR / "plan.schema.json").read_text())
    for doc in (electronics_doc(), generate(firms=5, materials=3, periods=6, seed=3).to_json()):
        jsonschema.validate(doc, inst_schema)
        inst = Instance.from_json(doc)
        again = Instance.from_json(inst.to_json())
        for name in ("lots", "receipts", "requirements", "unit_cost", "reverse", "durations"):
            assert (getattr(inst, name) == getattr(again, name)).all(), name
        jsonschema.validate(inst.to_json(), inst_schema)
    plan = _plan(kind="loan", return_period=4)
    jsonschema.validate(plan, plan_schema)
    inst = Instance.from_json(electronics_doc())
    assert Plan.from_json(plan, inst).to_json(inst) == plan


@pytest.mark.parametrize("path,value,field,problem", [b for b in BAD if b[2] in {
    "model", "periods", "links[2].lead_time", "stock[3].shortage", "stock[3].protect",
    "materials[1].life", "loans.durations[1]"} and "NaN" not in b[3]])
def test_schema_rejects_what_it_can_express(path, value, field, problem):
    schema = json.loads((SCHEMA_DIR / "instance.schema.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_mutate(path, value), schema)


def test_the_shipped_case_has_excess_expiry_and_shortage():
    inst = Instance.from_json(electronics_doc())
    assert (inst.n_firms, inst.n_materials, inst.n_periods) == (5, 3, 12)
    ev = network.evaluate(inst, Plan.empty())
    assert ev.kpis["waste_units"] > 0 and ev.kpis["backlog_unit_periods"] > 0
    assert (inst.life > 0).sum() == 2
