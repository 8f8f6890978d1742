"""SFI instances: the JSON interchange format, its validation, and the kernels' array form."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from ...errors import InputError
from ...fields import array, field, integer, join, number, only, text
from ...limits import (
    MAX_CATEGORIES,
    MAX_CELLS,
    MAX_HOURS,
    MAX_MONEY,
    MAX_PERIODS,
    MAX_PRIORITY,
    MAX_PRODUCTS,
    MAX_QUANTITY,
    MAX_SCENARIOS,
    MAX_STAGES,
)

#: Tolerance on the sum of scenario weights.
WEIGHT_SUM_TOL = 1e-9

#: Upper ends of the products' numbers (lower ends: 0).
_PRODUCT_HIGH = {"lead_time": MAX_HOURS, "delay_penalty": MAX_MONEY, "service_level": 1.0,
                 "service_penalty": MAX_MONEY, "lost_sale_penalty": MAX_MONEY}


@dataclass(frozen=True, eq=False)
class Instance:
    """One SFI instance as contiguous arrays (see ``docs/models/sfi.md`` for the symbols).

    Stages are numbered ``0..S`` (0 raw material, ``S`` finished); ``n_stages = S + 1``.
    Times are in hours, quantities in units (tonnes for the steel case), money in currency units.

    Attributes
    ----------
    tau, value, hold, setup_generic, setup_dedicated, setup_reuse : ndarray, shape (S+1,)
        Cumulative processing time, unit value, holding cost per unit-hour, setup costs per stage.
    remaining : ndarray, shape (S+1,)
        ``tau[S] - tau``: processing time still needed from each stage.
    disposal_rate : float
        ``omega``: a disposed unit at stage k costs ``omega * value[k]``.
    pdp_mask : ndarray of bool, shape (C, S+1)
        Candidate PDP stages of each category.
    category : ndarray of int64, shape (P,)
        Category of each product.
    codp_mask : ndarray of bool, shape (P, S+1)
        Candidate CODP stages of each product.
    lead_time, delay_penalty, service_level, service_penalty, lost_penalty : ndarray, shape (P,)
    order : ndarray of int64, shape (P,)
        Products in service order (priority ascending, ties by listing order).
    prep, fulfil, capacity, mto_capacity : ndarray, shape (T,)
        ``A[t]``, ``B[t]`` (hours), ``Q[t]``, ``M[t]`` (units).
    orders : ndarray, shape (NS, P, T)
        New orders per scenario, product, period.
    weights : ndarray, shape (NS,)
        Scenario weights, summing to one.
    init_generic_stage, init_generic_qty : ndarray, shape (C,)
    init_dedicated_stage, init_dedicated_qty : ndarray, shape (P,)
    init_backlog : ndarray, shape (P,)
    """

    name: str
    stage_names: tuple[str, ...]
    tau: np.ndarray
    value: np.ndarray
    hold: np.ndarray
    setup_generic: np.ndarray
    setup_dedicated: np.ndarray
    setup_reuse: np.ndarray
    disposal_rate: float
    category_names: tuple[str, ...]
    pdp_mask: np.ndarray
    product_names: tuple[str, ...]
    category: np.ndarray
    codp_mask: np.ndarray
    lead_time: np.ndarray
    delay_penalty: np.ndarray
    service_level: np.ndarray
    service_penalty: np.ndarray
    lost_penalty: np.ndarray
    priority: np.ndarray
    prep: np.ndarray
    fulfil: np.ndarray
    capacity: np.ndarray
    mto_capacity: np.ndarray
    orders: np.ndarray
    weights: np.ndarray
    init_generic_stage: np.ndarray
    init_generic_qty: np.ndarray
    init_dedicated_stage: np.ndarray
    init_dedicated_qty: np.ndarray
    init_backlog: np.ndarray

    @property
    def n_stages(self) -> int:
        """``S + 1``."""
        return self.tau.shape[0]

    @property
    def n_categories(self) -> int:
        return self.pdp_mask.shape[0]

    @property
    def n_products(self) -> int:
        return self.codp_mask.shape[0]

    @property
    def n_periods(self) -> int:
        return self.prep.shape[0]

    @property
    def n_scenarios(self) -> int:
        return self.orders.shape[0]

    @property
    def remaining(self) -> np.ndarray:
        return self.tau[-1] - self.tau

    @property
    def order(self) -> np.ndarray:
        # A stable sort keeps the listing order among equal priorities.
        return np.argsort(self.priority, kind="stable").astype(np.int64)

    def pdp_candidates(self, c: int) -> np.ndarray:
        return np.flatnonzero(self.pdp_mask[c])

    def usable_pdp(self, c: int) -> np.ndarray:
        """The PDP candidates of category ``c`` a feasible plan can choose: those at or below
        every product's highest CODP candidate (a PDP above it leaves that product no CODP at
        or after it). Never empty: the lowest candidate lies at or below every CODP candidate
        (a validation rule). Read-only."""
        return self._usable_pdp[c]

    @cached_property
    def _usable_pdp(self) -> tuple[np.ndarray, ...]:
        # Computed once: the MILP's builder and the local search's moves ask for it per
        # period and product.
        S1 = self.codp_mask.shape[1]
        highest = S1 - 1 - np.argmax(self.codp_mask[:, ::-1], axis=1)
        top = np.full(self.n_categories, S1 - 1)
        np.minimum.at(top, self.category, highest)
        out = []
        for c in range(self.n_categories):
            kg = np.flatnonzero(self.pdp_mask[c])
            kg = kg[kg <= top[c]]
            kg.setflags(write=False)
            out.append(kg)
        return tuple(out)

    def codp_candidates(self, p: int) -> np.ndarray:
        """The CODP candidates of product ``p``, ascending. Read-only."""
        return self._codp_candidates[p]

    @cached_property
    def _codp_candidates(self) -> tuple[np.ndarray, ...]:
        # Computed once: the local search's moves ask for it per period and product.
        out = []
        for p in range(self.n_products):
            kd = np.flatnonzero(self.codp_mask[p])
            kd.setflags(write=False)
            out.append(kd)
        return tuple(out)

    def truncated(self, periods: int) -> Instance:
        """The same instance over its first ``periods`` periods."""
        if not 1 <= periods <= self.n_periods:
            raise ValueError(f"periods: must lie in [1, {self.n_periods}], got {periods}")
        cut = slice(0, periods)
        return replace(self, prep=self.prep[cut].copy(), fulfil=self.fulfil[cut].copy(),
                       capacity=self.capacity[cut].copy(),
                       mto_capacity=self.mto_capacity[cut].copy(),
                       orders=np.ascontiguousarray(self.orders[:, :, cut]))

    def window(self, start: int, stop: int, initial: tuple) -> Instance:
        """Periods ``start:stop`` of this instance as an instance of their own, starting from
        ``initial``: the carried generic stage and units (shape (C,)), dedicated stage and
        units (P,) and backlog (P,) at the start of period ``start`` (say, a plan's:
        :func:`.scoring.carried_states`). As for any instance, the backlog carried in is late
        by the first period's length, where in the whole instance it is late by the length
        of the period before."""
        if not 0 <= start < stop <= self.n_periods:
            raise ValueError(f"start, stop: need 0 <= start < stop <= {self.n_periods}, "
                             f"got {start}, {stop}")
        gk, gx, dk, dx, bk = (np.array(a) for a in initial)
        cut = slice(start, stop)
        return replace(self, prep=self.prep[cut].copy(), fulfil=self.fulfil[cut].copy(),
                       capacity=self.capacity[cut].copy(),
                       mto_capacity=self.mto_capacity[cut].copy(),
                       orders=np.ascontiguousarray(self.orders[:, :, cut]),
                       init_generic_stage=gk.astype(np.int64), init_generic_qty=gx.astype(float),
                       init_dedicated_stage=dk.astype(np.int64),
                       init_dedicated_qty=dx.astype(float), init_backlog=bk.astype(float))

    # ------------------------------------------------------------------ JSON
    @classmethod
    def from_json(cls, doc: Any) -> Instance:
        """Validate an instance document and build the arrays; raises :class:`InputError`."""
        return _parse(doc)

    def to_json(self) -> dict:
        """The interchange document of this instance."""
        S1 = self.n_stages
        stages = [
            {
                "name": self.stage_names[s],
                "tau": _num(self.tau[s]),
                "value": _num(self.value[s]),
                "hold": _num(self.hold[s]),
                "setup_generic": _num(self.setup_generic[s]),
                "setup_dedicated": _num(self.setup_dedicated[s]),
                "setup_reuse": _num(self.setup_reuse[s]),
            }
            for s in range(S1)
        ]
        categories = [
            {"name": n, "pdp_candidates": [int(k) for k in self.pdp_candidates(c)]}
            for c, n in enumerate(self.category_names)
        ]
        products = [
            {
                "name": n,
                "category": int(self.category[p]),
                "codp_candidates": [int(k) for k in self.codp_candidates(p)],
                "lead_time": _num(self.lead_time[p]),
                "delay_penalty": _num(self.delay_penalty[p]),
                "service_level": _num(self.service_level[p]),
                "service_penalty": _num(self.service_penalty[p]),
                "lost_sale_penalty": _num(self.lost_penalty[p]),
                "priority": _num(self.priority[p]),
            }
            for p, n in enumerate(self.product_names)
        ]
        if self.n_scenarios == 1:
            orders: Any = [[_num(x) for x in row] for row in self.orders[0]]
        else:
            orders = {
                "scenarios": [[[_num(x) for x in row] for row in sc] for sc in self.orders],
                "weights": [_num(w) for w in self.weights],
            }
        return {
            "model": "sfi",
            "name": self.name,
            "disposal_rate": _num(self.disposal_rate),
            "stages": stages,
            "categories": categories,
            "products": products,
            "periods": {
                "prep": [_num(x) for x in self.prep],
                "fulfil": [_num(x) for x in self.fulfil],
                "capacity": [_num(x) for x in self.capacity],
                "mto_capacity": [_num(x) for x in self.mto_capacity],
            },
            "orders": orders,
            "initial": {
                "generic": [
                    {"stage": int(k), "qty": _num(x)}
                    for k, x in zip(self.init_generic_stage, self.init_generic_qty)
                ],
                "dedicated": [
                    {"stage": int(k), "qty": _num(x)}
                    for k, x in zip(self.init_dedicated_stage, self.init_dedicated_qty)
                ],
                "backlog": [_num(x) for x in self.init_backlog],
            },
        }


def worth_making(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Most a new buffer of period t is ever worth making, per category ``(C, T)`` and per
    product ``(P, T)``.

    A new buffer serves its period's backlog and orders and, carried once, the next period's
    orders (the next backlog is part of this period's orders): stock beyond that, or beyond the
    capacity, is only held and disposed, so no optimal plan makes it. The maximum over the
    scenarios.
    """
    d = inst.orders  # (NS, P, T)
    back = np.concatenate([np.broadcast_to(inst.init_backlog[None, :, None],
                                           (d.shape[0], d.shape[1], 1)), d[:, :, :-1]], axis=2)
    nxt = np.concatenate([d[:, :, 1:], np.zeros_like(d[:, :, :1])], axis=2)
    reach = back + d + nxt  # (NS, P, T)
    per_cat = np.zeros((d.shape[0], inst.n_categories, inst.n_periods))
    np.add.at(per_cat, (slice(None), inst.category), reach)
    cap = inst.capacity[None, :]
    return (np.ascontiguousarray(np.minimum(cap, per_cat.max(axis=0))),
            np.ascontiguousarray(np.minimum(cap, reach.max(axis=0))))


def _num(x: float) -> float | int:
    """Whole numbers as JSON integers, the rest as floats."""
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _f(values: list[float]) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _i(values: list[int]) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def _parse(doc: Any) -> Instance:
    if not isinstance(doc, dict):
        raise InputError("instance", "must be a JSON object")
    only(doc, "", ("model", "name", "disposal_rate", "stages", "categories", "products",
                   "periods", "orders", "initial"))
    model = text(field(doc, "model", ""), "model")
    if model != "sfi":
        raise InputError("model", f"must be 'sfi' for this loader, got {model!r}")
    name = text(field(doc, "name", "", default="sfi"), "name")
    omega = number(field(doc, "disposal_rate", ""), "disposal_rate", low=0.0, high=1.0)

    # Stages -------------------------------------------------------------
    stages = array(field(doc, "stages", ""), "stages", most=MAX_STAGES)
    if len(stages) < 3:
        raise InputError("stages", f"needs at least 3 stages (raw, one SFI stage, finished), "
                                   f"got {len(stages)}")
    cols: dict[str, list[float]] = {k: [] for k in (
        "tau", "value", "hold", "setup_generic", "setup_dedicated", "setup_reuse")}
    stage_names = []
    for s, st in enumerate(stages):
        sp = join("stages", s)
        only(st, sp, ("name", *cols))
        stage_names.append(text(field(st, "name", sp, default=f"stage{s}"), join(sp, "name")))
        for key in cols:
            high = MAX_HOURS if key == "tau" else MAX_MONEY
            cols[key].append(number(field(st, key, sp), join(sp, key), low=0.0, high=high))
    tau = cols["tau"]
    if tau[0] != 0.0:
        raise InputError("stages[0].tau", f"must be 0 (raw material), got {tau[0]:g}")
    for s in range(1, len(tau)):
        if not tau[s] > tau[s - 1]:
            raise InputError(f"stages[{s}].tau", f"must be greater than stages[{s - 1}].tau "
                                                 f"({tau[s - 1]:g}), got {tau[s]:g}")
    hold = cols["hold"]
    for s in range(1, len(hold)):
        if hold[s] < hold[s - 1]:
            raise InputError(f"stages[{s}].hold", f"must be >= stages[{s - 1}].hold "
                                                  f"({hold[s - 1]:g}): holding cost does not "
                                                  f"fall downstream, got {hold[s]:g}")
    S = len(stages) - 1

    def stage_list(value: Any, path: str) -> list[int]:
        ks = [integer(k, join(path, i), low=1, high=S - 1)
              for i, k in enumerate(array(value, path, nonempty=True))]
        if len(set(ks)) != len(ks):
            raise InputError(path, "lists a stage twice")
        return ks

    # Categories ---------------------------------------------------------
    cats = array(field(doc, "categories", ""), "categories", nonempty=True,
                 most=MAX_CATEGORIES)
    C = len(cats)
    pdp_mask = np.zeros((C, S + 1), dtype=np.bool_)
    cat_names = []
    for c, cat in enumerate(cats):
        cp = join("categories", c)
        only(cat, cp, ("name", "pdp_candidates"))
        cat_names.append(text(field(cat, "name", cp, default=f"category{c}"), join(cp, "name")))
        pdp_mask[c, stage_list(field(cat, "pdp_candidates", cp), join(cp, "pdp_candidates"))] = True

    # Products -----------------------------------------------------------
    prods = array(field(doc, "products", ""), "products", nonempty=True, most=MAX_PRODUCTS)
    P = len(prods)
    codp_mask = np.zeros((P, S + 1), dtype=np.bool_)
    pcols: dict[str, list[float]] = {k: [] for k in (
        "lead_time", "delay_penalty", "service_level", "service_penalty", "lost_sale_penalty",
        "priority")}
    category, prod_names = [], []
    for p, pr in enumerate(prods):
        pp = join("products", p)
        only(pr, pp, ("name", "category", "codp_candidates", *pcols))
        prod_names.append(text(field(pr, "name", pp, default=f"product{p}"), join(pp, "name")))
        c = integer(field(pr, "category", pp), join(pp, "category"), low=0, high=C - 1)
        category.append(c)
        cpath = join(pp, "codp_candidates")
        ks = stage_list(field(pr, "codp_candidates", pp), cpath)
        lowest_pdp = int(np.flatnonzero(pdp_mask[c])[0])
        for i, k in enumerate(ks):
            if k < lowest_pdp:
                raise InputError(join(cpath, i), f"stage {k} is upstream of every PDP candidate "
                                                 f"of category {c} (lowest {lowest_pdp})")
        codp_mask[p, ks] = True
        for key in pcols:
            if key == "priority":
                v = field(pr, key, pp, default=p)
                pcols[key].append(number(v, join(pp, key), low=-MAX_PRIORITY,
                                         high=MAX_PRIORITY))
            else:
                pcols[key].append(number(field(pr, key, pp), join(pp, key), low=0.0,
                                         high=_PRODUCT_HIGH[key]))

    # Periods ------------------------------------------------------------
    per = field(doc, "periods", "")
    only(per, "periods", ("prep", "fulfil", "capacity", "mto_capacity"))
    prep_list = array(field(per, "prep", "periods"), "periods.prep", nonempty=True,
                      most=MAX_PERIODS)
    T = len(prep_list)
    pv: dict[str, list[float]] = {}
    for key in ("prep", "fulfil", "capacity", "mto_capacity"):
        path = f"periods.{key}"
        vals = array(field(per, key, "periods"), path, length=T)
        high = MAX_HOURS if key in ("prep", "fulfil") else MAX_QUANTITY
        pv[key] = [number(x, join(path, t), low=0.0, high=high) for t, x in enumerate(vals)]

    # Orders -------------------------------------------------------------
    raw_orders = field(doc, "orders", "")
    if isinstance(raw_orders, dict):
        only(raw_orders, "orders", ("scenarios", "weights"))
        scen = array(field(raw_orders, "scenarios", "orders"), "orders.scenarios", nonempty=True,
                     most=MAX_SCENARIOS)
        _fits(len(scen), P, T, "orders.scenarios")
        wts = array(field(raw_orders, "weights", "orders"), "orders.weights", length=len(scen))
        weights = [number(w, join("orders.weights", i), low=0.0, high=1.0)
                   for i, w in enumerate(wts)]
        total = math.fsum(weights)
        if abs(total - 1.0) > WEIGHT_SUM_TOL:
            raise InputError("orders.weights", f"must sum to 1, got {total!r}")
        orders = [_order_table(sc, join("orders.scenarios", i), P, T) for i, sc in enumerate(scen)]
    else:
        _fits(1, P, T, "orders")
        orders = [_order_table(raw_orders, "orders", P, T)]
        weights = [1.0]

    # Initial state --------------------------------------------------------
    init = field(doc, "initial", "", default=None)
    lowest_g = [int(np.flatnonzero(pdp_mask[c])[0]) for c in range(C)]
    lowest_d = [int(np.flatnonzero(codp_mask[p])[0]) for p in range(P)]
    if init is None:
        ig_stage, ig_qty = lowest_g, [0.0] * C
        id_stage, id_qty = lowest_d, [0.0] * P
        backlog = [0.0] * P
    else:
        only(init, "initial", ("generic", "dedicated", "backlog"))
        ig_stage, ig_qty = _buffers(field(init, "generic", "initial"), "initial.generic", C, S)
        id_stage, id_qty = _buffers(field(init, "dedicated", "initial"), "initial.dedicated", P, S)
        bl = array(field(init, "backlog", "initial"), "initial.backlog", length=P)
        backlog = [number(x, join("initial.backlog", p), low=0.0, high=MAX_QUANTITY)
                   for p, x in enumerate(bl)]

    return Instance(
        name=name,
        stage_names=tuple(stage_names),
        tau=_f(tau),
        value=_f(cols["value"]),
        hold=_f(hold),
        setup_generic=_f(cols["setup_generic"]),
        setup_dedicated=_f(cols["setup_dedicated"]),
        setup_reuse=_f(cols["setup_reuse"]),
        disposal_rate=omega,
        category_names=tuple(cat_names),
        pdp_mask=pdp_mask,
        product_names=tuple(prod_names),
        category=_i(category),
        codp_mask=codp_mask,
        lead_time=_f(pcols["lead_time"]),
        delay_penalty=_f(pcols["delay_penalty"]),
        service_level=_f(pcols["service_level"]),
        service_penalty=_f(pcols["service_penalty"]),
        lost_penalty=_f(pcols["lost_sale_penalty"]),
        priority=_f(pcols["priority"]),
        prep=_f(pv["prep"]),
        fulfil=_f(pv["fulfil"]),
        capacity=_f(pv["capacity"]),
        mto_capacity=_f(pv["mto_capacity"]),
        orders=np.ascontiguousarray(orders, dtype=np.float64),
        weights=_f(weights),
        init_generic_stage=_i(ig_stage),
        init_generic_qty=_f(ig_qty),
        init_dedicated_stage=_i(id_stage),
        init_dedicated_qty=_f(id_qty),
        init_backlog=_f(backlog),
    )


def _fits(NS: int, P: int, T: int, path: str) -> None:
    if NS * P * T > MAX_CELLS:
        raise InputError(path, f"{NS} scenarios x {P} products x {T} periods: more than "
                               f"{MAX_CELLS:,} orders")


def _order_table(value: Any, path: str, P: int, T: int) -> list[list[float]]:
    rows = array(value, path, length=P)
    return [
        [number(x, join(join(path, p), t), low=0.0, high=MAX_QUANTITY)
         for t, x in enumerate(array(row, join(path, p), length=T))]
        for p, row in enumerate(rows)
    ]


def _buffers(value: Any, path: str, n: int, S: int) -> tuple[list[int], list[float]]:
    stages, qtys = [], []
    for i, buf in enumerate(array(value, path, length=n)):
        bp = join(path, i)
        only(buf, bp, ("stage", "qty"))
        stages.append(integer(field(buf, "stage", bp), join(bp, "stage"), low=1, high=S - 1))
        qtys.append(number(field(buf, "qty", bp), join(bp, "qty"), low=0.0, high=MAX_QUANTITY))
    return stages, qtys
