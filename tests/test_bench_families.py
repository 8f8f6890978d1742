"""The families experiment: gaps to the best plan known, and the cache of exact runs."""

from __future__ import annotations

import json

import pytest

from invswarm.engine import bench_families
from invswarm.engine.bench import options_of
from invswarm.engine.bench_families import FamiliesOptions, headline_lines, report_section, run
from invswarm.engine.cli import build_parser
from invswarm.engine.models import sfi
from invswarm.engine.models.sfi.families import generate_family
from invswarm.engine.solve import load_instance, read_plan

pytestmark = pytest.mark.slow  # exact solves


def _options(tmp_path, **kw):
    return FamiliesOptions(**{"families": ("tight", "slack"), "sizes": ((2, 2),), "periods": 4,
                              "seeds": (1, 2), "pso_time": 0.5, "exact_time": 20.0,
                              "early_time": 0.01, "cache": str(tmp_path / "exact.json"), **kw})


def test_gaps_are_against_the_best_plan_known_and_exact_runs_are_cached(tmp_path):
    o = _options(tmp_path)
    first = run(o, log=lambda s: None)
    assert len(first["rows"]) == 4 and not any(r["cached"] for r in first["rows"])
    for r in first["rows"]:
        assert r["best"] == min(r["pso"], r["exact"])
        assert r["pso_gap"] == pytest.approx(max(0.0, r["pso"] - r["best"]) / r["pso"])
        doc = generate_family(r["family"], periods=4, categories=2, products_per_category=2,
                              seed=r["seed"])
        # the cached plan is a plan of this instance and costs what the row says
        cache = json.loads((tmp_path / "exact.json").read_text())
        key = f"{bench_families._digest(doc)}:20"
        inst = load_instance(doc)
        assert sfi.evaluate(inst, read_plan(inst, cache[key]["plan"])).cost == r["exact"]
    again = run(o, log=lambda s: None)
    assert all(r["cached"] for r in again["rows"])
    assert [r["exact"] for r in again["rows"]] == [r["exact"] for r in first["rows"]]
    text = "\n".join(report_section(again))
    assert "| tight | 2 x 2 x 4 |" in text and "### slack" in text
    assert "Cached exact runs: 4 of 4" in text
    met = sum(s["pso_median"] <= 0.005 and s["pso_worst"] <= 0.01 for s in again["summary"])
    assert f"met on {met} of 2 families and sizes" in text
    (line,) = headline_lines({"families": again})[1:]
    assert line.startswith("SFI instance families (2 families of 2 x 2 x 4, seeds 1, 2)")
    assert f"is met on {met} of 2." in line
    assert headline_lines({}) == []


def test_a_cached_run_whose_plan_no_longer_costs_what_it_recorded_is_solved_again(tmp_path):
    o = _options(tmp_path, families=("balanced",), seeds=(3,))
    first = run(o, log=lambda s: None)
    cache_file = tmp_path / "exact.json"
    cache = json.loads(cache_file.read_text())
    (key,) = cache
    cache[key]["cost"] += 1000.0
    cache_file.write_text(json.dumps(cache))
    seen = []
    again = run(o, log=seen.append)
    assert not again["rows"][0]["cached"] and any("solving again" in s for s in seen)
    assert again["rows"][0]["exact"] == pytest.approx(first["rows"][0]["exact"], rel=1e-6)


def test_with_no_earlier_moment_the_report_has_one_exact_column(tmp_path):
    res = run(_options(tmp_path, families=("tight",), early_time=20.0), log=lambda s: None)
    lines = report_section(res)
    header = next(line for line in lines if line.startswith("| family"))
    assert header.count("exact gap at") == 1 and "exact gap at 20 s" in header
    rows = [line for line in lines if line.startswith("| tight | 2 x 2 x 4 |")]
    assert rows and all(r.count("|") == header.count("|") for r in rows)


def test_the_bench_commands_exact_time_is_the_families_exact_time():
    parse = build_parser().parse_args
    short = options_of(parse(["bench", "--experiments", "families", "--exact-time", "30"]))
    assert (short.families.exact_time, short.families.early_time) == (30.0, 30.0)
    default = options_of(parse(["bench"]))
    assert (default.families.exact_time, default.families.early_time) == (600.0, 60.0)


def test_options_name_the_bad_field():
    with pytest.raises(ValueError, match="families: unknown family"):
        FamiliesOptions(families=("nope",))
    with pytest.raises(ValueError, match="pso_time"):
        FamiliesOptions(pso_time=0)


def test_an_exact_run_that_found_no_plan_is_counted_as_such(tmp_path):
    # six scenarios of 9 products over 24 periods: HiGHS reports no plan within a second
    o = _options(tmp_path, families=("uncertain",), sizes=((3, 3),), periods=24, seeds=(101,),
                 exact_time=1.0)
    res = run(o, log=lambda s: None)
    (row,) = res["rows"]
    assert row["exact"] is None and row["exact_gap"] is None and "no plan" in row["exact_status"]
    assert row["best"] == row["pso"] and row["pso_gap"] == 0.0
    assert res["summary"][0]["exact_without_plan"] == 1
    # cached as found-nothing, and reused as such
    again = run(o, log=lambda s: None)
    assert again["rows"][0]["cached"] and again["rows"][0]["exact"] is None
