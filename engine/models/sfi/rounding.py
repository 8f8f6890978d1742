"""Relax and round: a linear relaxation of the exact model, rounded to a plan, then the local
search.

On large instances the exact solver finds no plan in useful time, while the solution of the
relaxation is nearly integral (most buffers at one stage) and says which buffers to pool and
which products to leave short when the capacity binds, which the swarm, started from the
constructive plan, finds only slowly (docs/models/sfi.md, "Relax and round").

:func:`relaxed_plan` gets such a plan faster on long horizons by solving the relaxation in
overlapping windows of periods, in parallel; the PSO seeds its swarm with it.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numba
import numpy as np

from ... import milp_process
from ...lp import LpOptions
from ...milp import LP_START_SHARE, built_within
from ...termination import Budget, StopToken
from ...threads import available_cpus
from .evaluate import evaluate
from .instance import Instance
from .milp import build, relaxation, round_relaxed
from .plan import Plan
from .scoring import carried_states
from .search import local_search
from .start import heuristic_plan

#: Fewest periods a window of :func:`relaxed_plan` has as its own.
MIN_WINDOW = 13
#: Time to build a window's model, as a share of the time to solve it (the ratio seen on the
#: bench's large generated instances), used to size windows that finish together.
BUILD_SHARE = 0.35
#: Periods a window reaches past its own on each side: a window's ends are played as a
#: horizon's start and end (no stock carried in beyond the constructive plan's, leftovers
#: disposed, backlog lost), which its own periods should not feel.
OVERLAP = 4


def relaxed_plan(inst: Instance, time_limit: float | None = None,
                 windows: int | None = None, start: Plan | None = None,
                 stop: StopToken | None = None, max_simplex: int | None = None
                 ) -> Plan | None:
    """A plan rounded (:func:`.milp.round_relaxed`) from the LP of the flow relaxation (the
    exact model without its dispatch rules), or None when not solved within ``time_limit``
    seconds (None: no limit).

    With one window, the LP is the whole horizon's. With more, the periods are cut into
    ``windows`` shares, larger for the windows built first (:data:`BUILD_SHARE`); each
    share's LP spans it and :data:`OVERLAP` periods on each side, starts from what ``start``
    (default: the constructive plan, :func:`.start.heuristic_plan`) carries into its first
    period, and is solved in a thread of its own (HiGHS with one thread, a large window's in
    a child process: :func:`invswarm.engine.milp_process.solve_lp`; the next window is built
    while the earlier ones solve); each share of the plan comes from
    its window. Each period's decisions come from one window, so the plan is feasible. By
    default there are as many windows as CPUs this process may use
    (:func:`invswarm.engine.threads.available_cpus`: not the run's share, so that the plan
    does not depend on the runs beside it), at most one per :data:`MIN_WINDOW` periods; as
    many solve at once as the caller's Numba threads (one level of parallelism at a time:
    nothing else runs meanwhile). Windows trade a little of the relaxation's precision for
    time: each LP is a fraction of the whole. ``stop``, when set,
    interrupts the LPs (no plan then); ``max_simplex`` bounds each LP's simplex iterations (no
    plan when one needs more): a bound on the work that holds no clock.
    """
    T = inst.n_periods
    if windows is None:
        windows = max(1, min(available_cpus(), T // MIN_WINDOW))
    if windows == 1:
        return relaxation(inst, time_limit, rules=False, stop=stop, max_simplex=max_simplex)[1]
    t0 = time.perf_counter()
    start = start if start is not None else heuristic_plan(inst)
    # A window built later starts solving later: earlier ones get more periods, so that they
    # finish together.
    weight = 1.0 + BUILD_SHARE * np.arange(windows - 1, -1, -1)
    cuts = [0, *np.round(T * np.cumsum(weight)[:-1] / weight.sum()).astype(int).tolist(), T]
    plan = Plan(*(a.copy() for a in (start.pdp, start.generic, start.codp, start.dedicated)))
    firsts = [max(0, cuts[i] - OVERLAP) for i in range(windows)]
    until = None if time_limit is None else t0 + time_limit
    lp_opts = LpOptions(threads=1, max_simplex=max_simplex)
    with ThreadPoolExecutor(min(windows, numba.get_num_threads())) as pool:
        solves = []
        for i, initial in enumerate(carried_states(inst, start, firsts)):
            a, b = firsts[i], min(T, cuts[i + 1] + OVERLAP)
            window = inst.window(a, b, initial)
            model = built_within(partial(build, window, rules=False), until, stop,
                                 LP_START_SHARE)
            if model is None:
                # not built, or too late for HiGHS to start; the windows solving end by
                # their own time limits, or at the stop
                return None
            # HiGHS, or the child process solving a large window, runs without the GIL.
            solves.append((a, window, model, pool.submit(
                milp_process.solve_lp, model.builder, lp_opts, until, stop)))
        for i, (a, window, model, job) in enumerate(solves):
            solved = job.result()
            if solved is None:
                return None
            part = round_relaxed(model, window, solved.x)
            own = slice(cuts[i], cuts[i + 1])
            mine = slice(cuts[i] - a, cuts[i + 1] - a)
            for name in ("pdp", "generic", "codp", "dedicated"):
                getattr(plan, name)[:, own] = getattr(part, name)[:, mine]
    return plan


def solve_relax_round(inst: Instance, time_limit: float, stop: StopToken | None = None,
                      budget: Budget | None = None) -> tuple[Plan, dict]:
    """Solve the linear relaxation of the flow relaxation (the exact model without its
    dispatch rules: :func:`.milp.build`), round its solution (:func:`.milp.round_relaxed`)
    and improve the plan by local search for what is left of ``time_limit`` (seconds).

    When the relaxation is not solved within ``time_limit``, the local search starts from the
    constructive plan instead, with no time left unless the solve failed early. ``stop``, when
    set, ends the relaxation's solve and the local search. ``budget``, the run's, bounds the
    local search by its evaluations, target and stall too (the LP spends none).

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
    bound, plan = relaxation(inst, time_limit, rules=False, stop=stop)
    lp_s = time.perf_counter() - t0
    start = "relaxation" if plan is not None else "constructive"
    rounded_cost = evaluate(inst, plan).cost if plan is not None else math.nan
    if plan is None:
        plan = heuristic_plan(inst)
    plan, _ = local_search(inst, plan, time_budget=max(0.0, time_limit - lp_s), stop=stop,
                           budget=budget)
    solved = "solved" if math.isfinite(bound) else "not solved"
    return plan, {"bound": bound, "relaxation_s": lp_s, "rounded_cost": rounded_cost,
                  "start": start,
                  "message": f"relaxation {solved} in {lp_s:.1f} s; local search from the "
                             f"{start} plan"}
