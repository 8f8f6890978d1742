"""Compile (or load from the cache) the SFI kernels before a run: driver code, apart from the
decoder (``problem.py``) and the local search (``scoring.py``, ``search.py``) whose kernels it
calls."""

from __future__ import annotations

import numpy as np

from ...pso import PsoOptions, run
from .cases import load_steel
from .evaluate import batch_costs
from .problem import SfiProblem
from .scoring import move_costs
from .start import heuristic_plan


def warmup() -> None:
    """Compile (or load from the cache) every kernel a swarm run and its local search call, on
    a one-period case, so that compile time stays out of time budgets and out of workers."""
    inst = load_steel(1)
    problem = SfiProblem(inst)
    opts = PsoOptions(swarm_size=2, max_iter=1)
    run(problem, opts)
    run(problem.restricted(np.zeros(problem.n_var), np.arange(2, dtype=np.int64)), opts)
    problem.decode(np.zeros(problem.n_var))  # one particle: decode_one, not the lockstep one
    plan = heuristic_plan(inst)
    move_costs(inst, plan, [[(3, 0, 0, 1.0)]] * 2)
    # The local search scores whole plans with the plan-at-a-time kernel, which the swarm's
    # evaluate does not call.
    batch_costs(inst, *(a[None] for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)))
