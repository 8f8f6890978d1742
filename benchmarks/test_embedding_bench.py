"""How well a run keeps to its budget, as a scheduler embedding the engine needs (issue 27).

- Stop latency: from ``StopToken.stop()`` to the result in hand, at random moments of a run.
  For each configuration, 20 runs of 60 s are stopped by a thread at a moment drawn uniformly
  (seeded) from 0.2 s to 8 s (to 4 s for the exact SFI solve, which may end by itself after
  that); the latency is the time from the stop to ``solve`` returning, its result evaluated.
  Goals: median at most 0.2 s, worst at most 1 s. Kernels are compiled before any run (a
  compilation cannot be stopped). On the steel and electronics cases, and on the large
  generated instances (SFI 30 x 10 x 52, network 50 x 200 x 26).
- An iteration budget bounds the whole run: ``--max-iter 20`` on steel T = 12 in a warm
  process, at most 1 s each of 5 runs; a fresh ``invswarm solve`` of steel T = 6 with
  ``--max-iter 10`` (the Numba cache warm), at most 2 s each of 5 processes.
- Time-limit overshoot: 20 runs per method in a fresh process (its first call, which loads
  the kernels, included), each ending at most max(2 %, 0.3 s) past its time limit: on the
  steel case, and with 5 s on the large instances (SFI 30 x 10 x 52, network
  50 x 200 x 26), where building a model or evaluating a swarm takes seconds.
- Re-plan after a one-period roll: the previous horizon is solved, the next horizon's
  instance built from what its plan did in the first period, and a run warm-started from the
  rolled plan (``roll``) gets a fifth of a cold run's time; goal: the cold run's cost, median
  of 5 seeds.

Figures are printed and stored in ``extra_info``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from invswarm.engine.models import network, sfi
from invswarm.engine.models.network.problem import warmup as network_warmup
from invswarm.engine.models.sfi.scoring import carried_states
from invswarm.engine.models.sfi.warmup import warmup as sfi_warmup
from invswarm.engine.roll import roll
from invswarm.engine.solve import SolveOptions, read_plan, solve
from invswarm.engine.termination import StopToken
from tests.rolling import network_window

STOPS = 20
MEDIAN_GOAL_S = 0.2
WORST_GOAL_S = 1.0


def _latencies(inst, method: str, latest: float, **kw) -> list[float]:
    rng = np.random.default_rng(27)
    out = []
    for at in rng.uniform(0.2, latest, STOPS):
        token = StopToken()
        stopped: dict = {}

        def stop(at=at, token=token, stopped=stopped):
            time.sleep(at)
            stopped["t"] = time.perf_counter()
            token.stop()

        thread = threading.Thread(target=stop)
        thread.start()
        res = solve(inst, method, SolveOptions(time_limit=60, **kw), stop=token)
        done = time.perf_counter()
        thread.join()
        assert res.status == "stopped"
        out.append(done - stopped["t"])
    return out


@pytest.mark.parametrize("model,method,latest,kw", [
    ("sfi", "pso", 8.0, {}),
    ("sfi", "pso", 8.0, {"jobs": 2}),
    ("sfi", "pyswarms", 8.0, {}),
    ("sfi", "exact", 4.0, {}),
    ("network", "pso", 8.0, {}),
    ("network", "exact", 8.0, {"gap": 0.0}),
    ("sfi-30x10x52", "pso", 8.0, {}),
    ("sfi-30x10x52", "exact", 8.0, {}),
    ("network-50x200x26", "pso", 8.0, {}),
])
def test_stop_latency(benchmark, model, method, latest, kw):
    sfi_warmup()
    network_warmup()
    inst = {"sfi": lambda: sfi.load_steel(24), "network": network.electronics_case,
            "sfi-30x10x52": lambda: sfi.Instance.from_json(sfi.generate(
                periods=52, categories=30, products_per_category=10, seed=1)),
            "network-50x200x26": lambda: network.generate(
                firms=50, materials=200, periods=26, density=0.1, seed=1)}[model]()
    lat = benchmark.pedantic(_latencies, args=(inst, method, latest), kwargs=kw, rounds=1,
                             iterations=1)
    median, worst = float(np.median(lat)), float(np.max(lat))
    benchmark.extra_info.update(median_s=median, worst_s=worst, stops=STOPS)
    print(f"\nstop latency, {model} {method} {kw or ''}: median {median:.3f} s, worst "
          f"{worst:.3f} s over {STOPS} stops")
    assert median <= MEDIAN_GOAL_S and worst <= WORST_GOAL_S


# --------------------------------------------------------------------- rolling re-plan
#: A one-period roll: the warm-started run (``roll`` of the previous result) gets a fifth of
#: the cold run's time and must reach the cold run's cost (median of 5 seeds, issue 27).
ROLL_SEEDS = 5
ROLL_SHARE = 5
#: The issue's network, re-planned by the method for large networks on two workers.
LARGE_NETWORK = "network-50x200x26"


def _method(model: str) -> tuple[str, dict]:
    """The method each re-plan of ``model`` is solved with, and its options."""
    return ("decompose", {"jobs": 2}) if model == LARGE_NETWORK else ("pso", {})


_PREVIOUS: dict = {}


def _previous(model: str, old, cold_s: float, seed: int) -> dict:
    """The previous horizon's result (one solve per model, budget and seed)."""
    key = (model, cold_s, seed)
    if key not in _PREVIOUS:
        method, kw = _method(model)
        _PREVIOUS[key] = solve(old, method,
                               SolveOptions(time_limit=cold_s, seed=seed, **kw)).to_json()
    return _PREVIOUS[key]


def _rolled(model: str, seed: int, cold_s: float):
    """The previous horizon solved (``cold_s``; by pso with a seed of its own, by the
    decomposition, which draws nothing at random, once), and the next horizon's instance
    built from what that plan did in its first period."""
    if model.startswith("sfi"):
        T = 24 if model == "sfi" else 52
        long = sfi.Instance.from_json(
            sfi.steel_case(T + 1) if model == "sfi" else
            sfi.generate(periods=T + 1, categories=30, products_per_category=10, seed=1))
        old = long.window(0, T, (long.init_generic_stage, long.init_generic_qty,
                                 long.init_dedicated_stage, long.init_dedicated_qty,
                                 long.init_backlog))
        prev = _previous(model, old, cold_s, 100 + seed)
        state = carried_states(old, read_plan(old, prev), [1])[0]
        return long.window(1, T + 1, state), prev
    F, M, T, density = (50, 200, 26, 0.1) if model == LARGE_NETWORK else (10, 20, 13, 0.3)
    long = network.generate(firms=F, materials=M, periods=T + 1, density=density,
                            seed=1).to_json()
    old = network_window(long, 0, T)
    prev = _previous(model, old, cold_s, 0 if model == LARGE_NETWORK else 100 + seed)
    return network_window(long, 1, T, plan=prev["plan"]), prev


def _roll_runs(model: str, cold_s: float) -> list[tuple[float, float, float]]:
    out = []
    for seed in range(ROLL_SEEDS):
        new, prev = _rolled(model, seed, cold_s)
        method, kw = _method(model)
        cold = solve(new, method, SolveOptions(time_limit=cold_s, seed=seed, **kw))
        warm_doc, _ = roll(new, prev, 1)
        fifth = SolveOptions(time_limit=cold_s / ROLL_SHARE, seed=seed, **kw)
        warm = solve(new, method, fifth, warm_start=warm_doc)
        short = solve(new, method, fifth)
        out.append((cold.cost, warm.cost, short.cost))
    return out


@pytest.mark.parametrize("model,cold_s", [
    ("sfi", 10.0),
    ("sfi-30x10x52", 60.0),
    pytest.param("network", 10.0, marks=pytest.mark.xfail(
        reason="a one-period roll leaves a poor network warm start: half of a plan's "
               "shipments leave in its first period, and the new period's requirements "
               "need new ones (see docs/embedding.md, Rolling re-plan)",
        strict=False)),
    pytest.param(LARGE_NETWORK, 120.0, marks=pytest.mark.xfail(
        reason="in a fifth of the time the decomposition's parts get tenths of a second "
               "each, too little to move their start (docs/embedding.md, Rolling re-plan)",
        strict=False)),
])
def test_warm_start_after_a_roll(benchmark, model, cold_s):
    """Steel T = 24, the generated SFI instance of 30 categories x 10 products x 52 periods
    (generator seed 1), a generated network of 10 firms x 20 materials x 13 periods by pso,
    and the issue's 50 firms x 200 materials x 26 periods by the decomposition on two
    workers; a cold run of the same fifth of the time is measured beside them."""
    sfi_warmup()
    network_warmup()
    runs = benchmark.pedantic(_roll_runs, args=(model, cold_s), rounds=1, iterations=1)
    a = np.array(runs)
    warm, short = float(np.median(a[:, 1] / a[:, 0])), float(np.median(a[:, 2] / a[:, 0]))
    benchmark.extra_info.update(warm_over_cold=warm, short_cold_over_cold=short,
                                seeds=ROLL_SEEDS, cold_s=cold_s)
    print(f"\nroll {model}: cost of the warm run ({cold_s / ROLL_SHARE:g} s) over the cold "
          f"run's ({cold_s:g} s), median of {ROLL_SEEDS} seeds: {warm:.5f}; a cold run of "
          f"{cold_s / ROLL_SHARE:g} s: {short:.5f}")
    assert warm <= 1.0 + 1e-9


def test_an_iteration_budget_bounds_a_warm_run(benchmark):
    sfi_warmup()
    inst = sfi.load_steel(12)
    opts = SolveOptions(max_iter=20)
    solve(inst, "pso", opts)  # the first run of the process: its phases' first calls

    def runs():
        walls = []
        for _ in range(5):
            t0 = time.perf_counter()
            res = solve(inst, "pso", opts)
            walls.append(time.perf_counter() - t0)
            assert res.status == "max_iter"
        return walls

    walls = benchmark.pedantic(runs, rounds=1, iterations=1)
    benchmark.extra_info.update(walls_s=walls)
    print(f"\nsteel T = 12, pso --max-iter 20, warm process: wall {min(walls):.3f} to "
          f"{max(walls):.3f} s over {len(walls)} runs")
    assert max(walls) <= 1.0


def test_a_fresh_process_with_an_iteration_budget(benchmark, tmp_path):
    case = tmp_path / "steel6.json"
    case.write_text(json.dumps(sfi.steel_case(6)))
    cmd = [sys.executable, "-m", "invswarm.engine.launch", "solve", str(case), "--method",
           "pso", "--max-iter", "10", "--out", str(tmp_path / "r.json")]
    subprocess.run(cmd, check=True, capture_output=True)  # the Numba cache filled

    def runs():
        walls = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            walls.append(time.perf_counter() - t0)
        return walls

    walls = benchmark.pedantic(runs, rounds=1, iterations=1)
    benchmark.extra_info.update(walls_s=walls)
    print(f"\nfresh `invswarm solve` steel T = 6 --method pso --max-iter 10: wall "
          f"{min(walls):.3f} to {max(walls):.3f} s over {len(walls)} processes")
    assert max(walls) <= 2.0


# Each run of the overshoot benchmark: (method, case, time limit in seconds). The exact solve
# gets a case and a limit in which it usually finds a plan; on the large instances no method
# gets far in 5 s, and the build of a model, the relaxation and a slow swarm must still end
# on time.
OVERSHOOT_RUNS = {
    "pso": ("pso", "steel-24", 2.0), "exact": ("exact", "steel-12", 5.0),
    "relax-round": ("relax-round", "steel-24", 2.0),
    "per-period": ("per-period", "steel-24", 2.0), "pyswarms": ("pyswarms", "steel-24", 2.0),
    **{f"{m}-sfi-30x10x52": (m, "sfi-30x10x52", 5.0) for m in ("pso", "exact", "relax-round")},
    **{f"{m}-network-50x200x26": (m, "network-50x200x26", 5.0)
       for m in ("pso", "exact", "decompose")},
}
_OVERSHOOT = """
import json, sys, time
from invswarm.engine.errors import NoSolution
from invswarm.engine.models import network, sfi
from invswarm.engine.solve import SolveOptions, solve
method, case, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
if case.startswith("steel-"):
    inst = sfi.load_steel(int(case[len("steel-"):]))
elif case == "sfi-30x10x52":
    inst = sfi.Instance.from_json(sfi.generate(periods=52, categories=30,
                                               products_per_category=10, seed=1))
else:
    inst = network.generate(firms=50, materials=200, periods=26, density=0.1, seed=1)
walls = []
for seed in range(20):
    t0 = time.perf_counter()
    try:
        solve(inst, method, SolveOptions(time_limit=limit, seed=seed))
    except NoSolution:  # an exact solve with no incumbent by its limit: it ended there too
        pass
    walls.append(time.perf_counter() - t0)
print(json.dumps(walls))
"""


@pytest.mark.parametrize("run", list(OVERSHOOT_RUNS))
def test_time_limit_overshoot(benchmark, run):
    sfi_warmup()  # the caches filled; the runs below load them in a process of their own
    network_warmup()
    method, case, limit = OVERSHOOT_RUNS[run]

    def runs():
        out = subprocess.run([sys.executable, "-c", _OVERSHOOT, method, case, str(limit)],
                             check=True, capture_output=True, text=True)
        return json.loads(out.stdout.splitlines()[-1])

    walls = benchmark.pedantic(runs, rounds=1, iterations=1)
    over = [w - limit for w in walls]
    allowed = max(0.02 * limit, 0.3)
    benchmark.extra_info.update(walls_s=walls, worst_over_s=max(over), first_over_s=over[0])
    print(f"\ntime limit {limit:g} s, {method} on {case}: worst overshoot "
          f"{max(over):+.3f} s (first call {over[0]:+.3f} s, median "
          f"{float(np.median(over)):+.3f} s) over {len(walls)} runs; allowed {allowed:.2f} s")
    assert max(over) <= allowed
