"""A stop asked for from another thread, or by a signal to the command line, ends a run with
its best plan so far (engine/termination.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from invswarm.engine import solve as api
from invswarm.engine.models import network, sfi
from invswarm.engine.models.sfi.peers import PEERS
from invswarm.engine.termination import Budget, StopToken, halt_on


def test_the_first_reason_is_kept_and_a_budget_ends_at_a_stop_or_its_deadline():
    token = StopToken()
    budget = Budget(time_limit=3600, stop=token)
    assert not budget.done() and token.reason is None and 3500 < budget.left() <= 3600
    token.stop("interrupted")
    token.stop("stopped")
    assert token.reason == "interrupted" and budget.stopped
    assert budget.done() and budget.left() == 0.0 and token.wait(0)
    past = Budget(time_limit=1.0, start=time.perf_counter() - 2.0)
    assert past.done() and past.left() == 0.0 and not past.stopped
    assert Budget().deadline == float("inf")
    with pytest.raises(ValueError, match="time_limit"):
        Budget(time_limit=0.0)


def test_a_stop_sets_the_flags_of_compiled_evaluations_linked_to_it():
    class Slow:
        halt = np.zeros(1, np.int8)

    token, other = StopToken(), StopToken()
    halt_on(Slow, token, None, other)
    halt_on(Slow, token)  # linked once
    halt_on(object(), token)  # a problem without a flag
    assert Slow.halt[0] == 0
    token.stop()
    assert Slow.halt[0] == 1
    late = np.zeros(1, np.int8)
    token.also_sets(late)  # already stopped: set at once
    assert late[0] == 1


def test_a_budget_ends_at_its_evaluations_target_or_stall_and_offers_new_bests():
    offered = []
    budget = Budget(max_evals=100, target=10.0, stall_evals=30,
                    on_best=lambda plan, cost: offered.append((plan, cost)))
    assert budget.reason() is None and budget.evals_left() == 100
    budget.enter("swarm")
    budget.spend(20)
    budget.record(50.0, "a")
    budget.record(60.0, "b")  # not a new best: not offered
    budget.record(40.0, lambda: "c")  # made only when offered
    assert offered == [("a", 50.0), ("c", 40.0)] and budget.best == 40.0
    budget.spend(29)
    assert budget.reason() is None  # 29 evaluations since the last gain
    budget.spend(1)
    assert budget.reason() == "stall"
    budget.enter("polish")  # a phase counts its own stall
    assert budget.reason() is None and budget.phase == "polish"
    budget.record(9.0)
    assert budget.reason() == "target"
    assert Budget(max_evals=5).reason() is None
    spent = Budget(max_evals=5)
    spent.spend(5)
    assert spent.reason() == "max_evals" and spent.evals_left() == 0
    for kw, field in (({"max_evals": 0}, "max_evals"), ({"stall_evals": -1}, "stall_evals"),
                      ({"target": float("nan")}, "target")):
        with pytest.raises(ValueError, match=field):
            Budget(**kw)


@pytest.fixture(scope="module", autouse=True)
def compiled():
    # compilation (after an edit of a kernel file) cannot be stopped; these tests time stops
    from invswarm.engine.models.network.problem import warmup as network_warmup
    from invswarm.engine.models.sfi.warmup import warmup as sfi_warmup

    sfi_warmup()
    network_warmup()


def _stopped_run(inst, method, after: float, **kw):
    token = StopToken()
    timer = threading.Timer(after, token.stop)
    timer.start()
    try:
        res = api.solve(inst, method, api.SolveOptions(time_limit=120, **kw), stop=token)
    finally:
        timer.cancel()
    return res


def _assert_kept_plan(inst, res):
    # the plan returned is feasible and costs what the result says
    if isinstance(inst, network.Instance):
        plan = network.Plan.from_json(res.plan, inst)
        assert network.authorize(inst, plan).ok
        cost = network.evaluate(inst, plan).cost
    else:
        plan = sfi.Plan.from_json(res.plan, inst)
        sfi.check_feasible(inst, plan)
        cost = sfi.evaluate(inst, plan).cost
    assert res.cost == pytest.approx(cost, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("method,kw", [("pso", {}), ("pso", {"jobs": 2}), ("exact", {}),
                                       ("per-period", {}), *((p, {}) for p in PEERS)])
def test_a_stopped_sfi_run_returns_its_best_plan(method, kw):
    inst = sfi.load_steel(24)
    res = _stopped_run(inst, method, 1.5, **kw)
    assert res.status == "stopped"
    # far from the 120 s it was given (an exact solve of this case takes several seconds)
    assert res.wall_s < 60
    _assert_kept_plan(inst, res)


@pytest.mark.parametrize("method", ["per-period", *PEERS])
def test_the_baselines_keep_to_an_evaluation_budget_a_target_and_a_time_limit(method):
    """An evaluation budget bounds the whole run (not each period's swarm), a target ends it
    at the first plan that meets it, and a time limit alone (the peers: no iteration budget)
    ends it in time, in a warm process; each returns a feasible plan that costs what it
    says."""
    inst = sfi.load_steel(6)
    res = api.solve(inst, method, api.SolveOptions(max_evals=500, swarm_size=16))
    assert res.status == "max_evals"
    assert 16 <= res.extra["swarm"]["nfev"] <= 500
    _assert_kept_plan(inst, res)
    res = api.solve(inst, method, api.SolveOptions(max_iter=50, swarm_size=16, target=1e12))
    assert res.status == "target" and res.extra["swarm"]["nfev"] <= 50 * 16 + 16
    _assert_kept_plan(inst, res)
    # the libraries' imports are behind: the time limit counts from the call
    res = api.solve(inst, method, api.SolveOptions(time_limit=1.0, swarm_size=16))
    assert res.status in ("time_limit", "done") and res.wall_s < 1.0 + 0.5
    _assert_kept_plan(inst, res)


def test_relax_round_keeps_to_an_evaluation_budget_and_a_target():
    """The local search after the relaxation is bounded by the run's evaluations and target
    (the LP spends none); the relaxation's message stays in ``extra``."""
    inst = sfi.load_steel(6)
    free = api.solve(inst, "relax-round", api.SolveOptions(time_limit=20))
    for kw, status in (({"max_evals": 50}, "max_evals"), ({"target": 1e12}, "target")):
        res = api.solve(inst, "relax-round", api.SolveOptions(time_limit=20, **kw))
        assert res.status == status
        assert "relaxation solved" in res.extra["relaxation"]["message"]
        assert res.cost >= free.cost - 1e-6  # cut short: no better than the free run
        _assert_kept_plan(inst, res)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pso", "exact"])
def test_a_stopped_network_run_returns_its_best_plan(method):
    inst = network.electronics_case()
    res = _stopped_run(inst, method, 1.5, gap=0.0)
    assert res.status == "stopped"
    assert res.wall_s < 60
    _assert_kept_plan(inst, res)
    assert res.cost < network.evaluate(inst, network.Plan.empty()).cost


def test_a_stop_before_the_run_still_gives_a_plan():
    token = StopToken()
    token.stop()
    inst = sfi.load_steel(6)
    for method in ("pso", "exact", "per-period", "relax-round", *PEERS):
        res = api.solve(inst, method, api.SolveOptions(time_limit=60), stop=token)
        assert res.status == "stopped"
        _assert_kept_plan(inst, res)


@pytest.mark.slow
@pytest.mark.parametrize("how,code,args", [
    ("TERM", 143, ["--method", "pso"]),
    ("INT", 130, ["--method", "pso"]),
    # Ctrl-C on a terminal reaches the island workers and the solver's process too
    ("INT-GROUP", 130, ["--method", "pso", "--jobs", "2"]),
    ("INT-GROUP", 130, ["--method", "exact"]),
])
def test_a_signal_writes_the_best_result_and_exits_with_its_code(tmp_path, how, code, args):
    inst = tmp_path / "steel.json"
    out = tmp_path / "result.json"
    inst.write_text(json.dumps(sfi.load_steel(24).to_json()))
    proc = subprocess.Popen([sys.executable, "-m", "invswarm.engine.launch", "solve", str(inst),
                             "--time-limit", "120", "--out", str(out), "--progress", "jsonl",
                             *args],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    events = [json.loads(proc.stderr.readline())]
    assert events[0]["event"] == "start"  # the run has begun: the signals are watched
    if "--jobs" in args:
        # the workers are up once the first epoch has reported (a worker still starting
        # dies of a Ctrl-C; run_islands then keeps the best it knows: another test)
        events.append(json.loads(proc.stderr.readline()))
        assert events[-1]["event"] == "progress"
    time.sleep(2.0)
    if how == "INT-GROUP":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(getattr(signal, "SIG" + how))
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == code, rest
    assert "Traceback" not in rest
    events += [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "end" and events[-1]["status"] == "interrupted"
    res = json.loads(out.read_text())
    assert res["status"] == "interrupted"
    assert res["wall_s"] < 60
    plan = sfi.Plan.from_json(res["plan"], sfi.load_steel(24))
    assert np.isclose(sfi.evaluate(sfi.load_steel(24), plan).cost, res["cost"], rtol=1e-12)


def test_the_command_line_in_process_leaves_signals_alone(tmp_path):
    # a library never touches signals, nor does the CLI's main(); only the `invswarm`
    # command's entry point does (engine/launch.py)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    from invswarm.engine.cli import main

    inst = tmp_path / "steel.json"
    inst.write_text(json.dumps(sfi.load_steel(6).to_json()))
    assert main(["solve", str(inst), "--method", "pso", "--max-iter", "2",
                 "--out", str(tmp_path / "r.json")]) == 0
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask
    assert os.path.exists(tmp_path / "r.json")


@pytest.mark.parametrize("model", ["sfi", "network"])
def test_an_evaluation_budget_bounds_the_whole_pso_run_polish_included(model):
    inst = sfi.load_steel(6) if model == "sfi" else network.electronics_case()
    res = api.solve(inst, "pso", api.SolveOptions(max_evals=1500, swarm_size=16))
    swarm = res.extra["swarm"]
    assert res.status == "max_evals"
    # the swarms had half; the polish's moves and kicks the rest, cut to what was left (a
    # local search may overrun by the rescoring of one block's follow-ups)
    assert swarm["nfev"] <= 750
    assert 1500 <= swarm["evaluations"] <= 1500 * 1.05
    assert swarm["polish_s"] < 30
    _assert_kept_plan(inst, res)


def test_an_iteration_budget_bounds_the_polish_and_a_target_ends_the_run():
    inst = sfi.load_steel(6)
    res = api.solve(inst, "pso", api.SolveOptions(max_iter=5, swarm_size=16))
    # 2 islands x 16 particles x (5 + 1) evaluations, and as many for the polish
    assert res.status == "max_iter" and res.extra["swarm"]["nfev"] == 192
    assert res.extra["swarm"]["evaluations"] <= 2 * 192 * 1.05
    reached = api.solve(inst, "pso", api.SolveOptions(max_iter=5, swarm_size=16,
                                                      target=res.cost * 1.01))
    assert reached.status == "target" and reached.cost <= res.cost * 1.01
    assert reached.extra["swarm"]["evaluations"] <= res.extra["swarm"]["evaluations"]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["sfi", "network"])
def test_an_iteration_budgeted_run_gives_the_same_plan_on_one_or_two_workers(model):
    inst = sfi.load_steel(12) if model == "sfi" else network.electronics_case()
    runs = [api.solve(inst, "pso", api.SolveOptions(max_iter=20, seed=3, jobs=jobs))
            for jobs in (1, 2)]
    assert runs[0].plan == runs[1].plan and runs[0].cost == runs[1].cost
    assert runs[0].extra["swarm"]["evaluations"] == runs[1].extra["swarm"]["evaluations"]
    # the polish ran within the budget the iterations imply
    assert runs[0].extra["swarm"]["evaluations"] > runs[0].extra["swarm"]["nfev"]
