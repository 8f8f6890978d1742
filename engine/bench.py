"""``invswarm bench``: a suite of methods over a suite of instances, with fixed seeds and a time
budget per run; writes ``results.json``, PNG plots and a Markdown report.

The default suite reproduces the seed paper's table on the steel case, measures scaling in
periods and products, the scenario benchmark, and the network model's cases; user instance
files get the compare table of each (see :mod:`invswarm.engine.compare`). The micro-benchmarks
of ``benchmarks/`` (kernels, driver, workers) run under pytest-benchmark; their JSON, when given,
is summarised in the report.
"""

from __future__ import annotations

import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import bench_contracts, bench_families
from .compare import compare, into, markdown
from .errors import InputError
from .jsonio import read_json, write_atomic, write_json_atomic
from .milp import MilpOptions
from .models import network, sfi
from .models.network import milp as net_milp
from .models.network import swarm as net_swarm
from .models.sfi import milp as sfi_milp
from .models.sfi import rounding as sfi_rounding
from .models.sfi import swarm as sfi_swarm
from .models.sfi.start import heuristic_plan
from .parallel import IslandOptions
from .pso import PsoOptions
from .solve import SolveOptions, load_instance

#: The seed paper's published figures (Lu, Ye & Shi 2025, result tables): its exact
#: algorithm's time (minutes), its PSO's gap to it and its PSO's time (minutes).
SEED_PAPER = {6: (6, 0.015, 0.5), 8: (21, 0.018, 1.1), 12: (90, 0.024, 1.5),
              24: (258, 0.048, 10.0)}


@dataclass(frozen=True)
class BenchOptions:
    """What the default suite runs.

    Attributes
    ----------
    seeds : int
        Seeds of our PSO per instance (0 .. seeds-1).
    baseline_seeds : int
        Seeds of the per-period baseline.
    swarm_time : float
        Seconds per swarm run (9.5: a swarm stops at the first check after its budget, and
        the seed table compares with a sixtieth of the seed's 10 minutes).
    pyswarms_iter : int
        Iterations of pyswarms (it has no time budget), 32 particles.
    exact_time : float
        Time limit of the exact solver on the seed's table.
    scaling_time : float
        Time limit of the exact solver in the scaling runs.
    seed_periods : tuple of int
        Horizons of the seed's table.
    periods, products : tuple of int
        Scaling in periods (3 x 3 products) and in products (12 periods).
    large_sfi : (int, int, int)
        Categories, products per category and periods of the large SFI instance.
    large_time, large_exact_time : float
        Our PSO's budget on it, and the exact solver's (its bound is the yardstick there).
    large_relax_time : float
        Budget of relax-and-round on it (the relaxation, then the local search).
    large_more_seeds : tuple of int
        Generator seeds of more instances of that size, where our PSO (``large_time``) is
        measured against the flow relaxation's bound, and against the exact solver's
        (``large_exact_time``) only where the flow bound leaves the goal open.
    network_large : (int, int, int)
        Firms, materials and periods of the large generated network.
    network_large_time, network_bound_time : float
        Our optimizer's budget on it, and the decomposed bound's.
    contracts : bench_contracts.ContractsBenchOptions
        The contracts experiment's demand paths, overtime allowances and scan.
    families : bench_families.FamiliesOptions
        The SFI families experiment's families, sizes, seeds, budgets and exact-run cache.
    """

    seeds: int = 5
    baseline_seeds: int = 3
    swarm_time: float = 9.5
    pyswarms_iter: int = 200
    exact_time: float = 600.0
    scaling_time: float = 30.0
    seed_periods: tuple = (6, 8, 12, 24)
    periods: tuple = (12, 26, 52, 104)
    products: tuple = (9, 30, 100, 300)
    large_sfi: tuple = (30, 10, 52)
    large_time: float = 60.0
    large_exact_time: float = 600.0
    large_relax_time: float = 180.0
    large_more_seeds: tuple = (2, 3, 4, 5, 6, 7)
    network_large: tuple = (50, 200, 26)
    network_large_time: float = 105.0
    network_bound_time: float = 120.0
    contracts: bench_contracts.ContractsBenchOptions = field(
        default_factory=bench_contracts.ContractsBenchOptions)
    families: bench_families.FamiliesOptions = field(
        default_factory=bench_families.FamiliesOptions)

    def __post_init__(self):
        for name in ("seeds", "baseline_seeds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("swarm_time", "exact_time", "scaling_time", "large_time",
                     "large_exact_time", "large_relax_time", "network_large_time",
                     "network_bound_time"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: must be > 0, got {getattr(self, name)}")


#: Time limit (s) of the linear relaxations solved in the scaling runs.
LP_TIME = 300.0

#: The goal on the large SFI instances: our PSO's cost at most this far (relative to the cost)
#: above the exact solver's bound after ``large_exact_time``.
LARGE_GOAL = 0.01

#: Products of the scaling runs as (categories, products per category).
SHAPES = {9: (3, 3), 30: (5, 6), 100: (10, 10), 300: (30, 10)}


def timed_pso(inst, seconds: float, seed: int, **kwargs) -> tuple[float, float]:
    """Cost and wall seconds of the bench's PSO run: 32 particles, ``seconds`` of wall time
    (``kwargs``: more arguments of ``solve_pso``; ``benchmarks/roundings.py`` runs the same
    call with other seeds)."""
    t0 = time.perf_counter()
    plan, _ = sfi_swarm.solve_pso(inst, PsoOptions(swarm_size=32, max_iter=None,
                                                   time_limit=seconds, seed=seed), **kwargs)
    return sfi.evaluate(inst, plan).cost, time.perf_counter() - t0


def _exact(inst, seconds: float, gap: float = 1e-4) -> dict:
    plan, out = sfi_milp.solve(inst, MilpOptions(time_limit=seconds, gap=gap))
    cost = sfi.evaluate(inst, plan).cost if plan is not None else math.nan
    return {"cost": cost, "bound": out.bound, "status": out.status, "wall_s": out.wall_s,
            "gap": (cost - out.bound) / cost if plan is not None else math.nan}


def seed_table(o: BenchOptions, log: Callable) -> list[dict]:
    """The seed paper's table on the steel case: exact, our PSO, the per-period baseline and
    pyswarms, each against the best plan known."""
    rows = []
    for T in o.seed_periods:
        inst = sfi.load_steel(T)
        ex = _exact(inst, o.exact_time)
        pso = [timed_pso(inst, o.swarm_time, s) for s in range(o.seeds)]
        base = []
        for s in range(o.baseline_seeds):
            t0 = time.perf_counter()
            plan, _ = sfi_swarm.solve_per_period(inst, PsoOptions(
                swarm_size=32, max_iter=None, time_limit=o.swarm_time, seed=s))
            base.append((sfi.evaluate(inst, plan).cost, time.perf_counter() - t0))
        t0 = time.perf_counter()
        plan, _ = sfi_swarm.solve_pyswarms(inst, PsoOptions(swarm_size=32,
                                                            max_iter=o.pyswarms_iter, seed=0))
        pysw = (sfi.evaluate(inst, plan).cost, time.perf_counter() - t0)
        best = min([ex["cost"]] + [c for c, _ in pso + base] + [pysw[0]])
        row = {"periods": T, "exact": ex, "best_known": best,
               "pso_gaps": [(c - best) / best for c, _ in pso],
               "pso_gaps_to_bound": [(c - ex["bound"]) / c for c, _ in pso],
               "pso_s": [s for _, s in pso],
               "per_period_gaps": [(c - best) / best for c, _ in base],
               "per_period_s": [s for _, s in base],
               "pyswarms_gap": (pysw[0] - best) / best, "pyswarms_s": pysw[1],
               "seed_exact_min": SEED_PAPER.get(T, (None,) * 3)[0],
               "seed_pso_gap": SEED_PAPER.get(T, (None,) * 3)[1],
               "seed_pso_min": SEED_PAPER.get(T, (None,) * 3)[2]}
        rows.append(row)
        log(f"seed table T={T}: exact {ex['wall_s']:.1f} s ({ex['status']}), PSO median "
            f"{100 * statistics.median(row['pso_gaps']):.3f} %, per-period median "
            f"{100 * statistics.median(row['per_period_gaps']):.3f} %, pyswarms "
            f"{100 * row['pyswarms_gap']:.2f} %")
    return rows


def scaling(o: BenchOptions, log: Callable) -> dict:
    """Exact and PSO against periods (3 x 3 products) and products (12 periods)."""
    out = {"periods": [], "products": []}
    for axis, values in (("periods", o.periods), ("products", o.products)):
        for v in values:
            T, (C, K) = (v, (3, 3)) if axis == "periods" else (12, SHAPES[v])
            inst = sfi.Instance.from_json(sfi.generate(periods=T, categories=C,
                                                       products_per_category=K, seed=1))
            ex = _exact(inst, o.scaling_time)
            cost, wall = timed_pso(inst, o.swarm_time, 0)
            best = min(cost, ex["cost"]) if math.isfinite(ex["cost"]) else cost
            # Where the exact solver's bound stands before its cuts and branching.
            lp = sfi_milp.relaxation_bound(inst, LP_TIME)
            row = {axis: v, "periods_": T, "products_": C * K, "exact": ex, "pso_cost": cost,
                   "pso_s": wall, "pso_gap_best": (cost - best) / best,
                   "pso_gap_bound": (cost - ex["bound"]) / cost
                   if math.isfinite(ex["bound"]) else math.nan,
                   "lp_bound": lp, "lp_gap_best": (best - lp) / best}
            out[axis].append(row)
            log(f"scaling {axis}={v}: exact {ex['status']} {ex['wall_s']:.1f} s gap "
                f"{100 * ex['gap']:.3f} %; PSO {wall:.1f} s, {100 * row['pso_gap_best']:.3f} % "
                f"above the best")
    return out


def large_sfi(o: BenchOptions, log: Callable) -> dict:
    """A large generated instance (default 30 categories x 10 products x 52 periods): our PSO
    against the constructive plan and against the exact solver's bound after its time
    limit."""
    C, K, T = o.large_sfi
    inst = sfi.Instance.from_json(sfi.generate(periods=T, categories=C,
                                               products_per_category=K, seed=1))
    start = sfi.evaluate(inst, heuristic_plan(inst)).cost
    cost, wall = timed_pso(inst, o.large_time, 0)
    t0 = time.perf_counter()
    plan, info = sfi_rounding.solve_relax_round(inst, o.large_relax_time)
    relax = {"cost": sfi.evaluate(inst, plan).cost, "wall_s": time.perf_counter() - t0,
             "time_limit": o.large_relax_time, "lp_bound": info["bound"],
             "lp_s": info["relaxation_s"], "rounded_cost": info["rounded_cost"],
             "start": info["start"]}
    ex = _exact(inst, o.large_exact_time)

    def above(c):
        return (c - ex["bound"]) / c if math.isfinite(ex["bound"]) else math.nan

    gap = above(cost)
    relax["gap_bound"] = above(relax["cost"])
    log(f"large SFI {C}x{K}x{T}: PSO {wall:.1f} s, {100 * (start - cost) / start:.2f} % below "
        f"the constructive plan, {100 * gap:.2f} % above the exact bound ({ex['status']}, "
        f"{ex['wall_s']:.0f} s); relax-and-round {relax['wall_s']:.0f} s, "
        f"{100 * relax['gap_bound']:.2f} % above it")
    return {"shape": [C, K, T], "constructive": start, "pso_cost": cost, "pso_s": wall,
            "exact": ex, "pso_gap_bound": gap, "relax_round": relax,
            "more": [_large_more(C, K, T, seed, o.large_time, o.large_exact_time, log)
                     for seed in o.large_more_seeds]}


def _large_more(C: int, K: int, T: int, seed: int, seconds: float, exact_seconds: float,
                log: Callable) -> dict:
    """Our PSO on another generated instance of the large size, against the optimum of the
    flow relaxation's LP (a relaxation of the exact model's, so no bound the exact solver
    reports is below it: the gap to it is at least the gap to the exact solver's bound).
    Where that gap exceeds the goal (:data:`LARGE_GOAL`), the flow bound cannot tell whether
    the goal, which is against the exact solver's bound, is met: the exact solver then runs
    for ``exact_seconds`` and the row has its bound (``exact``, ``pso_gap_exact_bound``)."""
    inst = sfi.Instance.from_json(sfi.generate(periods=T, categories=C,
                                               products_per_category=K, seed=seed))
    cost, wall = timed_pso(inst, seconds, 0)
    t0 = time.perf_counter()
    bound, _ = sfi_milp.relaxation(inst, None, rules=False)
    row = {"seed": seed, "pso_cost": cost, "pso_s": wall, "flow_bound": bound,
           "flow_bound_s": time.perf_counter() - t0, "pso_gap_flow_bound": (cost - bound) / cost,
           "exact": None, "pso_gap_exact_bound": None}
    text = (f"large SFI {C}x{K}x{T}, generator seed {seed}: PSO {wall:.1f} s, "
            f"{100 * row['pso_gap_flow_bound']:.2f} % above the flow relaxation's bound")
    if not row["pso_gap_flow_bound"] <= LARGE_GOAL:
        ex = _exact(inst, exact_seconds)
        row["exact"] = ex
        if math.isfinite(ex["bound"]):
            row["pso_gap_exact_bound"] = (cost - ex["bound"]) / cost
            text += (f", {100 * row['pso_gap_exact_bound']:.2f} % above the exact solver's "
                     f"({ex['status']}, {ex['wall_s']:.0f} s)")
    log(text)
    return row


def scenarios(o: BenchOptions, log: Callable) -> dict:
    """Evaluation cost against scenarios, and what a plan made for 32 scenarios saves against
    one made for their mean, on 32 held-out scenarios."""
    timing = []
    rng = np.random.default_rng(0)
    for S in (1, 2, 4, 8, 16, 32):
        inst = sfi.Instance.from_json(sfi.generate(periods=12, categories=3,
                                                   products_per_category=3, scenarios=S,
                                                   seed=3))
        prob = sfi_swarm.make_problem(inst)
        X = rng.random((256, prob.n_var))
        arrays = prob.decode_arrays(X)
        sfi.batch_costs(inst, *(a[:2] for a in arrays))  # compiled before timing
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            sfi.batch_costs(inst, *arrays)
            times.append(time.perf_counter() - t0)
        per_plan = statistics.median(times) / X.shape[0]
        cells = inst.n_periods * inst.n_products * S
        timing.append({"scenarios": S, "us_per_plan": 1e6 * per_plan,
                       "ns_per_cell": 1e9 * per_plan / cells})
    savings = []
    for err in (0.1, 0.2, 0.3):
        doc = sfi.generate(periods=12, categories=3, products_per_category=3, scenarios=64,
                           seed=5, forecast_error=err)
        sc = np.asarray(doc["orders"]["scenarios"])
        train, held = dict(doc), dict(doc)
        train["orders"] = {"scenarios": sc[:32].tolist(), "weights": [1 / 32] * 32}
        held["orders"] = {"scenarios": sc[32:].tolist(), "weights": [1 / 32] * 32}
        mean = dict(doc, orders=np.round(sc[:32].mean(axis=0)).tolist())
        held_inst = sfi.Instance.from_json(held)
        costs = {}
        for name, d in (("scenario_aware", train), ("mean_forecast", mean)):
            inst = sfi.Instance.from_json(d)
            plan, _ = sfi_swarm.solve_pso(inst, PsoOptions(swarm_size=32, max_iter=None,
                                                           time_limit=o.swarm_time, seed=0))
            costs[name] = sfi.evaluate(held_inst, plan).cost
        saving = (costs["mean_forecast"] - costs["scenario_aware"]) / costs["mean_forecast"]
        savings.append({"forecast_error": err, **costs, "saving": saving})
        log(f"scenarios, error {err:.0%}: the scenario-aware plan saves {100 * saving:.2f} % "
            f"on held-out scenarios")
    return {"timing": timing, "savings": savings}


def network_cases(o: BenchOptions, log: Callable) -> dict:
    """The shipped electronics case (every method) and a 50 x 200 x 26 generated network."""
    inst = network.electronics_case()
    rows = compare(inst, ["exact", "pso", "greedy", "none"],
                   SolveOptions(time_limit=o.exact_time, gap=0.0), list(range(o.seeds)),
                   o.swarm_time)
    pso = [r["gap_exact"] for r in rows if r["method"] == "pso"]
    log(f"network electronics: PSO median gap {100 * statistics.median(pso):.3f} %")
    F, M, T = o.network_large
    big = network.generate(firms=F, materials=M, periods=T, density=0.1, seed=1)
    greedy = network.evaluate(big, net_swarm.solve_greedy(big)[0]).cost
    t0 = time.perf_counter()
    plan, info = net_swarm.solve_pso(big, PsoOptions(swarm_size=32, max_iter=None,
                                                     time_limit=o.network_large_time, seed=0),
                                     IslandOptions(islands=2, n_jobs=2))
    wall = time.perf_counter() - t0
    cost = network.evaluate(big, plan).cost
    bound, n_opt, bound_s = net_milp.decomposed_bound(big, o.network_bound_time)
    large = {"shape": [F, M, T], "greedy": greedy, "pso": cost, "wall_s": wall,
             "swarm_phase": info.get("pso_cost"), "bound": bound,
             "bound_materials_optimal": n_opt, "bound_s": bound_s}
    log(f"network {F}x{M}x{T}: {wall:.1f} s, {100 * (greedy - cost) / greedy:.2f} % below "
        f"greedy, {100 * (cost - bound) / cost:.2f} % above the decomposed bound")
    return {"electronics": [{k: v for k, v in r.items() if k != "firms"} for r in rows],
            "electronics_table": markdown(inst, rows, "invswarm bench"), "large": large}


def user_instances(paths: list[str], methods: list[str], o: BenchOptions,
                   log: Callable) -> list[dict]:
    """The compare table of each user instance file."""
    out = []
    for path in paths:
        inst = load_instance(read_json(path))
        rows = compare(inst, methods, SolveOptions(time_limit=o.exact_time, gap=1e-4),
                       list(range(o.seeds)), o.swarm_time)
        out.append({"file": path, "rows": rows,
                    "table": markdown(inst, rows, f"invswarm bench --instances {path}")})
        log(f"{path}: done")
    return out


# ---------------------------------------------------------------------------- the report
def _lp_note(res: dict) -> str:
    """What the scaling runs say about the exact solver's bound before its cuts."""
    gaps = [r["lp_gap_best"] for a in ("periods", "products")
            for r in res.get("scaling", {}).get(a, []) if "lp_gap_best" in r]
    if not gaps:
        return ""
    return (f" On the scaling instances the MILP's linear relaxation lies {_pct(min(gaps))} to "
            f"{_pct(max(gaps))} below the best plan known.")


def _relax_note(r: dict) -> str:
    """Relax-and-round on the large instance, beside our PSO."""
    x = r.get("relax_round")
    if not x:
        return ""
    rounded = (f"rounded to a plan of {x['rounded_cost']:,.2f}, which the local search took "
               if x["start"] == "relaxation" else
               "not solved in time, so the local search started from the constructive plan "
               "and took it ")
    return (f" Relax-and-round (`--method relax-round`, {x['time_limit']:g} s): the relaxation "
            f"({_num(x['lp_bound']):,.2f}, solved in {x['lp_s']:.0f} s) {rounded}to "
            f"{x['cost']:,.2f} in {x['wall_s']:.0f} s in all, {_pct(x['gap_bound'])} above the "
            "exact solver's bound.")


def _more_large(r: dict) -> list[str]:
    """Lines of the report on the other generated instances of the large size (``r``: the
    result of :func:`large_sfi`)."""
    rows = r.get("more", [])
    if not rows:
        return []
    C, K, T = r["shape"]
    exact, flow = _num(r["exact"]["bound"]), _num(r.get("relax_round", {}).get("lp_bound"))
    apart = (f" (on seed 1 the exact solver's bound is {_pct((exact - flow) / exact)} above "
             "it)" if math.isfinite(exact) and math.isfinite(flow) else "")
    L = [f"Other generated instances of {C} x {K} x {T} (generator seeds below; the instance "
         "above is seed 1), our PSO with the same budget, against the optimum of the flow "
         "relaxation's LP. That LP relaxes the exact model's, so the exact solver's bound is "
         f"never below it and the gap to it is at least the gap to that bound{apart}. Where our "
         f"plan is more than {100 * LARGE_GOAL:g} % above the flow bound, that bound cannot "
         "tell whether the goal is met, so the exact solver runs as on seed 1 and its bound "
         "after the time limit is the yardstick.", "",
         "| generator seed | PSO cost | PSO s | flow bound | above the flow bound "
         "| exact solver's bound | above it |",
         "|---:|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        ex = x.get("exact") or {}
        exact_bound = (f"{_num(ex['bound']):,.2f} ({ex['status'].lower()}, "
                       f"{ex['wall_s']:.0f} s)" if ex else "not run")
        L.append(f"| {x['seed']} | {x['pso_cost']:,.2f} | {x['pso_s']:.1f} | "
                 f"{_num(x['flow_bound']):,.2f} | {_pct(x['pso_gap_flow_bound'])} | "
                 f"{exact_bound} | {_pct(x.get('pso_gap_exact_bound'))} |")
    return L + ["", f"{_within_goal(rows)} of {len(rows)} within {100 * LARGE_GOAL:g} % of the "
                "exact solver's bound (of the flow bound where it was not run).", ""]


def _within_goal(rows: list) -> int:
    """How many of the other large instances end within the goal (:data:`LARGE_GOAL`) of the
    flow bound or, where the exact solver was run, of its bound."""
    return sum(_num(x["pso_gap_flow_bound"]) <= LARGE_GOAL
               or _num(x.get("pso_gap_exact_bound")) <= LARGE_GOAL for x in rows)


def _pct(x) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.3f} %"


def _num(x) -> float:
    return math.nan if x is None else float(x)


def _med(xs) -> float:
    return statistics.median(xs) if xs else math.nan


def report(res: dict, command: str) -> str:
    """The Markdown report of a bench run."""
    m = res["machine"]
    L = ["# Benchmarks", "",
         f"Generated by `{command}` on {res['date']}, {_cpus_text(m)} ({m['machine']}, "
         f"{m['system']}, Python {m['python']}); {res['total_s'] / 60:.1f} minutes. Every "
         "figure below is from this run (`results.json` beside the plots holds them all). "
         "The machine is shared: repeated timings vary by about 20 %.", ""]
    if "seed_table" in res:
        L += ["## The seed paper's table, side by side", "",
              "Steel case (3 categories x 3 products). Gaps are to the best plan known in this "
              "run (the exact solver's, proven within 1e-4). Our PSO and the baselines get "
              f"{res['options']['swarm_time']:g} s per run; PSO: median over seeds "
              f"0-{res['options']['seeds'] - 1}; per-period (the seed's Algorithm A1): median "
              f"over seeds 0-{res['options']['baseline_seeds'] - 1}; pyswarms: "
              f"{res['options']['pyswarms_iter']} iterations of 32 particles, seed 0, its time "
              "in `results.json`. The seed paper's figures "
              "are its own published ones (its PSO against its exact algorithm).", "",
              "| periods | exact: time | exact: status | seed's exact | exact speed-up | our "
              "PSO: gap | our PSO: gap to bound | per-period PSO: gap | pyswarms: gap | seed's "
              "PSO: gap, time |",
              "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in res["seed_table"]:
            ex = r["exact"]
            seed_ex = (f"{r['seed_exact_min']} min | "
                       f"x{60 * r['seed_exact_min'] / ex['wall_s']:,.0f}"
                       if r["seed_exact_min"] else " | ")
            seed_pso = (f"{100 * r['seed_pso_gap']:.1f} %, {r['seed_pso_min']:g} min"
                        if r["seed_pso_gap"] else "")
            L.append(f"| {r['periods']} | {ex['wall_s']:.1f} s | {ex['status']} | {seed_ex} | "
                     f"{_pct(_med(r['pso_gaps']))} | {_pct(_med(r['pso_gaps_to_bound']))} | "
                     f"{_pct(_med(r['per_period_gaps']))} | {_pct(r['pyswarms_gap'])} | "
                     f"{seed_pso} |")
        L += ["", "Where a method loses:", ""]
        for r in res["seed_table"]:
            ex = r["exact"]
            if ex["status"] == "Optimal" and ex["wall_s"] < max(r["pso_s"]) \
                    and _med(r["pso_gaps"]) > 0:
                L.append(f"- {r['periods']} periods: the exact solver proves the optimum in "
                         f"{ex['wall_s']:.1f} s, less than our PSO's {max(r['pso_s']):.1f} s, "
                         f"and PSO ends {_pct(_med(r['pso_gaps']))} above it: on this case "
                         "PSO loses on both counts.")
        L.append(f"- pyswarms on the same problem and decoder ends "
                 f"{_pct(min(r['pyswarms_gap'] for r in res['seed_table']))} to "
                 f"{_pct(max(r['pyswarms_gap'] for r in res['seed_table']))} above the best; "
                 "the per-period baseline "
                 f"{_pct(min(_med(r['per_period_gaps']) for r in res['seed_table']))} to "
                 f"{_pct(max(_med(r['per_period_gaps']) for r in res['seed_table']))}.")
        L += [""]
    if "scaling" in res:
        L += ["## Scaling", "",
              f"Generated instances (seed 1). Exact: time limit "
              f"{res['options']['scaling_time']:g} s, gap 1e-4; our PSO: "
              f"{res['options']['swarm_time']:g} s, seed 0. Gaps of PSO are to the better of "
              "its plan and the exact solver's, and to the exact solver's bound. The last "
              "column is how far the MILP's linear relaxation (binaries in [0, 1]) lies below "
              "the best plan: the bound the exact solver holds before its cuts and branching "
              "(`sfi.milp.relaxation_bound`).", "",
              "![scaling](bench/scaling.png)", ""]
        for axis in ("periods", "products"):
            L += [f"| {axis} | exact: status | exact: time | exact: final gap | PSO: time | "
                  "PSO: gap to best | PSO: gap to bound | LP relaxation: below best |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|"]
            for r in res["scaling"][axis]:
                ex = r["exact"]
                L.append(f"| {r[axis]} | {ex['status']} | {ex['wall_s']:.1f} s | "
                         f"{_pct(ex['gap'])} | {r['pso_s']:.1f} s | {_pct(r['pso_gap_best'])} "
                         f"| {_pct(r['pso_gap_bound'])} | {_pct(r.get('lp_gap_best'))} |")
            L.append("")
        lose = [(a, r) for a in ("periods", "products") for r in res["scaling"][a]
                if r["pso_gap_best"] > 1e-9]
        win = [(a, r) for a in ("periods", "products") for r in res["scaling"][a]
               if r["pso_gap_best"] <= 1e-9 and r["exact"]["status"] != "Optimal"]
        L.append("Where a method loses: PSO ends above the exact solver's plan at "
                 + (", ".join(f"{r[a]} {a}" for a, r in lose) or "no size")
                 + "; the exact solver, stopped by its limit, ends above PSO's plan at "
                 + (", ".join(f"{r[a]} {a}" for a, r in win) or "no size") + ".")
        L.append("")
    if "large_sfi" in res:
        r = res["large_sfi"]
        below = (r["constructive"] - r["pso_cost"]) / r["constructive"]
        C, K, T = r["shape"]
        ex = r["exact"]
        found = (f"its plan costs {_num(ex['cost']):,.2f}" if math.isfinite(_num(ex["cost"]))
                 else "it found no plan")
        L += [f"Large SFI instance, {C} categories x {K} products x {T} periods: our PSO in "
              f"{r['pso_s']:.1f} s costs {r['pso_cost']:,.2f}, {100 * below:.2f} % below "
              f"the constructive plan, one of the two it is seeded with (the other: the "
              f"rounded relaxation, solved in windows of periods in parallel, docs/pso.md). "
              f"The exact solver, given "
              f"{res['options']['large_exact_time']:g} s, stopped after "
              f"{ex['wall_s']:.0f} s ({ex['status']}), bounds the optimum at "
              f"{_num(ex['bound']):,.2f} and {found}: our plan is "
              f"{_pct(r['pso_gap_bound'])} above that bound (goal: 1 %)." + _lp_note(res)
              + _relax_note(r), ""]
        L += _more_large(r)
    if "scenarios" in res:
        s = res["scenarios"]
        L += ["## Scenarios", "",
              "Evaluation cost of the batched kernel against the number of order scenarios "
              "(12 periods, 3 x 3 products, 256 random plans, median of 5 warm runs on the "
              "machine's threads):", "", "![scenarios](bench/scenarios.png)", "",
              "| scenarios | µs per plan | ns per period-product-scenario cell |",
              "|---:|---:|---:|"]
        for r in s["timing"]:
            L.append(f"| {r['scenarios']} | {r['us_per_plan']:.2f} | {r['ns_per_cell']:.2f} |")
        L += ["", "A plan made for 32 order scenarios against a plan made for their mean "
              "forecast, both by our PSO in the same time, both scored on 32 held-out "
              "scenarios drawn from the same forecast:", "",
              "| forecast error | scenario-aware plan | mean-forecast plan | saving |",
              "|---:|---:|---:|---:|"]
        for r in s["savings"]:
            L.append(f"| {100 * r['forecast_error']:.0f} % | {r['scenario_aware']:,.0f} | "
                     f"{r['mean_forecast']:,.0f} | {100 * r['saving']:.2f} % |")
        L.append("")
    if "network" in res:
        n = res["network"]
        big = n["large"]
        F, M, T = big["shape"]
        L += ["## Network model", "", "Shipped electronics case, every method "
              "(exact with gap 0):", "", n["electronics_table"],
              f"Generated network, {F} firms x {M} materials x {T} periods (density 0.1, seed "
              f"1): our optimizer (2 islands on 2 workers, then local search) in "
              f"{big['wall_s']:.1f} s (swarm phase: {big['swarm_phase']:,.2f}), cost "
              f"{big['pso']:,.2f}, {100 * (big['greedy'] - big['pso']) / big['greedy']:.2f} % "
              f"below the greedy plan ({big['greedy']:,.2f}). One MILP per material without "
              f"the fixed link costs bounds the optimum at {big['bound']:,.2f} "
              f"({big['bound_materials_optimal']} materials solved to optimality in "
              f"{big['bound_s']:.0f} s; the others give their bound at their time limit, so "
              "this bound moves from run to run): "
              f"{100 * (big['pso'] - big['bound']) / big['pso']:.2f} % below our plan. Where we "
              "lose: the whole MILP is not attempted at this size, "
              "and the swarm phase alone barely improves on the greedy particle; the local "
              "search does most of the work.", ""]
    if "contracts" in res:
        L += bench_contracts.report_section(res["contracts"])
    if "families" in res:
        L += bench_families.report_section(res["families"])
    for u in res.get("user", []):
        L += [f"## {u['file']}", "", u["table"]]
    if res.get("micro"):
        L += ["## Micro-benchmarks (pytest-benchmark, `benchmarks/`)", "",
              "| benchmark | figures |", "|---|---|"]
        for b in res["micro"]:
            figs = ", ".join(f"{k} {v:,.4g}" if isinstance(v, (int, float)) else f"{k} {v}"
                             for k, v in b["extra_info"].items()
                             if not isinstance(v, (list, dict)))
            L.append(f"| {b['name']} | {figs} |")
        L.append("")
    return "\n".join(L) + "\n"


def headline(res: dict, report_link: str = "docs/benchmarks.md") -> str:
    """The README's headline figures, from a bench run's results."""
    L = [f"From `make bench` on {res['date']} ({_cpus_text(res['machine'])}, shared machine); "
         f"the full report, with where each method loses: [{report_link}]({report_link}).", ""]
    if "seed_table" in res:
        L += ["| steel case, periods | exact (HiGHS) | seed paper's exact | our PSO, "
              f"{res['options']['swarm_time']:g} s (median gap) | per-period PSO (seed's A1) | "
              "seed paper's PSO |", "|---|---|---|---|---|---|"]
        for r in res["seed_table"]:
            ex = r["exact"]
            seed_ex = f"{r['seed_exact_min']} min" if r["seed_exact_min"] else ""
            seed_pso = (f"{100 * r['seed_pso_gap']:.1f} % in {r['seed_pso_min']:g} min"
                        if r["seed_pso_gap"] else "")
            L.append(f"| {r['periods']} | {ex['wall_s']:.1f} s, {ex['status'].lower()} | "
                     f"{seed_ex} | {_pct(_med(r['pso_gaps']))} | "
                     f"{_pct(_med(r['per_period_gaps']))} | {seed_pso} |")
        L.append("")
    if "large_sfi" in res:
        r = res["large_sfi"]
        C, K, T = r["shape"]
        more = "; ".join(f"seed {x['seed']}: {_pct(x['pso_gap_flow_bound'])}"
                         + (f" ({_pct(x['pso_gap_exact_bound'])} above the exact solver's "
                            "bound)" if x.get("pso_gap_exact_bound") is not None else "")
                         for x in r.get("more", []))
        L.append("")
        L.append(f"Generated SFI instance of {C} categories x {K} products x {T} periods "
                 f"(generator seed 1): our PSO in {r['pso_s']:.0f} s ends "
                 f"{_pct(r['pso_gap_bound'])} above the exact solver's bound after "
                 f"{res['options']['large_exact_time']:g} s (goal: 1 %)."
                 + (f" Other seeds, against the flow relaxation's bound (never above the exact "
                    "solver's; the exact solver runs where it leaves the goal open): "
                    f"{more} ({_within_goal(r['more'])} of {len(r['more'])} within 1 %)."
                    if more else ""))
    if "scenarios" in res:
        sv = res["scenarios"]["savings"]
        L.append("")
        L.append(f"A plan made for 32 order scenarios saves {100 * sv[0]['saving']:.1f} to "
                 f"{100 * sv[-1]['saving']:.1f} % against one made for their mean forecast, "
                 f"on held-out scenarios (forecast error {100 * sv[0]['forecast_error']:.0f} to "
                 f"{100 * sv[-1]['forecast_error']:.0f} %).")
    if "network" in res:
        rows = res["network"]["electronics"]
        pso = [r["gap_exact"] for r in rows if r["method"] == "pso"]
        greedy = next(r for r in rows if r["method"] == "greedy")
        ex = next(r for r in rows if r["method"] == "exact")
        big = res["network"]["large"]
        F, M, T = big["shape"]
        L.append("")
        L.append(f"Network model, shipped electronics case: exact optimum in "
                 f"{ex['wall_s']:.1f} s; our PSO ({res['options']['swarm_time']:g} s) within "
                 f"{_pct(_med(pso))} (median of {len(pso)} seeds), the greedy hold-back rule "
                 f"{_pct(greedy['gap_exact'])} above. Generated network of {F} firms x {M} "
                 f"materials x {T} periods: our optimizer in {big['wall_s']:.0f} s, "
                 f"{100 * (big['greedy'] - big['pso']) / big['greedy']:.2f} % below the greedy "
                 f"plan, {100 * (big['pso'] - big['bound']) / big['pso']:.2f} % above a "
                 "decomposed MILP bound.")
    micro = {b["name"]: b["extra_info"] for b in res.get("micro", [])}
    tp = micro.get("test_throughput_against_pyswarms")
    if tp:
        L.append("")
        L.append(f"Fused PSO: {tp['fused_evals_per_s']:,.0f} evaluations per second at 24 "
                 f"periods, {tp['ratio']:.1f} times pyswarms driving the same kernel and "
                 f"{tp['ratio_numpy']:.0f} times pyswarms with the cost in NumPy."
                 + (f" Decoding and costing the swarm alone runs at "
                    f"{tp['evaluate_only_evals_per_s']:,.0f} per second: a driver costing "
                    f"nothing would be {tp['ratio_ceiling']:.1f} times pyswarms."
                    if "ratio_ceiling" in tp else "")
                 + (" Against pyswarms driving the same kernel at 6, 8 and 12 periods: "
                    + ", ".join(f"{tp[f'ratio_T{T}']:.1f}" for T in (6, 8, 12))
                    + " times (the work of both per evaluation grows with the horizon)."
                    if "ratio_T6" in tp else ""))
    tw = micro.get("test_two_workers_against_one")
    if tw:
        dask = micro.get("test_two_dask_workers_against_one")
        ratios = tw.get("speedups") or []
        L.append("")
        L.append(f"Two workers against one (loky; 2 islands of 64 particles, 1,000 iterations "
                 f"each, the same budget either way): {tw['speedup']:.2f} times the evaluations "
                 "per second (goal: 1.8)"
                 + (f"; the ratios of the {len(ratios)} pairs of runs ranged from "
                    f"{min(ratios):.2f} to {max(ratios):.2f}" if ratios else "")
                 + f". One process with two Numba threads: "
                 f"{tw['one_process_two_threads'] / tw['one_worker']:.2f} times one worker"
                 + (f"; two dask workers: {dask['speedup']:.2f} times one." if dask else "."))
    k = micro.get("test_kernel_throughput_against_reference[steel-24]")
    if k:
        L.append("")
        L.append(f"SFI kernel: {k['kernel_ns_per_cell']:.0f} ns per plan-period-product "
                 f"cell, {k['speedup']:,.0f} times the plain reference, "
                 f"{k['speedup_numpy']:.0f} times the NumPy version.")
    return "\n".join(L) + "\n"


def plots(res: dict, out_dir: Path) -> None:
    """PNG plots of the scaling and scenario runs (written atomically)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def save(fig, name):
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        write_atomic(out_dir / name, buf.getvalue())

    if "scaling" in res:
        fig, axes = plt.subplots(2, 2, figsize=(11, 7))
        for col, axis in enumerate(("periods", "products")):
            rows = res["scaling"][axis]
            x = [r[axis] for r in rows]
            axes[0, col].plot(x, [r["exact"]["wall_s"] for r in rows], "o-", label="exact")
            axes[0, col].plot(x, [r["pso_s"] for r in rows], "s-", label="our PSO")
            axes[0, col].set_ylabel("seconds")
            # a gap is missing (None once saved) where the exact solver found no plan or bound
            axes[1, col].plot(x, [100 * _num(r["exact"]["gap"]) for r in rows], "o-",
                              label="exact: final gap")
            axes[1, col].plot(x, [100 * _num(r["pso_gap_bound"]) for r in rows], "s-",
                              label="PSO: gap to bound")
            axes[1, col].set_ylabel("%")
            for ax in axes[:, col]:
                ax.set_xlabel(axis)
                ax.set_xscale("log")
                ax.legend()
        save(fig, "scaling.png")
    if "scenarios" in res:
        t = res["scenarios"]["timing"]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([r["scenarios"] for r in t], [r["us_per_plan"] for r in t], "o-")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("scenarios")
        ax.set_ylabel("µs per plan")
        ax.set_title("kernel cost against scenarios")
        save(fig, "scenarios.png")
    if "contracts" in res:
        bench_contracts.plot(res["contracts"], save)


def run_suite(o: BenchOptions, *, experiments: tuple[str, ...], instances: list[str] = (),
              methods: list[str] = ("exact", "pso"), micro: str | None = None,
              out_dir: str = "docs/bench", report_path: str | None = "docs/benchmarks.md",
              readme: str | None = None, command: str = "invswarm bench",
              log: Callable = print, merge: bool = False) -> dict:
    """Run the experiments (and the user's instances), write ``results.json``, the plots, the
    report and (when given) the README's headline section; returns the results. ``merge``:
    keep everything else of the ``results.json`` already in ``out_dir`` (its date and
    machine included), replacing only the experiments run and the micro-benchmarks named;
    each experiment run then records its own command and date."""
    t0 = time.perf_counter()
    from .models.network.problem import warmup as net_warmup
    from .models.sfi.warmup import warmup as sfi_warmup

    sfi_warmup()
    net_warmup()
    runners = {"seed_table": seed_table, "scaling": scaling, "large_sfi": large_sfi,
               "scenarios": scenarios, "network": network_cases,
               "contracts": lambda o, log: bench_contracts.run(log, o.contracts),
               "families": lambda o, log: bench_families.run(o.families, log)}
    res: dict = {"date": time.strftime("%Y-%m-%d"), "command": command, "options": asdict(o),
                 "machine": {"cpus": _cpus(), "cpu": _cpu_model(), "machine": platform.machine(),
                             "system": platform.system(), "python": platform.python_version()}}
    for name in experiments:
        t1 = time.perf_counter()
        res[name] = runners[name](o, log)
        if merge:
            res[name]["generated"] = {"command": command, "date": res["date"],
                                      "wall_s": time.perf_counter() - t1}
    if instances:
        res["user"] = user_instances(list(instances), list(methods), o, log)
    if micro:
        res["micro"] = [{"name": b["name"], "extra_info": b.get("extra_info", {})}
                        for b in read_json(micro).get("benchmarks", [])]
    res["total_s"] = time.perf_counter() - t0
    old = Path(out_dir) / "results.json"
    if merge and old.exists():
        new, res = res, read_json(old)
        res.setdefault("command", _report_command(report_path))
        for name in (*experiments, *(["user"] if instances else [])):
            res[name] = new[name]
        if micro:
            fresh = {b["name"] for b in new["micro"]}
            res["micro"] = [b for b in res.get("micro", []) if b["name"] not in fresh] \
                + new["micro"]
    write_outputs(res, out_dir, report_path, readme, command)
    return res


def write_outputs(res: dict, out_dir: str, report_path: str | None, readme: str | None,
                  command: str) -> None:
    """``results.json``, plots, report and README section of a bench run's results."""
    # rendered before anything is written, so that results that cannot be rendered leave
    # the earlier outputs as they were
    text, head = report(res, res.get("command", command)), headline(res)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots(res, out)
    write_json_atomic(out / "results.json", _jsonable(res))
    if report_path:
        write_atomic(report_path, text)
    if readme:
        into(readme, head, begin="<!-- bench:begin -->", end="<!-- bench:end -->")


EXPERIMENTS = ("seed_table", "scaling", "large_sfi", "scenarios", "network", "contracts",
               "families")
#: What ``all`` runs. ``families`` gives the exact solver 600 s on each of its 100 instances
#: (about 17 hours before its cache fills), so it runs on its own: ``make bench-families``.
DEFAULT_EXPERIMENTS = EXPERIMENTS[:-1]


def _report_command(report_path: str | None) -> str:
    """The command an existing report names as its generator (results saved before the
    command was recorded): what a merged report's header keeps."""
    import re

    try:
        m = re.search(r"Generated by `([^`]+)`", Path(report_path).read_text())
    except (OSError, TypeError):
        m = None
    return m.group(1) if m else "invswarm bench"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _cpus_text(machine: dict) -> str:
    """"2 CPUs of <model>" (results saved before the model was recorded: "2 CPUs")."""
    return f"{machine['cpus']} CPUs" + (f" of {machine['cpu']}" if "cpu" in machine else "")


def _cpu_model() -> str:
    """The processor's model name: the timings depend on it more than on anything else here."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown processor"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def main_args(args) -> int:
    """The ``invswarm bench`` command (``--from``: rewrite the outputs of an earlier run)."""
    command = args.command_line or "invswarm bench " + " ".join(sys.argv[2:])
    if args.from_results:
        res = read_json(args.from_results)
        if not isinstance(res, dict) or not isinstance(res.get("machine"), dict):
            raise InputError("from", "is not the results.json of an invswarm bench run")
        try:
            write_outputs(res, args.out_dir, args.report, args.readme, command)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError("from", f"is not a complete results.json of an invswarm bench "
                                     f"run ({type(exc).__name__}: {exc})") from None
        return 0
    o = BenchOptions(seeds=args.seeds, swarm_time=args.swarm_time,
                     exact_time=args.exact_time)
    experiments = DEFAULT_EXPERIMENTS if args.experiments == "all" else tuple(
        e.strip() for e in args.experiments.split(",") if e.strip())
    for e in experiments:
        if e not in EXPERIMENTS:
            raise InputError("experiments", f"unknown experiment {e!r} (choose from "
                                            f"{', '.join(EXPERIMENTS)} or 'all')")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    run_suite(o, experiments=experiments, instances=args.instances or [], methods=methods,
              micro=args.micro, out_dir=args.out_dir, report_path=args.report,
              readme=args.readme, command=command,
              log=lambda s: print(s, file=sys.stderr, flush=True),
              merge=bool(getattr(args, "merge", False)))
    return 0


__all__ = ["EXPERIMENTS", "BenchOptions", "run_suite"]
