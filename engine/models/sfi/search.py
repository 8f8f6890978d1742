"""Plan improvement for the SFI model: a constructive start and a batched local search.

The local search proposes single and compound changes of the decisions (see :func:`_moves`),
evaluates them in batched kernel calls, applies the best and then tries the next-best ones on
top, keeping each that still improves. Every applied change is feasible (stages repaired,
capacity respected, the plan checked).
"""

from __future__ import annotations

import time

import numpy as np

from .evaluate import batch_costs, kernel_data
from .instance import Instance
from .plan import Plan, violations

#: Quantity steps, as fractions of the orders the buffer serves in its period.
STEPS = (-1.0, -0.5, -0.25, -0.1, -0.02, 0.02, 0.1, 0.25, 0.5, 1.0)


def heuristic_plan(inst: Instance) -> Plan:
    """Dedicated stock for the mean orders at each product's cheapest on-time CODP; no generic.

    The cheapest on-time CODP is the lowest candidate from which the product is on time
    (holding grows downstream), or the most downstream candidate when none is on time.
    Quantities are scaled down where they exceed the capacity.
    """
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
    codp = np.empty((P, T), np.int64)
    for p in range(P):
        kd = inst.codp_candidates(p)
        ok = kd[inst.remaining[kd] <= inst.lead_time[p]]
        codp[p] = ok[0] if ok.size else kd[-1]
    pdp = np.array([[inst.pdp_candidates(c)[0]] * T for c in range(C)], dtype=np.int64)
    ded = d * np.minimum(1.0, inst.capacity / np.maximum(d.sum(axis=0), 1e-12))[None, :]
    return Plan(pdp, np.zeros((C, T)), codp, np.floor(ded))


def _moves(inst: Instance, plan: Plan, d: np.ndarray, dc: np.ndarray, use: np.ndarray,
           near: np.ndarray) -> list:
    """Every single change of ``plan``, and compound ones, as lists of ``(array, row, period,
    new value)`` with array 0..3 = pdp, generic, codp, dedicated (see :func:`_materialize`).

    Single changes: one stage, or one quantity by a step tied to the orders or to the share of
    them that may be late without a service penalty. Compound changes move a quantity between a
    product's dedicated buffer and its category's generic buffer (with the PDP moved to the
    product's CODP, or not), or between adjacent periods of one buffer: decisions that only pay
    off together. Moves guided by ``use`` (the buffers' use in
    the current plan, see ``batch_costs(usage=True)``) cut a buffer to what is drawn from it, or
    grow it by the demand its product(s) met elsewhere. Only periods where ``near`` is True
    are changed.
    """
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    used_g, used_d, unmet = use[:C], use[C:C + P], use[C + P:]
    moves = []  # each: list of (array index 0..3, row, t, new value)
    G, D = plan.generic, plan.dedicated
    periods = np.flatnonzero(near)
    for c in range(C):
        members = np.flatnonzero(inst.category == c)
        for t in periods:
            for k in inst.pdp_candidates(c):
                if k != plan.pdp[c, t]:
                    moves.append([(0, c, t, k)])
            vals = {0.0, np.round(used_g[c, t])} | {G[c, t] + s_ * dc[c, t] for s_ in STEPS}
            spill = unmet[members, t].sum() - used_g[c, t]
            vals.add(np.round(G[c, t] + spill))
            vals |= {G[c, t] + sgn * d[p, t] for p in members for sgn in (-1, 1)}
            moves += [[(1, c, t, v)] for v in vals if v >= 0 and v != G[c, t]]
            if t + 1 < T:
                for amount in (G[c, t], 0.5 * dc[c, t], 0.1 * dc[c, t]):
                    for src, dst in ((t, t + 1), (t + 1, t)):
                        x = min(amount, G[c, src])
                        if x > 0:
                            moves.append([(1, c, src, G[c, src] - x), (1, c, dst, G[c, dst] + x)])
    for p in range(P):
        c = inst.category[p]
        for t in periods:
            for k in inst.codp_candidates(p):
                if k != plan.codp[p, t] and k >= plan.pdp[c, t]:
                    moves.append([(2, p, t, k)])
            slack = np.round((1.0 - inst.service_level[p]) * d[p, t])
            vals = {0.0, d[p, t], np.round(used_d[p, t]), np.round(D[p, t] + unmet[p, t]),
                    d[p, t] - slack, D[p, t] - slack, D[p, t] + slack}
            vals |= {D[p, t] + s_ * d[p, t] for s_ in STEPS}
            moves += [[(3, p, t, v)] for v in vals if v >= 0 and v != D[p, t]]
            k = plan.codp[p, t]
            if inst.pdp_mask[c, k] and D[p, t] > 0:
                # Serve the product from generic stock at its CODP: the PDP moves there.
                moves.append([(0, c, t, k), (3, p, t, 0.0), (1, c, t, G[c, t] + D[p, t])])
            for amount in (D[p, t], d[p, t], 0.5 * d[p, t]):
                x = min(amount, D[p, t])
                if x > 0:
                    moves.append([(3, p, t, D[p, t] - x), (1, c, t, G[c, t] + x)])
                x = min(amount, G[c, t])
                if x > 0:
                    moves.append([(1, c, t, G[c, t] - x), (3, p, t, D[p, t] + x)])
            if t + 1 < T:
                for amount in (D[p, t], d[p, t], 0.5 * d[p, t], 0.1 * d[p, t]):
                    for src, dst in ((t, t + 1), (t + 1, t)):
                        x = min(amount, D[p, src])
                        if x > 0:
                            moves.append([(3, p, src, D[p, src] - x), (3, p, dst, D[p, dst] + x)])
    moves += _absorb_moves(inst, plan, d, used_g, used_d, periods)
    return moves


def _materialize(inst: Instance, plan: Plan, moves: list) -> tuple[list, np.ndarray]:
    """``plan`` with each move applied, as stacked plan arrays, and which of them are feasible
    (a PDP move raises the CODPs below it; capacity is checked)."""
    n = len(moves)
    arrays = [np.repeat(a[None], n, axis=0)
              for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)]
    keep = np.ones(n, dtype=bool)
    for i, move in enumerate(moves):
        for which, r, t, v in move:
            arrays[which][i, r, t] = v
            if which == 0:
                keep[i] &= _raise_codps(inst, arrays[2][i], r, t, v)
    used = arrays[1].sum(axis=1) + arrays[3].sum(axis=1)  # (n, T)
    keep &= np.all(used <= inst.capacity[None, :] + 1e-9, axis=1)
    keep &= np.all(arrays[1] >= 0, axis=(1, 2)) & np.all(arrays[3] >= 0, axis=(1, 2))
    return arrays, keep


def _absorb_moves(inst: Instance, plan: Plan, d, used_g, used_d, periods) -> list:
    """Per category and period: let the products take the stock carried into the period, in
    service order, each up to the share of its orders that may be late without a service
    penalty, and cut their new stock by as much (the generic buffer when a product has no
    dedicated one). Carried stock not taken is disposed at the period's end."""
    G, D = plan.generic, plan.dedicated
    moves = []
    order = inst.order
    for t in periods:
        if t == 0:
            cg, cd = inst.init_generic_qty, inst.init_dedicated_qty
        else:
            cg = G[:, t - 1] - used_g[:, t - 1]
            cd = D[:, t - 1] - used_d[:, t - 1]
        for c in range(inst.n_categories):
            left = cg[c]
            move, generic_need, generic_served = [], 0.0, False
            for p in order[inst.category[order] == c]:
                take = min(np.floor((1.0 - inst.service_level[p]) * d[p, t]), max(left, 0.0))
                left -= take
                need = max(0.0, d[p, t] - cd[p] - take)
                if D[p, t] > 0:
                    move.append((3, p, t, need))
                else:
                    generic_need += need
                    generic_served = True
            if generic_served:
                move.append((1, c, t, np.round(generic_need)))
            if move and left < cg[c]:
                moves.append(move)
    return moves


def _raise_codps(inst: Instance, codp: np.ndarray, c: int, t: int, k: int) -> bool:
    """Move the CODPs of category ``c`` in period ``t`` up to the PDP ``k`` where needed;
    False when some product has no candidate at or after ``k``."""
    for p in np.flatnonzero(inst.category == c):
        if codp[p, t] < k:
            kd = inst.codp_candidates(p)
            up = kd[kd >= k]
            if up.size == 0:
                return False
            codp[p, t] = up[0]
    return True


#: Memory for the candidate plans of one kernel call of the local search.
CHUNK_BYTES = 64 * 2**20


def local_search(inst: Instance, plan: Plan, *, time_budget: float = 10.0,
                 max_rounds: int = 10_000, follow_ups: int = 30) -> tuple[Plan, float]:
    """Improve ``plan`` until no change improves it or the time budget is spent.

    Each round evaluates every move (in kernel calls of at most :data:`CHUNK_BYTES` of
    candidate plans), applies the best and then the next-best that still improve on top of it.
    A change in one period moves the costs of that period and the next only through the stock
    and backlog it passes on, so after the first round the moves are drawn from the periods
    next to the last changes; a round there that finds nothing is followed by a full round,
    and only a full round that finds nothing ends the search (at a local optimum).

    Returns the improved plan and its cost.
    """
    data = kernel_data(inst)
    d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
    dc = np.zeros((inst.n_categories, inst.n_periods))
    np.add.at(dc, inst.category, d)
    T = inst.n_periods
    chunk = max(1, CHUNK_BYTES // (16 * (inst.n_categories + inst.n_products) * T))
    t_end = time.perf_counter() + time_budget
    near = np.ones(T, dtype=bool)

    def cost_of(p: Plan) -> float:
        return float(batch_costs(inst, p.pdp[None], p.generic[None], p.codp[None],
                                 p.dedicated[None], data=data)[0][0])

    cost = cost_of(plan)
    for _ in range(max_rounds):
        if time.perf_counter() > t_end:
            break
        use = batch_costs(inst, plan.pdp[None], plan.generic[None], plan.codp[None],
                          plan.dedicated[None], detail=True, usage=True, data=data)[3][0]
        moves = _moves(inst, plan, d, dc, use, near)
        scored = []  # (cost, move index)
        for lo in range(0, len(moves), chunk):
            if lo and time.perf_counter() > t_end:
                break  # out of time: settle for the best move seen so far
            arrays, keep = _materialize(inst, plan, moves[lo:lo + chunk])
            if keep.any():
                costs = batch_costs(inst, *(a[keep] for a in arrays), data=data)[0]
                scored += zip(costs.tolist(), (lo + np.flatnonzero(keep)).tolist())
        scored.sort()
        if not scored or scored[0][0] >= cost - 1e-9 * max(1.0, abs(cost)):
            if near.all() or time.perf_counter() > t_end:
                break
            near[:] = True
            continue
        old = plan
        changed = np.zeros(T, dtype=bool)
        # The best move, then the next-best ones on top of it while they still improve.
        for c_j, j in scored[:follow_ups + 1]:
            if c_j >= cost:
                break
            arrays, keep = _materialize(inst, plan, [moves[j]])
            if not keep[0]:
                continue
            trial = Plan(*(a[0] for a in arrays))
            # A move made for the old plan may clash with the ones applied since.
            if plan is not old and violations(inst, trial):
                continue
            c = c_j if plan is old else cost_of(trial)
            if c < cost - 1e-9 * max(1.0, abs(cost)):
                changed |= _changed_periods(plan, trial)
                plan, cost = trial, c
        near = changed | np.roll(changed, 1) | np.roll(changed, -1)
    return plan, cost


def _changed_periods(a: Plan, b: Plan) -> np.ndarray:
    """Periods in which two plans differ, shape (T,)."""
    return ((a.pdp != b.pdp).any(axis=0) | (a.generic != b.generic).any(axis=0)
            | (a.codp != b.codp).any(axis=0) | (a.dedicated != b.dedicated).any(axis=0))
