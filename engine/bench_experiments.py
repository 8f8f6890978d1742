"""The experiments of ``invswarm bench`` on the SFI and network models (the contracts' and the
SFI families' are ``bench_contracts.py`` and ``bench_families.py``): what each runs, with fixed
seeds and a time budget per run; each returns its results as a dict for the report
(``bench_report.py``).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import bench_contracts, bench_families, bench_peers
from .compare import compare, markdown
from .jsonio import read_json
from .milp import MilpOptions
from .models import sfi
from .models.sfi import milp as sfi_milp
from .models.sfi import rounding as sfi_rounding
from .models.sfi import swarm as sfi_swarm
from .models.sfi.start import heuristic_plan
from .pso import PsoOptions
from .solve import SolveOptions, load_instance, solve

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
    network_large_time : float
        The budget of our swarm optimizer and of the decomposition by material on it.
    network_cluster : (int, int, int)
        Firms, materials and periods of the network solved on a local dask cluster.
    network_cluster_time : float
        The decomposition's budget on it.
    network_workers : int
        Workers of the large-network runs (loky for the first, dask for the cluster).
    contracts : bench_contracts.ContractsBenchOptions
        The contracts experiment's demand paths, overtime allowances and scan.
    peers : bench_peers.PeersOptions
        Our PSO against other libraries' optimizers at equal budgets: families, size, seeds.
    families : bench_families.FamiliesOptions
        The SFI families experiment's families, sizes, seeds, budgets and exact-run cache.
    """

    seeds: int = 5
    baseline_seeds: int = 3
    swarm_time: float = 9.5
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
    network_large_time: float = 120.0
    network_cluster: tuple = (100, 1000, 52)
    network_cluster_time: float = 900.0
    network_workers: int = 2
    contracts: bench_contracts.ContractsBenchOptions = field(
        default_factory=bench_contracts.ContractsBenchOptions)
    peers: bench_peers.PeersOptions = field(default_factory=bench_peers.PeersOptions)
    families: bench_families.FamiliesOptions = field(
        default_factory=bench_families.FamiliesOptions)

    def __post_init__(self):
        for name in ("seeds", "baseline_seeds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        for name in ("swarm_time", "exact_time", "scaling_time", "large_time",
                     "large_exact_time", "large_relax_time", "network_large_time",
                     "network_cluster_time", "network_workers"):
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


def seed_table(o: BenchOptions, log: Callable) -> dict:
    """The seed paper's table on the steel case: exact, our PSO, the per-period baseline and
    pyswarms, each against the best plan known (``rows``, one per horizon)."""
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
        r = solve(inst, "pyswarms", SolveOptions(time_limit=o.swarm_time, swarm_size=32, seed=0))
        pysw = (r.cost, r.wall_s)
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
    return {"rows": rows}


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
