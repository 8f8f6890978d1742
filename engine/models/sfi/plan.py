"""SFI plans: the JSON format, the feasibility check that names every violation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, integer, join, number, only
from ...limits import MAX_QUANTITY
from .instance import Instance

#: Solver values this close to zero are zero in a returned plan (see docs/models/sfi.md).
ZERO_TOL = 1e-9
#: Capacity may be exceeded by this much (units), for solver round-off.
CAPACITY_ATOL = 1e-5


@dataclass(frozen=True, eq=False)
class Plan:
    """Decisions for every period.

    Attributes
    ----------
    pdp : ndarray of int64, shape (C, T)
        PDP stage of each category per period.
    generic : ndarray, shape (C, T)
        New generic SFI per category and period (units).
    codp : ndarray of int64, shape (P, T)
        CODP stage of each product per period.
    dedicated : ndarray, shape (P, T)
        New dedicated SFI per product and period (units).
    """

    pdp: np.ndarray
    generic: np.ndarray
    codp: np.ndarray
    dedicated: np.ndarray

    @classmethod
    def from_json(cls, doc: Any, inst: Instance) -> Plan:
        """Read and check a plan document against an instance; raises :class:`InputError`."""
        if not isinstance(doc, dict):
            raise InputError("plan", "must be a JSON object")
        only(doc, "", ("pdp", "generic", "codp", "dedicated"))
        C, P, T, S = inst.n_categories, inst.n_products, inst.n_periods, inst.n_stages - 1
        pdp = _table(doc, "pdp", C, T, lambda v, p: integer(v, p, low=1, high=S - 1))
        gen = _table(doc, "generic", C, T,
                     lambda v, p: number(v, p, low=0.0, high=MAX_QUANTITY))
        codp = _table(doc, "codp", P, T, lambda v, p: integer(v, p, low=1, high=S - 1))
        ded = _table(doc, "dedicated", P, T,
                     lambda v, p: number(v, p, low=0.0, high=MAX_QUANTITY))
        plan = cls(
            pdp=np.asarray(pdp, dtype=np.int64),
            generic=np.asarray(gen, dtype=np.float64),
            codp=np.asarray(codp, dtype=np.int64),
            dedicated=np.asarray(ded, dtype=np.float64),
        )
        check_feasible(inst, plan)
        return plan

    def to_json(self) -> dict:
        """The interchange document of this plan."""
        return {
            "pdp": self.pdp.tolist(),
            "generic": [[_num(x) for x in row] for row in self.generic],
            "codp": self.codp.tolist(),
            "dedicated": [[_num(x) for x in row] for row in self.dedicated],
        }

    def truncated(self, periods: int) -> Plan:
        """The plan's first ``periods`` periods."""
        cut = slice(0, periods)
        return Plan(self.pdp[:, cut].copy(), self.generic[:, cut].copy(),
                    self.codp[:, cut].copy(), self.dedicated[:, cut].copy())

    def cleaned(self) -> Plan:
        """The plan with quantities within :data:`ZERO_TOL` of zero (a solver's tolerance) made
        zero, so that it lists no buffer of 1e-10 units. (Other round-off needs no cleaning:
        no amount of up to ``SETUP_EPS`` units pays a setup.)"""
        return Plan(self.pdp.copy(), _zeroed(self.generic), self.codp.copy(),
                    _zeroed(self.dedicated))


def _zeroed(x: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) <= ZERO_TOL, 0.0, x)


def _num(x: float) -> float | int:
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _table(doc: dict, key: str, rows: int, T: int, read) -> list[list]:
    value = array(field(doc, key, ""), key, length=rows)
    return [[read(v, join(join(key, r), t)) for t, v in enumerate(array(row, join(key, r),
                                                                      length=T))]
            for r, row in enumerate(value)]


def violations(inst: Instance, plan: Plan) -> list[tuple[str, str]]:
    """Every way in which ``plan`` breaks the model's constraints, as ``(field, problem)`` pairs.

    Shapes are checked first; with wrong shapes nothing else is checked.
    """
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    out: list[tuple[str, str]] = []
    for key, arr, rows in (("pdp", plan.pdp, C), ("generic", plan.generic, C),
                           ("codp", plan.codp, P), ("dedicated", plan.dedicated, P)):
        if np.shape(arr) != (rows, T):
            out.append((key, f"must have shape ({rows}, {T}), got {np.shape(arr)}"))
    if out:
        return out
    for key, arr in (("generic", plan.generic), ("dedicated", plan.dedicated)):
        for r, t in zip(*np.nonzero(~np.isfinite(arr) | (arr < 0))):
            out.append((f"{key}[{r}][{t}]", f"must be a finite quantity >= 0, got {arr[r, t]!r}"))
    S1 = inst.n_stages
    for c, t in zip(*np.nonzero((plan.pdp < 0) | (plan.pdp >= S1))):
        out.append((f"pdp[{c}][{t}]", f"unknown stage {plan.pdp[c, t]}"))
    for p, t in zip(*np.nonzero((plan.codp < 0) | (plan.codp >= S1))):
        out.append((f"codp[{p}][{t}]", f"unknown stage {plan.codp[p, t]}"))
    if out:
        return out
    # Masks first, messages for the offending entries only: the local search calls this on
    # every plan it applies.
    not_pdp = ~inst.pdp_mask[np.arange(C)[:, None], plan.pdp]
    for c, t in zip(*np.nonzero(not_pdp)):
        out.append((f"pdp[{c}][{t}]", f"stage {plan.pdp[c, t]} is not a PDP candidate "
                                      f"of category {c} "
                                      f"{inst.pdp_candidates(c).tolist()}"))
    not_codp = ~inst.codp_mask[np.arange(P)[:, None], plan.codp]
    upstream = plan.codp < plan.pdp[inst.category]
    for p, t in zip(*np.nonzero(not_codp | upstream)):
        c = inst.category[p]
        k = plan.codp[p, t]
        if not_codp[p, t]:
            out.append((f"codp[{p}][{t}]", f"stage {k} is not a CODP candidate of product "
                                           f"{p} {inst.codp_candidates(p).tolist()}"))
        else:
            out.append((f"codp[{p}][{t}]", f"stage {k} is upstream of the PDP of category "
                                           f"{c} in that period (stage {plan.pdp[c, t]})"))
    used = plan.generic.sum(axis=0) + plan.dedicated.sum(axis=0)
    for t in range(T):
        limit = inst.capacity[t] + CAPACITY_ATOL
        if used[t] > limit:
            out.append((f"generic[*][{t}]", f"generic + dedicated = {used[t]:g} exceeds the "
                                            f"capacity Q = {inst.capacity[t]:g}"))
    return out


def check_feasible(inst: Instance, plan: Plan) -> None:
    """Raise :class:`InputError` naming the first violation (and how many there are)."""
    found = violations(inst, plan)
    if found:
        where, what = found[0]
        more = f" (and {len(found) - 1} more violations)" if len(found) > 1 else ""
        raise InputError(f"plan.{where}", what + more)
