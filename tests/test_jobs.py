"""Jobs: a solve in the background that can be watched and stopped (engine/jobs.py), and the
scheduler loop of docs/embedding.md."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from invswarm.engine.errors import InputError
from invswarm.engine.jobs import FINAL, submit
from invswarm.engine.models import sfi
from invswarm.engine.solve import SolveOptions

pytestmark = pytest.mark.slow  # whole solves in the background


def _recorder():
    events, lock = [], threading.Lock()

    def on_event(event):
        with lock:
            events.append(event)

    return events, on_event


def test_a_stopped_job_keeps_its_best_plan_and_ends_with_one_final_event():
    events, on_event = _recorder()
    inst = sfi.load_steel(24)
    job = submit(inst, "pso", SolveOptions(time_limit=120), on_event=on_event)
    assert job.status == "running"
    seen = threading.Event()
    while not seen.wait(0.05):
        if job.progress() is not None:
            seen.set()
    res = job.stop(timeout=60)
    assert res is not None and job.status == "stopped" and res.status == "stopped"
    assert res.wall_s < 60
    plan = sfi.Plan.from_json(res.plan, inst)
    assert sfi.evaluate(inst, plan).cost == pytest.approx(res.cost, rel=1e-12)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and "progress" in kinds
    assert [k for k in kinds if k in FINAL] == ["stopped"] and kinds[-1] == "stopped"
    assert events[-1]["cost"] == res.cost


def test_jobs_end_done_or_failed_and_run_side_by_side():
    events, on_event = _recorder()
    inst = sfi.load_steel(6)
    jobs = [submit(inst, "pso", SolveOptions(max_iter=5, seed=s), on_event=on_event)
            for s in range(2)]
    bad = submit(inst, "greedy", None, on_event=on_event)  # not a method of the SFI model
    for job in jobs:
        assert job.result(timeout=120).status == "max_iter" and job.status == "done"
    with pytest.raises(InputError, match="method"):
        bad.result(timeout=60)
    assert bad.status == "failed"
    finals = sorted(e["event"] for e in events if e["event"] in FINAL)
    assert finals == ["done", "done", "failed"]


def test_the_scheduler_loop_of_the_embedding_page_runs():
    page = (Path(__file__).parent.parent / "docs" / "embedding.md").read_text()
    code = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    namespace = {"PERIODS": 3, "BUDGET_S": 2.0}
    # the host shuts down during the third run
    timer = threading.Timer(5.0, lambda: namespace["shutdown"].set())
    timer.start()
    try:
        exec(compile(code, "docs/embedding.md", "exec"), namespace)
    finally:
        timer.cancel()
    plans = namespace["plans"]
    assert 1 <= len(plans) <= 3
    inst = sfi.load_steel(12)
    for doc in plans:
        sfi.check_feasible(inst, sfi.Plan.from_json(doc, inst))


def test_a_job_keeps_its_pins():
    from invswarm.engine.models.network import Instance, electronics_doc

    inst = Instance.from_json(electronics_doc())
    first = submit(inst, "greedy").result(60).plan["shipments"][0]
    ban = {k: first[k] for k in ("from", "to", "material", "period")}
    plan = submit(inst, "greedy", pins={"forbid": [ban]}).result(60).plan["shipments"]
    assert plan and not any({k: s[k] for k in ban} == ban for s in plan)


@pytest.mark.parametrize("model", ["sfi", "network"])
def test_best_gives_the_best_plan_so_far_at_its_kernel_cost(model):
    from invswarm.engine.models import network

    inst = sfi.load_steel(12) if model == "sfi" else network.electronics_case()
    events, on_event = _recorder()
    job = submit(inst, "pso", SolveOptions(time_limit=4), on_event=on_event)
    seen = []
    while not job.wait(0.05):
        best = job.best()
        if best is not None and (not seen or best.cost != seen[-1].cost):
            seen.append(best)
    res = job.result()
    assert seen, "no best plan while the job ran"
    # anytime: each plan costs what best() said, and the costs only fall
    for best in seen:
        if model == "sfi":
            plan = sfi.Plan.from_json(best.plan, inst)
            sfi.check_feasible(inst, plan)
            cost = sfi.evaluate(inst, plan).cost
        else:
            plan = network.Plan.from_json(best.plan, inst)
            cost = network.evaluate(inst, plan).cost
        assert cost == pytest.approx(best.cost, rel=1e-9)
    costs = [b.cost for b in seen]
    assert costs == sorted(costs, reverse=True)
    assert res.cost <= costs[-1] * (1 + 1e-9)
    final = job.best()
    assert final.plan == res.plan and final.cost == res.cost
    # progress events carry the run's figures and its phase
    progress = [e for e in events if e["event"] == "progress"]
    assert {"elapsed", "evaluations", "best", "bound", "phase"} <= set(progress[0])
    assert {e["phase"] for e in progress} >= {"swarm", "polish"}
    evals = [e["evaluations"] for e in progress]
    assert evals == sorted(evals) and evals[-1] > evals[0]


def test_an_exact_job_has_no_best_before_its_incumbent_and_reports_its_bound():
    events, on_event = _recorder()
    inst = sfi.load_steel(12)
    job = submit(inst, "exact", SolveOptions(time_limit=20, gap=0.0), on_event=on_event)
    assert job.best() is None  # the model is still being built
    res = job.result(timeout=120)
    assert job.best().cost == res.cost
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and all(e["phase"] == "exact" for e in progress)
    assert any(e["bound"] is not None for e in progress)
    with_both = [e for e in progress if e["best"] is not None and e["bound"] is not None]
    assert all(e["bound"] <= e["best"] * (1 + 1e-9) for e in with_both)
