"""Local search on network plans, one material at a time, every neighbour scored (and its
feasibility checked) by the batch kernel.

The model decomposes by material but for the fixed link costs: while the search works on one
material, the link-periods the other materials' shipments use are marked prepaid, so each
neighbour's kernel cost is the network cost up to a constant.
"""

from __future__ import annotations

import time

import numpy as np

from ....kernels import network as knet
from ...improvement import below, improves
from ...termination import Budget, StopToken
from .evaluate import FEAS_TOL, KernelData, material_traj, plan_costs, rows_costs
from .instance import Instance
from .pins import Pins
from .plan import LOAN, PERMANENT, Plan

#: Factors tried on a shipment's quantity.
SCALES = (0.0, 0.5, 0.8, 0.9, 0.97, 0.99, 1.01, 1.03, 1.1, 1.25, 1.5, 2.0)
#: Shares of a shipment kept permanent when splitting it into a permanent part and a loan.
SPLITS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: Shares of a receiver's backlog, or a donor's waste, that a new shipment carries.
PORTIONS = (1.0, 0.5, 0.25)
#: Neighbours scored that count as one evaluation of the run's budget (docs/embedding.md): a
#: neighbour plays one material's shipments, an evaluation decodes and plays a particle of
#: every material.
MOVES_PER_EVALUATION = 4


def _rows(plan: Plan) -> list[tuple]:
    return list(zip(plan.link.tolist(), plan.material.tolist(), plan.period.tolist(),
                    plan.qty.tolist(), plan.kind.tolist(), plan.ret.tolist()))


def _plan(rows: list[tuple]) -> Plan:
    if not rows:
        return Plan.empty()
    return Plan.from_arrays(*zip(*rows))


class _Moves:
    """Structurally valid shipments of one material (links, periods, loan terms) that the
    pins do not forbid."""

    def __init__(self, inst: Instance, m: int, pins: Pins, banned: set):
        self.inst = inst
        self.m = m
        T = inst.n_periods
        self.links = [lk for lk in range(inst.n_links)
                      if inst.listed[inst.link_from[lk], m] and inst.listed[inst.link_to[lk], m]]
        self.T = T
        self.durations = set(inst.durations.tolist())
        self.pins = pins
        self.banned = banned

    def valid(self, lk: int, t: int, kind: int, r: int) -> bool:
        inst = self.inst
        if t < 0 or t + inst.lead[lk] > self.T - 1:
            return False
        if self.banned and not self.pins.allows(lk, self.m, t, self.banned):
            return False
        if kind == LOAN:
            rv = inst.reverse[lk]
            if rv < 0 or r > self.T - 1 or (r - t) not in self.durations:
                return False
            return r - inst.lead[rv] >= t + inst.lead[lk]
        return True

    def kinds(self, lk: int, t: int):
        """(kind, return period) of every valid shipment on ``lk`` leaving in ``t``."""
        out = [(PERMANENT, -1)] if self.valid(lk, t, PERMANENT, -1) else []
        for d in self.inst.durations.tolist():
            if self.valid(lk, t, LOAN, t + d):
                out.append((LOAN, t + d))
        return out


def _neighbours(rows: list[tuple], mv: _Moves, traj: np.ndarray) -> list[list[tuple]]:
    """Plans one step away from ``rows`` (shipments of one material); ``traj`` (N, T, 4) is
    the material's simulation under ``rows``."""
    inst, m, T = mv.inst, mv.m, mv.T
    out = []
    for k, (lk, _, t, q, kind, r) in enumerate(rows):
        rest = rows[:k] + rows[k + 1:]
        for s in SCALES:
            out.append(rest + ([(lk, m, t, q * s, kind, r)] if s > 0 else []))
        for kd, rr in mv.kinds(lk, t):
            if (kd, rr) != (kind, r):
                out.append(rest + [(lk, m, t, q, kd, rr)])
                if kind == PERMANENT and kd == LOAN:
                    for a in SPLITS:
                        out.append(rest + [(lk, m, t, q * a, kind, r), (lk, m, t, q * (1 - a),
                                                                        kd, rr)])
        for dt in (-2, -1, 1, 2):
            rr = r + dt if kind == LOAN else -1
            if mv.valid(lk, t + dt, kind, rr):
                out.append(rest + [(lk, m, t + dt, q, kind, rr)])
        # merge with a later shipment of the same link and kind
        for k2 in range(k + 1, len(rows)):
            lk2, _, t2, q2, kind2, r2 = rows[k2]
            if lk2 == lk and kind2 == kind and (kind == PERMANENT or r2 - t2 == r - t):
                merged = [x for i, x in enumerate(rows) if i not in (k, k2)]
                out.append(merged + [(lk, m, t, q + q2, kind, r)])
    # new shipments: a receiver's backlog on arrival, a donor's waste before it expires
    back = traj[:, :, knet.TR_BACKLOG]
    waste = traj[:, :, knet.TR_WASTE]
    for lk in mv.links:
        i, j, le = int(inst.link_from[lk]), int(inst.link_to[lk]), int(inst.lead[lk])
        for a in range(le, T):
            if back[j, a] > FEAS_TOL and (a == le or back[j, a - 1] <= back[j, a] - FEAS_TOL
                                          or back[j, a - 1] <= FEAS_TOL):
                for kd, rr in mv.kinds(lk, a - le):
                    for s in PORTIONS:
                        out.append(rows + [(lk, m, a - le, s * float(back[j, a]), kd, rr)])
        for e in np.flatnonzero(waste[i] > FEAS_TOL):
            for t in range(max(0, e - le - 3), e - le + 1):
                for kd, rr in mv.kinds(lk, t):
                    for s in PORTIONS:
                        out.append(rows + [(lk, m, t, s * float(waste[i, e]), kd, rr)])
    return out


def _costs(data: KernelData, plans: list[list[tuple]], prepaid: np.ndarray,
           kept: list[tuple] = ()):
    """Kernel outputs of plans given as lists of shipment tuples, each with ``kept``."""
    ptr = np.zeros(len(plans) + 1, np.int64)
    ptr[1:] = np.cumsum([len(p) + len(kept) for p in plans])
    flat = np.array([x for p in plans for x in (*p, *kept)],
                    dtype=np.float64).reshape(-1, 6)
    ints = flat.astype(np.int64)
    return rows_costs(data, ptr, ints[:, 0], ints[:, 1], ints[:, 2], flat[:, 3], ints[:, 4],
                      ints[:, 5], prepaid)


def _cost(out) -> float:
    """The cost of the one plan of a batch, ``inf`` when it breaks a rule (a kick may drop a
    shipment that covered a payback: what it leaves must not pass for an improvement)."""
    return float(out.cost[0]) if out.flags[0] == 0 else np.inf


def local_search(inst: Instance, plan: Plan, *, data: KernelData | None = None,
                 time_budget: float = float("inf"), max_passes: int = 20,
                 materials: list[int] | None = None, chunk: int = 4096,
                 stop: StopToken | None = None, pins: Pins | None = None,
                 budget: Budget | None = None
                 ) -> tuple[Plan, float]:
    """Improve a feasible plan by best-improvement moves, material by material.

    Moves: scale, drop, re-kind (permanent, loans of each duration, permanent-and-loan
    split), shift by one or two periods, merge two shipments of a link, and add a shipment
    (a receiver's backlog on arrival, or a donor's waste before it expires). Passes over the
    materials repeat until one finds nothing, ``max_passes`` or ``time_budget`` (seconds from
    the call, as the SFI local search's); ``materials`` restricts the search to some.
    ``stop``, when set, ends the search like the time budget, and so does a termination of
    ``budget`` (its time limit included), the
    run's, which is charged the neighbours scored (:data:`MOVES_PER_EVALUATION` to an
    evaluation; a chunk is cut to the evaluations it has left) and told the cost after each
    pass. With ``pins``, the search starts from ``pins.merge(plan)``, never changes a kept
    shipment and never makes a forbidden one. Returns the plan and its kernel cost.
    """

    deadline = time.perf_counter() + time_budget

    def ended() -> bool:
        return time.perf_counter() >= deadline or (stop is not None and stop.stopped) or (
            budget is not None and budget.done())

    data = data or KernelData(inst)
    pins = pins or Pins.none()
    banned = pins.forbidden_set()
    # the search moves the free shipments; the kept ones are in every plan it scores
    rows = _rows(pins.free(plan))
    kept = _rows(pins.keep)
    L, T = inst.n_links, inst.n_periods
    cost = _cost(plan_costs(data, [_plan(kept + rows)]))
    moves = [_Moves(inst, m, pins, banned) for m in range(inst.n_materials)]
    if materials is None:
        # the materials with the most shortage and waste first
        fm = data.base.fm
        loss = (fm[:, :, knet.SHORT] + fm[:, :, knet.WASTE]).sum(axis=0)
        materials = np.argsort(-loss, kind="stable").tolist()
    for _ in range(max_passes):
        start = cost
        for m in materials:
            if ended():
                break  # each material's set-up scores its plan: hundreds cost a large network
            if not moves[m].links:
                continue
            mine = [x for x in rows if x[1] == m]
            others = [x for x in rows if x[1] != m]
            kept_m = [x for x in kept if x[1] == m]
            prepaid = np.zeros((L, T), np.bool_)
            mo = _plan(others + [x for x in kept if x[1] != m]).moves(inst)
            prepaid[mo.link, mo.dep] = True
            cur = _cost(plan_costs(data, [_plan(mine + kept_m)], prepaid))
            while not ended():
                traj = material_traj(data, _plan(mine + kept_m), m)
                cands = _neighbours(mine, moves[m], traj)
                best, best_c = None, below(cur)
                for c0 in range(0, len(cands), chunk):
                    part = cands[c0:c0 + chunk]
                    if budget is not None:
                        if budget.max_evals is not None:
                            part = part[:int(budget.evals_left() * MOVES_PER_EVALUATION)]
                            if not part:
                                break
                        budget.spend(len(part) / MOVES_PER_EVALUATION)
                    out = _costs(data, part, prepaid, kept_m)
                    ok = np.flatnonzero(out.flags == 0)
                    if ok.size:
                        k = ok[np.argmin(out.cost[ok])]
                        if out.cost[k] < best_c:
                            best, best_c = part[k], float(out.cost[k])
                    if ended():
                        break
                if best is None:
                    break
                mine, cur = [x for x in best if x[3] > FEAS_TOL], best_c
            rows = others + mine
        cost = _cost(plan_costs(data, [_plan(kept + rows)]))
        if budget is not None:
            budget.record(cost)
        if not improves(cost, start) or ended():
            break
    return _plan(kept + rows), cost


def crossover(data: KernelData, plan: Plan, other: Plan, budget: Budget | None = None
              ) -> tuple[Plan, float]:
    """``plan`` with ``other``'s shipments of each material where they make it cheaper.

    Every material whose shipments differ is tried with ``other``'s (one batch); the
    improving ones are then taken in decreasing order of their gain, each kept only when the
    whole plan still costs less and breaks no rule (a link's fixed cost per period couples
    the materials). A re-plan so keeps what still holds of the previous plan and takes a
    fresh search's answer in the other materials. Returns the plan and its cost (``inf``
    when ``plan`` itself breaks a rule); ``budget`` is charged the plans evaluated.
    """
    rows, others = _rows(plan), _rows(other)
    mats = sorted({x[1] for x in rows} | {x[1] for x in others})
    diff = [m for m in mats if sorted(x for x in rows if x[1] == m)
            != sorted(x for x in others if x[1] == m)]
    out = plan_costs(data, [plan] + [perturb(plan, m, None, other=other) for m in diff])
    if budget is not None:
        budget.spend(1 + len(diff))
    cost = float(out.cost[0]) if out.flags[0] == 0 else np.inf
    gains = sorted(((cost - float(out.cost[k + 1]), m) for k, m in enumerate(diff)
                    if out.flags[k + 1] == 0 and improves(float(out.cost[k + 1]), cost)),
                   reverse=True)
    for _, m in gains:
        cand = perturb(plan, m, None, other=other)
        c = _cost(plan_costs(data, [cand]))
        if budget is not None:
            budget.spend(1)
        if improves(c, cost):
            plan, cost = cand, c
    return plan, cost


def perturb(plan: Plan, m: int, rng: np.random.Generator, share: float = 0.3,
            other: Plan | None = None) -> Plan:
    """A kick for iterated local search on material ``m``: drop a random share of its
    shipments, or (when ``other`` is given) take ``other``'s shipments of ``m`` instead."""
    rows = _rows(plan)
    if other is not None:
        return _plan([x for x in rows if x[1] != m] + [x for x in _rows(other) if x[1] == m])
    mine = [k for k, x in enumerate(rows) if x[1] == m]
    drop = {k for k in mine if rng.random() < share}
    return _plan([x for k, x in enumerate(rows) if k not in drop])
