"""The manufacturers' equilibrium by best responses (each by our PSO and a polish), the gains
left, the coarse-grid check, and the chain's best contract (the ``system`` objective)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ...pso import PsoOptions
from ...pso import run as run_pso
from .evaluate import KernelData, run
from .instance import Instance
from .plan import Plan
from .problem import (
    BestResponseProblem,
    SystemProblem,
    clearing_plan,
    clearing_plans,
    concentrations,
    polish,
)


@dataclass(frozen=True)
class EquilibriumOptions:
    """Options of the best-response search.

    Attributes
    ----------
    eps : float
        A best response is adopted when it gains more than ``eps`` times the manufacturer's
        current profit; a round where none is adopted ends the search.
    max_rounds : int
        Rounds of best responses (every manufacturer once each) after the first check round
        and before a last one.
    pso : PsoOptions
        The swarm of each best response (its seed is varied by round and manufacturer).
    min_step : float
        Smallest step of the polish, in the unit cube.
    time_limit : float or None
        Wall seconds: no Gauss-Seidel best response starts after it (the screening and the
        check round always run); the search then ends unconverged, with the start's gains.
    screen_paths : int
        Demand paths (the first ones) on which the starting contracts are screened.
    """

    eps: float = 1e-3
    max_rounds: int = 2
    pso: PsoOptions = field(default_factory=lambda: PsoOptions(swarm_size=32, max_iter=30,
                                                               chunk=10))
    min_step: float = 1e-9
    time_limit: float | None = None
    screen_paths: int = 50

    def __post_init__(self):
        if not self.eps >= 0:
            raise ValueError(f"eps: must be >= 0, got {self.eps}")
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds: must be >= 1, got {self.max_rounds}")
        if not 0 < self.min_step < 1:
            raise ValueError(f"min_step: must lie in (0, 1), got {self.min_step}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"time_limit: must be > 0, got {self.time_limit}")
        if self.screen_paths < 1:
            raise ValueError(f"screen_paths: must be >= 1, got {self.screen_paths}")


@dataclass(frozen=True, eq=False)
class BestResponse:
    plan: Plan
    profit: float
    evaluations: int


def best_response(data: KernelData, plan: Plan, j: int, pso: PsoOptions,
                  min_step: float = 1e-9) -> BestResponse:
    """Manufacturer j's best response to ``plan``: the swarm (seeded with j's current
    decision and the best of its structured deviations, :func:`concentrations`), then the
    polish. Never worse than the current decision."""
    prob = BestResponseProblem(data, plan, j)
    X = concentrations(data.inst, plan, j)
    best = X[int(np.argmin(prob.evaluate(X)))]
    out, _ = run_pso(prob, pso, seeds=[prob.encode(plan), best])
    x, cost = polish(prob, out.x, out.cost, min_step=min_step)
    return BestResponse(plan=prob.decode(x), profit=-cost, evaluations=prob.evaluations)


def profits(data: KernelData, plan: Plan) -> np.ndarray:
    """Expected profit of every party (R + M,) under ``plan``."""
    return run(data, plan.w[None, :], plan.k[None]).expected[0]


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """The outcome of the best-response search.

    Attributes
    ----------
    plan : Plan
    profits : ndarray, shape (R + M,)
    gains : ndarray, shape (M,)
        Each manufacturer's gain from its best response at ``plan`` (the gains left).
    relative_gains : ndarray, shape (M,)
        ``gains / |profit|``.
    converged : bool
        A round ended with no best response gaining more than ``eps``.
    rounds, evaluations : int
    history : list of (round, manufacturer, gain, adopted)
        Round 0 is the check round at the start.
    wall_s : float
    start : str
        The starting contract (see :func:`clearing_plans`), or ``"given"``.
    screening : list of (start, largest relative gain)
        What the structured deviations gain against each starting contract (on the
        screening paths), best first.
    """

    plan: Plan
    profits: np.ndarray
    gains: np.ndarray
    relative_gains: np.ndarray
    converged: bool
    rounds: int
    evaluations: int
    history: list
    wall_s: float
    start: str = "given"
    screening: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"converged": self.converged, "rounds": self.rounds,
                "evaluations": self.evaluations,
                "gains_left": self.gains.tolist(),
                "relative_gains_left": self.relative_gains.tolist(),
                "largest_relative_gain_left": float(self.relative_gains.max()),
                "history": [list(h) for h in self.history], "wall_s": self.wall_s,
                "start": self.start,
                "screening": [{"start": n, "largest_relative_gain": g}
                              for n, g in self.screening]}


def _seeded(pso: PsoOptions, rnd: int, j: int) -> PsoOptions:
    return replace(pso, seed=(pso.seed + 7919 * rnd + 104729 * j) % 2**63)


def deviation_gains(data: KernelData, plan: Plan) -> tuple[np.ndarray, int]:
    """Each manufacturer's largest relative gain (M,) among its structured deviations
    (:func:`concentrations`) against ``plan``, and the evaluations used."""
    R, M = data.inst.n_retailers, data.inst.n_manufacturers
    now = profits(data, plan)
    gains, evals = np.zeros(M), 0
    for j in range(M):
        prob = BestResponseProblem(data, plan, j)
        best = -float(prob.evaluate(concentrations(data.inst, plan, j)).min())
        gains[j] = (best - now[R + j]) / max(abs(now[R + j]), 1e-12)
        evals += prob.evaluations
    return gains, evals


def screen(data: KernelData, plan: Plan, opts: EquilibriumOptions) -> tuple[float, int]:
    """The largest relative gain of any manufacturer's structured deviations against
    ``plan`` on the first ``screen_paths`` demand paths (a cheap estimate, not a result), and
    the evaluations it used."""
    gains, evals = deviation_gains(KernelData(data.inst, u=data.u[:opts.screen_paths]), plan)
    return max(0.0, float(gains.max())), evals


def check(data: KernelData, plan: Plan, opts: EquilibriumOptions, rnd: int = 0
          ) -> tuple[np.ndarray, np.ndarray, int]:
    """Every manufacturer's best response to the same ``plan`` (none adopted): the gains left
    (M,), the profits (R + M,) and the evaluations used."""
    R, M = data.inst.n_retailers, data.inst.n_manufacturers
    current = profits(data, plan)
    gains, evals = np.zeros(M), 0
    for j in range(M):
        br = best_response(data, plan, j, _seeded(opts.pso, rnd, j), opts.min_step)
        gains[j] = max(0.0, br.profit - current[R + j])
        evals += br.evaluations
    return gains, current, evals


def _gauss_seidel(data: KernelData, plan: Plan, opts: EquilibriumOptions, deadline: float):
    """Rounds of best responses from ``plan``; returns (plan, profits, gains, converged,
    rounds, evaluations, history)."""
    R, M = data.inst.n_retailers, data.inst.n_manufacturers
    history, evals = [], 0
    converged = False
    gains = np.zeros(M)
    current = profits(data, plan)
    rnd = 0
    out_of_time = False
    for rnd in range(1, opts.max_rounds + 2):
        check_only = rnd == opts.max_rounds + 1
        adopted = False
        for j in range(M):
            if time.perf_counter() >= deadline:
                out_of_time = True
                break
            br = best_response(data, plan, j, _seeded(opts.pso, rnd, j), opts.min_step)
            evals += br.evaluations
            gains[j] = max(0.0, br.profit - current[R + j])
            take = bool(not check_only
                        and gains[j] > opts.eps * max(abs(current[R + j]), 1e-12))
            history.append((rnd, j, float(gains[j]), take))
            if take:
                plan = br.plan
                current = profits(data, plan)
                adopted = True
        if out_of_time:
            break
        if not adopted:
            converged = not check_only
            break
    return plan, current, gains.copy(), converged, rnd, evals, history


def equilibrium(inst: Instance, opts: EquilibriumOptions | None = None,
                start: Plan | None = None, data: KernelData | None = None) -> Equilibrium:
    """The manufacturers' equilibrium, or the best approximate one: see
    ``docs/models/contracts.md``. From ``start``, or from the market-clearing contract of
    :func:`clearing_plans` whose structured deviations gain least, a check round measures
    every manufacturer's gain; if one exceeds ``eps``, Gauss-Seidel best responses follow,
    and when they end unconverged the start is reported with the gains it leaves."""
    opts = opts or EquilibriumOptions()
    data = data or KernelData(inst)
    t0 = time.perf_counter()
    R = inst.n_retailers
    deadline = t0 + opts.time_limit if opts.time_limit is not None else float("inf")
    screening, total, name = [], 0, "given"
    if start is None:
        starts = clearing_plans(inst)
        for nm, p in starts:
            gain, evals = screen(data, p, opts)
            screening.append((nm, gain))
            total += evals
        b = min(range(len(starts)), key=lambda a: screening[a][1])
        screening.sort(key=lambda g: g[1])
        name, start = starts[b]
    gains, current, evals = check(data, start, opts)
    total += evals
    history = [(0, j, float(g), False) for j, g in enumerate(gains)]
    rel = gains / np.maximum(np.abs(current[R:]), 1e-12)
    plan, converged, rounds = start, bool(rel.max() <= opts.eps), 0
    if not converged and time.perf_counter() < deadline:
        p2, c2, g2, converged, rounds, evals, more = _gauss_seidel(data, start, opts, deadline)
        total += evals
        history += more
        if converged:
            plan, current, gains = p2, c2, g2
            rel = gains / np.maximum(np.abs(current[R:]), 1e-12)
    return Equilibrium(plan=plan, profits=current, gains=gains, relative_gains=rel,
                       converged=converged, rounds=rounds, evaluations=total,
                       history=history, wall_s=time.perf_counter() - t0, start=name,
                       screening=screening)


def grid_best_response(data: KernelData, plan: Plan, j: int, points: int = 11,
                       batch: int = 512) -> tuple[Plan, float]:
    """Manufacturer j's best decision on a grid of the encoding (``points`` values of the
    price and of each cap coordinate, every combination), by enumeration: an exact check on
    small cases, not a method."""
    prob = BestResponseProblem(data, plan, j)
    axis = np.linspace(0.0, 1.0, points)
    grid = np.array(list(itertools.product(axis, repeat=prob.n_var)))
    costs = np.concatenate([prob.evaluate(grid[a:a + batch])
                            for a in range(0, len(grid), batch)])
    b = int(np.argmin(costs))
    return prob.decode(grid[b]), float(-costs[b])


def system_optimum(inst: Instance, pso: PsoOptions, min_step: float = 1e-9,
                   data: KernelData | None = None, seeds: list[Plan] = ()
                   ) -> tuple[Plan, float, int]:
    """The contract maximizing the chain's expected profit: the swarm over every
    manufacturer's decisions (seeded with ``seeds`` and :func:`clearing_plan`), then the
    polish. Returns the plan, the chain's profit and the evaluations used."""
    data = data or KernelData(inst)
    prob = SystemProblem(data)
    starts = [prob.encode(p) for p in (*seeds, clearing_plan(inst))]
    out, _ = run_pso(prob, pso, seeds=starts)
    x, cost = polish(prob, out.x, out.cost, min_step=min_step)
    return prob.decode(x), -cost, prob.evaluations
