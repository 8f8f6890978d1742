"""Pinned decisions of the SFI model: periods (or single decisions) kept as the warm start has
them (docs/models/sfi.md, "Pins")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, inside, integer, join, only, text
from ...limits import MAX_CELLS
from .instance import Instance
from .plan import Plan

TABLES = ("pdp", "generic", "codp", "dedicated")


@dataclass(frozen=True, eq=False)
class Pins:
    """Which decisions of a plan are kept, and their values.

    Attributes
    ----------
    ref : Plan
        The plan the kept decisions come from (the warm start).
    masks : tuple of ndarray of bool
        Kept cells of ``pdp`` (C, T), ``generic`` (C, T), ``codp`` (P, T), ``dedicated``
        (P, T).
    """

    ref: Plan | None
    masks: tuple

    @classmethod
    def none(cls, inst: Instance) -> Pins:
        C, P, T = inst.n_categories, inst.n_products, inst.n_periods
        return cls(None, tuple(np.zeros((n, T), bool) for n in (C, C, P, P)))

    @property
    def empty(self) -> bool:
        return not any(m.any() for m in self.masks)

    @classmethod
    def from_json(cls, doc: Any, inst: Instance, ref: Plan | None) -> Pins:
        """Validate a pins document ``{"keep_periods": [t, ...], "keep": [{"table", "row",
        "period"}, ...]}`` (both optional; periods 1-based, rows 0-based as in the plan's
        tables); errors name the field under ``pins``. Kept decisions take the values of
        ``ref``, the warm start, which pinning requires."""
        if doc is None:
            return cls.none(inst)
        C, P, T = inst.n_categories, inst.n_products, inst.n_periods
        rows = {"pdp": C, "generic": C, "codp": P, "dedicated": P}
        masks = cls.none(inst).masks
        with inside("pins"):
            only(doc, "", ("keep_periods", "keep"))
            for k, t in enumerate(array(field(doc, "keep_periods", "", []), "keep_periods",
                                        most=MAX_CELLS)):
                t = integer(t, join("keep_periods", k), low=1, high=T) - 1
                for m in masks:
                    m[:, t] = True
            for k, d in enumerate(array(field(doc, "keep", "", []), "keep", most=MAX_CELLS)):
                p = join("keep", k)
                only(d, p, ("table", "row", "period"))
                table = text(field(d, "table", p), join(p, "table"))
                if table not in rows:
                    raise InputError(join(p, "table"), f"must be one of {', '.join(TABLES)}, "
                                                       f"got {table!r}")
                r = integer(field(d, "row", p), join(p, "row"), low=0, high=rows[table] - 1)
                t = integer(field(d, "period", p), join(p, "period"), low=1, high=T) - 1
                masks[TABLES.index(table)][r, t] = True
        pins = cls(ref, masks)
        if ref is None and not pins.empty:
            raise InputError("pins", "kept decisions take the warm start's values: give a "
                                     "warm start")
        return pins

    def apply(self, inst: Instance, plan: Plan) -> Plan:
        """``plan`` with the kept decisions set to the warm start's, and repaired where that
        breaks a rule in a period: a free stage that no longer lies on the right side of a
        kept one takes the warm start's stage too (so do the free CODPs that then lie above
        their PDP), and when capacity is exceeded the free quantities of the period shrink in
        proportion. The warm start itself obeys every rule, so the result does too."""
        if self.empty:
            return plan
        ref = self.ref
        arrays = [a.copy() for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)]
        refs = (ref.pdp, ref.generic, ref.codp, ref.dedicated)
        for a, r, m in zip(arrays, refs, self.masks):
            a[m] = r[m]
        pdp, gen, codp, ded = arrays
        kept_pdp, kept_gen, kept_codp, kept_ded = self.masks
        cat = inst.category
        for t in np.flatnonzero(np.logical_or.reduce([m.any(axis=0) for m in self.masks])):
            low = codp[:, t] < pdp[cat, t]
            for c in np.unique(cat[low]):
                if not kept_pdp[c, t]:
                    pdp[c, t] = ref.pdp[c, t]  # at or below every kept CODP of c
                below = (cat == c) & (codp[:, t] < pdp[c, t]) & ~kept_codp[:, t]
                codp[below, t] = ref.codp[below, t]
            cap = inst.capacity[t]
            fixed = gen[kept_gen[:, t], t].sum() + ded[kept_ded[:, t], t].sum()
            free = gen[~kept_gen[:, t], t].sum() + ded[~kept_ded[:, t], t].sum()
            if fixed + free > cap and free > 0:
                share = max(0.0, cap - fixed) / free
                gen[~kept_gen[:, t], t] *= share
                ded[~kept_ded[:, t], t] *= share
        return Plan(pdp, gen, codp, ded)

    def breaks(self, arrays) -> bool:
        """Whether plan arrays ``(pdp, generic, codp, dedicated)`` change a kept decision."""
        if self.empty:
            return False
        refs = (self.ref.pdp, self.ref.generic, self.ref.codp, self.ref.dedicated)
        return any(bool((a[m] != r[m]).any()) for a, r, m in zip(arrays, refs, self.masks))

    def frozen(self, inst: Instance) -> np.ndarray:
        """(category, period) cells whose every decision is kept, shape (C, T)."""
        pdp, gen, codp, ded = self.masks
        out = pdp & gen
        loose = ~(codp & ded)
        for p in np.flatnonzero(loose.any(axis=1)):
            out[inst.category[p]] &= ~loose[p]
        return out

    def free_variables(self, problem) -> np.ndarray:
        """Indices of the variables of an :class:`~.problem.SfiProblem` that no kept
        decision fixes (its blocks are laid out row by row over the periods)."""
        e = problem.encoding
        kept = np.zeros(problem.n_var, bool)
        for name, m in zip(TABLES, self.masks):
            kept[e.slice(name)] = m.ravel()
        return np.flatnonzero(~kept).astype(np.int64)
