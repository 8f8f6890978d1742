"""Pinned and forbidden decisions of the network model: committed transfers every plan keeps,
declined transfers no plan makes (docs/models/network.md, "Pins")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, inside, integer, join, only
from ...limits import MAX_CELLS
from .evaluate import FEAS_TOL, KernelData, authorize, plan_costs
from .instance import Instance, index_of
from .plan import LOAN, Plan

#: Forbidden entries with no period forbid every period.
ALL_PERIODS = -1


def _key(lk, m, t, kind, ret) -> tuple:
    """Shipments of one key are one decision in parts (docs/models/network.md)."""
    return int(lk), int(m), int(t), int(kind), int(ret) if kind == LOAN else -1


@dataclass(frozen=True, eq=False)
class Pins:
    """Kept shipments and forbidden (link, material, period) of a network solve.

    Attributes
    ----------
    keep : Plan
        The committed shipments, in the order given.
    forbid_link, forbid_material, forbid_period : ndarray of int64, shape (F,)
        Declined transfers; period 0-based, :data:`ALL_PERIODS` for every period.
    """

    keep: Plan
    forbid_link: np.ndarray
    forbid_material: np.ndarray
    forbid_period: np.ndarray

    @classmethod
    def none(cls) -> Pins:
        z = np.zeros(0, np.int64)
        return cls(Plan.empty(), z, z, z)

    @property
    def empty(self) -> bool:
        return self.keep.n_shipments == 0 and self.forbid_link.size == 0

    @classmethod
    def from_json(cls, doc: Any, inst: Instance, data: KernelData | None = None) -> Pins:
        """Validate a pins document (``{"keep": [...], "forbid": [...]}``, both optional);
        errors name the field under ``pins``. Kept shipments must be a plan that may be
        carried out on its own, and no forbidden entry may match one."""
        if doc is None:
            return cls.none()
        with inside("pins"):
            only(doc, "", ("keep", "forbid"))
            keep = Plan.from_rows(array(field(doc, "keep", "", []), "keep", most=MAX_CELLS),
                                  "keep", inst)
            rows = array(field(doc, "forbid", "", []), "forbid", most=MAX_CELLS)
            F = len(rows)
            fl, fm, fp = (np.zeros(F, np.int64) for _ in range(3))
            for k, fd in enumerate(rows):
                p = join("forbid", k)
                only(fd, p, ("from", "to", "material", "period"))
                i = index_of(field(fd, "from", p), join(p, "from"), inst.n_firms, "firm")
                j = index_of(field(fd, "to", p), join(p, "to"), inst.n_firms, "firm")
                fm[k] = index_of(field(fd, "material", p), join(p, "material"),
                                 inst.n_materials, "material")
                fl[k] = inst.link_index(i, j)
                if fl[k] < 0:
                    raise InputError(p, f"no link from firm {i} to firm {j}")
                t = field(fd, "period", p, None)
                fp[k] = ALL_PERIODS if t is None else integer(
                    t, join(p, "period"), low=1, high=inst.n_periods) - 1
        pins = cls(keep, fl, fm, fp)
        banned = pins.forbidden_set()
        for k, (lk, m, t) in enumerate(zip(keep.link, keep.material, keep.period)):
            for tt in (int(t), ALL_PERIODS):
                if (int(lk), int(m), tt) in banned:
                    f = next(f for f in range(F) if (fl[f], fm[f], fp[f]) == (lk, m, tt))
                    raise InputError(join("pins.forbid", f), f"forbids pins.keep[{k}], a "
                                     f"kept shipment")
        pins._check_keep(inst, data or KernelData(inst))
        return pins

    def _check_keep(self, inst: Instance, data: KernelData) -> None:
        """Refuse kept shipments that may not be carried out, naming the first one that
        breaks a rule together with those before it."""
        keep = self.keep
        K = keep.n_shipments
        if K == 0 or plan_costs(data, [keep]).flags[0] == 0:
            return
        lo, hi = 0, K  # the first lo shipments pass, the first hi do not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if plan_costs(data, [_head(keep, mid)]).flags[0] == 0:
                lo = mid
            else:
                hi = mid
        why = authorize(inst, _head(keep, hi), data=data).refusals[0].message
        raise InputError(f"pins.keep[{hi - 1}]", f"the kept shipments may not be carried out "
                         f"(with those before it): {why}")

    def to_json(self, inst: Instance) -> dict:
        forbid = []
        for lk, m, t in zip(self.forbid_link, self.forbid_material, self.forbid_period):
            d = {"from": int(inst.link_from[lk]), "to": int(inst.link_to[lk]),
                 "material": int(m)}
            if t != ALL_PERIODS:
                d["period"] = int(t) + 1
            forbid.append(d)
        return {"keep": self.keep.to_json(inst)["shipments"], "forbid": forbid}

    def forbidden_set(self) -> set[tuple[int, int, int]]:
        """(link, material, period or :data:`ALL_PERIODS`) of every forbidden entry."""
        return {(int(lk), int(m), int(t)) for lk, m, t in
                zip(self.forbid_link, self.forbid_material, self.forbid_period)}

    def forbidden_codes(self, inst: Instance) -> np.ndarray:
        """Sorted codes ``(link * M + material) * T + period`` of every forbidden departure
        (an entry with no period gives one code per period), for the decoder."""
        T, M = inst.n_periods, inst.n_materials
        codes = []
        for lk, m, t in self.forbidden_set():
            base = (lk * M + m) * T
            codes.extend(range(base, base + T) if t == ALL_PERIODS else [base + t])
        return np.unique(np.array(codes, np.int64))

    def allows(self, lk: int, m: int, t: int, banned: set | None = None) -> bool:
        """Whether a shipment on link ``lk`` of material ``m`` may leave in ``t``."""
        banned = self.forbidden_set() if banned is None else banned
        return (lk, m, t) not in banned and (lk, m, ALL_PERIODS) not in banned

    def of_material(self, m: int) -> Pins:
        """The pins of material ``m``, renumbered as material 0 (of a one-material instance
        made from this one: its links and periods unchanged)."""
        hit = self.forbid_material == m
        return Pins(self.keep.of_material(m, 0), self.forbid_link[hit],
                    np.zeros(int(hit.sum()), np.int64), self.forbid_period[hit])

    def free(self, plan: Plan) -> Plan:
        """``plan`` less the kept shipments and the forbidden ones.

        Shipments of a key that a kept shipment has (link, material, period, kind, return
        period) become one shipment of what they carry beyond the kept units (none when that
        is at most ``FEAS_TOL``); the others are unchanged.
        """
        if self.empty:
            return plan
        kept: dict = {}
        for row in zip(self.keep.link, self.keep.material, self.keep.period, self.keep.qty,
                       self.keep.kind, self.keep.ret):
            key = _key(*row[:3], *row[4:])
            kept[key] = kept.get(key, 0.0) + float(row[3])
        banned = self.forbidden_set()
        rows, total = [], {}
        for lk, m, t, q, kd, r in zip(plan.link, plan.material, plan.period, plan.qty,
                                      plan.kind, plan.ret):
            if not self.allows(int(lk), int(m), int(t), banned):
                continue
            key = _key(lk, m, t, kd, r)
            if key in kept:
                total[key] = total.get(key, 0.0) + float(q)
            else:
                rows.append((lk, m, t, q, kd, r))
        for key in sorted(total):
            extra = total[key] - kept[key]
            if extra > FEAS_TOL:
                lk, m, t, kd, r = key
                rows.append((lk, m, t, extra, kd, r))
        return Plan.from_arrays(*zip(*rows)) if rows else Plan.empty()

    def merge(self, plan: Plan) -> Plan:
        """The kept shipments as given, then :meth:`free` of ``plan``: a plan that honours
        the pins (it may not be feasible: that is the kernel's verdict)."""
        if self.empty:
            return plan
        return Plan.joined([self.keep, self.free(plan)])

    def start(self, data: KernelData, plan: Plan) -> Plan:
        """A warm start made to honour the pins and to obey the rules: :meth:`merge`, then
        the free shipments of every material whose shipments break a rule are dropped (the
        rules bind material by material, and the kept shipments obey them on their own)."""
        plan = self.merge(plan)
        mats = np.unique(plan.material)
        parts = [plan.of_material(m) for m in mats]
        bad = set(mats[plan_costs(data, parts).flags != 0].tolist())
        if not bad:
            return plan
        drop = np.isin(plan.material, list(bad))
        drop[:self.keep.n_shipments] = False  # merge lists the kept shipments first
        return _rows_of(plan, ~drop)


def _head(plan: Plan, k: int) -> Plan:
    return Plan.from_arrays(plan.link[:k], plan.material[:k], plan.period[:k], plan.qty[:k],
                            plan.kind[:k], plan.ret[:k])


def _rows_of(plan: Plan, mask: np.ndarray) -> Plan:
    return Plan.from_arrays(plan.link[mask], plan.material[mask], plan.period[mask],
                            plan.qty[mask], plan.kind[mask], plan.ret[mask])
