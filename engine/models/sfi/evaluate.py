"""Evaluating SFI plans with the batched kernel: the public wrapper validates and allocates."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ....kernels import sfi as ksfi
from ....kernels.sfi_data import Model
from .instance import Instance
from .plan import Plan, check_feasible

COMPONENTS = ksfi.COMPONENTS
KPIS = ksfi.KPIS
_PREP = np.array([name in ksfi.PREP_COMPONENTS for name in COMPONENTS])


def kernel_data(inst: Instance) -> Model:
    """The instance's record for the kernels (:data:`invswarm.kernels.sfi_data.Model`)."""
    return Model._make(float(inst.disposal_rate) if name == "disposal_rate" else
                       getattr(inst, name) for name in Model._fields)


def batch_costs(
    inst: Instance,
    pdp: np.ndarray,
    generic: np.ndarray,
    codp: np.ndarray,
    dedicated: np.ndarray,
    *,
    detail: bool = False,
    usage: bool = False,
    data: Model | None = None,
) -> tuple:
    """Expected cost of a swarm of feasible plans.

    Parameters
    ----------
    inst : Instance
    pdp, codp : array of int, shapes (NP, C, T) and (NP, P, T)
    generic, dedicated : array of float, shapes (NP, C, T) and (NP, P, T)
    detail : bool
        Also return the per-period breakdown ``(NP, T, len(COMPONENTS))`` and the KPI unit
        counts ``(NP, len(KPIS))``.
    usage : bool
        With ``detail``, also return the use of the buffers ``(NP, C + 2P, T)``: units drawn
        from each new generic buffer, from each new dedicated buffer, and each product's demand
        not met by its own dedicated buffers.
    data : Model, optional
        :func:`kernel_data` of ``inst``, when the caller keeps it between calls.

    Returns
    -------
    cost : ndarray, shape (NP,)
    breakdown, kpis : ndarray or None
    use : ndarray, only with ``usage``
    """
    if usage and not detail:
        raise ValueError("usage: needs detail=True")
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    pdp = np.ascontiguousarray(pdp, dtype=np.int64)
    codp = np.ascontiguousarray(codp, dtype=np.int64)
    generic = np.ascontiguousarray(generic, dtype=np.float64)
    dedicated = np.ascontiguousarray(dedicated, dtype=np.float64)
    NP = pdp.shape[0] if pdp.ndim == 3 else -1
    for name, arr, rows in (("pdp", pdp, C), ("generic", generic, C),
                            ("codp", codp, P), ("dedicated", dedicated, P)):
        if arr.shape != (NP, rows, T):
            raise ValueError(f"{name}: expected shape ({NP}, {rows}, {T}), got {arr.shape}")
    cost = np.empty(NP)
    if detail:
        bd = np.empty((NP, T, len(COMPONENTS)))
        kp = np.empty((NP, len(KPIS)))
        use = np.empty((NP, C + 2 * P, T))
    else:
        bd = np.empty((1, 1, 1))
        kp = np.empty((1, 1))
        use = np.empty((1, 1, 1))
    ksfi.sfi_costs(pdp, generic, codp, dedicated, data if data is not None else kernel_data(inst),
                   detail, 4 * numba.get_num_threads(), cost, bd, kp, use)
    if usage:
        return cost, bd, kp, use
    return (cost, bd, kp) if detail else (cost, None, None)


def plan_use(inst: Instance, plan: Plan, data: Model | None = None) -> tuple[float, np.ndarray]:
    """Expected cost of one feasible plan and the use of its buffers.

    Parameters
    ----------
    inst : Instance
    plan : Plan
        Feasible (not checked: the callers play plans they built feasible).
    data : Model, optional
        :func:`kernel_data` of ``inst``, when the caller keeps it between calls.

    Returns
    -------
    cost : float
    use : ndarray, shape (C + 2P, T)
        Units drawn from each new generic buffer, from each new dedicated buffer, and each
        product's demand not met by its own dedicated buffers (see :func:`batch_costs`).
    """
    cost, _, _, use = batch_costs(inst, plan.pdp[None], plan.generic[None], plan.codp[None],
                                  plan.dedicated[None], detail=True, usage=True, data=data)
    return float(cost[0]), use[0]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Cost of one plan, its breakdown and its KPIs (weighted means over scenarios).

    Attributes
    ----------
    cost : float
        Total expected cost.
    breakdown : ndarray, shape (T, len(COMPONENTS))
        Cost per period and component.
    kpis : dict
        Unit counts (``KPIS``) and ``on_time_rate`` (on-time units / units ordered).
    """

    cost: float
    breakdown: np.ndarray
    kpis: dict

    @property
    def prep_cost(self) -> np.ndarray:
        """``CP[t]``, shape (T,)."""
        return self.breakdown[:, _PREP].sum(axis=1)

    @property
    def fulfil_cost(self) -> np.ndarray:
        """``CO[t]``, shape (T,)."""
        return self.breakdown[:, ~_PREP].sum(axis=1)

    def to_json(self) -> dict:
        bd = self.breakdown
        return {
            "cost": float(self.cost),
            "breakdown": {
                "components": list(COMPONENTS),
                "per_period": [dict(zip(COMPONENTS, map(float, row))) for row in bd],
                "totals": dict(zip(COMPONENTS, map(float, bd.sum(axis=0)))),
                "prep_cost": [float(x) for x in self.prep_cost],
                "fulfil_cost": [float(x) for x in self.fulfil_cost],
            },
            "kpis": {k: float(v) for k, v in self.kpis.items()},
        }


def evaluate(inst: Instance, plan: Plan) -> Evaluation:
    """Cost, breakdown and KPIs of one plan; an infeasible plan raises ``InputError``."""
    check_feasible(inst, plan)
    cost, bd, kp = batch_costs(inst, plan.pdp[None], plan.generic[None], plan.codp[None],
                               plan.dedicated[None], detail=True)
    kpis = dict(zip(KPIS, map(float, kp[0])))
    kpis["on_time_rate"] = kpis["units_on_time"] / kpis["units_ordered"] \
        if kpis["units_ordered"] > 0 else 1.0
    return Evaluation(cost=float(cost[0]), breakdown=bd[0], kpis=kpis)
