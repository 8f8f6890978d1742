"""The command line on the contracts model: case, generate, solve, evaluate, compare; bad
input exits 2 with the field named."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from invswarm.engine.cli import main
from invswarm.engine.models.contracts import Instance, Plan, seed_case_doc
from invswarm.engine.models.contracts.evaluate import evaluate


def _run(*args):
    return subprocess.run([sys.executable, "-m", "invswarm.engine.cli", *args],
                          capture_output=True, text=True, timeout=600)


def test_case_solve_evaluate_round_trip(tmp_path):
    case, res, plan = tmp_path / "case.json", tmp_path / "res.json", tmp_path / "plan.json"
    assert main(["case", "contracts", "--paths", "5", "--mode", "flexible",
                 "--out", str(case)]) == 0
    doc = json.loads(case.read_text())
    assert doc["mode"] == "flexible" and doc["demand"]["paths"] == 5
    assert main(["solve", str(case), "--max-iter", "5", "--swarm-size", "8",
                 "--out", str(res)]) == 0
    out = json.loads(res.read_text())
    assert out["model"] == "contracts" and out["method"] == "equilibrium"
    assert out["status"] in ("converged", "not_converged")
    assert len(out["equilibrium"]["gains_left"]) == 2
    inst = Instance.from_json(doc)
    ev = evaluate(inst, Plan.from_json(out["plan"], inst))
    assert out["cost"] == pytest.approx(ev.cost, rel=1e-12)
    assert out["cost"] == pytest.approx(-out["breakdown"]["chain_profit"], rel=1e-12)
    plan.write_text(json.dumps(out["plan"]))
    proc = _run("evaluate", str(case), str(plan))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["cost"] == pytest.approx(out["cost"], rel=1e-12)
    assert [s["scenario"] for s in got["scenarios"]] == [s["name"] for s in doc["disruptions"]]
    assert set(got["kpis"]["fill_rate"]) == {"R1", "R2"}


def test_system_method_and_compare(tmp_path):
    case = tmp_path / "case.json"
    assert main(["case", "contracts", "--paths", "3", "--out", str(case)]) == 0
    assert main(["solve", str(case), "--method", "system", "--max-iter", "5",
                 "--swarm-size", "8", "--out", str(tmp_path / "sys.json")]) == 0
    out = json.loads((tmp_path / "sys.json").read_text())
    assert out["method"] == "system" and out["bound"] is None
    proc = _run("compare", str(case), "--methods", "equilibrium,system", "--islands", "1")
    assert proc.returncode == 0, proc.stderr
    assert "| equilibrium |" in proc.stdout and "| system |" in proc.stdout


def test_generate_is_seeded_and_loads(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert main(["generate", "contracts", "--retailers", "3", "--manufacturers", "4",
                     "--scenarios", "2", "--seed", "9", "--out", str(path)]) == 0
    assert a.read_text() == b.read_text()
    inst = Instance.from_json(json.loads(a.read_text()))
    assert (inst.n_retailers, inst.n_manufacturers, inst.n_scenarios) == (3, 4, 2)


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["retailers"][1].pop("lead_time"),
     "invswarm: error: retailers[1].lead_time: missing required field"),
    (lambda d: d["manufacturers"][0].update(capacity="lots"),
     "invswarm: error: manufacturers[0].capacity: must be a number, got a string"),
    (lambda d: d["disruptions"][1]["events"][0].update(share=2),
     "invswarm: error: disruptions[1].events[0].share: must be <= 1, got 2"),
])
def test_bad_instance_exits_2_with_one_line(tmp_path, mutate, message):
    doc = seed_case_doc(paths=2)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    proc = _run("solve", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == message
    assert proc.stdout == ""


def test_bad_plan_and_method_exit_2(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps(seed_case_doc(paths=2)))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"w": [1000, 1000], "k": [[200, 100], [200, 100]]}))
    proc = _run("evaluate", str(case), str(plan))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("invswarm: error: k: caps at manufacturer 0 (M1) sum to "
                                   "400, above its capacity 300")
    proc = _run("solve", str(case), "--method", "exact")
    assert proc.returncode == 2
    assert "method: unknown method 'exact' for the contracts model" in proc.stderr
