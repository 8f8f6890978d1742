"""The command line: round trips through files, exit codes, one-line errors."""

import json
import os
import re
import stat
import subprocess
import sys

import pytest

from invswarm.engine.cli import main
from invswarm.engine.models.sfi import Instance, Plan, evaluate


def _run(*args):
    """Run the CLI in a fresh interpreter, as a scheduler would."""
    return subprocess.run([sys.executable, "-m", "invswarm.engine.cli", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_case_solve_evaluate_round_trip(tmp_path):
    case = tmp_path / "steel6.json"
    res = tmp_path / "result.json"
    assert main(["case", "steel", "--periods", "6", "--out", str(case)]) == 0
    assert main(["solve", str(case), "--method", "exact", "--time-limit", "60",
                 "--out", str(res)]) == 0
    out = json.loads(res.read_text())
    for key in ("cost", "plan", "status", "bound", "gap", "wall_s", "breakdown", "kpis"):
        assert key in out
    assert out["status"] == "optimal" and out["success"] is True
    assert out["solver"]["status"] == "Optimal"  # HiGHS's own text
    assert out["gap"] <= 1e-4
    trace = out["history"]["exact"]
    bounds = [b for _, _, b in trace if b is not None]
    assert bounds and all(b2 >= b1 for b1, b2 in zip(bounds, bounds[1:]))
    assert trace[-1][1] == pytest.approx(out["objective"])
    png = tmp_path / "exact.png"
    assert main(["plot", str(res), "--out", str(png)]) == 0
    assert png.stat().st_size > 1000
    inst = Instance.from_json(json.loads(case.read_text()))
    assert out["cost"] == pytest.approx(evaluate(inst, Plan.from_json(out["plan"], inst)).cost,
                                        rel=1e-12)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(out["plan"]))
    proc = _run("evaluate", str(case), str(plan))
    assert proc.returncode == 0, proc.stderr
    ev = json.loads(proc.stdout)  # nothing but JSON on stdout
    assert ev["cost"] == pytest.approx(out["cost"], rel=1e-12)
    assert set(ev["kpis"]) >= {"on_time_rate", "units_late", "units_lost", "units_disposed"}


def test_generate_is_seeded_and_loads(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert main(["generate", "sfi", "--periods", "4", "--categories", "2",
                     "--products-per-category", "3", "--scenarios", "2", "--seed", "9",
                     "--out", str(path)]) == 0
    assert a.read_text() == b.read_text()
    inst = Instance.from_json(json.loads(a.read_text()))
    assert inst.orders.shape == (2, 6, 4)


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d.pop("stages"), "invswarm: error: stages: missing required field"),
    (lambda d: d["products"][1].update(lead_time="soon"),
     "invswarm: error: products[1].lead_time: must be a number, got a string"),
    (lambda d: d["periods"].update(prep=[48] * 5),
     "invswarm: error: periods.fulfil: must have length 5, got 6"),
])
def test_bad_instance_exits_2_with_one_line(tmp_path, mutate, message):
    from invswarm.engine.models.sfi import steel_case

    doc = steel_case(6)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    proc = _run("solve", str(path), "--method", "exact")
    assert proc.returncode == 2
    assert proc.stderr.strip() == message
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_bad_plan_and_bad_files_exit_2(tmp_path, capsys):
    case = tmp_path / "c.json"
    main(["case", "steel", "--periods", "6", "--out", str(case)])
    plan = tmp_path / "p.json"
    plan.write_text(json.dumps({"pdp": [[2] * 6] * 3, "generic": [[0] * 6] * 3,
                                "codp": [[1] * 6] * 9, "dedicated": [[0] * 6] * 9}))
    assert main(["evaluate", str(case), str(plan)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("invswarm: error: plan.codp[0][0]: stage 1 is not a CODP candidate")
    assert "\n" not in err
    assert main(["evaluate", str(case), str(tmp_path / "none.json")]) == 2
    assert "cannot read file" in capsys.readouterr().err
    assert main(["solve", str(case), "--time-limit", "-1"]) == 2
    assert "time_limit: must be > 0" in capsys.readouterr().err


def test_unknown_model_is_named(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"model": "widgets"}))
    assert main(["solve", str(path)]) == 2
    assert "model: unknown model 'widgets'" in capsys.readouterr().err


@pytest.mark.slow
def test_swarm_methods_and_plot(tmp_path):
    case = tmp_path / "steel6.json"
    main(["case", "steel", "--periods", "6", "--out", str(case)])
    inst = Instance.from_json(json.loads(case.read_text()))
    costs = {}
    for method, extra in (("pso", ["--jobs", "1"]), ("pso", ["--jobs", "2"]),
                          ("per-period", []), ("pyswarms", [])):
        out = tmp_path / f"{method}{extra}.json"
        assert main(["solve", str(case), "--method", method, "--max-iter", "20",
                     "--swarm-size", "8", "--seed", "3", "--out", str(out), *extra]) == 0
        res = json.loads(out.read_text())
        plan = Plan.from_json(res["plan"], inst)
        assert res["cost"] == pytest.approx(evaluate(inst, plan).cost, rel=1e-12)
        assert res["bound"] is None and res["method"] == method
        costs[method, tuple(extra)] = res["cost"]
    # Same seed, one or two workers: the same plan.
    assert costs["pso", ("--jobs", "1")] == costs["pso", ("--jobs", "2")]
    png = tmp_path / "fig.png"
    assert main(["plot", str(tmp_path / "pso['--jobs', '1'].json"), "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_swarm_options_exit_2(tmp_path, capsys):
    case = tmp_path / "c.json"
    main(["case", "steel", "--periods", "6", "--out", str(case)])
    assert main(["solve", str(case), "--method", "pso", "--swarm-size", "1"]) == 2
    assert "swarm_size: must be >= 2" in capsys.readouterr().err
    assert main(["solve", str(case), "--method", "pso", "--swarm-size", "10000000"]) == 2
    assert "swarm_size: must be <= 100,000, got 10,000,000" in capsys.readouterr().err
    assert main(["plot", str(case), "--out", str(tmp_path / "x.png")]) == 2
    assert "error: plan: missing required field" in capsys.readouterr().err


def test_progress_bar_only_on_a_terminal(capsys):
    from invswarm.engine.progress import ProgressBar

    info = {"iteration": 5, "evaluations": 500, "best": 101.0, "elapsed": 1.0,
            "time_left": 3.0, "evaluations_left": None, "bound": None, "phase": "swarm"}
    quiet = ProgressBar(100.0)
    quiet.on = False  # what a pipe or a file gives
    quiet(info)
    assert capsys.readouterr().err == ""
    shown = ProgressBar(100.0)
    shown.on = True
    shown(info)  # a quarter of the 4 s time limit spent, 3 s left
    shown.event("end")
    err = capsys.readouterr().err
    assert " 25%|" in err and "00:01<00:03" in err
    assert "gap 0.990 %" in err and "500 eval/s" in err and "best 101.00" in err
    assert err.endswith("\n")
    # an evaluation budget, and the exact solver's own bound
    by_evals = ProgressBar()
    by_evals.on = True
    by_evals({**info, "time_left": None, "evaluations_left": 1500, "bound": 99.0})
    by_evals.event("end")
    err = capsys.readouterr().err
    assert " 25%|" in err and "1,500 eval left" in err and "gap 1.980 %" in err


def test_the_first_run_after_an_install_says_it_compiles(tmp_path, monkeypatch, capsys):
    from invswarm.engine import commands

    monkeypatch.setattr(commands, "is_compiled", lambda model: False)
    case = tmp_path / "c.json"
    main(["case", "steel", "--periods", "3", "--out", str(case)])
    assert main(["solve", str(case), "--method", "pso", "--max-iter", "2",
                 "--out", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert "compiling the Numba kernels" in err
    assert re.search(r"kernels compiled in \d+\.\d s", err)
    assert main(["solve", str(case), "--method", "pso", "--max-iter", "2", "--progress",
                 "jsonl", "--out", str(tmp_path / "r.json")]) == 0
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()
              if line.startswith("{")]
    assert [e["event"] for e in events[:3]] == ["start", "compiling", "compiled"]
    assert events[2]["seconds"] >= 0


def test_compiled_kernels_are_known_by_their_sources(tmp_path):
    from invswarm.engine import compiled

    compiled.compile_kernels("sfi")
    assert compiled.is_compiled("sfi")


@pytest.mark.slow
def test_network_case_solve_evaluate_plot(tmp_path):
    from invswarm.engine.models import network

    case = tmp_path / "electronics.json"
    assert main(["case", "electronics", "--out", str(case)]) == 0
    inst = network.Instance.from_json(json.loads(case.read_text()))
    costs = {}
    for method, extra in (("none", []), ("greedy", []),
                          ("pso", ["--max-iter", "5", "--islands", "1"]),
                          ("decompose", ["--time-limit", "30", "--jobs", "2"])):
        res = tmp_path / f"{method}.json"
        assert main(["solve", str(case), "--method", method, "--out", str(res), *extra]) == 0
        out = json.loads(res.read_text())
        plan = network.Plan.from_json(out["plan"], inst)
        assert network.authorize(inst, plan).ok
        assert out["cost"] == pytest.approx(network.evaluate(inst, plan).cost, rel=1e-12)
        assert {f["firm"] for f in out["firms"]} == set(inst.firm_names)
        costs[method] = out["cost"]
    assert costs["pso"] <= costs["greedy"] < costs["none"]
    assert costs["decompose"] <= costs["greedy"]
    out = json.loads((tmp_path / "decompose.json").read_text())
    assert out["bound"] <= out["cost"] and out["decompose"]["parts_optimal"] == 3
    png = tmp_path / "pso.png"
    assert main(["plot", str(tmp_path / "pso.json"), "--out", str(png)]) == 0
    assert png.stat().st_size > 1000
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"shipments": [
        {"from": 0, "to": 1, "material": 0, "period": 1, "qty": 590, "kind": "permanent"}]}))
    proc = _run("evaluate", str(case), str(plan))
    assert proc.returncode == 0, proc.stderr
    ev = json.loads(proc.stdout)
    assert ev["authorization"]["authorized"] is False
    refusals = ev["authorization"]["refusals"]
    assert {r["rule"] for r in refusals} == {"donor_stock", "donor_backlog"}
    assert {(r["firm"], r["material"]) for r in refusals} == {(0, 0)}
    assert all("Aurora" in r["message"] and "MCU-32" in r["message"] for r in refusals)


@pytest.mark.parametrize("mutate,message", [
    (lambda d: d["links"][0].update(to=0), "links[0]: link from firm 0 to itself"),
    (lambda d: d["stock"][4]["lots"][0].update(last_period=0),
     "stock[4].lots[0].last_period: lot expires before period 1"),
    (lambda d: d["stock"][0].update(firm=11), "stock[0].firm: unknown firm 11"),
])
def test_network_bad_input_exits_2_with_one_line(tmp_path, mutate, message):
    from invswarm.engine.models.network import electronics_doc

    doc = electronics_doc()
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    proc = _run("solve", str(path), "--method", "greedy")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"invswarm: error: {message}")
    assert proc.stdout == ""


def test_generate_network_is_seeded(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        assert main(["generate", "network", "--firms", "7", "--materials", "4", "--periods",
                     "10", "--seed", "3", "--out", str(path)]) == 0
    assert a.read_text() == b.read_text()
    assert json.loads(a.read_text())["model"] == "network"


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_every_file_written_gets_the_mode_of_the_umask(tmp_path, mask, mode):
    """Results, cases, generated instances, evaluations, plots, comparisons and bench
    outputs: new files get 0666 less the umask; a Markdown file a section is written into
    keeps its mode."""
    from pathlib import Path

    md = tmp_path / "table.md"
    md.write_text("<!-- compare:begin -->\n<!-- compare:end -->\n")
    md.chmod(0o640)
    case, res = tmp_path / "case.json", tmp_path / "result.json"
    saved = os.umask(mask)
    try:
        for args in (["case", "electronics", "--out", str(case)],
                     ["case", "steel", "--periods", "2", "--out", str(tmp_path / "steel.json")],
                     ["generate", "sfi", "--periods", "2", "--categories", "1",
                      "--products-per-category", "1", "--seed", "1", "--out",
                      str(tmp_path / "sfi.json")],
                     ["generate", "network", "--firms", "2", "--materials", "1", "--periods",
                      "2", "--seed", "1", "--out", str(tmp_path / "net.json")],
                     ["solve", str(case), "--method", "greedy", "--out", str(res)],
                     ["evaluate", str(case), str(res), "--out", str(tmp_path / "eval.json")],
                     ["plot", str(res), "--out", str(tmp_path / "plot.png")],
                     ["compare", str(case), "--methods", "none,greedy", "--seeds", "1",
                      "--out", str(tmp_path / "rows.json"), "--into", str(md)],
                     ["bench", "--from", str(Path(__file__).parents[1] / "docs" / "bench" /
                                             "results.json"),
                      "--out-dir", str(tmp_path / "bench"), "--report",
                      str(tmp_path / "bench" / "report.md")]):
            assert main(args) == 0, args
    finally:
        os.umask(saved)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != md]
    assert len(written) >= 12
    for p in written:
        assert stat.S_IMODE(p.stat().st_mode) == mode, p.name
    assert stat.S_IMODE(md.stat().st_mode) == 0o640


@pytest.mark.parametrize("model", ["sfi", "network"])
def test_evaluate_and_warm_start_take_the_result_file_of_solve(tmp_path, capsys, model):
    case, res = tmp_path / "case.json", tmp_path / "result.json"
    if model == "sfi":
        main(["case", "steel", "--periods", "2", "--out", str(case)])
        method, other = ["--method", "exact"], ["case", "electronics"]
    else:
        main(["case", "electronics", "--out", str(case)])
        method, other = ["--method", "greedy"], ["case", "steel", "--periods", "2"]
    assert main(["solve", str(case), *method, "--out", str(res)]) == 0
    proc = _run("evaluate", str(case), str(res))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cost"] == pytest.approx(json.loads(res.read_text())["cost"],
                                                           rel=1e-12)
    again = tmp_path / "again.json"
    assert main(["solve", str(case), *method, "--warm-start", str(res), "--out",
                 str(again)]) == 0
    capsys.readouterr()
    # A result of the other model, and a result whose plan is bad: exit 2, naming the field.
    wrong = tmp_path / "other.json"
    main([*other, "--out", str(wrong)])
    assert main(["evaluate", str(wrong), str(res)]) == 2
    assert f"model: a result of the '{model}' model, for an instance of the" in \
        capsys.readouterr().err
    doc = json.loads(res.read_text())
    if model == "sfi":
        doc["plan"]["generic"][0][1] = -1
        field = "plan.generic[0][1]: must be >= 0"
    else:
        doc["plan"]["shipments"] = [{"from": 0, "to": 1, "material": 0, "period": 1, "qty": -1}]
        field = "plan.shipments[0].qty: must be > 0"
    res.write_text(json.dumps(doc))
    assert main(["evaluate", str(case), str(res)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"invswarm: error: {field}")


def _hostile_files(tmp_path):
    """(command, its file's text, start of the error line) for a handful of hostile files."""
    from invswarm.engine.models.network import electronics_doc
    from invswarm.engine.models.sfi import steel_case

    net = electronics_doc()
    steel = json.dumps(steel_case(2))
    nan = steel_case(2)
    nan["orders"][0][1] = float("nan")  # written as NaN, which Python's parser reads
    life = json.dumps(net).replace('"life": 4', f'"life": {2**64}')
    lead = json.dumps(net).replace('"lead_time": 2', f'"lead_time": {10**30}', 1)
    plan = {"shipments": [{"from": 0, "to": 1, "material": 0, "period": 1, "qty": 1}]}
    case = tmp_path / "case.json"
    case.write_text(json.dumps(net))
    steel_case_file = tmp_path / "steel.json"
    steel_case_file.write_text(steel)
    result = {"model": "network", "cost": 1.0, "plan": plan, "history": {"pso": [[1]]}}
    return [
        ("solve", life, "materials[1].life: must be <= 10000, got 18446744073709551616"),
        ("solve", lead, "links[2].lead_time: must be <= 10000, got an integer of about 31 "
                        "digits"),
        ("solve", json.dumps(nan), "orders[0][1]: must be a number, got NaN"),
        ("solve", steel.replace('{"model": "sfi"', '{"model": "sfi", "model": "sfi"'),
         "{path}: not valid JSON here: an object names the key 'model' twice"),
        ("solve", "[" * 50_000 + "]" * 50_000, "{path}: not valid JSON here: nested too deeply"),
        ("solve", "[1, 2]", "instance: must be a JSON object"),
        ("evaluate", json.dumps(plan).replace('"qty": 1', '"qty": 1e400'),
         "shipments[0].qty: must be finite, got infinity"),
        ("evaluate-sfi", json.dumps({"pdp": [[2, 2]] * 3, "generic": [[True, 0]] * 3,
                                     "codp": [[5, 5]] * 9, "dedicated": [[0, 0]] * 9}),
         "generic[0][0]: must be a number, got a boolean"),
        ("plot", json.dumps(result), "history.pso[0]: must have length 2, got 1"),
        ("plot", json.dumps({**result, "history": {}, "cost": "NaN"}),
         "cost: must be a number, got a string"),
        ("plot", json.dumps({"cost": 1.0, "plan": {"pdp": [[2, 2]] * 3, "generic": [[0, 0]] * 2,
                                                   "codp": [[5, 5]], "dedicated": [[0, 0]]}}),
         "plan.generic: must have length 3 (as plan.pdp), got 2"),
    ], case, steel_case_file


def test_hostile_files_exit_2_naming_the_field(tmp_path, capsys):
    cases, case, steel = _hostile_files(tmp_path)
    for k, (command, text, message) in enumerate(cases):
        path = tmp_path / f"hostile{k}.json"
        path.write_text(text)
        args = {"solve": ["solve", str(path), "--method", "greedy"],
                "evaluate": ["evaluate", str(case), str(path)],
                "evaluate-sfi": ["evaluate", str(steel), str(path)],
                "plot": ["plot", str(path), "--out", str(tmp_path / "x.png")]}[command]
        assert main(args) == 2, (command, message)
        err = capsys.readouterr().err
        assert err == f"invswarm: error: {message.format(path=path)}\n", (command, err)
    assert not (tmp_path / "x.png").exists()


def test_hostile_file_through_a_fresh_process_has_no_traceback(tmp_path):
    cases, _, _ = _hostile_files(tmp_path)
    _, text, message = cases[0]
    path = tmp_path / "life.json"
    path.write_text(text)
    proc = _run("solve", str(path), "--method", "greedy")
    assert proc.returncode == 2
    assert proc.stderr == f"invswarm: error: {message}\n"
    assert proc.stdout == ""


@pytest.mark.parametrize("args,message", [
    (["generate", "sfi", "--periods", "100000", "--categories", "1",
      "--products-per-category", "1", "--seed", "1"], "periods: must be an integer in 1..10000"),
    (["generate", "sfi", "--periods", "5000", "--categories", "1000",
      "--products-per-category", "101", "--seed", "1"],
     "products_per_category: 1000 categories x 101 products: more than 100,000 products"),
    (["generate", "sfi", "--periods", "2", "--categories", "1", "--products-per-category",
      "1", "--seed", "-1"], "seed: must be an integer in 0..9223372036854775807, got -1"),
    (["generate", "network", "--firms", "5000", "--materials", "100", "--periods", "2",
      "--seed", "1"], "firms: 5000 firms x 100 materials x 2 periods: more than"),
    (["generate", "network", "--firms", "3", "--materials", "1", "--periods", "2",
      "--seed", "-1"], "seed: must lie in 0..9223372036854775807, got -1"),
    (["generate", "network", "--firms", "3", "--materials", "1", "--periods", "2",
      "--expiring", "nan", "--seed", "1"], "expiring: must lie in [0, 1], got nan"),
    (["case", "steel", "--periods", "20000"], "periods: must be an integer in 1..10000"),
])
def test_generators_refuse_what_the_formats_refuse(tmp_path, capsys, args, message):
    assert main([*args, "--out", str(tmp_path / "x.json")]) == 2
    assert capsys.readouterr().err.startswith(f"invswarm: error: {message}")
    assert not (tmp_path / "x.json").exists()


def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    import invswarm.engine.commands as commands

    def too_big(*args, **kwargs):
        raise MemoryError

    case = tmp_path / "case.json"
    main(["case", "electronics", "--out", str(case)])
    monkeypatch.setattr(commands, "solve", too_big)
    assert main(["solve", str(case), "--method", "pso"]) == 1
    assert capsys.readouterr().err == "invswarm: out of memory\n"


def test_the_demo_says_above_or_below_and_never_minus_zero():
    from invswarm.engine.commands import relation

    assert relation(100.0, 100.0 + 1e-9, 100.0) == "0.000 % above"
    assert relation(101.0, 100.0, 100.0) == "1.000 % above"
    assert relation(99.0, 100.0, 100.0) == "1.000 % below"
