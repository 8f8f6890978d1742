"""One entry point for every model and method; the CLI calls exactly this."""

from __future__ import annotations

import time
from typing import Any

from .errors import InputError, NoSolution
from .milp import MilpOptions
from .models import sfi
from .models.sfi import milp as sfi_milp
from .result import Result

METHODS = ("exact",)


def load_instance(doc: Any) -> sfi.Instance:
    """Validate an instance document of any model; ``model`` chooses the loader."""
    if not isinstance(doc, dict):
        raise InputError("instance", "must be a JSON object")
    model = doc.get("model")
    if model == "sfi":
        return sfi.Instance.from_json(doc)
    raise InputError("model", f"unknown model {model!r} (this version knows: 'sfi')")


def evaluate(inst: sfi.Instance, plan_doc: Any) -> dict:
    """Cost, breakdown and KPIs of a plan document, as JSON."""
    plan = sfi.Plan.from_json(plan_doc, inst)
    return sfi.evaluate(inst, plan).to_json()


def solve(
    inst: sfi.Instance,
    method: str = "exact",
    *,
    time_limit: float = 60.0,
    gap: float = 1e-4,
    threads: int = 0,
    warm_start: Any = None,
    verbose: bool = False,
) -> Result:
    """Solve an instance.

    Parameters
    ----------
    inst : Instance
    method : {"exact"}
        ``exact``: the MILP of the model, solved by HiGHS.
    time_limit : float
        Seconds.
    gap : float
        Relative gap at which the exact solver stops.
    threads : int
        Solver threads (0: the solver decides).
    warm_start : dict, optional
        A plan document to start from.
    verbose : bool
        Print the solver's log.
    """
    if method not in METHODS:
        raise InputError("method", f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    try:
        opts = MilpOptions(time_limit=time_limit, gap=gap, threads=threads, verbose=verbose)
    except ValueError as exc:
        field, _, problem = str(exc).partition(": ")
        raise InputError(field, problem) from None
    start = sfi.Plan.from_json(warm_start, inst) if warm_start is not None else None
    t0 = time.perf_counter()
    plan, out = sfi_milp.solve(inst, opts, start)
    wall = time.perf_counter() - t0
    if plan is None:
        raise NoSolution(f"the exact solver found no plan ({out.status}) within {time_limit:g} s")
    ev = sfi.evaluate(inst, plan)
    return Result(
        model="sfi",
        instance=inst.name,
        method=method,
        cost=ev.cost,
        plan=plan.to_json(),
        status=out.status,
        objective=out.objective,
        bound=out.bound,
        wall_s=wall,
        evaluation=ev.to_json(),
        extra={"solver": {"name": "HiGHS", "nodes": out.nodes, "solve_s": out.wall_s,
                          "time_limit": time_limit, "gap_limit": gap}},
    )
