"""The result of a solve: plan, cost re-scored by the kernel, solver figures, JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import InputError

#: A result's status, one vocabulary for every method: ``optimal`` (exact, proved within the
#: gap), ``not_optimal`` (exact, ended otherwise with a plan), ``converged`` and
#: ``not_converged`` (the contracts' equilibrium), ``done`` (a method that ends by itself:
#: greedy, none, system, relax-round), the budget that ended a run (``time_limit``,
#: ``max_iter``, ``max_evals``, ``stall``, ``target``), and a run ended from outside
#: (``stopped``, ``interrupted`` on SIGINT or SIGTERM, ``cancelled`` by a progress callback,
#: or the reason given to :meth:`StopToken.stop`). A solver's own text stays in ``extra``.
STATUSES = ("optimal", "not_optimal", "converged", "not_converged", "done", "time_limit",
            "max_iter", "max_evals", "stall", "target", "stopped", "interrupted", "cancelled")
#: The statuses of a run that did not end as asked (see :attr:`Result.success`).
_UNSUCCESSFUL = ("not_optimal", "not_converged", "stopped", "interrupted", "cancelled")


@dataclass(frozen=True, eq=False)
class Result:
    """What a solve returns.

    Attributes
    ----------
    model, instance, method : str
        Model name, instance name, method that produced the plan.
    cost : float
        The kernel's cost of ``plan``: the figure to report.
    plan : dict
        The plan in the model's interchange format.
    status : str
        How the run ended (:data:`STATUSES`).
    objective : float
        The solver's own objective of its incumbent (may exceed ``cost`` when an incumbent
        carries setups it does not use; never report it as the cost).
    bound : float
        Best proven lower bound on the optimal cost (``-inf`` when none).
    wall_s : float
        Wall time of the solve in seconds.
    evaluation : dict
        Breakdown and KPIs of ``plan`` (see the model's ``Evaluation.to_json``).
    extra : dict
        Method-specific figures (nodes, build time, ...).
    """

    model: str
    instance: str
    method: str
    cost: float
    plan: dict
    status: str
    objective: float
    bound: float
    wall_s: float
    evaluation: dict
    extra: dict

    @property
    def success(self) -> bool:
        """Whether the run ended as asked: proved optimal (``exact``), converged
        (``equilibrium``), finished (the methods that end by themselves) or ran its budget
        (the swarms, whose budget is their end); not when stopped from outside, not
        converged, or an exact solve that ended without its proof."""
        if self.method == "exact":
            return self.status == "optimal"
        return self.status not in _UNSUCCESSFUL

    @property
    def gap(self) -> float:
        """Relative gap of ``cost`` to ``bound``: ``(cost - bound) / |cost|``."""
        if not math.isfinite(self.bound):
            return math.inf
        return max(0.0, self.cost - self.bound) / max(abs(self.cost), 1e-12)

    def to_json(self) -> dict:
        def num(x: float):
            return x if math.isfinite(x) else None

        return {
            "model": self.model,
            "instance": self.instance,
            "method": self.method,
            "cost": self.cost,
            "plan": self.plan,
            "status": self.status,
            "success": self.success,
            "objective": num(self.objective),
            "bound": num(self.bound),
            "gap": num(self.gap),
            "wall_s": self.wall_s,
            "breakdown": self.evaluation["breakdown"],
            "kpis": self.evaluation["kpis"],
            **self.extra,
        }


def plan_in(doc: Any, model: str) -> tuple[Any, str]:
    """The plan a document holds, and where: a plan document is its own plan (``""``), a
    result document of :func:`~invswarm.engine.solve.solve` (``invswarm solve``) holds it
    at ``plan``. A result of another model than ``model`` raises :class:`InputError`."""
    if not (isinstance(doc, dict) and "plan" in doc):
        return doc, ""
    other = doc.get("model", model)
    if other != model:
        raise InputError("model", f"a result of the {other!r} model, for an instance of the "
                                  f"{model!r} model")
    return doc["plan"], "plan"
