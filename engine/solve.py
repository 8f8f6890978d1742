"""One entry point for every model and method; the CLI calls exactly this."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from . import threads
from .errors import InputError, NoSolution
from .fields import inside
from .models import contracts, network, sfi
from .models.contracts import equilibrium as con_eq
from .models.contracts import evaluate as con_eval
from .models.network import milp as net_milp
from .models.network import swarm as net_swarm
from .models.network.decompose import DecomposeOptions, solve_decomposed
from .models.network.pins import Pins as NetworkPins
from .models.network.problem import warmup as net_warmup
from .models.sfi import milp as sfi_milp
from .models.sfi import rounding as sfi_rounding
from .models.sfi import swarm as sfi_swarm
from .models.sfi.peers import PEERS, solve_peer
from .models.sfi.pins import Pins as SfiPins
from .models.sfi.start import heuristic_plan
from .models.sfi.warmup import warmup
from .pso import PsoOptions
from .result import Result, plan_in
from .run_setup import (
    SolveOptions,
    checked_options,
    checkpoint_of,
    exact_figures,
    exact_reporter,
    finite,
    milp_options,
    reporter,
    run_budget,
    swarm_budget,
    swarm_figures,
    swarm_options,
    warming,
)
from .termination import Budget, StopToken

#: Methods of each model.
MODEL_METHODS = {"sfi": ("exact", "pso", "per-period", "relax-round", *PEERS),
                 "network": ("exact", "pso", "decompose", "greedy", "none"),
                 "contracts": ("equilibrium", "system")}
METHODS = ("exact", "pso", "per-period", "relax-round", *PEERS, "decompose", "greedy", "none",
           "equilibrium", "system")
#: The method a model is solved with when none is named.
DEFAULT_METHOD = {"sfi": "exact", "network": "exact", "contracts": "equilibrium"}


def load_instance(doc: Any) -> sfi.Instance | network.Instance:
    """Validate an instance document of any model; ``model`` chooses the loader."""
    if not isinstance(doc, dict):
        raise InputError("instance", "must be a JSON object")
    model = doc.get("model")
    if model == "sfi":
        return sfi.Instance.from_json(doc)
    if model == "network":
        return network.Instance.from_json(doc)
    if model == "contracts":
        return contracts.Instance.from_json(doc)
    raise InputError("model", f"unknown model {model!r} (this version knows: 'sfi', "
                              f"'network', 'contracts')")


def model_of(inst) -> str:
    """The model of an instance (``sfi``, ``network``, ``contracts``); anything else is an
    :class:`InputError`."""
    for name, module in (("sfi", sfi), ("network", network), ("contracts", contracts)):
        if isinstance(inst, module.Instance):
            return name
    raise InputError("instance", f"expected an instance of a model (load_instance reads one "
                                 f"from its JSON document), got {type(inst).__name__}")


def read_plan(inst, doc: Any) -> sfi.Plan | network.Plan | contracts.Plan:
    """A plan of ``inst`` from a plan document or a result document (its ``plan``: see
    :func:`.result.plan_in`); raises :class:`InputError` naming the field in ``doc``."""
    model = model_of(inst)
    plan_doc, where = plan_in(doc, model)
    plan_type = {"sfi": sfi.Plan, "network": network.Plan, "contracts": contracts.Plan}[model]
    with inside(where):
        return plan_type.from_json(plan_doc, inst)


def evaluate(inst, plan_doc: Any) -> dict:
    """Cost, breakdown and KPIs of a plan, as JSON (a network plan also says whether it may
    be carried out, and why not). ``plan_doc`` is a plan document or a result document."""
    plan = read_plan(inst, plan_doc)
    if isinstance(inst, contracts.Instance):
        return con_eval.evaluate(inst, plan).to_json()
    if isinstance(inst, network.Instance):
        data = network.KernelData(inst)
        out = network.evaluate(inst, plan, data).to_json()
        out["authorization"] = network.authorize(inst, plan, data=data).to_json()
        return out
    return sfi.evaluate(inst, plan).to_json()


def solve(inst: sfi.Instance | network.Instance | contracts.Instance, method: str | None = None,
          opts: SolveOptions | None = None, *, warm_start: Any = None, pins: Any = None,
          callback=None, stop: StopToken | None = None, on_best=None) -> Result:
    """Solve an instance with one method.

    Parameters
    ----------
    inst : sfi.Instance, network.Instance or contracts.Instance
        An instance (:func:`load_instance` reads one from its JSON document).
    method : str, optional
        Default: the model's (:data:`DEFAULT_METHOD`). SFI and network: ``exact``: the MILP,
        solved by HiGHS; ``pso``: our swarm (islands through joblib, then a local-search
        polish). SFI: ``per-period``: the seed paper's one-PSO-per-period baseline;
        ``pyswarms``, ``nevergrad``, ``pymoo-ga``, ``pymoo-pso``: other libraries'
        optimizers (pyswarms' GlobalBestPSO, NGOpt, GA, PSO) on the same problem and decoder
        with the same budgets, started from the warm start or else the constructive plan
        (``engine/models/sfi/peers.py``);
        ``relax-round``: the linear relaxation of the exact model without its dispatch rules
        (whose optimum is the result's bound), rounded, then the local search, all within
        ``time_limit`` (default 60 s). Network: ``decompose``: one exact model per
        material with the fixed link costs priced, the parts on ``jobs`` workers (loky, or
        the dask client's with ``backend="dask"``), then the local search, within
        ``time_limit`` (default 60 s); its bound is the parts' priced bound
        (docs/models/network.md); ``greedy``: the greedy hold-back rule; ``none``: no
        sharing. Contracts: ``equilibrium``, ``system``
        (:func:`_solve_contracts`).
    opts : SolveOptions
    warm_start : dict, optional
        A plan document, or a result document, to start from (exact, pso, decompose, the
        peers).
    pins : dict, optional
        Decisions every returned plan keeps or avoids (``docs/embedding.md``, "Pins").
        Network: ``{"keep": [shipments], "forbid": [{"from", "to", "material",
        "period"}]}`` (every method). SFI: ``{"keep_periods": [t], "keep": [{"table",
        "row", "period"}]}``, the warm start's decisions (``exact``, ``pso``). A bad
        document raises :class:`InputError` naming the field under ``pins``.
    callback : callable, optional
        Progress of ``pso``, ``exact`` and ``decompose``: ``callback(info)`` with
        ``evaluations`` (of the whole run; None for ``exact``), ``best`` cost (None before
        the first incumbent), ``bound`` (``exact``: the solver's; ``decompose``: the parts'
        so far; else None), ``elapsed`` seconds from the call, ``phase`` (``swarm``,
        ``polish``, ``kicks``, ``exact``, ``parts``), what is left of the budget,
        ``time_left`` (seconds) and ``evaluations_left`` (None: no such limit) and, from the
        swarms, ``iteration``; a swarm's callback returning True cancels the run.
    on_best : callable, optional
        ``on_best(plan, cost)`` with each new best plan of a ``pso`` or ``decompose`` run (an
        :class:`sfi.Plan` or :class:`network.Plan`, and its kernel cost), from the run's
        thread; :meth:`.jobs.Job.best` is built on it.
    stop : StopToken, optional
        Set from any thread (or a signal handler) to end the run with its best plan so far;
        the result's status is then the stop's reason. ``exact`` and ``pso`` see it within
        a block of work (a chunk of iterations, an island epoch, a block of local-search
        moves, a tenth of a second of the exact solver), ``relax-round`` in its LP solve or
        a block of its local search, ``per-period`` within a chunk of the period's swarm,
        the peers at their next evaluation (pyswarms and pymoo: their next iteration),
        ``decompose`` within 20 ms while its parts run (in this process: at HiGHS's next
        look) or a block of its local search. A stopped run returns its best plan so far
        (``exact``: the solver's incumbent; with none yet, the warm start, else the
        constructive SFI plan or the greedy network plan).
    """
    # The time limit counts from here, compilation included.
    budget = Budget(stop=stop, on_best=on_best)
    opts = opts or SolveOptions()
    if method is None:
        method = DEFAULT_METHOD[model_of(inst)]
    budget.threads = checked_options(threads.claim, threads=opts.threads)
    try:
        budget.threads.apply()
        res = _solve(inst, method, opts, warm_start, pins, callback, budget)
    finally:
        budget.threads.release()
    if opts.checkpoint is not None and not budget.stopped:
        # Ended by its own rule: nothing to resume (a stopped run keeps its checkpoint).
        Path(opts.checkpoint).unlink(missing_ok=True)
    return res


def _solve(inst, method: str, opts: SolveOptions, warm_start, pins, callback, budget: Budget
           ) -> Result:
    """:func:`solve` within the run's thread share (``budget.threads``)."""
    model = model_of(inst)
    if method not in MODEL_METHODS[model]:
        raise InputError("method", f"unknown method {method!r} for the {model} model (choose "
                                   f"from {', '.join(MODEL_METHODS[model])})")
    if opts.checkpoint is not None and method != "pso":
        raise InputError("checkpoint", f"only the pso method saves checkpoints, not {method}")
    if model == "network":
        return _solve_network(inst, method, opts, warm_start, pins, callback, budget)
    if model == "contracts":
        if pins is not None:
            raise InputError("pins", "the contracts model has no decisions to pin")
        return _solve_contracts(inst, method, opts, warm_start)
    start = read_plan(inst, warm_start) if warm_start is not None else None
    kept = SfiPins.from_json(pins, inst, start)
    if not kept.empty and method not in ("exact", "pso"):
        raise InputError("pins", f"method {method!r} does not take pins (exact and pso do)")
    if method != "exact":
        warmup()
    t0 = budget.start
    objective, bound, extra = math.nan, -math.inf, {}
    if method == "exact":
        mo = milp_options(opts, budget)
        with warming(warmup):
            plan, out = sfi_milp.solve(inst, mo, start, stop=budget.token, pins=kept,
                                       progress=exact_reporter(callback, budget, mo))
        if plan is None and (budget.stopped or start is not None
                             or "time limit" in out.status.lower()):
            # stopped, or out of time, before the solver reported a plan: the start it had,
            # else the constructive plan (every SFI plan it makes is feasible), with the
            # solver's bound and status
            plan = start if start is not None else heuristic_plan(inst)
        status, objective, bound, extra = exact_figures(plan, out, mo)
    elif method == "relax-round":
        time_limit = opts.time_limit or 60.0
        if not time_limit > 0:
            raise InputError("time_limit", f"must be > 0, got {time_limit!r}")
        # The time limit counts from the call: the warm-up is past.
        run = run_budget(opts, budget, time_limit, opts.max_evals)
        plan, info = sfi_rounding.solve_relax_round(
            inst, max(1e-3, time_limit - (time.perf_counter() - budget.start)), budget.token,
            budget=run)
        status = "done"
        if (why := run.reason()) in ("max_evals", "target"):
            status = why
        if math.isfinite(info["bound"]):
            bound = info["bound"]
        extra = {"relaxation": {k: finite(v) if isinstance(v, float) else v
                                for k, v in info.items()}}
    else:
        po, io = swarm_options(opts, budget, whole_run=method == "pso")
        if method == "pso":
            budget = swarm_budget(opts, po, io, budget)
            plan, info = sfi_swarm.solve_pso(inst, po, io, warm_start=start,
                                             callback=reporter(callback, budget), budget=budget,
                                             pins=kept, checkpoint=checkpoint_of(inst, opts, pins))
        elif method == "per-period":
            plan, info = sfi_swarm.solve_per_period(
                inst, po, run_budget(opts, budget, po.time_limit, opts.max_evals))
        else:
            stall = None if opts.stall_iter is None else opts.stall_iter * po.swarm_size
            # the plan our swarm is seeded with, unless the caller gives one
            plan, info = solve_peer(
                method, inst, po, run_budget(opts, budget, po.time_limit, opts.max_evals, stall),
                start=start if start is not None else heuristic_plan(inst))
        status, extra = swarm_figures(info, opts)
    wall = time.perf_counter() - t0
    if budget.stopped:
        status = budget.token.reason
    plan = plan.cleaned()
    if kept.breaks((plan.pdp, plan.generic, plan.codp, plan.dedicated)):
        # a solver's round-off on a kept quantity: the kept value, exactly
        plan = kept.apply(inst, plan)
    ev = sfi.evaluate(inst, plan)
    return Result(model="sfi", instance=inst.name, method=method, cost=ev.cost,
                  plan=plan.to_json(), status=status,
                  objective=objective if math.isfinite(objective) else ev.cost,
                  bound=bound, wall_s=wall, evaluation=ev.to_json(), extra=extra)


def _solve_network(inst: network.Instance, method: str, opts: SolveOptions, warm_start,
                   pins_doc, callback, budget: Budget) -> Result:
    start = read_plan(inst, warm_start) if warm_start is not None else None
    data = network.KernelData(inst)
    pins = NetworkPins.from_json(pins_doc, inst, data)
    if method in ("pso", "decompose"):
        net_warmup()
    t0 = budget.start
    objective, bound, extra, status = math.nan, -math.inf, {}, "done"
    if method == "exact":
        mo = milp_options(opts, budget)
        # the greedy plan is a first incumbent for free
        start = pins.start(data, start) if start is not None else \
            net_swarm.solve_greedy(inst, pins, data)[0]
        with warming(net_warmup):
            plan, out = net_milp.solve(inst, mo, start, stop=budget.token, pins=pins,
                                       progress=exact_reporter(callback, budget, mo))
        if plan is None:  # stopped, or out of time, before HiGHS reported its start
            plan = start
        status, objective, bound, extra = exact_figures(plan, out, mo)
    elif method == "pso":
        po, io = swarm_options(opts, budget, whole_run=True)
        budget = swarm_budget(opts, po, io, budget)
        plan, info = net_swarm.solve_pso(inst, po, io, warm_start=start,
                                         callback=reporter(callback, budget), budget=budget,
                                         pins=pins, checkpoint=checkpoint_of(inst, opts, pins_doc))
        status, extra = swarm_figures(info, opts)
    elif method == "decompose":
        whole = run_budget(opts, budget, opts.time_limit or 60.0, None)
        do = checked_options(DecomposeOptions, jobs=min(opts.jobs, budget.threads.count),
                             backend=opts.backend)
        begin = net_swarm.solve_greedy(inst, pins, data)[0]
        if start is not None:
            warm = pins.start(data, start)
            scored = network.plan_costs(data, [begin, warm])
            if scored.flags[1] == 0 and scored.cost[1] < scored.cost[0]:
                begin = warm
        plan, info = solve_decomposed(inst, begin, do, whole, data=data, pins=pins,
                                      callback=reporter(callback, whole))
        status, bound, extra = info["message"], info["bound"], {"decompose": info}
    elif method == "greedy":
        plan, _ = net_swarm.solve_greedy(inst, pins, data)
    else:
        plan, _ = net_swarm.solve_none(inst, pins)
    wall = time.perf_counter() - t0
    if budget.stopped:
        status = budget.token.reason
    # kept shipments exactly as given, what a method added on their keys as one more
    plan = pins.merge(plan.cleaned())
    verdict = network.authorize(inst, plan, data=data)
    if not verdict.ok:
        raise NoSolution(f"{method} produced a plan that may not be carried out: "
                         f"{verdict.refusals[0].message}")
    ev = network.evaluate(inst, plan, data)
    extra["firms"] = ev.firms
    return Result(model="network", instance=inst.name, method=method, cost=ev.cost,
                  plan=plan.to_json(inst), status=status,
                  objective=objective if math.isfinite(objective) else ev.cost,
                  bound=bound, wall_s=wall, evaluation=ev.to_json(), extra=extra)


def _solve_contracts(inst: contracts.Instance, method: str, opts: SolveOptions,
                     warm_start) -> Result:
    """``equilibrium``: the manufacturers' best responses from ``warm_start`` (default: the
    market-clearing contract); ``system``: the contract that maximizes the chain's profit.
    Each swarm has ``swarm_size`` particles and ``max_iter`` iterations (default 30);
    ``time_limit`` bounds the equilibrium search."""
    start = read_plan(inst, warm_start) if warm_start is not None else None
    pso = checked_options(PsoOptions, swarm_size=opts.swarm_size,
                          max_iter=opts.max_iter or 30, seed=opts.seed)
    data = con_eval.KernelData(inst)
    t0 = time.perf_counter()
    if method == "equilibrium":
        eo = checked_options(con_eq.EquilibriumOptions, pso=pso, time_limit=opts.time_limit)
        eq = con_eq.equilibrium(inst, eo, start=start, data=data)
        plan = eq.plan
        status = "converged" if eq.converged else "not_converged"
        extra = {"equilibrium": eq.to_json()}
    else:
        plan, _, evals = con_eq.system_optimum(inst, pso, data=data,
                                               seeds=[start] if start is not None else [])
        status = "done"
        extra = {"system": {"evaluations": evals}}
    wall = time.perf_counter() - t0
    ev = con_eval.evaluate(inst, plan, data)
    return Result(model="contracts", instance=inst.name, method=method, cost=ev.cost,
                  plan=plan.to_json(), status=status, objective=ev.cost, bound=-math.inf,
                  wall_s=wall, evaluation=ev.to_json(), extra=extra)
