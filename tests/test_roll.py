"""The rolling re-plan: the previous plan shifted onto the new horizon as warm start and pins."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from invswarm.engine.cli import main
from invswarm.engine.errors import InputError
from invswarm.engine.models.network import generate
from invswarm.engine.models.sfi import steel_case
from invswarm.engine.roll import roll
from invswarm.engine.solve import SolveOptions, solve
from tests.rolling import network_window, sfi_window

FAST = SolveOptions(max_iter=3, swarm_size=8, islands=1, seed=2)


def _network_pair(seed: int, periods: int = 8):
    long = generate(firms=5, materials=3, periods=periods + 2, density=0.8, life=(2, 6),
                    expiring=0.6, seed=seed).to_json()
    long["loans"] = {"durations": [2, 3], "fee": 0.1}
    return long, network_window(long, 0, periods), network_window(long, 1, periods)


def test_network_roll_by_zero_is_the_plan_itself():
    _, old, _ = _network_pair(1)
    res = solve(old, "pso", FAST).to_json()
    assert res["plan"]["shipments"]
    warm, pins = roll(old, res, 0)
    assert warm == res["plan"]
    assert pins == {"keep": []}
    warm, pins = roll(old, res["plan"], 0, release=old.n_periods)
    assert pins["keep"] == res["plan"]["shipments"]


def test_network_roll_shifts_drops_and_pins():
    checked = 0
    for seed in range(6):
        _, old, new = _network_pair(10 + seed)
        res = solve(old, "greedy").to_json()
        ships = res["plan"]["shipments"]
        warm, pins = roll(new, res, 1, release=2)
        # departed in the old period 1: dropped; the rest one period earlier
        want = [{**s, "period": s["period"] - 1,
                 **({"return_period": s["return_period"] - 1} if s["kind"] == "loan" else {})}
                for s in ships if s["period"] > 1]
        assert warm["shipments"] == [s for s in want if s in warm["shipments"]]
        assert all(s in want for s in warm["shipments"])
        assert pins["keep"] == [s for s in warm["shipments"] if s["period"] <= 2]
        for method in ("pso", "greedy", "none"):
            out = solve(new, method, FAST, warm_start=warm, pins=pins)
            for s in pins["keep"]:
                assert s in out.plan["shipments"]
        checked += len(pins["keep"])
    assert checked >= 3


def test_network_roll_drops_what_the_new_instance_cannot_hold():
    long, old, _ = _network_pair(3)
    res = solve(old, "greedy").to_json()
    ships = res["plan"]["shipments"]
    late = max(ships, key=lambda s: s["period"])
    shorter = network_window(long, 0, late["period"] - 1)
    warm, _ = roll(shorter, res, 0)
    assert late not in warm["shipments"] and len(warm["shipments"]) < len(ships)
    with pytest.raises(InputError) as exc:
        roll(shorter, res, 0, release=shorter.n_periods)
    assert exc.value.field.startswith("previous.plan.shipments[")
    assert "released" in exc.value.problem


def test_roll_errors_name_the_field():
    _, old, new = _network_pair(4)
    res = solve(old, "greedy").to_json()
    for args, kw, field in [((res, -1), {}, "shift"), ((res, 1), {"release": -2}, "release"),
                            (({"shipments": [{"from": 0}]}, 1), {},
                             "previous.shipments[0].to"),
                            (({"shipments": 3}, 1), {}, "previous.shipments"),
                            (({**res, "model": "sfi"}, 1), {}, "previous.model")]:
        with pytest.raises(InputError) as exc:
            roll(new, *args, **kw)
        assert exc.value.field == field, exc.value


@pytest.mark.slow  # an exact solve
def test_network_roll_exact_keeps_the_released_shipments():
    _, old, new = _network_pair(6)
    res = solve(old, "greedy").to_json()
    warm, pins = roll(new, res, 1, release=3)
    assert pins["keep"]
    out = solve(new, "exact", SolveOptions(time_limit=60), warm_start=warm, pins=pins)
    for s in pins["keep"]:
        assert s in out.plan["shipments"]


def test_cli_roll(tmp_path, capsys):
    _, old, new = _network_pair(6)
    res = solve(old, "greedy").to_json()
    files = {name: tmp_path / f"{name}.json" for name in ("new", "prev", "out")}
    files["new"].write_text(json.dumps(new.to_json()))
    files["prev"].write_text(json.dumps(res))
    assert main(["roll", str(files["new"]), "--previous", str(files["prev"]), "--shift", "1",
                 "--release", "2", "--method", "greedy", "--out", str(files["out"])]) == 0
    out = json.loads(files["out"].read_text())
    _, pins = roll(new, res, 1, release=2)
    assert all(s in out["plan"]["shipments"] for s in pins["keep"])
    capsys.readouterr()
    assert main(["roll", str(files["new"]), "--previous", str(files["prev"]), "--shift",
                 "-1"]) == 2
    assert "shift" in capsys.readouterr().err
    assert np.isfinite(out["cost"])


def _sfi_pair(T: int = 6):
    long = steel_case(T + 1)
    return long, sfi_window(long, 0, T), sfi_window(long, 1, T)


def test_sfi_roll_by_zero_is_the_plan_itself():
    _, old, _ = _sfi_pair()
    res = solve(old, "pso", FAST).to_json()
    warm, pins = roll(old, res, 0)
    assert warm == res["plan"] and pins == {"keep_periods": []}


def test_sfi_roll_shifts_and_pins_the_released_periods():
    _, old, new = _sfi_pair()
    res = solve(old, "pso", FAST).to_json()
    warm, pins = roll(new, res, 1, release=2)
    assert pins == {"keep_periods": [1, 2]}
    for name, table in res["plan"].items():
        for r, row in enumerate(table):
            assert warm[name][r][:5] == row[1:]  # the previous periods 2..6
    for method, opts in (("pso", FAST), ("exact", SolveOptions(time_limit=30))):
        out = solve(new, method, opts, warm_start=warm, pins=pins)
        for name, table in out.plan.items():
            for r, row in enumerate(table):
                assert row[:2] == warm[name][r][:2], (method, name, r)


def test_sfi_roll_replaces_periods_the_new_instance_refuses():
    long, old, _ = _sfi_pair()
    res = solve(old, "pso", FAST).to_json()
    doc = copy.deepcopy(long)
    doc["periods"]["capacity"] = [1.0] * len(doc["periods"]["capacity"])  # nothing fits
    tight = sfi_window(doc, 0, 6)
    warm, _ = roll(tight, res, 0)
    assert all(sum(col) <= 1.0 + 1e-6 for col in zip(*(warm["generic"] + warm["dedicated"])))
    with pytest.raises(InputError) as exc:
        roll(tight, res, 0, release=1)
    assert exc.value.field.startswith("previous.plan.generic")
    with pytest.raises(InputError) as exc:
        roll(old, res, 5, release=2)
    assert exc.value.field == "release"
    with pytest.raises(InputError) as exc:
        roll(old, {"pdp": [[1]]}, 0)
    assert exc.value.field == "previous.pdp", exc.value
