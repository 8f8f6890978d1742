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
from .problem import BestResponseProblem, SystemProblem, clearing_plan, polish


@dataclass(frozen=True)
class EquilibriumOptions:
    """Options of the best-response search.

    Attributes
    ----------
    eps : float
        A best response is adopted when it gains more than ``eps`` times the manufacturer's
        current profit; a round where none is adopted ends the search.
    max_rounds : int
        Rounds of best responses (every manufacturer once each) before a last check round.
    pso : PsoOptions
        The swarm of each best response (its seed is varied by round and manufacturer).
    min_step : float
        Smallest step of the polish, in the unit cube.
    time_limit : float or None
        Wall seconds: no best response starts after it; the search then ends unconverged,
        with the gains as last measured (each against the plans of its time).
    """

    eps: float = 1e-3
    max_rounds: int = 8
    pso: PsoOptions = field(default_factory=lambda: PsoOptions(swarm_size=32, max_iter=30,
                                                               chunk=10))
    min_step: float = 1e-9
    time_limit: float | None = None

    def __post_init__(self):
        if not self.eps >= 0:
            raise ValueError(f"eps: must be >= 0, got {self.eps}")
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds: must be >= 1, got {self.max_rounds}")
        if not 0 < self.min_step < 1:
            raise ValueError(f"min_step: must lie in (0, 1), got {self.min_step}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"time_limit: must be > 0, got {self.time_limit}")


@dataclass(frozen=True, eq=False)
class BestResponse:
    plan: Plan
    profit: float
    evaluations: int


def best_response(data: KernelData, plan: Plan, j: int, pso: PsoOptions,
                  min_step: float = 1e-9) -> BestResponse:
    """Manufacturer j's best response to ``plan``: the swarm (seeded with j's current
    decision), then the polish. Never worse than the current decision."""
    prob = BestResponseProblem(data, plan, j)
    out, _ = run_pso(prob, pso, seeds=[prob.encode(plan)])
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
    wall_s : float
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

    def to_json(self) -> dict:
        return {"converged": self.converged, "rounds": self.rounds,
                "evaluations": self.evaluations,
                "gains_left": self.gains.tolist(),
                "relative_gains_left": self.relative_gains.tolist(),
                "largest_relative_gain_left": float(self.relative_gains.max()),
                "history": [list(h) for h in self.history], "wall_s": self.wall_s}


def equilibrium(inst: Instance, opts: EquilibriumOptions | None = None,
                start: Plan | None = None, data: KernelData | None = None) -> Equilibrium:
    """Gauss-Seidel best responses from ``start`` (default :func:`clearing_plan`): see
    ``docs/models/contracts.md``."""
    opts = opts or EquilibriumOptions()
    data = data or KernelData(inst)
    t0 = time.perf_counter()
    R, M = inst.n_retailers, inst.n_manufacturers
    plan = start or clearing_plan(inst)
    history, evals = [], 0
    converged = False
    gains = np.zeros(M)
    current = profits(data, plan)
    deadline = t0 + opts.time_limit if opts.time_limit is not None else float("inf")
    rnd = 0
    out_of_time = False
    for rnd in range(1, opts.max_rounds + 2):
        check_only = rnd == opts.max_rounds + 1
        adopted = False
        for j in range(M):
            if time.perf_counter() >= deadline:
                out_of_time = True
                break
            pso = replace(opts.pso, seed=(opts.pso.seed + 7919 * rnd + 104729 * j) % 2**63)
            br = best_response(data, plan, j, pso, opts.min_step)
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
    rel = gains / np.maximum(np.abs(current[R:]), 1e-12)
    return Equilibrium(plan=plan, profits=current, gains=gains.copy(), relative_gains=rel,
                       converged=converged, rounds=rnd, evaluations=evals, history=history,
                       wall_s=time.perf_counter() - t0)


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
