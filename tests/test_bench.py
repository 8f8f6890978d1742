"""The bench command on a tiny suite: results, plots and a report whose figures are the run's."""

from __future__ import annotations

import json

import pytest

from invswarm.engine import bench
from invswarm.engine.bench import BenchOptions, headline, run_suite
from invswarm.engine.bench import report as render_report
from invswarm.engine.cli import main

pytestmark = pytest.mark.slow  # the suite writes reports and plots from real runs

TINY = BenchOptions(seeds=2, baseline_seeds=1, swarm_time=0.5, pyswarms_iter=3, exact_time=30,
                    scaling_time=2,
                    seed_periods=(6,), periods=(4,), products=(9,),
                    large_sfi=(2, 2, 4), large_time=0.5, large_exact_time=5.0,
                    large_relax_time=2.0, large_more_seeds=(2,),
                    network_large=(6, 4, 6), network_large_time=1.0, network_bound_time=2.0)


def test_tiny_suite_writes_results_plots_and_report(tmp_path):
    report = tmp_path / "report.md"
    res = run_suite(TINY, experiments=("seed_table", "scaling", "large_sfi", "scenarios",
                                       "network"),
                    out_dir=str(tmp_path / "bench"), report_path=str(report),
                    log=lambda s: None)
    saved = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert set(saved) >= {"seed_table", "scaling", "scenarios", "network", "machine"}
    for png in ("scaling.png", "scenarios.png"):
        assert (tmp_path / "bench" / png).stat().st_size > 1000
    text = report.read_text()
    # the timings depend on the processor: the report names the one they came from
    assert saved["machine"]["cpu"] and f"CPUs of {saved['machine']['cpu']} (" in text
    row = res["seed_table"][0]
    # the report prints the run's figures
    assert f"{row['exact']['wall_s']:.1f} s" in text
    assert "Where a method loses" in text
    assert len(res["scenarios"]["timing"]) == 6
    assert all(r["us_per_plan"] > 0 for r in res["scenarios"]["timing"])
    sfi_big = res["large_sfi"]
    assert sfi_big["exact"]["bound"] <= sfi_big["pso_cost"] * (1 + 1e-9)
    assert f"{sfi_big['pso_cost']:,.2f}" in text
    relax = sfi_big["relax_round"]
    assert relax["lp_bound"] <= relax["cost"] * (1 + 1e-9)
    assert f"{relax['cost']:,.2f}" in text
    (more,) = sfi_big["more"]
    assert more["seed"] == 2 and more["flow_bound"] <= more["pso_cost"] * (1 + 1e-9)
    assert f"| 2 | {more['pso_cost']:,.2f} |" in text
    within = int(more["pso_gap_flow_bound"] <= 0.01
                 or (more["exact"] is not None and more["pso_gap_exact_bound"] <= 0.01))
    assert f"{within} of 1 within 1 % of the exact solver's bound" in text
    big = res["network"]["large"]
    assert big["bound"] <= big["pso"] * (1 + 1e-9) and big["pso"] <= big["greedy"] * (1 + 1e-9)


def test_user_instances_get_a_table(tmp_path):
    case = tmp_path / "e.json"
    assert main(["case", "electronics", "--out", str(case)]) == 0
    report = tmp_path / "r.md"
    assert main(["bench", "--experiments", "", "--instances", str(case), "--methods",
                 "greedy,none", "--seeds", "1", "--out-dir", str(tmp_path / "b"),
                 "--report", str(report)]) == 0
    text = report.read_text()
    assert "| greedy |" in text and "| none |" in text


def test_unknown_experiment_exits_2(capsys):
    assert main(["bench", "--experiments", "nope"]) == 2
    assert "experiments: unknown experiment 'nope'" in capsys.readouterr().err


def test_outputs_are_rewritten_from_saved_results(tmp_path):
    res = run_suite(TINY, experiments=("scaling", "scenarios"), out_dir=str(tmp_path / "a"),
                    report_path=str(tmp_path / "a.md"), log=lambda s: None)
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:begin -->\nold\n<!-- bench:end -->\nrest\n")
    assert main(["bench", "--from", str(tmp_path / "a" / "results.json"), "--out-dir",
                 str(tmp_path / "b"), "--report", str(tmp_path / "b.md"), "--readme",
                 str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and text.startswith("intro") and text.endswith("rest\n")
    saving = res["scenarios"]["savings"][0]["saving"]
    assert f"{100 * saving:.1f}" in text
    assert (tmp_path / "b.md").read_text().count("| 32 |") == 1


def test_headline_prints_the_throughput_by_horizon():
    tp = {"fused_evals_per_s": 101638.0, "ratio": 5.27, "ratio_numpy": 137.0,
          "ratio_T6": 6.44, "ratio_T8": 5.66, "ratio_T12": 5.71}
    text = headline({"date": "2026-11-26", "machine": {"cpus": 2},
                     "micro": [{"name": "test_throughput_against_pyswarms", "extra_info": tp}]})
    assert "101,638 evaluations per second at 24 periods, 5.3 times" in text
    assert "at 6, 8 and 12 periods: 6.4, 5.7, 5.7 times" in text
    # a run saved before the figures by horizon existed renders without them
    del tp["ratio_T6"]
    assert "at 6, 8 and 12" not in headline(
        {"date": "2026-11-26", "machine": {"cpus": 2},
         "micro": [{"name": "test_throughput_against_pyswarms", "extra_info": tp}]})


def test_headline_prints_the_two_workers_speedup():
    tw = {"one_worker": 86517.0, "two_workers": 165408.0, "one_process_two_threads": 163320.0,
          "speedup": 1.86, "speedups": [1.58, 1.9, 2.3]}
    dask = {"speedup": 1.23}
    micro = [{"name": "test_two_workers_against_one", "extra_info": tw},
             {"name": "test_two_dask_workers_against_one", "extra_info": dask}]
    text = headline({"date": "2026-11-27", "machine": {"cpus": 2}, "micro": micro})
    assert "1.86 times the evaluations per second (goal: 1.8)" in text
    assert "the ratios of the 3 pairs of runs ranged from 1.58 to 2.30" in text
    assert "two Numba threads: 1.89 times one worker; two dask workers: 1.23 times one." in text
    # without the dask run and the pairs (runs saved before they were recorded)
    del tw["speedups"]
    text = headline({"date": "2026-11-27", "machine": {"cpus": 2}, "micro": micro[:1]})
    assert "pairs" not in text and "1.89 times one worker." in text


def test_results_saved_without_the_processor_still_render():
    res = {"date": "2026-11-26", "total_s": 60.0,
           "machine": {"cpus": 2, "machine": "x86_64", "system": "Linux", "python": "3.11.7"}}
    assert "2 CPUs (x86_64, Linux, Python 3.11.7)" in render_report(res, "make bench")
    assert "(2 CPUs, shared machine)" in headline(res)
    res["machine"]["cpu"] = "Some Processor"
    assert "2 CPUs of Some Processor (x86_64" in render_report(res, "make bench")
    assert "(2 CPUs of Some Processor, shared machine)" in headline(res)


def test_large_instances_get_the_exact_bound_where_the_flow_bound_leaves_the_goal_open(
        monkeypatch):
    args = (2, 2, 4, 2, 0.5, 5.0, lambda s: None)
    monkeypatch.setattr(bench, "LARGE_GOAL", 1.0)  # any plan is within the goal of the flow bound
    row = bench._large_more(*args)
    assert row["exact"] is None and row["pso_gap_exact_bound"] is None
    monkeypatch.setattr(bench, "LARGE_GOAL", -1.0)  # none is
    row = bench._large_more(*args)
    ex = row["exact"]
    # the exact model's bound is never below the optimum of the flow relaxation's LP
    assert row["flow_bound"] <= ex["bound"] * (1 + 1e-7) <= row["pso_cost"] * (1 + 2e-7)
    assert row["pso_gap_exact_bound"] == (row["pso_cost"] - ex["bound"]) / row["pso_cost"]
    text = "\n".join(bench._more_large({"shape": [2, 2, 4], "exact": {"bound": ex["bound"]},
                                        "more": [row]}))
    assert f"| {ex['bound']:,.2f} ({ex['status'].lower()}, {ex['wall_s']:.0f} s) |" in text
    assert f"| {100 * row['pso_gap_exact_bound']:.3f} % |" in text


def test_headline_counts_the_large_instances_within_the_goal():
    more = [{"seed": 2, "pso_gap_flow_bound": 0.0092}, {"seed": 6, "pso_gap_flow_bound": 0.0106},
            {"seed": 7, "pso_gap_flow_bound": None},
            {"seed": 8, "pso_gap_flow_bound": 0.0107, "pso_gap_exact_bound": 0.0096},
            {"seed": 9, "pso_gap_flow_bound": 0.0131, "pso_gap_exact_bound": 0.0121}]
    text = headline({"date": "2026-11-26", "machine": {"cpus": 2},
                     "options": {"large_exact_time": 600.0},
                     "large_sfi": {"shape": [30, 10, 52], "pso_s": 60.0, "pso_gap_bound": 0.0065,
                                   "more": more}})
    assert "seed 2: 0.920 %; seed 6: 1.060 %" in text
    assert "seed 8: 1.070 % (0.960 % above the exact solver's bound)" in text
    # seed 8 is within the goal: the exact solver's bound is the goal's yardstick
    assert "(2 of 5 within 1 %)" in text


@pytest.mark.parametrize("doc", ['[1, 2]', '{"date": "2026-12-06"}',
                                 '{"machine": {"cpus": 2}, "seed_table": [{"T": 6}]}',
                                 '{"machine": {"cpus": 2}, "scaling": 3}'])
def test_results_that_are_not_a_bench_run_exit_2_and_write_nothing(tmp_path, capsys, doc):
    saved = tmp_path / "results.json"
    saved.write_text(doc)
    report = tmp_path / "report.md"
    report.write_text("earlier report\n")
    assert main(["bench", "--from", str(saved), "--out-dir", str(tmp_path / "out"),
                 "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert "from: is not" in err and "Traceback" not in err
    assert report.read_text() == "earlier report\n"
    assert not (tmp_path / "out" / "results.json").exists()
