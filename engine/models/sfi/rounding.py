"""Relax and round: a linear relaxation of the exact model, rounded to a plan, then the local
search.

On large instances the exact solver finds no plan in useful time, while the solution of the
relaxation is nearly integral (most buffers at one stage) and says which buffers to pool and
which products to leave short when the capacity binds, which the swarm, started from the
constructive plan, finds only slowly (docs/models/sfi.md, "Relax and round").
"""

from __future__ import annotations

import math
import time

from .evaluate import evaluate
from .instance import Instance
from .milp import relaxation
from .plan import Plan
from .search import heuristic_plan, local_search


def solve_relax_round(inst: Instance, time_limit: float) -> tuple[Plan, dict]:
    """Solve the linear relaxation of the flow relaxation (the exact model without its
    dispatch rules: :func:`.milp.build`), round its solution (:func:`.milp.round_relaxed`)
    and improve the plan by local search for what is left of ``time_limit`` (seconds).

    When the relaxation is not solved within ``time_limit``, the local search starts from the
    constructive plan instead, with no time left unless the solve failed early.

    Returns
    -------
    plan : Plan
    info : dict
        ``bound`` (the relaxation's optimum, a lower bound on every plan's cost; NaN when not
        solved), ``relaxation_s``, ``rounded_cost`` (the rounded plan's cost before the local
        search; NaN when none), ``start`` (``"relaxation"`` or ``"constructive"``) and
        ``message``.
    """
    t0 = time.perf_counter()
    # Without the dispatch rules the LP is a third of the time on large instances, and
    # about as strong (docs/models/sfi.md, "Relax and round").
    bound, plan = relaxation(inst, time_limit, rules=False)
    lp_s = time.perf_counter() - t0
    start = "relaxation" if plan is not None else "constructive"
    rounded_cost = evaluate(inst, plan).cost if plan is not None else math.nan
    if plan is None:
        plan = heuristic_plan(inst)
    plan, _ = local_search(inst, plan, time_budget=max(0.0, time_limit - lp_s))
    solved = "solved" if math.isfinite(bound) else "not solved"
    return plan, {"bound": bound, "relaxation_s": lp_s, "rounded_cost": rounded_cost,
                  "start": start,
                  "message": f"relaxation {solved} in {lp_s:.1f} s; local search from the "
                             f"{start} plan"}
