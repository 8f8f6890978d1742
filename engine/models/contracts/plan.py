"""Contracts plans: each manufacturer's wholesale price and caps, and their JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, join, number, only
from ...limits import MAX_QUANTITY
from .instance import Instance

#: Relative tolerance of the capacity check on the caps (solver round-off).
CAP_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Plan:
    """A contract offer of every manufacturer.

    Attributes
    ----------
    w : ndarray, shape (M,)
        Wholesale prices, ``ca[j] <= w[j] <= price_cap``.
    k : ndarray, shape (R, M)
        Caps: the most retailer i may secure from manufacturer j per year,
        ``sum_i k[i, j] <= K[j]``.
    """

    w: np.ndarray
    k: np.ndarray

    @classmethod
    def from_arrays(cls, w, k) -> Plan:
        return cls(np.ascontiguousarray(w, np.float64), np.ascontiguousarray(k, np.float64))

    @classmethod
    def from_json(cls, doc: Any, inst: Instance) -> Plan:
        """Validate a plan document against ``inst``; raises :class:`InputError` naming the
        field."""
        only(doc, "", ("w", "k"))
        R, M = inst.n_retailers, inst.n_manufacturers
        wl = array(field(doc, "w", ""), "w", length=M)
        w = np.array([number(v, join("w", j), low=inst.unit_cost[j], high=inst.price_cap)
                      for j, v in enumerate(wl)])
        kl = array(field(doc, "k", ""), "k", length=R)
        k = np.zeros((R, M))
        for i, row in enumerate(kl):
            array(row, join("k", i), length=M)
            k[i] = [number(v, join(join("k", i), j), low=0, high=MAX_QUANTITY)
                    for j, v in enumerate(row)]
        for j in range(M):
            total = float(k[:, j].sum())
            if total > inst.capacity[j] * (1 + CAP_TOL):
                raise InputError("k", f"caps at manufacturer {j} ({inst.manufacturer_names[j]}) "
                                 f"sum to {total:g}, above its capacity {inst.capacity[j]:g}")
        return cls.from_arrays(w, k)

    def to_json(self) -> dict:
        return {"w": self.w.tolist(), "k": self.k.tolist()}
