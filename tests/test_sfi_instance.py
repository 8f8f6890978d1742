"""Validation of SFI instance documents: every rejection names the field and the problem."""

import dataclasses
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models import sfi
from invswarm.engine.models.sfi import Instance, generate, steel_case
from tests.mutate import mutated

SCHEMA_DIR = Path(sfi.__file__).parent


def _schema(name):
    return json.loads((SCHEMA_DIR / name).read_text())


def _mutate(path, value):
    """The 6-period steel case with one field changed (``None``: deleted)."""
    return mutated(steel_case(6), path, value)


BAD = [
    (("disposal_rate",), None, "disposal_rate", "missing required field"),
    (("model",), "network", "model", "must be 'sfi'"),
    (("stages", 2, "hold"), "high", "stages[2].hold", "must be a number, got a string"),
    (("stages", 2, "hold"), float("nan"), "stages[2].hold", "NaN"),
    (("stages", 2, "value"), float("inf"), "stages[2].value", "must be finite"),
    (("stages", 3, "tau"), 5, "stages[3].tau", "must be greater than stages[2].tau"),
    (("stages", 0, "tau"), 1, "stages[0].tau", "must be 0"),
    (("stages", 5, "hold"), 0.0001, "stages[5].hold", "must be >= stages[4].hold"),
    (("stages", 4, "setup_reuse"), -1, "stages[4].setup_reuse", "must be >= 0"),
    (("categories", 1, "pdp_candidates", 0), 8, "categories[1].pdp_candidates[0]",
     "must be <= 7"),
    (("categories", 1, "pdp_candidates"), [], "categories[1].pdp_candidates", "must not be empty"),
    (("categories", 1, "pdp_candidates"), [2, 2], "categories[1].pdp_candidates", "twice"),
    (("products", 4, "category"), 3, "products[4].category", "must be <= 2"),
    (("products", 4, "codp_candidates"), [1.5], "products[4].codp_candidates[0]",
     "must be an integer"),
    (("products", 0, "service_level"), 1.2, "products[0].service_level", "must be <= 1"),
    (("products", 0, "lead_time"), -3, "products[0].lead_time", "must be >= 0"),
    (("products", 0, "lead_tme"), 3, "products[0].lead_tme", "unknown field"),
    (("periods", "capacity"), [39000] * 5, "periods.capacity", "must have length 6, got 5"),
    (("periods", "prep", 2), -1, "periods.prep[2]", "must be >= 0"),
    (("orders",), [[4000] * 6] * 8, "orders", "must have length 9, got 8"),
    (("orders", 3, 2), -5, "orders[3][2]", "must be >= 0"),
    (("orders", 3, 2), None, "orders[3]", "must have length 6, got 5"),
    (("initial", "generic", 0, "stage"), 0, "initial.generic[0].stage", "must be >= 1"),
    (("initial", "backlog"), [0] * 3, "initial.backlog", "must have length 9"),
    (("stages", 2, "value"), 10**400, "stages[2].value",
     "must be <= 1e+12, got an integer of about 401 digits"),
    (("periods", "capacity", 0), 1e13, "periods.capacity[0]", "must be <= 1e+12, got 1e+13"),
    (("orders", 3, 2), True, "orders[3][2]", "must be a number, got a boolean"),
    (("products", 0, "priority"), -2e12, "products[0].priority", "must be >= -1e+12"),
    (("orders",), [[0] * 6] * 10**5, "orders", "must have length 9, got 100000"),
    (("stages",), [{}] * 101, "stages", "must have at most 100 entries, got 101"),
    (("name",), "steel \ud800", "name", "lone surrogate at character 6"),
    (("products", 0, "lead time"), 3, 'products[0]["lead time"]', "unknown field"),
]


@pytest.mark.parametrize("path,value,field,problem", BAD)
def test_bad_instance_names_field_and_problem(path, value, field, problem):
    with pytest.raises(InputError) as err:
        Instance.from_json(_mutate(path, value))
    assert err.value.field == field
    assert problem in err.value.problem


def test_codp_candidate_upstream_of_every_pdp_candidate():
    doc = steel_case(6)
    doc["categories"][2]["pdp_candidates"] = [3, 4]
    for p in (6, 8):
        doc["products"][p]["codp_candidates"] = [3, 4, 5]
    doc["products"][7]["codp_candidates"] = [2, 5]
    with pytest.raises(InputError) as err:
        Instance.from_json(doc)
    assert err.value.field == "products[7].codp_candidates[0]"
    assert "upstream of every PDP candidate" in err.value.problem


def test_usable_pdp_stops_at_the_lowest_highest_codp_of_the_category():
    doc = steel_case(6)
    doc["categories"][1]["pdp_candidates"] = [1, 2, 3, 4, 5]
    doc["products"][3]["codp_candidates"] = [2, 5, 6]
    doc["products"][4]["codp_candidates"] = [2, 3]  # highest 3: PDPs 4 and 5 leave it none
    doc["products"][5]["codp_candidates"] = [4, 7]
    inst = Instance.from_json(doc)
    assert inst.usable_pdp(1).tolist() == [1, 2, 3]
    assert inst.usable_pdp(0).tolist() == inst.pdp_candidates(0).tolist()
    doc["categories"].append({"name": "empty", "pdp_candidates": [2, 5]})
    doc["initial"]["generic"].append({"stage": 2, "qty": 0})
    assert Instance.from_json(doc).usable_pdp(3).tolist() == [2, 5]


def test_scenario_weights_must_sum_to_one():
    doc = generate(periods=3, categories=2, products_per_category=2, scenarios=3, seed=1)
    doc["orders"]["weights"] = [0.5, 0.3, 0.3]
    with pytest.raises(InputError, match=r"orders.weights: must sum to 1"):
        Instance.from_json(doc)
    doc["orders"]["weights"] = [0.5, 0.5]
    with pytest.raises(InputError, match=r"orders.weights: must have length 3"):
        Instance.from_json(doc)


def test_not_an_object():
    with pytest.raises(InputError, match="instance: must be a JSON object"):
        Instance.from_json([1, 2])


def test_round_trip_keeps_every_array():
    for doc in (steel_case(8), generate(periods=4, categories=3, products_per_category=2,
                                        scenarios=4, seed=5)):
        a = Instance.from_json(doc)
        b = Instance.from_json(json.loads(json.dumps(a.to_json())))
        for f in dataclasses.fields(a):  # the fields, not what is cached on the object
            name, value = f.name, getattr(a, f.name)
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, getattr(b, name), err_msg=name)
            else:
                assert value == getattr(b, name), name


def test_generator_is_seeded():
    kw = dict(periods=5, categories=2, products_per_category=3, scenarios=2)
    assert generate(seed=3, **kw) == generate(seed=3, **kw)
    assert generate(seed=3, **kw) != generate(seed=4, **kw)
    inst = Instance.from_json(generate(seed=3, **kw))
    assert inst.orders.shape == (2, 6, 5)


def test_shipped_steel_case_matches_the_seed():
    for T in (6, 8, 12, 24):
        inst = Instance.from_json(steel_case(T))
        assert (inst.n_categories, inst.n_products, inst.n_periods) == (3, 9, T)
        assert all(inst.pdp_candidates(c).size == 5 for c in range(3))
        assert all(inst.codp_candidates(p).size == 6 for p in range(9))
        assert inst.orders.min() >= 3800 and inst.orders.max() <= 4300
        assert inst.capacity[0] == 39000 and np.all(inst.capacity[1:] == 37000)


def test_published_schemas_accept_what_the_engine_writes():
    inst_schema = _schema("instance.schema.json")
    plan_schema = _schema("plan.schema.json")
    for doc in (steel_case(24), generate(periods=3, categories=2, products_per_category=2,
                                         scenarios=3, seed=2)):
        jsonschema.validate(doc, inst_schema)
        jsonschema.validate(Instance.from_json(doc).to_json(), inst_schema)
    plan = {"pdp": [[1, 2]], "generic": [[0, 10.5]], "codp": [[2, 3]], "dedicated": [[4, 0]]}
    jsonschema.validate(plan, plan_schema)


# The rejections a JSON Schema can express (cross-field rules, NaN and infinity are the
# engine validator's alone).
SCHEMA_BAD = [case for case in BAD if case[2] in {
    "disposal_rate", "model", "stages[2].hold", "stages[4].setup_reuse",
    "categories[1].pdp_candidates", "products[4].codp_candidates[0]",
    "products[0].service_level", "products[0].lead_time", "products[0].lead_tme",
    "orders[3][2]", "initial.generic[0].stage"} and "NaN" not in case[3]]


@pytest.mark.parametrize("path,value,field,problem", SCHEMA_BAD)
def test_published_schema_rejects_what_it_can_express(path, value, field, problem):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_mutate(path, value), _schema("instance.schema.json"))
