"""Network instances: the JSON interchange format, its validation, and the kernels' array form.

Periods are 1-based in JSON and 0-based in arrays. Stock is kept by *expiry bucket*: bucket
``e < T`` holds units whose last usable period is ``e`` (0-based); bucket ``T`` holds units
usable to the end of the horizon (no expiry, or a last usable period after it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, integer, join, number, only, text, unique_names
from ...limits import MAX_CELLS, MAX_FIRMS, MAX_MATERIALS, MAX_MONEY, MAX_PERIODS, MAX_QUANTITY

TOP_FIELDS = ("model", "name", "periods", "materials", "firms", "stock", "links", "loans")


@dataclass(frozen=True, eq=False)
class Instance:
    """One network instance as contiguous arrays (symbols of ``docs/models/network.md``).

    ``N`` firms, ``M`` materials, ``T`` periods, ``L`` links, ``B = T + 1`` expiry buckets.
    Quantities are in units, money in currency units, times in periods.

    Attributes
    ----------
    life : ndarray of int64, shape (M,)
        Shelf life in periods; 0 when the material does not expire.
    value : ndarray, shape (M,)
        ``w[m]``: value lost per expired unit.
    price : ndarray, shape (M,)
        Transfer price per unit of a permanent transfer (a payment, not a cost).
    listed : ndarray of bool, shape (N, M)
        Pairs that hold, receive or require the material; only these may ship or receive it.
    lots : ndarray, shape (N, M, B)
        Stock at the start of period 1 by expiry bucket.
    receipts, requirements : ndarray, shape (N, M, T)
        ``R`` and ``D``.
    protected, hold, shortage : ndarray, shape (N, M)
        ``S``, ``h`` (per unit and period), ``pi`` (per backlogged unit and period).
    link_from, link_to, lead : ndarray of int64, shape (L,)
    unit_cost : ndarray, shape (L, M)
    fixed_cost : ndarray, shape (L,)
    reverse : ndarray of int64, shape (L,)
        Index of the link ``(to, from)``, or -1.
    durations : ndarray of int64, shape (K,)
        Allowed loan durations (return period minus shipping period).
    loan_fee : float
        Payment per loaned unit and period of the loan (0 unless the instance sets it).
    """

    name: str
    firm_names: tuple[str, ...]
    material_names: tuple[str, ...]
    n_periods: int
    life: np.ndarray
    value: np.ndarray
    price: np.ndarray
    listed: np.ndarray
    lots: np.ndarray
    receipts: np.ndarray
    requirements: np.ndarray
    protected: np.ndarray
    hold: np.ndarray
    shortage: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray
    lead: np.ndarray
    unit_cost: np.ndarray
    fixed_cost: np.ndarray
    reverse: np.ndarray
    durations: np.ndarray
    loan_fee: float

    @property
    def n_firms(self) -> int:
        return len(self.firm_names)

    @property
    def n_materials(self) -> int:
        return len(self.material_names)

    @property
    def n_links(self) -> int:
        return int(self.link_from.size)

    def link_index(self, i: int, j: int) -> int:
        """Index of link ``(i, j)``, or -1."""
        hit = np.flatnonzero((self.link_from == i) & (self.link_to == j))
        return int(hit[0]) if hit.size else -1

    def receipt_bucket(self, m: int, t: int) -> int:
        """Expiry bucket of a receipt of material ``m`` arriving in (0-based) period ``t``."""
        life = int(self.life[m])
        return self.n_periods if life == 0 else min(t + life - 1, self.n_periods)

    # ------------------------------------------------------------------ JSON
    @classmethod
    def from_json(cls, doc: Any) -> Instance:
        """Validate an instance document; raises :class:`InputError` naming the field."""
        only(doc, "", TOP_FIELDS)
        if field(doc, "model", "") != "network":
            raise InputError("model", f"must be 'network', got {doc.get('model')!r}")
        name = text(field(doc, "name", "", "network"), "name")
        T = integer(field(doc, "periods", ""), "periods", low=1, high=MAX_PERIODS)
        mats = array(field(doc, "materials", ""), "materials", nonempty=True,
                     most=MAX_MATERIALS)
        M = len(mats)
        life = np.zeros(M, np.int64)
        value = np.zeros(M)
        price = np.zeros(M)
        mnames = []
        for m, md in enumerate(mats):
            p = join("materials", m)
            only(md, p, ("name", "life", "value", "price"))
            mnames.append(text(field(md, "name", p), join(p, "name")))
            lf = field(md, "life", p, None)
            life[m] = 0 if lf is None else integer(lf, join(p, "life"), low=1,
                                                    high=MAX_PERIODS)
            value[m] = _money(field(md, "value", p), join(p, "value"))
            price[m] = _money(field(md, "price", p, value[m]), join(p, "price"))
        unique_names(mnames, "materials")
        firms = array(field(doc, "firms", ""), "firms", nonempty=True, most=MAX_FIRMS)
        N = len(firms)
        fnames = []
        for f, fd in enumerate(firms):
            p = join("firms", f)
            only(fd, p, ("name",))
            fnames.append(text(field(fd, "name", p), join(p, "name")))
        unique_names(fnames, "firms")

        B = T + 1
        if N * M * B > MAX_CELLS:
            raise InputError("periods", f"{N} firms x {M} materials x {B} expiry buckets "
                                        f"(periods + 1): more than {MAX_CELLS:,} stock entries")
        listed = np.zeros((N, M), bool)
        lots = np.zeros((N, M, B))
        rec = np.zeros((N, M, T))
        req = np.zeros((N, M, T))
        prot = np.zeros((N, M))
        hold = np.zeros((N, M))
        short = np.zeros((N, M))
        for k, sd in enumerate(array(field(doc, "stock", ""), "stock")):
            p = join("stock", k)
            only(sd, p, ("firm", "material", "lots", "receipts", "requirements", "protected",
                         "hold", "shortage"))
            f = index_of(field(sd, "firm", p), join(p, "firm"), N, "firm")
            m = index_of(field(sd, "material", p), join(p, "material"), M, "material")
            if listed[f, m]:
                raise InputError(p, f"firm {f} and material {m} are listed twice")
            listed[f, m] = True
            for q, ld in enumerate(array(field(sd, "lots", p, []), join(p, "lots"))):
                lp = join(join(p, "lots"), q)
                only(ld, lp, ("qty", "last_period"))
                qty = _quantity(field(ld, "qty", lp), join(lp, "qty"))
                last = field(ld, "last_period", lp, None)
                if last is None:
                    e = B - 1
                else:
                    last = integer(last, join(lp, "last_period"), high=MAX_PERIODS)
                    if last < 1:
                        raise InputError(join(lp, "last_period"),
                                         f"lot expires before period 1 (last_period {last})")
                    e = min(last - 1, T)
                lots[f, m, e] += qty
            rec[f, m] = _series(field(sd, "receipts", p, None), join(p, "receipts"), T)
            req[f, m] = _series(field(sd, "requirements", p, None), join(p, "requirements"), T)
            prot[f, m] = _quantity(field(sd, "protected", p, 0.0), join(p, "protected"))
            hold[f, m] = _money(field(sd, "hold", p), join(p, "hold"))
            short[f, m] = _money(field(sd, "shortage", p), join(p, "shortage"))

        links = array(field(doc, "links", "", []), "links")
        L = len(links)
        if L * M > MAX_CELLS:
            raise InputError("links", f"{L} links x {M} materials: more than {MAX_CELLS:,} "
                                      f"unit costs")
        lf_, lt_, lead = (np.zeros(L, np.int64) for _ in range(3))
        ucost = np.zeros((L, M))
        fixed = np.zeros(L)
        seen: dict[tuple[int, int], int] = {}
        for k, ld in enumerate(links):
            p = join("links", k)
            only(ld, p, ("from", "to", "lead_time", "unit_cost", "fixed_cost"))
            i = index_of(field(ld, "from", p), join(p, "from"), N, "firm")
            j = index_of(field(ld, "to", p), join(p, "to"), N, "firm")
            if i == j:
                raise InputError(p, f"link from firm {i} to itself")
            if (i, j) in seen:
                raise InputError(p, f"duplicate of links[{seen[i, j]}] ({i} -> {j})")
            seen[i, j] = k
            lf_[k], lt_[k] = i, j
            lead[k] = integer(field(ld, "lead_time", p), join(p, "lead_time"), low=1,
                              high=MAX_PERIODS)
            uc = field(ld, "unit_cost", p)
            if isinstance(uc, list):
                array(uc, join(p, "unit_cost"), length=M)
                ucost[k] = [_money(v, join(join(p, "unit_cost"), m)) for m, v in enumerate(uc)]
            else:
                ucost[k] = _money(uc, join(p, "unit_cost"))
            fixed[k] = _money(field(ld, "fixed_cost", p, 0.0), join(p, "fixed_cost"))
        reverse = np.array([seen.get((int(lt_[k]), int(lf_[k])), -1) for k in range(L)],
                           np.int64)

        loans = field(doc, "loans", "", {"durations": []})
        only(loans, "loans", ("durations", "fee"))
        durs = array(field(loans, "durations", "loans"), "loans.durations")
        durations = np.array(sorted({integer(d, join("loans.durations", k), low=1,
                                             high=MAX_PERIODS)
                                     for k, d in enumerate(durs)}), np.int64)
        fee = _money(field(loans, "fee", "loans", 0.0), "loans.fee")
        return cls(name=name, firm_names=tuple(fnames), material_names=tuple(mnames),
                   n_periods=T, life=life, value=value, price=price, listed=listed, lots=lots,
                   receipts=rec, requirements=req, protected=prot, hold=hold, shortage=short,
                   link_from=lf_, link_to=lt_, lead=lead, unit_cost=ucost, fixed_cost=fixed,
                   reverse=reverse, durations=durations, loan_fee=fee)

    def to_json(self) -> dict:
        """The interchange form (``Instance.from_json(inst.to_json())`` gives the same arrays)."""
        T = self.n_periods
        stock = []
        for f, m in zip(*np.nonzero(self.listed)):
            lots = [{"qty": float(q), "last_period": None if e == T else int(e) + 1}
                    for e, q in enumerate(self.lots[f, m]) if q > 0]
            stock.append({"firm": int(f), "material": int(m), "lots": lots,
                          "receipts": self.receipts[f, m].tolist(),
                          "requirements": self.requirements[f, m].tolist(),
                          "protected": float(self.protected[f, m]),
                          "hold": float(self.hold[f, m]),
                          "shortage": float(self.shortage[f, m])})
        doc = {
            "model": "network", "name": self.name, "periods": T,
            "materials": [{"name": n, "life": int(lf) or None, "value": float(v),
                           "price": float(p)}
                          for n, lf, v, p in zip(self.material_names, self.life, self.value,
                                                 self.price)],
            "firms": [{"name": n} for n in self.firm_names],
            "stock": stock,
            "links": [{"from": int(i), "to": int(j), "lead_time": int(le),
                       "unit_cost": uc.tolist(), "fixed_cost": float(fc)}
                      for i, j, le, uc, fc in zip(self.link_from, self.link_to, self.lead,
                                                  self.unit_cost, self.fixed_cost)],
            "loans": {"durations": self.durations.tolist(), "fee": self.loan_fee},
        }
        return doc


def index_of(value: Any, path: str, n: int, what: str) -> int:
    k = integer(value, path)
    if not 0 <= k < n:
        raise InputError(path, f"unknown {what} {k} (there are {n}, numbered from 0)")
    return k


def _series(value: Any, path: str, T: int) -> np.ndarray:
    if value is None:
        return np.zeros(T)
    array(value, path, length=T)
    return np.array([_quantity(v, join(path, t)) for t, v in enumerate(value)])


def _quantity(value: Any, path: str) -> float:
    return number(value, path, low=0, high=MAX_QUANTITY)


def _money(value: Any, path: str) -> float:
    return number(value, path, low=0, high=MAX_MONEY)
