"""SFI plans by particle swarms: our PSO (islands plus local-search polish), the seed paper's
per-period PSO (its Algorithm A1) and pyswarms on the same problem, as baselines."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ...parallel import IslandOptions, run_islands
from ...pso import PsoOptions
from ...pso import run as run_pso
from .instance import Instance
from .plan import Plan
from .problem import SfiProblem
from .search import heuristic_plan, local_search


def make_problem(inst: Instance) -> SfiProblem:
    """The SFI problem of an instance (importable, so that workers can build it)."""
    return SfiProblem(inst)


def solve_pso(inst: Instance, opts: PsoOptions, iopts: IslandOptions | None = None, *,
              polish_s: float | None = None, warm_start: Plan | None = None,
              callback=None) -> tuple[Plan, dict]:
    """PSO islands from seeded swarms, then a local-search polish of the best plan.

    The swarms start from random particles plus the constructive plan
    (:func:`heuristic_plan`) and the warm start, if any. The polish runs until no single or
    compound change improves (``polish_s`` seconds at most; default: unbounded with an
    iteration budget, a third of ``opts.time_limit`` otherwise, which then shortens the swarm's
    share accordingly).

    Returns the plan and figures of the run (``pso_cost``, ``nit``, ``nfev``, ``pso_s``,
    ``polish_s``, ``history``).
    """
    iopts = iopts or IslandOptions(islands=1)
    problem = make_problem(inst)
    seeds = [problem.encode(heuristic_plan(inst))]
    if warm_start is not None:
        seeds.append(problem.encode(warm_start))
    if polish_s is None and opts.time_limit is not None:
        polish_s = opts.time_limit / 3
    swarm_opts = opts if opts.time_limit is None else replace(
        opts, time_limit=max(1e-3, opts.time_limit - (polish_s or 0.0)))
    t0 = time.perf_counter()
    if iopts.islands == 1 and iopts.n_jobs == 1:
        out, _ = run_pso(problem, swarm_opts, seeds=seeds, callback=callback)
    else:
        out = run_islands(make_problem, inst, swarm_opts, iopts, seeds=seeds, callback=callback)
    t1 = time.perf_counter()
    best = problem.decode(out.x)
    candidates = [best] + ([warm_start] if warm_start is not None else [])
    plan, cost = min((local_search(inst, p, time_budget=polish_s if polish_s is not None
                                   else float("inf")) for p in candidates[:1]),
                     key=lambda pc: pc[1])
    return plan, {"pso_cost": out.cost, "nit": out.nit, "nfev": out.nfev, "pso_s": t1 - t0,
                  "polish_s": time.perf_counter() - t1, "message": out.message,
                  "history": out.history, "cost": cost}


class _PeriodProblem:
    """One period's decisions of the SFI problem, the other periods fixed in a base particle."""

    def __init__(self, full: SfiProblem, base: np.ndarray, t: int):
        T = full.inst.n_periods
        self.full = full
        self.base = base
        # Every block is laid out row-major over (row, period): period t is every T-th entry.
        self.idx = np.arange(t, full.n_var, T)
        self.n_var = self.idx.size

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        full = np.repeat(self.base[None], X.shape[0], axis=0)
        full[:, self.idx] = X
        return self.full.evaluate(full)


def solve_per_period(inst: Instance, opts: PsoOptions) -> tuple[Plan, dict]:
    """The seed paper's Algorithm A1: one PSO per period, in sequence, each period myopic.

    Period t is optimised on the instance cut after t (its leftovers disposed, its backlog
    lost, as if the horizon ended there), with the periods before it fixed at their chosen
    decisions. ``opts`` applies to each period's swarm; a ``time_limit`` is split evenly over
    the periods.
    """
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    plan = Plan(np.zeros((C, T), np.int64), np.zeros((C, T)), np.zeros((P, T), np.int64),
                np.zeros((P, T)))
    per = opts if opts.time_limit is None else replace(opts, time_limit=opts.time_limit / T)
    t0 = time.perf_counter()
    nfev = 0
    for t in range(T):
        head = make_problem(inst.truncated(t + 1))
        cut = slice(0, t + 1)
        so_far = Plan(plan.pdp[:, cut], plan.generic[:, cut], plan.codp[:, cut],
                      plan.dedicated[:, cut])
        if t == 0:
            base = np.zeros(head.n_var)
        else:
            # The decided periods, with period t as yet empty (it is overwritten).
            base = head.encode(so_far)
        sub = _PeriodProblem(head, base, t)
        out, _ = run_pso(sub, replace(per, seed=opts.seed + t))
        base[sub.idx] = out.x
        chosen = head.decode(base)
        for name in ("pdp", "generic", "codp", "dedicated"):
            getattr(plan, name)[:, t] = getattr(chosen, name)[:, t]
        nfev += out.nfev
    return plan, {"nfev": nfev, "pso_s": time.perf_counter() - t0}


def solve_pyswarms(inst: Instance, opts: PsoOptions) -> tuple[Plan, dict]:
    """pyswarms' GlobalBestPSO over the same problem and decoder.

    pyswarms draws from NumPy's global generator, which is seeded with ``opts.seed`` (the only
    way to seed it). Uses ``c1 = c2 = 1.49445``, ``w = 0.729`` and the iteration budget
    ``opts.max_iter``.
    """
    import pyswarms as ps

    if opts.max_iter is None:
        raise ValueError("max_iter: pyswarms needs an iteration budget")
    problem = make_problem(inst)
    np.random.seed(opts.seed % 2**32)  # noqa: NPY002 - pyswarms reads the legacy generator
    n = problem.n_var
    optimizer = ps.single.GlobalBestPSO(
        n_particles=opts.swarm_size, dimensions=n,
        options={"c1": 1.49445, "c2": 1.49445, "w": 0.729},
        bounds=(np.zeros(n), np.ones(n)))
    t0 = time.perf_counter()
    cost, x = optimizer.optimize(problem.evaluate, iters=opts.max_iter, verbose=False)
    return problem.decode(np.clip(x, 0.0, 1.0)), {
        "nfev": opts.swarm_size * opts.max_iter, "pso_s": time.perf_counter() - t0,
        "cost": float(cost)}
