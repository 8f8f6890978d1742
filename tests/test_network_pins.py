"""Pinned and forbidden network decisions: every method keeps the committed transfers as given
and never makes a declined one; the MILP with pins agrees with the kernel; bad pins are
named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from invswarm.engine.cli import main
from invswarm.engine.errors import InputError
from invswarm.engine.milp import MilpOptions, run
from invswarm.engine.models import contracts
from invswarm.engine.models.network import KernelData, Plan, electronics_case, plan_costs
from invswarm.engine.models.network import milp as nmilp
from invswarm.engine.models.network.pins import Pins
from invswarm.engine.models.network.problem import NetworkProblem
from invswarm.engine.solve import SolveOptions, solve
from tests.network_random import random_feasible_plan, random_instance


def _pins_doc(rng: np.random.Generator, inst, data) -> dict | None:
    """Kept: part of a random feasible plan; forbidden: other linked materials (some in one
    period, some in all). None when the instance offers nothing to pin."""
    plan = random_feasible_plan(rng, inst, data, tries=30)
    if plan.n_shipments == 0:
        return None
    shipments = [s for s in plan.to_json(inst)["shipments"] if s["qty"] > 0]
    if not shipments:
        return None
    keep = [s for s in shipments if rng.random() < 0.6] or shipments[:1]
    kept = {(s["from"], s["to"], s["material"]) for s in keep}
    forbid = []
    for lk in range(inst.n_links):
        i, j = int(inst.link_from[lk]), int(inst.link_to[lk])
        for m in np.flatnonzero(inst.listed[i] & inst.listed[j]):
            if (i, j, int(m)) in kept or rng.random() < 0.5:
                continue
            entry = {"from": i, "to": j, "material": int(m)}
            if rng.random() < 0.5:
                entry["period"] = int(rng.integers(1, inst.n_periods + 1))
            forbid.append(entry)
    return {"keep": keep, "forbid": forbid}


def _check_honoured(doc: dict, plan_doc: dict) -> None:
    """Each kept shipment listed as given (one listing per kept entry), nothing forbidden."""
    ships = list(plan_doc["shipments"])
    for s in doc["keep"]:
        want = {"kind": "permanent", **s}
        assert want in ships, f"kept shipment {s} missing"
        ships.remove(want)
    for s in plan_doc["shipments"]:
        for f in doc["forbid"]:
            same = all(s[k] == f[k] for k in ("from", "to", "material"))
            assert not (same and f.get("period", s["period"]) == s["period"]), (s, f)


def _cases(seed: int, n: int):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        inst = random_instance(rng)
        doc = _pins_doc(rng, inst, KernelData(inst))
        if doc is not None:
            out.append((inst, doc))
    return out


@pytest.mark.parametrize("method", ["none", "greedy", "pso", "decompose"])
def test_every_method_keeps_the_pins(method):
    for inst, doc in _cases(11, 8):
        res = solve(inst, method, SolveOptions(max_iter=3, swarm_size=8, islands=1, seed=3),
                    pins=doc)
        _check_honoured(doc, res.plan)
        data = KernelData(inst)
        plan = Plan.from_json(res.plan, inst)
        assert plan_costs(data, [plan]).flags[0] == 0
        assert res.cost == pytest.approx(plan_costs(data, [plan]).cost[0], rel=1e-12)


def test_none_is_the_kept_shipments():
    inst, doc = _cases(12, 1)[0]
    res = solve(inst, "none", pins=doc)
    assert len(res.plan["shipments"]) == len(doc["keep"])
    _check_honoured(doc, res.plan)


def test_decoded_particles_keep_the_pins():
    rng = np.random.default_rng(13)
    decoded = 0
    for inst, doc in _cases(13, 10):
        pins = Pins.from_json(doc, inst)
        prob = NetworkProblem(inst, pins=pins)
        X = rng.random((60, prob.n_var))
        assert (prob.batch(X).flags == 0).all()
        for x in X[:15]:
            _check_honoured(doc, prob.decode(x).to_json(inst))
        decoded += X.shape[0]
    assert decoded == 600


def test_forbidding_every_link_leaves_the_kept_shipments():
    inst = electronics_case()
    greedy = solve(inst, "greedy").plan["shipments"]
    keep = greedy[:2]
    used = {(s["from"], s["to"], s["material"]) for s in keep}
    forbid = [{"from": int(inst.link_from[lk]), "to": int(inst.link_to[lk]), "material": m}
              for lk in range(inst.n_links) for m in range(inst.n_materials)
              if (int(inst.link_from[lk]), int(inst.link_to[lk]), m) not in used]
    doc = {"keep": keep, "forbid": forbid}
    res = solve(inst, "pso", SolveOptions(max_iter=5, islands=1), pins=doc)
    _check_honoured(doc, res.plan)
    # only the kept links and materials are left, in other periods too
    assert {(s["from"], s["to"], s["material"]) for s in res.plan["shipments"]} <= used


def test_more_units_on_a_kept_key_come_as_another_shipment():
    inst = electronics_case()
    free = solve(inst, "greedy").plan["shipments"]
    big = max(free, key=lambda s: s["qty"])
    keep = [{**big, "qty": big["qty"] / 4}]
    res = solve(inst, "greedy", pins={"keep": keep})
    same = [s for s in res.plan["shipments"]
            if all(s[k] == big[k] for k in ("from", "to", "material", "period", "kind"))]
    assert keep[0] in same
    assert len(same) == 2 and sum(s["qty"] for s in same) == pytest.approx(big["qty"])


def test_merge_subtracts_kept_units_and_drops_forbidden():
    inst = electronics_case()
    greedy = solve(inst, "greedy").plan
    s0, s1 = greedy["shipments"][:2]
    doc = {"keep": [{**s0, "qty": s0["qty"] / 2}],
           "forbid": [{k: s1[k] for k in ("from", "to", "material", "period")}]}
    if (s0["from"], s0["to"], s0["material"], s0["period"]) == \
            (s1["from"], s1["to"], s1["material"], s1["period"]):
        pytest.skip("the greedy plan's first shipments share a key")
    pins = Pins.from_json(doc, inst)
    plan = Plan.from_json(greedy, inst)
    merged = pins.merge(plan).to_json(inst)["shipments"]
    assert merged[0] == doc["keep"][0]
    assert {**s0, "qty": s0["qty"] / 2} in merged[1:]
    assert s1 not in merged
    assert len(merged) == len(greedy["shipments"])  # s1 gone, s0 in two parts
    assert Pins.none().merge(plan) is plan


@pytest.mark.slow  # exact solves (HiGHS)
def test_exact_keeps_the_pins_and_agrees_with_the_kernel():
    for inst, doc in _cases(14, 6):
        res = solve(inst, "exact", SolveOptions(time_limit=60, gap=0.0), pins=doc)
        assert res.status == "optimal"
        _check_honoured(doc, res.plan)
        assert res.cost == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
        free = solve(inst, "exact", SolveOptions(time_limit=60, gap=0.0))
        assert free.cost <= res.cost + 1e-6 * max(1.0, res.cost)  # pins only constrain


@pytest.mark.slow  # exact solves (HiGHS)
def test_milp_with_pins_and_the_plan_fixed_costs_what_the_kernel_says():
    rng = np.random.default_rng(15)
    for inst, doc in _cases(15, 12):
        data = KernelData(inst)
        pins = Pins.from_json(doc, inst, data)
        plan = pins.merge(random_feasible_plan(rng, inst, data, tries=20))
        if plan_costs(data, [plan]).flags[0]:
            plan = pins.keep
        model = nmilp.build(inst, plan, pins=pins, data=data)
        out = run(model.builder.to_highs(), MilpOptions(time_limit=60))
        assert out.optimal, out.status
        kern = plan_costs(data, [plan]).cost[0]
        assert abs(out.objective - kern) <= 1e-6 * max(1.0, abs(kern))


def _bad(inst, pins, field: str, words: str) -> None:
    with pytest.raises(InputError) as exc:
        solve(inst, "none", pins=pins)
    assert exc.value.field == field, exc.value
    assert words in exc.value.problem, exc.value


def test_bad_pins_name_the_field():
    inst = electronics_case()
    s = solve(inst, "greedy").plan["shipments"][0]
    _bad(inst, [], "pins", "must be an object")
    _bad(inst, {"kept": []}, "pins.kept", "")
    _bad(inst, {"keep": {}}, "pins.keep", "must be a list")
    _bad(inst, {"keep": [{**s, "qty": -1}]}, "pins.keep[0].qty", "> 0")
    _bad(inst, {"keep": [s, {**s, "to": 99}]}, "pins.keep[1].to", "unknown firm")
    _bad(inst, {"keep": [{**s, "period": 0}]}, "pins.keep[0].period", ">= 1")
    _bad(inst, {"forbid": [{"from": 0, "to": 0, "material": 0}]}, "pins.forbid[0]", "no link")
    _bad(inst, {"forbid": [{**{k: s[k] for k in ("from", "to", "material")}, "period": 99}]},
         "pins.forbid[0].period", "<= 12")
    _bad(inst, {"forbid": [{"from": s["from"], "to": s["to"]}]}, "pins.forbid[0].material",
         "missing")
    _bad(inst, {"forbid": [{**{k: s[k] for k in ("from", "to", "material")}, "qty": 1}]},
         "pins.forbid[0].qty", "")
    _bad(inst, {"keep": [s], "forbid": [{k: s[k] for k in ("from", "to", "material")}]},
         "pins.forbid[0]", "pins.keep[0]")
    # a kept shipment the sender cannot cover: named, with the rule it breaks
    _bad(inst, {"keep": [s, {**s, "qty": 1e9}]}, "pins.keep[1]", "not covered")
    with pytest.raises(InputError) as exc:
        solve(contracts.Instance.from_json(contracts.seed_case_doc("guaranteed", 20)),
              "equilibrium", pins={})
    assert exc.value.field == "pins"


def test_cli_pins(tmp_path, capsys):
    case = tmp_path / "net.json"
    assert main(["case", "electronics", "--out", str(case)]) == 0
    inst = electronics_case()
    s = solve(inst, "greedy").plan["shipments"][0]
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"keep": [s]}))
    out = tmp_path / "res.json"
    assert main(["solve", str(case), "--method", "greedy", "--pins", str(pins),
                 "--out", str(out)]) == 0
    _check_honoured({"keep": [s], "forbid": []}, json.loads(out.read_text())["plan"])
    pins.write_text(json.dumps({"keep": [{**s, "material": 7}]}))
    capsys.readouterr()
    assert main(["solve", str(case), "--method", "greedy", "--pins", str(pins)]) == 2
    err = capsys.readouterr().err
    assert "pins.keep[0].material" in err and "Traceback" not in err


def test_a_warm_start_loses_the_materials_that_break_a_rule():
    inst = electronics_case()
    data = KernelData(inst)
    plan = Plan.from_json(solve(inst, "greedy").plan, inst)
    m = int(plan.material[0])
    bad = Plan.from_arrays(plan.link, plan.material, plan.period,
                           np.where(plan.material == m, plan.qty * 1e3, plan.qty), plan.kind,
                           plan.ret)
    assert plan_costs(data, [bad]).flags[0] != 0
    start = Pins.none().start(data, bad)
    assert plan_costs(data, [start]).flags[0] == 0
    assert (start.material != m).all()
    assert start.n_shipments == int((plan.material != m).sum())
