"""The exact network model as a MILP solved by HiGHS (docs/models/network.md, "Exact
formulation").

Stock is split by expiry bucket. Every *draw* from a (firm, material) stock in a period (each
payback, each shipment, then consumption) has one quantity column per bucket it may take, and
first-expiry-first is encoded with one monotone binary per bucket after the first ("the draw
reaches this bucket", allowed only when the earlier buckets are empty after the draw).
Consumption takes as much as it can (a binary: backlog zero, or stock empty). A shipment
*slot* is one link, material, departure period and kind (permanent, or a loan of one
duration); a plan's shipments map to slots (shipments of one slot add up). The draws leaving
one stock in one period are taken in the kernel's order
(:func:`~invswarm.kernels.network.departure_rank`), so a plan's cost is the same here as there,
whatever order its shipments are listed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np

from ....kernels.network import PAYBACK, departure_rank
from ... import milp_process
from ...milp import INF, MilpOptions, MilpOutcome, ModelBuilder, complete, run
from ...termination import StopToken
from .evaluate import KernelData
from .instance import Instance
from .pins import ALL_PERIODS, Pins
from .plan import LOAN, PERMANENT, Plan

#: Quantities below this (units) are read back as no shipment.
READ_TOL = 1e-7
#: Share of the exact solve's time limit that completing its warm start may take.
COMPLETION_SHARE = 0.1


@dataclass
class _Slot:
    link: int
    material: int
    dep: int
    kind: int
    dur: int
    col: int = -1
    rank: tuple = ()


@dataclass
class _Draw:
    """One draw from a stock: a slot's shipment (``payback`` False) or payback, in order."""

    slot: _Slot
    payback: bool
    cols: dict = field(default_factory=dict)  # bucket -> column


@dataclass
class NetworkMilp:
    builder: ModelBuilder
    slots: list


def _slots(inst: Instance, materials: set) -> list[_Slot]:
    T = inst.n_periods
    out = []
    for lk in range(inst.n_links):
        i, j, le = int(inst.link_from[lk]), int(inst.link_to[lk]), int(inst.lead[lk])
        rv = int(inst.reverse[lk])
        for m in np.flatnonzero(inst.listed[i] & inst.listed[j]):
            if int(m) not in materials:
                continue
            for t in range(T - le):
                out.append(_Slot(lk, int(m), t, PERMANENT, 0))
                if rv < 0:
                    continue
                for d in inst.durations:
                    r = t + int(d)
                    if r <= T - 1 and r - inst.lead[rv] >= t + le:
                        out.append(_Slot(lk, int(m), t, LOAN, int(d)))
    for s in out:
        s.rank = (s.dep, s.link, s.material, s.kind, s.dur)
    out.sort(key=lambda s: s.rank)
    return out


def build(inst: Instance, plan: Plan | None = None, *, materials: list[int] | None = None,
          prices: Mapping[tuple[int, int], float] | None = None,
          data: KernelData | None = None, pins: Pins | None = None,
          ended: Callable[[], bool] | None = None) -> NetworkMilp:
    """Build the MILP of ``inst``; with ``plan``, every shipment is fixed to it.

    With ``pins``, a slot's column is at least the kept units it holds, and the slots of a
    forbidden link, material and period are fixed to 0.

    ``materials`` restricts the model to some materials (the others keep their baseline,
    which the objective then leaves out). ``prices`` replace the fixed link costs, the only
    terms that couple materials: the cost of sending anything on a link in a period is
    ``prices[(link, period)]``, 0 where the key is missing (``{}`` drops them). Raises
    ``ValueError`` when ``plan`` has a shipment that maps to no slot (it cannot, once
    :meth:`Plan.from_json` has accepted it). ``ended``, asked as the model grows, ends the
    build by raising :class:`invswarm.engine.milp.BuildStopped` once it returns True.
    """
    b = ModelBuilder(ended)
    N, M, T = inst.requirements.shape
    data = data or KernelData(inst)
    mats = list(range(M)) if materials is None else [int(m) for m in materials]
    slots = _slots(inst, set(mats))
    least = _slot_totals(pins.keep) if pins is not None else {}
    banned = pins.forbidden_set() if pins is not None else set()
    for s in slots:
        shut = (s.link, s.material, s.dep) in banned or \
            (s.link, s.material, ALL_PERIODS) in banned
        s.col = b.col(lb=least.get(s.rank, 0.0), ub=0.0 if shut else INF,
                      cost=float(inst.unit_cost[s.link, s.material]))
        if s.kind == LOAN:
            b.cost[s.col] += float(inst.unit_cost[inst.reverse[s.link], s.material])
    if plan is not None:
        for s, v in zip(slots, _slot_values(slots, plan)):
            b.fix(s.col, float(v))
    # Buckets that can ever hold material m anywhere.
    supply = inst.lots.sum(axis=0)  # (M, B)
    buckets = []
    for m in range(M):
        es = set(np.flatnonzero(supply[m] > 0).tolist())
        es |= {int(data.rbucket[m, t]) for t in range(T) if inst.receipts[:, m, t].sum() > 0}
        buckets.append(sorted(es))
    total = supply.sum(axis=1) + inst.receipts.sum(axis=(0, 2))  # (M,)

    # Draws leaving each (firm, material, period), and arrivals.
    leaving: dict = {}
    arriving: dict = {}
    for s in slots:
        i, j = int(inst.link_from[s.link]), int(inst.link_to[s.link])
        d = _Draw(s, False)
        leaving.setdefault((i, s.material, s.dep), []).append(d)
        arriving.setdefault((j, s.material, s.dep + int(inst.lead[s.link])), []).append(d)
        if s.kind == LOAN:
            rv = int(inst.reverse[s.link])
            sigma = s.dep + s.dur - int(inst.lead[rv])
            p = _Draw(s, True)
            leaving.setdefault((j, s.material, sigma), []).append(p)
            arriving.setdefault((i, s.material, s.dep + s.dur), []).append(p)
    def leaving_order(d: _Draw) -> tuple:
        s = d.slot
        if d.payback:
            rv = int(inst.reverse[s.link])
            link, dep = rv, s.dep + s.dur - int(inst.lead[rv])
        else:
            link, dep = s.link, s.dep
        kind = PAYBACK if d.payback else s.kind
        return (departure_rank(link, dep, kind, s.material, inst.link_to, inst.lead,
                               inst.requirements), s.rank)

    for key in leaving:
        # the kernel's order; draws of equal departure rank are the same physical move
        leaving[key].sort(key=leaving_order)

    # Roles: a firm with both outgoing and incoming shipment slots of m gets a binary.
    out_slots: dict = {}
    in_slots: dict = {}
    for s in slots:
        out_slots.setdefault((int(inst.link_from[s.link]), s.material), []).append(s.col)
        in_slots.setdefault((int(inst.link_to[s.link]), s.material), []).append(s.col)
    donor = {}
    for key, cols in out_slots.items():
        if key in in_slots:
            U = float(total[key[1]])
            d = b.binary()
            donor[key] = d
            b.row(cols + [d], [1.0] * len(cols) + [-U], hi=0.0)
            inc = in_slots[key]
            b.row(inc + [d], [1.0] * len(inc) + [U], hi=U)

    floor = data.base.floor
    base_back = data.base_back
    for m in mats:
        U = float(total[m])
        firms = np.flatnonzero(inst.listed[:, m])
        prev: dict = {int(f): {} for f in firms}  # firm -> bucket -> column of end stock
        back_prev: dict = {}  # firm -> column of the backlog at the end of the last period
        # Period by period over all firms, so that a shipment's columns exist before it arrives.
        for t in range(T):
            for f in firms:
                f = int(f)
                Ub = float(inst.requirements[f, m].sum())
                # stock after arrivals: constant part and column terms per bucket
                const = {e: 0.0 for e in buckets[m] if e >= t}
                terms: dict = {e: [] for e in const}
                if t == 0:
                    for e in const:
                        const[e] += float(inst.lots[f, m, e])
                for e, col in prev[f].items():
                    terms[e].append((col, 1.0))
                if inst.receipts[f, m, t] > 0:
                    const[int(data.rbucket[m, t])] += float(inst.receipts[f, m, t])
                for d in arriving.get((f, m, t), []):
                    for e, col in d.cols.items():
                        terms[e].append((col, 1.0))
                # draws: moves in order, then consumption
                for d in leaving.get((f, m, t), []):
                    arr = t + int(inst.lead[inst.reverse[d.slot.link] if d.payback
                                            else d.slot.link])
                    elig = [e for e in const if e >= arr]
                    d.cols = {e: b.col(ub=U) for e in elig}
                    b.row([d.slot.col] + list(d.cols.values()),
                          [-1.0] + [1.0] * len(elig), 0.0, 0.0)
                    _fefo(b, d.cols, const, terms, U)
                    for e, col in d.cols.items():
                        terms[e].append((col, -1.0))
                elig = list(const)
                use = {e: b.col(ub=U) for e in elig}
                _fefo(b, use, const, terms, U)
                for e, col in use.items():
                    terms[e].append((col, -1.0))
                back = b.col(ub=Ub, cost=float(inst.shortage[f, m]))
                # backlog: b_t = b_{t-1} + D_t - consumption
                bp = back_prev.get(f)
                idx = [back] + list(use.values()) + ([bp] if bp is not None else [])
                val = [1.0] + [1.0] * len(use) + ([-1.0] if bp is not None else [])
                b.row(idx, val, float(inst.requirements[f, m, t]),
                      float(inst.requirements[f, m, t]))
                # consume as much as possible: backlog zero or nothing left
                full = b.binary()
                b.row([back, full], [1.0, Ub], hi=Ub)
                ends = {}
                for e in elig:
                    ends[e] = b.col(ub=U, cost=float(inst.hold[f, m]) if e > t
                                    else float(inst.value[m]))
                    idx = [ends[e]] + [c for c, _ in terms[e]]
                    val = [1.0] + [-v for _, v in terms[e]]
                    b.row(idx, val, const[e], const[e])
                b.row(list(ends.values()) + [full], [1.0] * len(ends) + [-U], hi=0.0)
                # (ends[t], if any, is this period's waste and is not carried)
                prev[f] = {e: col for e, col in ends.items() if e > t}
                back_prev[f] = back
                # donor protection
                key = (f, m)
                if key in out_slots:
                    held = [ends[e] for e in elig if e > t]
                    fl = float(floor[f, m, t])
                    bb = float(base_back[f, m, t])
                    if key in donor:
                        d = donor[key]
                        if fl > 0:
                            b.row(held + [d], [1.0] * len(held) + [-fl], lo=0.0)
                        b.row([back, d], [1.0, Ub], hi=bb + Ub)
                    else:
                        if fl > 0:
                            b.row(held, [1.0] * len(held), lo=fl)
                        b.row([back], [1.0], hi=bb)
    # fixed cost per link and period with anything leaving on it
    for (lk, t), cols in _on_link(inst, slots).items():
        fixed = float(inst.fixed_cost[lk]) if prices is None else prices.get((lk, t), 0.0)
        if fixed <= 0:
            continue
        U = float(total.max())
        o = b.binary(cost=fixed)
        b.row(cols + [o], [1.0] * len(cols) + [-U], hi=0.0)
    return NetworkMilp(builder=b, slots=slots)


def _on_link(inst: Instance, slots: list[_Slot]) -> dict:
    """Columns of the slots whose shipment or payback leaves on each (link, period)."""
    on_link: dict = {}
    for s in slots:
        on_link.setdefault((s.link, s.dep), []).append(s.col)
        if s.kind == LOAN:
            rv = int(inst.reverse[s.link])
            on_link.setdefault((rv, s.dep + s.dur - int(inst.lead[rv])), []).append(s.col)
    return on_link


def link_periods(inst: Instance, materials: list[int]) -> dict[int, set[tuple[int, int]]]:
    """The (link, period) pairs on which a shipment or payback of each material may leave:
    the fixed costs its plans may incur (none: it cannot move)."""
    out: dict = {m: set() for m in materials}
    for s in _slots(inst, set(materials)):
        out[s.material].add((s.link, s.dep))
        if s.kind == LOAN:
            rv = int(inst.reverse[s.link])
            out[s.material].add((rv, s.dep + s.dur - int(inst.lead[rv])))
    return out


def _fefo(b: ModelBuilder, cols: dict, const: dict, terms: dict, U: float) -> None:
    """First expiry first for one draw: taking from a bucket needs every earlier eligible
    bucket empty after the draw (``terms`` hold the stock before it)."""
    es = sorted(cols)
    prev_g = None
    for a, e in zip(es, es[1:]):
        g = b.binary()
        b.row([cols[e], g], [1.0, -U], hi=0.0)
        # what is left in bucket a after this draw must be zero when g is on
        idx = [c for c, _ in terms[a]] + [cols[a], g]
        val = [v for _, v in terms[a]] + [-1.0, U]
        b.row(idx, val, hi=U - const[a])
        if prev_g is not None:
            b.row([g, prev_g], [1.0, -1.0], hi=0.0)
        prev_g = g


def read_plan(model: NetworkMilp, x: np.ndarray) -> Plan:
    """The plan of a solution vector, its shipments in slot order."""
    rows = [(s.link, s.material, s.dep, float(x[s.col]), s.kind,
             s.dep + s.dur if s.kind == LOAN else -1)
            for s in model.slots if x[s.col] > READ_TOL]
    if not rows:
        return Plan.empty()
    return Plan.from_arrays(*zip(*rows))


def solve(inst: Instance, opts: MilpOptions | None = None, warm_start: Plan | None = None,
          *, stop: StopToken | None = None, pins: Pins | None = None, progress=None
          ) -> tuple[Plan | None, MilpOutcome]:
    """Solve the exact model (held to ``pins`` when given); returns the plan read from the
    incumbent and the outcome. HiGHS runs in a child process, ended shortly after the time
    limit where HiGHS overruns it, or when ``stop`` is set
    (:mod:`invswarm.engine.milp_process`). ``progress`` gets the solver's trace points as it
    reports them (:func:`invswarm.engine.milp_process.solve`). The warm start is completed
    first, in the child (:func:`~invswarm.engine.milp.complete`, at most
    :data:`COMPLETION_SHARE` of the time limit). The
    model's build counts against the time limit: when it takes it all, or ``stop`` is set
    meanwhile, there is no plan (:func:`invswarm.engine.milp_process.not_started`)."""
    opts = opts or MilpOptions()
    model = milp_process.built_in_time(partial(build, inst, pins=pins), opts, stop)
    if model is None:
        return None, milp_process.not_started(stop)
    start = None
    if warm_start is not None:
        # completed in the child, where the deadline and a stop end it
        start, opts = start_of(model, warm_start), replace(opts, complete=COMPLETION_SHARE)
    out = milp_process.solve(model.builder, opts, start, stop, progress)
    plan = read_plan(model, out.x) if out.x is not None else None
    return plan, out


def fixed_plan_objective(inst: Instance, plan: Plan, opts: MilpOptions | None = None
                         ) -> MilpOutcome:
    """Optimal objective of the MILP with every shipment fixed to ``plan``."""
    model = build(inst, plan)
    return run(model.builder.to_highs(), opts or MilpOptions())


def _slot_totals(plan: Plan) -> dict:
    """Units of a plan per slot (its rank: departure, link, material, kind, duration)."""
    q: dict = {}
    for lk, m, t, v, k, r in zip(plan.link, plan.material, plan.period, plan.qty, plan.kind,
                                 plan.ret):
        key = (int(t), int(lk), int(m), int(k), int(r - t) if k == LOAN else 0)
        q[key] = q.get(key, 0.0) + float(v)
    return q


def completed_start(model: NetworkMilp, plan: Plan, opts: MilpOptions, *,
                    stop: StopToken | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Every column of ``model`` where the shipments are ``plan``'s
    (:func:`~invswarm.engine.milp.complete`, in this thread), or None when HiGHS finds no
    such solution within ``opts`` (or before ``stop``). Raises ``ValueError`` when a
    shipment of ``plan`` maps to no slot."""
    return complete(model.builder.to_highs(), start_of(model, plan), opts, stop)


def _slot_values(slots: list[_Slot], plan: Plan) -> np.ndarray:
    """Units of ``plan`` in each slot, in the order of ``slots``; raises ``ValueError`` when
    a shipment maps to no slot."""
    q = _slot_totals(plan)
    ranks = {s.rank for s in slots}
    for key in q:
        if key not in ranks:
            raise ValueError(f"plan: shipment {key} maps to no slot")
    return np.array([q.get(s.rank, 0.0) for s in slots], np.float64)


def start_of(model: NetworkMilp, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """The plan's shipment columns (every slot: its quantity or 0), for HiGHS to complete."""
    return np.array([s.col for s in model.slots], np.int64), _slot_values(model.slots, plan)
