"""Network plans by particle swarms and by the baselines: no sharing, and the greedy
hold-back rule of the lateral-transshipment literature."""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial

import numpy as np

from ...improvement import improves
from ...parallel import IslandOptions, swarm_phase
from ...pso import PsoOptions
from ...termination import Budget
from .evaluate import KernelData, plan_costs
from .instance import Instance
from .pins import Pins
from .plan import Plan
from .problem import NetworkProblem
from .search import crossover, local_search, perturb

#: Kicks of the iterated local search when the run has an iteration budget, not a time limit.
KICKS = 30


def make_problem(inst: Instance, pins: Pins | None = None) -> NetworkProblem:
    """The network problem of an instance (importable, so that workers can build it)."""
    return NetworkProblem(inst, pins=pins)


def solve_none(inst: Instance, pins: Pins | None = None) -> tuple[Plan, dict]:
    """No sharing: the empty plan (with pins: the kept shipments only)."""
    return (pins or Pins.none()).keep, {"message": "no sharing"}


def solve_greedy(inst: Instance, pins: Pins | None = None, data: KernelData | None = None
                 ) -> tuple[Plan, dict]:
    """Each shortage, earliest first, filled from the cheapest donor that may give, as much as
    its protection allows, permanently (around the pins, when given; ``data``: the
    instance's, when the caller has it)."""
    problem = NetworkProblem(inst, data=data, pins=pins)
    return problem.decode(problem.greedy_particle()), {"message": "greedy"}


def solve_pso(inst: Instance, opts: PsoOptions, iopts: IslandOptions | None = None, *,
              warm_start: Plan | None = None, kicks: int | None = None,
              callback=None, budget: Budget | None = None,
              pins: Pins | None = None, checkpoint=None) -> tuple[Plan, dict]:
    """Our optimizer: a swarm over the decoder, then iterated local search on plans.

    1. Islands of swarms (``opts``; a third of ``time_limit``), seeded with the greedy
       plan's particle.
    2. The swarm's best plan, the greedy plan, no sharing, the warm start and the cheapest
       of them crossed with the warm start material by material (:func:`.search.crossover`)
       are polished by :func:`local_search`, cheapest first (while time is left); from the
       best, iterated
       local search: a kick to one material (every other time: drop a random share of its
       shipments; else: replace them with those of a random particle's decoded plan), the
       local search on that material, the result kept when it is cheaper.
       ``kicks`` rounds (default: until ``time_limit``, or :data:`KICKS` with an iteration
       budget), random numbers from ``opts.seed``.

    With an iteration or evaluation budget (no ``time_limit``) the result depends on the seed
    only. ``budget`` holds the run's terminations (default: ``opts.time_limit`` from this
    call): every phase spends its evaluations and ends at its termination with the best plan
    so far (the message is then the termination's reason); its ``on_best`` gets each new best
    plan. ``pins`` hold every phase to the kept and forbidden shipments (the decoder and the
    local search work around them); the warm start is read as ``pins.start(warm_start)``:
    the pins put in, and the free shipments of materials that break a rule dropped.
    ``checkpoint`` saves and resumes the swarms (see the SFI model's ``solve_pso``).
    """
    iopts = iopts or IslandOptions(islands=1)
    budget = budget or Budget(opts.time_limit)
    t0, stop = budget.start, budget.token
    pins = pins or Pins.none()
    problem = make_problem(inst, pins)
    info: dict = {"nit": 0, "nfev": 0, "history": []}
    starts = [pins.keep] + ([problem.decode(problem.greedy_particle())] if problem.n_var
                            else [])
    message = "done"
    if problem.n_var:
        # one iteration per chunk: a decode is far slower than an SFI evaluation, and the
        # time limit is checked between chunks
        swarm_opts = replace(opts, chunk=1) if opts.time_limit is None else replace(
            opts, time_limit=max(1e-6, budget.left() - 2 * opts.time_limit / 3), chunk=1)
        seeds = [problem.greedy_particle()]

        def progress(figures: dict):
            budget.record(figures["best"], lambda: problem.decode(figures["x"]))
            return callback is not None and callback(figures)

        budget.enter("swarm")
        out = swarm_phase(problem, partial(make_problem, pins=pins), inst, swarm_opts, iopts,
                          seeds=seeds, callback=progress, stop=stop, budget=budget,
                          checkpoint=checkpoint)
        starts.insert(0, problem.decode(out.x))
        info.update(nit=out.nit, nfev=out.nfev, pso_cost=out.cost, history=list(out.history))
        message = out.message
    t1 = time.perf_counter()
    budget.enter("polish")
    scored = plan_costs(problem.data, starts)
    costs, ok = list(scored.cost), list(scored.flags == 0)
    if warm_start is not None:
        warm = pins.start(problem.data, warm_start)
        if any(ok):
            best = min((k for k in range(len(starts)) if ok[k]), key=costs.__getitem__)
            crossed, c = crossover(problem.data, starts[best], warm, budget)
            starts.append(crossed)
            costs.append(c)
            ok.append(True)  # a feasible plan with feasible materials swapped in
        one = plan_costs(problem.data, [warm])
        starts.append(warm)
        costs.append(float(one.cost[0]))
        ok.append(bool(one.flags[0] == 0))
    # cheapest first: a search that meets the deadline leaves the others unpolished
    order = [k for k in np.argsort(costs, kind="stable") if ok[k]]
    polished = [local_search(inst, starts[k], data=problem.data, pins=pins, budget=budget)
                for k in order]
    plan, cost = min(polished, key=lambda pc: pc[1])
    budget.record(cost, plan)

    def report() -> bool:
        return callback is not None and bool(callback({
            "iteration": info["nit"], "evaluations": info["nfev"], "best": cost,
            "elapsed": time.perf_counter() - t0}))

    cancelled = report()
    rng = np.random.default_rng(opts.seed)
    mats = [m for m in range(inst.n_materials) if inst.listed[:, m].sum() > 1]
    rounds = kicks if kicks is not None else (KICKS if opts.time_limit is None else 2**31)
    done = 0
    budget.enter("kicks")
    for _ in range(rounds if mats and not cancelled else 0):
        if budget.done():
            break
        m = int(rng.choice(mats))
        other = problem.decode(rng.random(problem.n_var), materials=[m]) \
            if done % 2 and problem.n_var else None
        budget.spend(1)  # the kick (a decoding, or a plan's shipments dropped)
        cand, c = local_search(inst, perturb(plan, m, rng, other=other), data=problem.data,
                               materials=[m], pins=pins, budget=budget)
        done += 1
        if improves(c, cost):
            plan, cost = cand, c
            info["history"].append((info["nit"] + done, cost))
            budget.record(cost, plan)
        if report():
            cancelled = True
            break
    why = budget.reason()
    if cancelled:
        message = "cancelled"
    elif why is not None:
        message = why
    elif opts.time_limit is not None:
        message = "time_limit"
    info.update(message=message, kicks=done, evaluations=budget.evaluations,
                pso_s=t1 - t0, polish_s=time.perf_counter() - t1, cost=cost)
    return plan, info
