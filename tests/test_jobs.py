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
