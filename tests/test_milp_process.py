"""Exact solves and large LPs in a child process: the same outcome as in this process, and an
end at the time limit or the stop even where HiGHS would run on."""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from invswarm.engine import milp_process
from invswarm.engine.lp import LpOptions, run_lp
from invswarm.engine.milp import MilpOptions, run
from invswarm.engine.models.sfi import Instance, evaluate, generate, load_steel
from invswarm.engine.models.sfi.milp import build, read_plan
from invswarm.engine.models.sfi.plan import violations
from invswarm.engine.termination import StopToken

pytestmark = pytest.mark.slow  # exact solves in child processes


def test_the_child_returns_what_highs_returns_here():
    model = build(load_steel(6))
    opts = MilpOptions(time_limit=60, gap=0.0)
    here = run(model.builder.to_highs(), opts)
    there = milp_process.solve(model.builder, opts)
    assert there.status == here.status == "Optimal"
    assert there.objective == here.objective and there.bound == here.bound
    np.testing.assert_array_equal(there.x, here.x)


def test_trace_points_are_reported_as_they_are_found():
    model = build(load_steel(8))
    seen = []
    out = run(model.builder.to_highs(), MilpOptions(time_limit=60, gap=0.0),
              on_point=lambda point, x: seen.append((point, x)))
    assert tuple(p for p, _ in seen) == out.trace
    found = [(p, x) for p, x in seen if x is not None]
    assert found and found[-1][0][1] == out.objective
    np.testing.assert_array_equal(found[-1][1], out.x)


def test_a_solve_running_past_its_time_is_ended_with_what_it_reported(monkeypatch):
    inst = load_steel(24)  # about 9 s to optimality here
    model = build(inst)
    # Stand-in for HiGHS overrunning: its own limit (60 s) is far, ours 0.5 s of solving.
    monkeypatch.setattr(milp_process, "grace", lambda limit: 0.5 - limit)
    t0 = time.perf_counter()
    out = milp_process.solve(model.builder, MilpOptions(time_limit=60, gap=0.0))
    assert time.perf_counter() - t0 < 30
    assert out.status == milp_process.ENDED and not out.optimal
    assert 0.5 <= out.wall_s < 5.0  # ended long before the solve's 9 s
    assert all(b <= out.bound for _, _, b in out.trace)
    if out.x is None:
        assert np.isnan(out.objective)
    else:  # the last incumbent reported: a feasible plan costing at most its objective
        assert out.objective == min(inc for _, inc, _ in out.trace)
        plan = read_plan(model, inst, out.x).cleaned()
        assert not violations(inst, plan)
        assert evaluate(inst, plan).cost <= out.objective * (1 + 1e-6)


def test_an_ended_child_leaves_whole_reports(tmp_path):
    # What the parent reads after ending a child: the files of a finished child, read as
    # though it had been ended, give its incumbent, bound and trace.
    model = build(load_steel(6))
    opts = MilpOptions(time_limit=60, gap=0.0)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps((model.builder.arrays(), opts, None)))
    assert milp_process._main(str(tmp_path)) == 0
    done = pickle.loads((tmp_path / "outcome.pkl").read_bytes())
    with open(tmp_path / "trace.f64", "ab") as fh:
        fh.write(np.float64(1.0).tobytes())  # a point cut short when the child was ended
    ended = milp_process._reported(tmp_path, 1.0, milp_process.ENDED)
    assert ended.trace == done.trace and ended.objective == done.objective
    assert ended.bound == max(b for _, _, b in done.trace)
    np.testing.assert_array_equal(ended.x, done.x)


def test_the_child_exits_when_its_parent_is_killed(tmp_path):
    # A parent that starts a solve of about 9 s, says its child's pid, and is killed.
    script = f"""
import os, pickle, subprocess, sys, time
from invswarm.engine.milp import MilpOptions
from invswarm.engine.models.sfi import load_steel
from invswarm.engine.models.sfi.milp import build
model = build(load_steel(24))
open({str(tmp_path / "model.pkl")!r}, "wb").write(
    pickle.dumps((model.builder.arrays(), MilpOptions(time_limit=60, gap=0.0), None)))
child = subprocess.Popen([sys.executable, "-m", "invswarm.engine.milp_process",
                          {str(tmp_path)!r}, str(os.getpid())])
print(child.pid, flush=True)
time.sleep(60)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    t0 = time.perf_counter()
    while not (tmp_path / "started").exists() and time.perf_counter() - t0 < 60:
        time.sleep(0.1)
    started = (tmp_path / "started").exists()
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    # A child that failed before its solve must fail the test, not hang it.
    assert started, (tmp_path / "error.txt").read_text() if (tmp_path / "error.txt").exists() \
        else "the child did not start its solve within 60 s"
    t0 = time.perf_counter()
    while _alive(pid) and time.perf_counter() - t0 < 5:
        time.sleep(0.1)
    assert not _alive(pid)
    assert not (tmp_path / "outcome.pkl").exists()  # it did not run on to the end


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _large_relaxation():
    """The flow relaxation of a generated 10 x 10 x 26 instance: HiGHS's start on its LP, which
    looks for no interrupt, takes most of its solve."""
    return build(Instance.from_json(generate(periods=26, categories=10,
                                             products_per_category=10, seed=1)), rules=False)


def test_a_large_lp_is_solved_in_a_child_as_here(monkeypatch):
    model = build(load_steel(12), rules=False)
    here = run_lp(model.builder.to_highs(relax=True), LpOptions())
    monkeypatch.setattr(milp_process, "CHILD_NONZEROS", 0)

    def not_here(*args, **kw):
        raise AssertionError("solved in this process")

    monkeypatch.setattr(milp_process, "run_lp", not_here)
    there = milp_process.solve_lp(model.builder, LpOptions())
    assert there.objective == here.objective
    np.testing.assert_array_equal(there.x, here.x)


def test_a_large_lp_ends_at_the_stop_or_its_deadline_without_a_solution():
    model = _large_relaxation()
    assert model.builder.n_nonzeros >= milp_process.CHILD_NONZEROS
    token = StopToken()
    threading.Timer(0.1, token.stop).start()
    assert milp_process.solve_lp(model.builder, LpOptions(), stop=token) is None
    assert milp_process.solve_lp(model.builder, LpOptions(),
                                 until=time.perf_counter() + 0.2) is None
    # given the time, the same LP is solved
    assert milp_process.solve_lp(model.builder, LpOptions()) is not None
