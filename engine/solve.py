"""One entry point for every model and method; the CLI calls exactly this."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from .errors import InputError, NoSolution
from .fields import inside
from .milp import MilpOptions
from .models import contracts, network, sfi
from .models.contracts import equilibrium as con_eq
from .models.contracts import evaluate as con_eval
from .models.network import milp as net_milp
from .models.network import swarm as net_swarm
from .models.network.pins import Pins as NetworkPins
from .models.network.problem import warmup as net_warmup
from .models.sfi import milp as sfi_milp
from .models.sfi import rounding as sfi_rounding
from .models.sfi import swarm as sfi_swarm
from .models.sfi.pins import Pins as SfiPins
from .models.sfi.problem import warmup
from .models.sfi.search import heuristic_plan
from .parallel import IslandOptions
from .pso import PsoOptions
from .result import Result, plan_in
from .termination import Budget, StopToken

#: Methods of each model.
MODEL_METHODS = {"sfi": ("exact", "pso", "per-period", "pyswarms", "relax-round"),
                 "network": ("exact", "pso", "greedy", "none"),
                 "contracts": ("equilibrium", "system")}
METHODS = ("exact", "pso", "per-period", "pyswarms", "relax-round", "greedy", "none",
           "equilibrium", "system")
#: The method a model is solved with when none is named.
DEFAULT_METHOD = {"sfi": "exact", "network": "exact", "contracts": "equilibrium"}


@dataclass(frozen=True)
class SolveOptions:
    """Options of :func:`solve` (each method reads the ones it uses).

    Attributes
    ----------
    time_limit : float or None
        Seconds (exact: default 60; swarms: with no ``max_iter`` either, 10).
    gap : float
        Relative gap at which the exact solver stops.
    threads : int
        Exact solver threads (0: the solver decides).
    max_iter : int or None
        Iterations of each swarm (with ``per-period``: of each period's swarm).
    swarm_size : int
    seed : int
    jobs : int
        joblib workers for the islands.
    islands : int
        Number of swarms. It is not tied to ``jobs``, so that a seed gives the same result
        whatever the number of workers.
    backend : {"loky", "dask"}
    verbose : bool
        Print the exact solver's log.
    """

    time_limit: float | None = None
    gap: float = 1e-4
    threads: int = 0
    max_iter: int | None = None
    swarm_size: int = 32
    seed: int = 0
    jobs: int = 1
    islands: int = 2
    backend: str = "loky"
    verbose: bool = False


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
    if isinstance(inst, contracts.Instance):
        return "contracts"
    return "network" if isinstance(inst, network.Instance) else "sfi"


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


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _options(make, **kw):
    """Build an options dataclass, turning its ValueError into an InputError on the field."""
    try:
        return make(**kw)
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise InputError(field, problem) from None


def _milp_options(opts: SolveOptions) -> MilpOptions:
    return _options(MilpOptions, time_limit=opts.time_limit or 60.0, gap=opts.gap,
                    threads=opts.threads, verbose=opts.verbose)


def _exact_figures(plan, out, mo: MilpOptions) -> tuple[str, float, float, dict]:
    """Status, objective, bound and result extras of an exact solve; no plan raises."""
    if plan is None:
        raise NoSolution(f"the exact solver found no plan ({out.status}) within "
                         f"{mo.time_limit:g} s")
    extra = {"solver": {"name": "HiGHS", "status": out.status, "nodes": out.nodes,
                        "solve_s": out.wall_s, "time_limit": mo.time_limit,
                        "gap_limit": mo.gap},
             "history": {"exact": [[t, _finite(inc), _finite(b)] for t, inc, b in out.trace]}}
    return out.status, out.objective, out.bound, extra


def _swarm_budget(po: PsoOptions, budget: Budget) -> Budget:
    """The run's budget with the swarm's time limit (10 s when the caller gave neither a time
    nor an iteration budget), still counted from the call."""
    return _options(Budget, time_limit=po.time_limit, stop=budget.token, start=budget.start)


def _swarm_options(opts: SolveOptions) -> tuple[PsoOptions, IslandOptions]:
    """The swarm and island options (10 s when neither a time nor an iteration budget)."""
    time_limit = opts.time_limit
    if time_limit is None and opts.max_iter is None:
        time_limit = 10.0
    po = _options(PsoOptions, swarm_size=opts.swarm_size, max_iter=opts.max_iter,
                  time_limit=time_limit, seed=opts.seed, history=True)
    io = _options(IslandOptions, islands=opts.islands, n_jobs=opts.jobs, backend=opts.backend)
    return po, io


def _swarm_figures(info: dict) -> tuple[str, dict]:
    extra = {"swarm": {k: v for k, v in info.items() if k != "history"},
             "history": {"pso": [list(h) for h in info.get("history", [])]}}
    return info.get("message") or "done", extra


def solve(inst: sfi.Instance, method: str = "exact", opts: SolveOptions | None = None, *,
          warm_start: Any = None, pins: Any = None, callback=None,
          stop: StopToken | None = None) -> Result:
    """Solve an instance with one method.

    Parameters
    ----------
    inst : sfi.Instance or network.Instance
    method : str
        Both models: ``exact``: the MILP, solved by HiGHS; ``pso``: our swarm (islands through
        joblib, then a local-search polish). SFI: ``per-period``: the seed paper's
        one-PSO-per-period baseline; ``pyswarms``: pyswarms' GlobalBestPSO on the same problem
        and decoder; ``relax-round``: the linear relaxation of the exact model without its
        dispatch rules (whose optimum is the result's bound), rounded, then the local search,
        all within ``time_limit`` (default 60 s). Network: ``greedy``: the greedy hold-back
        rule; ``none``: no sharing.
    opts : SolveOptions
    warm_start : dict, optional
        A plan document, or a result document, to start from (exact and pso).
    pins : dict, optional
        Decisions every returned plan keeps or avoids (``docs/embedding.md``, "Pins").
        Network: ``{"keep": [shipments], "forbid": [{"from", "to", "material",
        "period"}]}`` (every method). SFI: ``{"keep_periods": [t], "keep": [{"table",
        "row", "period"}]}``, the warm start's decisions (``exact``, ``pso``). A bad
        document raises :class:`InputError` naming the field under ``pins``.
    callback : callable, optional
        Progress of the swarm methods (see :func:`invswarm.engine.pso.run`).
    stop : StopToken, optional
        Set from any thread (or a signal handler) to end the run with its best plan so far;
        the result's status is then the stop's reason. ``exact`` and ``pso`` see it within
        a block of work (a chunk of iterations, an island epoch, a block of local-search
        moves, a tenth of a second of the exact solver), ``per-period`` after the period
        running, ``relax-round`` in its local search, ``pyswarms`` not at all. A stopped run
        returns its best plan so far (``exact``: the solver's incumbent; with none yet, the
        warm start, else the constructive SFI plan or the greedy network plan).
    """
    # The time limit counts from here, compilation included.
    budget = Budget(stop=stop)
    opts = opts or SolveOptions()
    model = model_of(inst)
    if method not in MODEL_METHODS[model]:
        raise InputError("method", f"unknown method {method!r} for the {model} model (choose "
                                   f"from {', '.join(MODEL_METHODS[model])})")
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
        mo = _milp_options(opts)
        plan, out = sfi_milp.solve(inst, mo, start, stop=budget.token, pins=kept)
        if plan is None and budget.stopped:  # stopped before the solver found a plan
            plan = start if start is not None else heuristic_plan(inst)
        status, objective, bound, extra = _exact_figures(plan, out, mo)
    elif method == "relax-round":
        time_limit = opts.time_limit or 60.0
        if not time_limit > 0:
            raise InputError("time_limit", f"must be > 0, got {time_limit!r}")
        plan, info = sfi_rounding.solve_relax_round(inst, time_limit, budget.token)
        status = info.pop("message")
        if math.isfinite(info["bound"]):
            bound = info["bound"]
        extra = {"relaxation": {k: _finite(v) if isinstance(v, float) else v
                                for k, v in info.items()}}
    else:
        po, io = _swarm_options(opts)
        if method == "pso":
            plan, info = sfi_swarm.solve_pso(inst, po, io, warm_start=start, callback=callback,
                                             budget=_swarm_budget(po, budget), pins=kept)
        elif method == "per-period":
            plan, info = sfi_swarm.solve_per_period(inst, po, budget.token)
        else:
            plan, info = sfi_swarm.solve_pyswarms(inst, po)
        status, extra = _swarm_figures(info)
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
    if method == "pso":
        net_warmup()
    t0 = budget.start
    objective, bound, extra, status = math.nan, -math.inf, {}, "done"
    if method == "exact":
        mo = _milp_options(opts)
        # the greedy plan is a first incumbent for free
        start = pins.start(data, start) if start is not None else \
            net_swarm.solve_greedy(inst, pins)[0]
        plan, out = net_milp.solve(inst, mo, start, stop=budget.token, pins=pins)
        if plan is None and budget.stopped:  # stopped before HiGHS took its start
            plan = start
        status, objective, bound, extra = _exact_figures(plan, out, mo)
    elif method == "pso":
        po, io = _swarm_options(opts)
        plan, info = net_swarm.solve_pso(inst, po, io, warm_start=start, callback=callback,
                                         budget=_swarm_budget(po, budget), pins=pins)
        status, extra = _swarm_figures(info)
    elif method == "greedy":
        plan, _ = net_swarm.solve_greedy(inst, pins)
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
    pso = _options(PsoOptions, swarm_size=opts.swarm_size, max_iter=opts.max_iter or 30,
                   seed=opts.seed)
    data = con_eval.KernelData(inst)
    t0 = time.perf_counter()
    if method == "equilibrium":
        eo = _options(con_eq.EquilibriumOptions, pso=pso, time_limit=opts.time_limit)
        eq = con_eq.equilibrium(inst, eo, start=start, data=data)
        plan = eq.plan
        status = "converged" if eq.converged else "not converged"
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
