"""SFI plans by particle swarms: our PSO (islands plus local-search polish), the seed paper's
per-period PSO (its Algorithm A1) and pyswarms on the same problem, as baselines."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from functools import partial

import numba
import numpy as np

from ...improvement import improves
from ...parallel import IslandOptions, swarm_evaluations, swarm_phase
from ...pso import PsoOptions
from ...pso import run as run_pso
from ...termination import Budget
from .evaluate import evaluate
from .instance import Instance
from .pins import Pins
from .plan import Plan
from .problem import SfiProblem
from .rounding import relaxed_plan
from .search import BlockTimes, local_search
from .start import heuristic_plan
from .windows import window_search


def make_problem(inst: Instance) -> SfiProblem:
    """The SFI problem of an instance (importable, so that workers can build it)."""
    return SfiProblem(inst)


def make_restricted(inst: Instance, base: np.ndarray, idx: np.ndarray):
    """The SFI problem over the variables ``idx``, the others fixed at ``base`` (importable,
    so that workers can build it)."""
    return SfiProblem(inst).restricted(base, idx)


def period_indices(problem: SfiProblem, t: int) -> np.ndarray:
    """The variables of period ``t`` (every block is laid out row by row over the periods)."""
    return np.arange(t, problem.n_var, problem.inst.n_periods, dtype=np.int64)


def solve_pso(inst: Instance, opts: PsoOptions, iopts: IslandOptions | None = None, *,
              sweeps: int | None = None, warm_start: Plan | None = None,
              relaxed_seed: bool = True, callback=None, budget: Budget | None = None,
              pins: Pins | None = None, checkpoint=None) -> tuple[Plan, dict]:
    """Our PSO: swarms over the whole plan, then the local search, then kicks period by period.

    0. With ``relaxed_seed`` and no ``warm_start``, the flow relaxation's LP is solved and
       rounded (:func:`.rounding.relaxed_plan`: on long horizons in windows of periods solved
       in parallel) within :data:`RELAX_SHARE` of ``time_limit`` and, in a run with an
       iteration or evaluation budget, within as many simplex iterations as the swarms have
       evaluations; its plan joins the seeds when it is solved within them. A warm start
       takes its place: it is the good plan the relaxation would give, at no cost, and on
       large instances the LP would take most of a re-plan's short budget.
    1. Islands of swarms over all variables (``opts``: swarm size, seed, ``max_iter`` or
       :data:`SWARM_SHARE` of the time left), seeded with the constructive plan, the
       relaxation's and the warm start.
    2. The swarm's best plan and the seed plans are polished by :func:`local_search`,
       cheapest first, while time is left; the best of them goes on.
    3. Passes over the periods: for each period t in turn, the particle of the current plan
       moves by Gaussian steps (:data:`KICK_STEP` in the unit cube) in the variables of t and,
       half of the time, of t + 1; the decoded periods replace those of the plan, the local
       search starts from the kicked periods, and the result is kept when it is cheaper.
       Passes repeat until ``sweeps`` passes or the time limit; with an iteration budget
       (default 8 passes) also when three passes in a row find nothing.

    With an iteration or evaluation budget (no ``time_limit``) the result depends on the seed
    only. ``callback`` sees the progress of both phases and can cancel either. ``budget``
    holds the run's terminations (default: ``opts.time_limit`` from this call): every phase
    spends its evaluations and ends at its termination, with the best plan so far (the
    message is then the termination's reason); its ``on_best`` gets each new best plan (with
    ``pins``, from the polish on). ``checkpoint``
    (:class:`invswarm.engine.checkpoint.Checkpoint`) saves and resumes the swarms (through
    :func:`~invswarm.engine.parallel.run_islands`, even with one island). Returns the plan
    and figures of the run (``nit``, ``nfev``: iterations and evaluations of the swarms;
    ``evaluations``: of the whole run, the polish's moves included; ``kicks``; ``history``:
    best cost after each swarm iteration and each pass, by step, the swarm's iterations then
    the kicks).

    With ``pins`` (kept decisions of ``warm_start``), the swarms move the free variables
    only, every plan taken from them or from a seed is :meth:`Pins.apply`'d, and the local
    search and the kicks change no kept decision.
    """
    iopts = iopts or IslandOptions(islands=1)
    budget = budget or Budget(opts.time_limit)
    t0, deadline, stop = budget.start, budget.deadline, budget.token
    pins = pins if pins is not None and not pins.empty else None
    problem = make_problem(inst)
    seed_plans = [heuristic_plan(inst)]
    if relaxed_seed and warm_start is None and not budget.done():
        relaxed = relaxed_plan(inst, None if opts.time_limit is None
                               else max(1e-3, RELAX_SHARE * budget.left()), start=seed_plans[0],
                               stop=stop, max_simplex=swarm_evaluations(opts, iopts))
        seed_plans += [relaxed] if relaxed is not None else []
    seed_plans += [warm_start] if warm_start is not None else []
    if pins is not None:
        seed_plans = [pins.apply(inst, p) for p in seed_plans]
    if budget.done():
        # ended while the seeds were made (a stop in the relaxation): no swarm to set up
        cost, plan = min(((evaluate(inst, p).cost, p) for p in seed_plans), key=lambda cp: cp[0])
        budget.record(cost, plan)
        return plan, _unsearched(cost, budget.reason(), budget.evaluations)
    seeds = [problem.encode(p) for p in seed_plans]
    swarm_opts = opts if opts.time_limit is None else replace(
        opts, time_limit=max(1e-6, deadline - time.perf_counter()) * SWARM_SHARE)
    swarm, factory = problem, make_problem
    if pins is not None:
        # the kept variables stay at the warm start's particle
        base, idx = problem.encode(pins.ref), pins.free_variables(problem)
        swarm, factory = problem.restricted(base, idx), partial(make_restricted, base=base,
                                                                idx=idx)
        seeds = [x[idx] for x in seeds]
    if swarm.n_var == 0:  # every decision kept
        cost = evaluate(inst, pins.ref).cost
        budget.record(cost, pins.ref)
        return pins.ref, _unsearched(cost, "done", 0.0)

    def progress(figures: dict):
        # a pinned plan is offered from the polish on: the decoded particle is pinned after
        budget.record(figures["best"], None if pins is not None
                      else lambda: problem.decode(figures["x"]))
        return callback is not None and callback(figures)

    budget.enter("swarm")
    out = swarm_phase(swarm, factory, inst, swarm_opts, iopts, seeds=seeds, callback=progress,
                      stop=stop, budget=budget, checkpoint=checkpoint)
    best_x = out.x if pins is None else swarm.expand(out.x[None])[0]
    t1 = time.perf_counter()
    history = list(out.history)
    # Polish the swarm's best and the plans it was seeded with, cheapest first (a seed
    # plan may cost less than the particle that encodes it), while a tenth of the polish
    # budget is left (a local search may overrun its budget by one block of moves); go on
    # from the best of them.
    budget.enter("polish")
    polished, times = [], BlockTimes()
    best = problem.decode(best_x)
    if pins is not None:
        best = pins.apply(inst, best)
    starts = [(out.cost, best)] + [(evaluate(inst, p).cost, p) for p in seed_plans]
    for _, p in sorted(starts, key=lambda cp: cp[0]):
        left = deadline - time.perf_counter()
        if polished and (left < 0.1 * (deadline - t1) or budget.done()):
            break
        polished.append(local_search(inst, p, time_budget=max(0.0, left), times=times,
                                     pins=pins, budget=budget))
    plan, cost = min(polished, key=lambda pc: pc[1])
    budget.record(cost, plan)
    it, nfev, message = out.nit, out.nfev, out.message
    if callback is not None and callback({"iteration": it, "evaluations": nfev, "best": cost,
                                          "elapsed": time.perf_counter() - t0}):
        message, sweeps = "cancelled", 0
    if opts.time_limit is not None and message != "cancelled" and not budget.done():
        # the exact model over windows of the plan, for a share of the time left
        budget.enter("windows")
        before = cost
        # as many windows at once as the run has Numba threads, idle in this phase
        plan, cost = window_search(inst, plan, cost, budget, pins=pins, until=time.perf_counter()
                                   + WINDOWS_SHARE * max(0.0, deadline - time.perf_counter()),
                                   workers=numba.get_num_threads())
        if improves(cost, before):
            history.append((it, cost))
    T = inst.n_periods
    rng = np.random.default_rng([opts.seed, 1])  # the kicks' own stream
    done = idle = kicks = 0
    # the shortest kick so far; before the first, the longest block of moves the polish
    # made: a kick is worth its set-up only when one block of moves fits after it
    min_kick_s = times.period
    if sweeps is None:
        sweeps = 8 if opts.time_limit is None else 2**31
    x_plan = None  # the current plan's particle, encoded when a kick needs it
    frozen = pins.frozen(inst).all(axis=0) if pins is not None else np.zeros(T, bool)
    budget.enter("kicks")
    for _ in range(sweeps):
        start_cost = cost
        for t in range(T):
            t_kick = time.perf_counter()
            if t_kick + min_kick_s >= deadline or budget.done():
                break
            window = np.arange(t, min(T, t + 1 + int(rng.integers(0, 2))))
            if frozen[window].all():
                continue  # nothing there may change
            if x_plan is None:
                x_plan = problem.encode(plan)
            x = x_plan.copy()
            idx = np.concatenate([period_indices(problem, u) for u in window])
            x[idx] = np.clip(x[idx] + rng.normal(0.0, KICK_STEP, idx.size), 0.0, 1.0)
            kicked = _with_periods(plan, problem.decode(x), window)
            if pins is not None:
                kicked = pins.apply(inst, kicked)
            budget.spend(1)  # the kicked particle's decoding
            first = np.zeros(T, dtype=bool)
            first[max(0, window[0] - 1):window[-1] + 2] = True
            cand, c = local_search(inst, kicked, first=first, times=times, budget=budget,
                                   time_budget=max(0.0, deadline - time.perf_counter()),
                                   pins=pins)
            kicks += 1
            min_kick_s = (time.perf_counter() - t_kick if kicks == 1
                          else min(min_kick_s, time.perf_counter() - t_kick))
            if improves(c, cost):
                plan, cost = cand, c
                x_plan = None
                budget.record(cost, plan)
        done += 1
        history.append((it + kicks, cost))  # steps: swarm iterations, then kicks
        if callback is not None and callback({"iteration": it, "evaluations": nfev,
                                              "best": cost,
                                              "elapsed": time.perf_counter() - t0}):
            message = "cancelled"
            break
        idle = idle + 1 if cost >= start_cost * (1 - 1e-9) else 0
        if (idle == 3 and opts.time_limit is None) or budget.done() \
                or time.perf_counter() + min_kick_s >= deadline:
            break
    if message != "cancelled" and (why := budget.reason()) is not None:
        message = why
    elif message != "cancelled" and opts.time_limit is not None:
        message = "time_limit"
    return plan, {"pso_cost": out.cost, "nit": it, "nfev": nfev,
                  "evaluations": budget.evaluations, "pso_s": t1 - t0,
                  "polish_s": time.perf_counter() - t1, "sweeps": done, "kicks": kicks,
                  "message": message, "history": history, "cost": cost}


def _unsearched(cost: float, message: str, evaluations: float) -> dict:
    """The figures of :func:`solve_pso` for a run that searched nothing."""
    return {"pso_cost": cost, "nit": 0, "nfev": 0, "evaluations": evaluations, "pso_s": 0.0,
            "polish_s": 0.0, "sweeps": 0, "kicks": 0, "message": message, "history": [],
            "cost": cost}


#: Share of the time limit that the relaxation seeding the swarm may take (build and LP). On
#: large instances it is worth most of the time: the swarm and the local search start from a
#: plan much closer to the bound than the constructive one (docs/pso.md, "Large instances").
RELAX_SHARE = 0.75

#: Share of the time left after the relaxation that the swarms get (the local search and the
#: kicks get the rest): on large instances the seeded swarm barely moves and the local
#: search uses the time better.
SWARM_SHARE = 0.1

#: Standard deviation of a kick's steps in the unit cube.
KICK_STEP = 0.1

#: Share of the time left after the polish that the window re-optimization may take (the
#: kicks get the rest, and all of it when the windows stop improving first).
WINDOWS_SHARE = 0.9


def _with_periods(plan: Plan, other: Plan, periods: np.ndarray) -> Plan:
    """``plan`` with the decisions of ``periods`` taken from ``other`` (each period's capacity
    and stage order hold in each plan, so the mix is feasible)."""
    out = Plan(*(a.copy() for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)))
    for name in ("pdp", "generic", "codp", "dedicated"):
        getattr(out, name)[:, periods] = getattr(other, name)[:, periods]
    return out


def solve_per_period(inst: Instance, opts: PsoOptions, budget: Budget | None = None
                     ) -> tuple[Plan, dict]:
    """The seed paper's Algorithm A1: one PSO per period, in sequence, each period myopic.

    Period t is optimised on the instance cut after t (its leftovers disposed, its backlog
    lost, as if the horizon ended there), with the periods before it fixed at their chosen
    decisions. Each period's swarm is seeded with that period's decisions of the constructive
    plan (:func:`heuristic_plan`), as a practitioner would. ``opts`` applies to each period's
    swarm (its ``max_iter`` and ``stall_iter`` are each period's, the algorithm's own).

    ``budget`` is the whole run's: its time limit and its evaluation budget are split evenly
    over the periods left, period by period, and its stop ends the period's swarm within a
    chunk of iterations. After each period the plan (the periods chosen, the constructive
    plan's decisions after them) is costed and recorded, so that a target cost ends the run
    once reached. When the run ends early the periods not reached keep the constructive plan's
    decisions (each period's capacity and stage order hold in each plan, so the mix is
    feasible); ``message`` in the returned dict says why it ended.
    """
    budget = budget or Budget(opts.time_limit)
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    plan = Plan(np.zeros((C, T), np.int64), np.zeros((C, T)), np.zeros((P, T), np.int64),
                np.zeros((P, T)))
    start_plan = heuristic_plan(inst)
    nfev, message = 0, "done"
    for t in range(T):
        why = budget.reason()
        if why is None and budget.evals_left() < opts.swarm_size:
            why = "max_evals"  # not even the period's first swarm fits in what is left
        if why is not None:
            plan, message = _with_periods(plan, start_plan, np.arange(t, T)), why
            break
        per = replace(opts, seed=opts.seed + t, time_limit=None if budget.left() == math.inf
                      else max(1e-3, budget.left() / (T - t)))
        if budget.max_evals is not None:
            per = replace(per, max_evals=max(1, int(budget.evals_left() / (T - t))))
        head = make_problem(inst.truncated(t + 1))
        # The decided periods; period t's entries are the swarm's.
        base = head.encode(plan.truncated(t + 1))
        sub = head.restricted(base, period_indices(head, t))
        seed = head.encode(start_plan.truncated(t + 1))[sub.idx]
        out, _ = run_pso(sub, per, seeds=[seed], stop=budget.token)
        budget.spend(out.nfev)
        nfev += out.nfev
        base[sub.idx] = out.x
        chosen = head.decode(base)
        for name in ("pdp", "generic", "codp", "dedicated"):
            getattr(plan, name)[:, t] = getattr(chosen, name)[:, t]
        whole = _with_periods(plan, start_plan, np.arange(t + 1, T))
        budget.record(evaluate(inst, whole).cost, whole)
    else:
        # the run's budget, or its share of the evaluations, may have ended the last swarm
        message = budget.reason() or ("max_evals" if budget.max_evals is not None
                                      and out.message == "max_evals" else message)
    return plan, {"nfev": nfev, "pso_s": time.perf_counter() - budget.start,
                  "message": message}
