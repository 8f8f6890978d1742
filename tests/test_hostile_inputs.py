"""Hostile documents of the six formats (SFI, network and contracts instances and plans): the
loaders raise InputError, naming a field, and nothing else; what they accept solves without an
exception.

Per format, 10,000 documents from a fixed seed (CI and a developer see the same ones; a
failure names the document's number and how it was made): a quarter drawn from the published
JSON Schema with a hostile value at 3 % of its nodes, the rest valid documents (small random
instances and plans, a shipped case) mutated at one to three nodes (``tests/hostile.py``).
Of the documents that load, a sample is checked further (a plain loop, not Hypothesis: ten
thousand examples through ``@given`` take minutes):

- 100 against the published schema, which must accept what the engine accepts;
- instances: 20 solved by PSO on a tiny budget (0.2 s, 4 particles, one island), 3 of at most
  8 products x periods x scenarios (SFI) or 12 firms x materials x periods (network) solved
  exactly; network instances: 200 by the greedy rule as well; contracts instances: 10 of at
  most 2,000 paths x periods x scenarios by the equilibrium and 5 by the system objective,
  tiny swarms;
- plans: 200 evaluated (and authorized, network), 10 the warm start of a tiny PSO run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.models import contracts, network, sfi
from invswarm.engine.models.network.pins import Pins as NetworkPins
from invswarm.engine.models.sfi.pins import Pins as SfiPins
from invswarm.engine.roll import roll
from invswarm.engine.solve import SolveOptions, evaluate, solve

from . import contracts_random, network_random, sfi_random
from .hostile import SchemaDraw, hostile, mutant

pytestmark = pytest.mark.slow  # 10,000 documents per format, some solved

PER_FORMAT = 10_000
TINY = SolveOptions(time_limit=0.2, max_iter=2, swarm_size=4, islands=1, seed=0)
EXACT = SolveOptions(time_limit=60)


def _schema(model, name: str) -> dict:
    return json.loads((Path(model.__file__).parent / f"{name}.schema.json").read_text())


def _sfi_instances() -> list[sfi.Instance]:
    rng = np.random.default_rng(25)
    return ([sfi_random.random_instance(rng) for _ in range(12)]
            + [sfi_random.random_instance(rng, max_periods=2, max_scenarios=1)
               for _ in range(4)]
            + [sfi.Instance.from_json(sfi.steel_case(3)),
               sfi.Instance.from_json(sfi.generate(periods=3, categories=2,
                                                   products_per_category=2, scenarios=2,
                                                   seed=1))])


def _network_instances() -> list[network.Instance]:
    rng = np.random.default_rng(25)
    return ([network_random.random_instance(rng) for _ in range(12)]
            + [network.generate(firms=2, materials=1, periods=int(T), seed=s)
               for s, T in enumerate((2, 3, 2, 3))]
            + [network.Instance.from_json(network.electronics_doc())])


def _contracts_instances() -> list[contracts.Instance]:
    rng = np.random.default_rng(25)
    return ([contracts_random.random_instance(rng, mode=m, paths=2, periods=8)
             for m in contracts.MODES for _ in range(6)]
            + [contracts.seed_case(m, paths=2) for m in contracts.MODES])


def _contracts_size(inst: contracts.Instance) -> int:
    small = inst.n_retailers * inst.n_manufacturers <= 9
    return inst.paths * inst.n_periods * inst.n_scenarios if small else 10**9


def _sfi_size(inst: sfi.Instance) -> int:
    return inst.n_products * inst.n_periods * inst.n_scenarios


def _network_size(inst: network.Instance) -> int:
    return inst.n_firms * inst.n_materials * inst.n_periods


def _fuzz(schema: dict, bases: list, load, seed: int) -> list:
    """Load ``PER_FORMAT`` hostile documents made from ``bases`` (pairs of a context and a
    valid document); returns ``(context, document, loaded object)`` of those that load."""
    rng = random.Random(seed)
    draw = SchemaDraw(schema, rng)
    loaded, failures = [], []
    for i in range(PER_FORMAT):
        ctx, base = rng.choice(bases)
        doc, how = (draw.draw(), ["drawn from the schema"]) if i % 4 == 0 \
            else mutant(base, draw)
        try:
            obj = load(ctx, doc)
        except InputError as exc:
            if not exc.field or not exc.problem or "\n" in str(exc):
                failures.append(f"#{i} ({'; '.join(how)}): unclear error {exc!r}")
        except Exception as exc:  # any other is the failure sought
            failures.append(f"#{i} ({'; '.join(how)}): {type(exc).__name__}: {exc}")
        else:
            loaded.append((ctx, doc, obj))
    assert not failures, f"{len(failures)} of {PER_FORMAT}:\n" + "\n".join(failures[:10])
    # Both outcomes are common, or the documents test little.
    assert PER_FORMAT // 20 <= len(loaded) <= PER_FORMAT // 2, len(loaded)
    return loaded


def _schema_accepts(schema: dict, loaded: list, rng: random.Random) -> None:
    check = jsonschema.Draft202012Validator(schema)
    for _, doc, _ in rng.sample(loaded, 100):
        errors = [e.message for e in check.iter_errors(doc)]
        assert not errors, (errors[:3], doc)


def _solves(loaded: list, rng: random.Random, methods: dict, size, small: int) -> None:
    """Solve a sample of the loaded instances: ``methods`` maps a method to how many."""
    failures = []
    for method, n in methods.items():
        pool = loaded
        if method == "exact" or size is _contracts_size:
            pool = [x for x in loaded if size(x[2]) <= small]
            assert len(pool) >= n, f"only {len(pool)} small instances loaded"
        for _, doc, inst in rng.sample(pool, n):
            try:
                solve(inst, method, EXACT if method == "exact" else TINY)
            except Exception as exc:
                failures.append(f"{method}: {type(exc).__name__}: {exc}\n{json.dumps(doc)}")
    assert not failures, "\n".join(failures[:3])


def _plans_work(loaded: list, rng: random.Random, method: str = "pso") -> None:
    """Evaluate a sample of the loaded plans, and warm-start ``method`` from a few."""
    failures = []
    for inst, doc, _ in rng.sample(loaded, 200):
        try:
            evaluate(inst, doc)
        except Exception as exc:
            failures.append(f"evaluate: {type(exc).__name__}: {exc}\n{json.dumps(doc)}")
    for inst, doc, _ in rng.sample(loaded, 10):
        try:
            solve(inst, method, TINY, warm_start=doc)
        except Exception as exc:
            failures.append(f"warm start: {type(exc).__name__}: {exc}\n{json.dumps(doc)}")
    assert not failures, "\n".join(failures[:3])


def test_hostile_sfi_instances():
    schema = _schema(sfi, "instance")
    bases = [(None, inst.to_json()) for inst in _sfi_instances()]
    loaded = _fuzz(schema, bases, lambda _, doc: sfi.Instance.from_json(doc), seed=1)
    rng = random.Random(1)
    _schema_accepts(schema, loaded, rng)
    _solves(loaded, rng, {"pso": 20, "exact": 3}, _sfi_size, small=8)


def test_hostile_sfi_plans():
    schema = _schema(sfi, "plan")
    rng = np.random.default_rng(2)
    bases = [(inst, sfi_random.random_plan(rng, inst).to_json())
             for inst in _sfi_instances() for _ in range(2)]
    loaded = _fuzz(schema, bases, lambda inst, doc: sfi.Plan.from_json(doc, inst), seed=2)
    rng = random.Random(2)
    _schema_accepts(schema, loaded, rng)
    _plans_work(loaded, rng)


def test_hostile_network_instances():
    schema = _schema(network, "instance")
    bases = [(None, inst.to_json()) for inst in _network_instances()]
    loaded = _fuzz(schema, bases, lambda _, doc: network.Instance.from_json(doc), seed=3)
    rng = random.Random(3)
    _schema_accepts(schema, loaded, rng)
    _solves(loaded, rng, {"greedy": 200, "pso": 20, "exact": 3}, _network_size, small=12)


def test_hostile_network_plans():
    schema = _schema(network, "plan")
    rng = np.random.default_rng(4)
    bases = []
    for inst in _network_instances():
        data = network.KernelData(inst)
        bases += [(inst, network_random.random_plan(rng, inst).to_json(inst)),
                  (inst, network_random.random_feasible_plan(rng, inst, data).to_json(inst))]
    loaded = _fuzz(schema, bases, lambda inst, doc: network.Plan.from_json(doc, inst), seed=4)
    rng = random.Random(4)
    _schema_accepts(schema, loaded, rng)
    _plans_work(loaded, rng)



def _paths(doc, at=()):
    """Every node of a JSON document, as a path of keys and indices."""
    yield at
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) \
        if isinstance(doc, list) else ()
    for k, v in items:
        yield from _paths(v, at + (k,))


def _hostile_copies(doc, rng: random.Random, n: int):
    """``n`` copies of ``doc`` with one node (or the whole) made a hostile value."""
    paths = list(_paths(doc))
    for _ in range(n):
        out = json.loads(json.dumps(doc))
        path = rng.choice(paths)
        if not path:
            yield hostile(rng)
            continue
        node = out
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = hostile(rng)
        yield out


def test_hostile_pins_and_rolls():
    rng = random.Random(27)
    inst = network.electronics_case()
    plan = solve(inst, "greedy").to_json()
    ships = plan["plan"]["shipments"]
    pins = {"keep": ships[:2], "forbid": [{k: ships[3][k] for k in ("from", "to", "material",
                                                                       "period")}]}
    steel = sfi.load_steel(3)
    warm = sfi.Plan.from_json(solve(steel, "pso", TINY).plan, steel)
    cases = [(pins, lambda d: NetworkPins.from_json(d, inst)),
             ({"keep_periods": [1, 2], "keep": [{"table": "codp", "row": 1, "period": 3}]},
              lambda d: SfiPins.from_json(d, steel, warm)),
             (plan, lambda d: roll(inst, d, 1, release=2)),
             (warm.to_json(), lambda d: roll(steel, d, 1, release=1))]
    failures, refused = [], 0
    for doc, read in cases:
        for bad in _hostile_copies(doc, rng, 300):
            try:
                read(bad)
            except InputError:
                refused += 1
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}\n{json.dumps(bad)[:300]}")
    assert not failures, "\n".join(failures[:3])
    assert refused > 600


def test_hostile_contracts_instances():
    schema = _schema(contracts, "instance")
    bases = [(None, inst.to_json()) for inst in _contracts_instances()]
    loaded = _fuzz(schema, bases, lambda _, doc: contracts.Instance.from_json(doc), seed=5)
    rng = random.Random(5)
    _schema_accepts(schema, loaded, rng)
    _solves(loaded, rng, {"equilibrium": 10, "system": 5}, _contracts_size, small=2000)


def test_hostile_contracts_plans():
    schema = _schema(contracts, "plan")
    rng = np.random.default_rng(6)
    bases = [(inst, contracts.Plan.from_arrays(*contracts_random.random_contract(rng, inst))
              .to_json()) for inst in _contracts_instances() for _ in range(2)]
    loaded = _fuzz(schema, bases, lambda inst, doc: contracts.Plan.from_json(doc, inst),
                   seed=6)
    rng = random.Random(6)
    _schema_accepts(schema, loaded, rng)
    _plans_work(loaded, rng, method="equilibrium")
