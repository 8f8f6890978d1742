"""The published JSON Schemas and the engine's validators agree on the ranges: at every
numeric field of every format, a value past a bound is rejected by both (the validator naming
the field), a value at a bound is refused by neither for its range, and whatever the validator
accepts the schema accepts.

The fields are those of shipped documents; of a list, whose entries are read alike, the last
entry. Fields whose bound depends on the instance (a stage, a firm, a period of a plan: the
schema can state only their absolute bounds) are checked past their absolute bounds alone.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import jsonschema
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.fields import join
from invswarm.engine.models import network, sfi

from .hostile import SchemaDraw, copy_json, paths

#: Keys of the fields whose bounds depend on the instance.
RELATIVE = {"pdp_candidates", "codp_candidates", "category", "stage", "pdp", "codp", "firm",
            "material", "from", "to", "period", "return_period"}
#: How the validator words a range it checks (cross-field rules name another field).
RANGE = re.compile(r"must be [<>]=? -?[0-9.e+]+, got")


def _schema(model, name: str) -> dict:
    return json.loads((Path(model.__file__).parent / f"{name}.schema.json").read_text())


def _electronics_plan() -> dict:
    return {"shipments": [
        {"from": 0, "to": 1, "material": 0, "period": 2, "qty": 10, "kind": "permanent"},
        {"from": 0, "to": 1, "material": 0, "period": 2, "qty": 10, "kind": "loan",
         "return_period": 4}]}


def _steel_plan() -> dict:
    inst = sfi.Instance.from_json(sfi.steel_case(3))
    return {"pdp": [[int(inst.pdp_candidates(c)[0])] * 3 for c in range(3)],
            "generic": [[100.5] * 3 for _ in range(3)],
            "codp": [[int(inst.codp_candidates(p)[-1])] * 3 for p in range(9)],
            "dedicated": [[10] * 3 for _ in range(9)]}


def _formats():
    steel = sfi.Instance.from_json(sfi.steel_case(3))
    electronics = network.Instance.from_json(network.electronics_doc())
    scalar_cost = network.electronics_doc()
    scalar_cost["links"][0]["unit_cost"] = 0.5
    return [
        ("sfi instance", _schema(sfi, "instance"), sfi.steel_case(3), sfi.Instance.from_json),
        ("sfi instance", _schema(sfi, "instance"),
         sfi.generate(periods=2, categories=2, products_per_category=2, scenarios=2, seed=1),
         sfi.Instance.from_json),
        ("sfi plan", _schema(sfi, "plan"), _steel_plan(),
         lambda doc: sfi.Plan.from_json(doc, steel)),
        ("network instance", _schema(network, "instance"), network.electronics_doc(),
         network.Instance.from_json),
        ("network instance", _schema(network, "instance"), scalar_cost,
         network.Instance.from_json),
        ("network plan", _schema(network, "plan"), _electronics_plan(),
         lambda doc: network.Plan.from_json(doc, electronics)),
    ]


FORMATS = _formats()


def _name(path: tuple) -> str:
    out = ""
    for key in path:
        out = join(out, key)
    return out


def _last_entries(doc, numeric: bool = False) -> list[tuple]:
    """Paths of the nodes (the numbers with ``numeric``) of ``doc`` but the root, of each
    list only its last entry."""
    out = []
    for path in paths(doc)[1:]:
        node, last = doc, True
        for k in path:
            last = last and (not isinstance(k, int) or k == len(node) - 1)
            node = node[k]
        if last and (not numeric or isinstance(node, (int, float))
                     and not isinstance(node, bool)):
            out.append(path)
    return out


def _bounds(s: dict) -> tuple[list, list]:
    """Values a schema node accepts at its bounds, and values just past them."""
    integral = s.get("type") == "integer"
    step_down = (lambda b: b - 1) if integral else (lambda b: math.nextafter(b, -math.inf))
    step_up = (lambda b: b + 1) if integral else (lambda b: math.nextafter(b, math.inf))
    inside, past = [], []
    if "minimum" in s:
        inside.append(s["minimum"])
        past += [step_down(s["minimum"]), -(10**400)]
    if "exclusiveMinimum" in s:
        inside.append(step_up(s["exclusiveMinimum"]))
        past.append(s["exclusiveMinimum"])
    if "maximum" in s:
        inside.append(s["maximum"])
        past += [step_up(s["maximum"]), 10**400]
    if integral:
        past += [1.5, True]
    return inside, past


def _set(doc, path, value):
    out = copy_json(doc)
    node = out
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return out


def _outcome(load, doc):
    try:
        load(doc)
    except InputError as exc:
        return exc
    return None


@pytest.mark.parametrize("fmt,schema,doc,load", FORMATS, ids=[f[0] for f in FORMATS])
def test_ranges_agree(fmt, schema, doc, load):
    check = jsonschema.Draft202012Validator(schema)
    draw = SchemaDraw(schema, None)
    assert check.is_valid(doc) and _outcome(load, doc) is None
    tried = 0
    for path in _last_entries(doc, numeric=True):
        s = draw.at(doc, path)
        assert s is not None, path
        inside, past = _bounds(s)
        assert inside, f"{fmt}: {_name(path)} has no range in the schema"
        field = _name(path)
        relative = any(k in RELATIVE for k in path if isinstance(k, str))
        for value in past + [math.nan, math.inf]:
            changed = _set(doc, path, value)
            err = _outcome(load, changed)
            assert err is not None, f"{fmt}: {field} = {value!r} accepted"
            assert err.field == field, (value, err)
            if not (isinstance(value, float) and not math.isfinite(value)):
                assert not check.is_valid(changed), f"{fmt}: schema accepts {field} = {value!r}"
            tried += 1
        for value in inside:
            changed = _set(doc, path, value)
            err = _outcome(load, changed)
            if err is None:
                assert check.is_valid(changed), f"{fmt}: schema refuses {field} = {value!r}"
            elif not relative:
                assert not (err.field == field and RANGE.search(err.problem)), \
                    f"{fmt}: the schema allows {field} = {value!r}, the validator: {err}"
            tried += 1
    assert tried >= 20


@pytest.mark.parametrize("fmt,schema,doc,load", FORMATS, ids=[f[0] for f in FORMATS])
def test_schema_accepts_what_the_validator_accepts(fmt, schema, doc, load):
    """Every node of a shipped document (of a list, the last entry) set to null, to a value
    of another type, or left out: what the validator still accepts, the schema accepts."""
    check = jsonschema.Draft202012Validator(schema)
    accepted = 0
    for path in _last_entries(doc):
        variants = [_set(doc, path, v) for v in (None, 0, 1.0, 2.0, -0.0, "", [], {})]
        gone = copy_json(doc)
        node = gone
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
        for changed in variants + [gone]:
            if _outcome(load, changed) is None:
                accepted += 1
                assert check.is_valid(changed), \
                    (fmt, _name(path), next(check.iter_errors(changed)).message)
    assert accepted > 0
