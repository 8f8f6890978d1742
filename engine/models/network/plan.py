"""Network plans: a list of shipments, its JSON form, and the moves the kernel simulates.

A *move* is one physical shipment: every shipment of the plan, and for each loan its payback on
the reverse link, leaving ``lead`` periods before the return period. A plan is a set of
shipments: the moves are put in one canonical order (material, departure period, the kernel's
:func:`~invswarm.kernels.network.departure_rank`, then link, kind, loan duration and units), so
that the same shipments listed in any order give the same moves, costs and verdicts (and the
refusals in the same order) to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ....kernels.network import departure_ranks
from ...errors import InputError
from ...fields import array, field, integer, join, number, only, text
from ...limits import MAX_CELLS, MAX_QUANTITY
from .instance import Instance, index_of

PERMANENT, LOAN, PAYBACK = 0, 1, 2
KINDS = ("permanent", "loan")


@dataclass(frozen=True, eq=False)
class Plan:
    """Shipments as arrays, in plan order (periods 0-based).

    Attributes
    ----------
    link, material, period : ndarray of int64, shape (K,)
        Link index, material, departure period.
    qty : ndarray, shape (K,)
        Units shipped (> 0).
    kind : ndarray of int64, shape (K,)
        ``PERMANENT`` or ``LOAN``.
    ret : ndarray of int64, shape (K,)
        Return period of a loan (the payback reaches the lender at its start); -1 otherwise.
    """

    link: np.ndarray
    material: np.ndarray
    period: np.ndarray
    qty: np.ndarray
    kind: np.ndarray
    ret: np.ndarray

    @property
    def n_shipments(self) -> int:
        return int(self.link.size)

    @classmethod
    def empty(cls) -> Plan:
        z = np.zeros(0, np.int64)
        return cls(z, z, z, np.zeros(0), z, z)

    @classmethod
    def from_arrays(cls, link, material, period, qty, kind, ret) -> Plan:
        return cls(*(np.ascontiguousarray(a, np.int64) for a in (link, material, period)),
                   np.ascontiguousarray(qty, np.float64),
                   *(np.ascontiguousarray(a, np.int64) for a in (kind, ret)))

    @classmethod
    def from_json(cls, doc: Any, inst: Instance) -> Plan:
        """Validate a plan document against ``inst``; raises :class:`InputError` naming the field.

        Checks the format and the structure (links, periods, loan terms). Whether the plan
        may be carried out (stock to cover each shipment, donor protection, one role per firm
        and material) is :func:`~invswarm.engine.models.network.authorize`'s question.
        """
        only(doc, "", ("shipments",))
        return cls.from_rows(array(field(doc, "shipments", ""), "shipments", most=MAX_CELLS),
                             "shipments", inst)

    @classmethod
    def from_rows(cls, rows: list, where: str, inst: Instance) -> Plan:
        """Shipment objects (the entries of a plan's ``shipments``) read as in
        :meth:`from_json`; errors name ``where[k]``."""
        K = len(rows)
        link, mat, per, kind, ret = (np.zeros(K, np.int64) for _ in range(5))
        qty = np.zeros(K)
        T, N, M = inst.n_periods, inst.n_firms, inst.n_materials
        for k, sd in enumerate(rows):
            p = join(where, k)
            only(sd, p, ("from", "to", "material", "period", "qty", "kind", "return_period"))
            i = index_of(field(sd, "from", p), join(p, "from"), N, "firm")
            j = index_of(field(sd, "to", p), join(p, "to"), N, "firm")
            m = index_of(field(sd, "material", p), join(p, "material"), M, "material")
            t = integer(field(sd, "period", p), join(p, "period"), low=1, high=T) - 1
            q = number(field(sd, "qty", p), join(p, "qty"), low=0, low_open=True,
                       high=MAX_QUANTITY)
            kd = text(field(sd, "kind", p, "permanent"), join(p, "kind"))
            if kd not in KINDS:
                raise InputError(join(p, "kind"), f"must be 'permanent' or 'loan', got {kd!r}")
            l_ = inst.link_index(i, j)
            if l_ < 0:
                raise InputError(p, f"no link from firm {i} to firm {j}")
            for f, role in ((i, "from"), (j, "to")):
                if not inst.listed[f, m]:
                    raise InputError(join(p, role), f"firm {f} does not hold or require "
                                     f"material {m} (no stock entry)")
            if t + inst.lead[l_] > T - 1:
                raise InputError(join(p, "period"), f"arrives in period "
                                 f"{t + inst.lead[l_] + 1}, after the horizon ({T})")
            r = -1
            if kd == "loan":
                r = integer(field(sd, "return_period", p), join(p, "return_period"),
                            low=1, high=T) - 1
                rv = inst.reverse[l_]
                if rv < 0:
                    raise InputError(p, f"a loan needs the reverse link {j} -> {i}")
                if (r - t) not in set(inst.durations.tolist()):
                    raise InputError(join(p, "return_period"), f"loan duration {r - t} is not "
                                     f"one of loans.durations {inst.durations.tolist()}")
                if r - inst.lead[rv] < t + inst.lead[l_]:
                    raise InputError(join(p, "return_period"), "the payback would leave before "
                                     "the loan arrives")
            elif "return_period" in sd:
                raise InputError(join(p, "return_period"), "only a loan has a return period")
            link[k], mat[k], per[k], qty[k] = l_, m, t, q
            kind[k], ret[k] = (LOAN if kd == "loan" else PERMANENT), r
        return cls(link, mat, per, qty, kind, ret)

    @classmethod
    def joined(cls, plans: list[Plan]) -> Plan:
        """The shipments of ``plans``, one plan after the other."""
        if not plans:
            return cls.empty()
        return cls.from_arrays(*(np.concatenate([getattr(p, name) for p in plans])
                                 for name in ("link", "material", "period", "qty", "kind",
                                              "ret")))

    def of_material(self, m: int, as_material: int | None = None) -> Plan:
        """The shipments of material ``m``, in order; numbered ``as_material`` when given
        (material 0 of a one-material instance made from this plan's, say)."""
        hit = self.material == m
        material = self.material[hit] if as_material is None else \
            np.full(int(hit.sum()), as_material)
        return Plan.from_arrays(self.link[hit], material, self.period[hit], self.qty[hit],
                                self.kind[hit], self.ret[hit])

    def cleaned(self) -> Plan:
        """Solver round-off removed: quantities within 1e-7 of a multiple of 1e-6 snapped to
        it, shipments of less than 1e-9 units dropped."""
        q = self.qty.copy()
        snap = np.round(q, 6)
        close = np.abs(q - snap) <= 1e-7
        q[close] = snap[close]
        keep = q > 1e-9
        return Plan.from_arrays(self.link[keep], self.material[keep], self.period[keep],
                                q[keep], self.kind[keep], self.ret[keep])

    def to_json(self, inst: Instance) -> dict:
        out = []
        for l_, m, t, q, kd, r in zip(self.link, self.material, self.period, self.qty,
                                      self.kind, self.ret):
            d = {"from": int(inst.link_from[l_]), "to": int(inst.link_to[l_]),
                 "material": int(m), "period": int(t) + 1, "qty": float(q),
                 "kind": KINDS[int(kd)]}
            if kd == LOAN:
                d["return_period"] = int(r) + 1
            out.append(d)
        return {"shipments": out}

    def moves(self, inst: Instance) -> Moves:
        """The plan's moves (shipments and paybacks) in the canonical order."""
        ptr = np.array([0, self.n_shipments], np.int64)
        return batch_moves(inst, ptr, self.link, self.material, self.period, self.qty,
                           self.kind, self.ret)[1]


def batch_moves(inst: Instance, ptr, link, material, period, qty, kind, ret
                ) -> tuple[np.ndarray, Moves]:
    """The moves of many plans at once: plan ``p``'s shipments are ``ptr[p]:ptr[p + 1]`` of
    the arrays; returns the moves' CSR pointer (P + 1,) and the moves, plan after plan, each
    in the canonical order (moves that tie in it are identical but for ``src``)."""
    K = link.size
    owner = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    loans = np.flatnonzero(kind == LOAN)
    rv = inst.reverse[link[loans]]
    m_link = np.concatenate([link, rv])
    m_mat = np.concatenate([material, material[loans]])
    m_dep = np.concatenate([period, ret[loans] - inst.lead[rv]])
    m_qty = np.concatenate([qty, qty[loans]])
    m_kind = np.concatenate([kind, np.full(loans.size, PAYBACK, np.int64)])
    m_dur = np.concatenate([np.where(kind == LOAN, ret - period, 0),
                            np.zeros(loans.size, np.int64)])
    # the shipment each move comes from, counted within its plan
    local = np.arange(K) - ptr[owner]
    m_src = np.concatenate([local, local[loans]])
    m_owner = np.concatenate([owner, owner[loans]])
    rank = np.empty(m_link.size, np.int64)
    departure_ranks(m_link, m_mat, m_dep, m_kind, inst.link_to, inst.lead, inst.requirements,
                    rank)
    order = np.lexsort((m_src, m_qty, m_dur, m_kind, m_link, rank, m_dep, m_mat, m_owner))
    mptr = np.zeros(ptr.size, np.int64)
    mptr[1:] = np.cumsum(np.bincount(m_owner, minlength=ptr.size - 1))
    return mptr, Moves(*(np.ascontiguousarray(a[order], dtype=t) for a, t in (
        (m_link, np.int64), (m_mat, np.int64), (m_dep, np.int64), (m_qty, np.float64),
        (m_kind, np.int64), (m_dur, np.int64), (m_src, np.int64))))


@dataclass(frozen=True, eq=False)
class Moves:
    """A plan's moves in the canonical order (arrays of shape (K,)); ``dur`` is a loan's
    duration, ``src`` the shipment each move comes from."""

    link: np.ndarray
    material: np.ndarray
    dep: np.ndarray
    qty: np.ndarray
    kind: np.ndarray
    dur: np.ndarray
    src: np.ndarray
