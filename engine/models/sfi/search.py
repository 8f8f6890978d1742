"""Plan improvement for the SFI model: a constructive start and a batched local search.

The local search proposes single and compound changes of the decisions (see :func:`_moves`),
scores them in batched kernel calls that play each from its first changed period, applies the
best and then tries the next-best ones on top, keeping each that still improves. Every applied
change is feasible (stages repaired, capacity respected, the plan checked).
"""

from __future__ import annotations

import heapq
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain

import numba
import numpy as np

from ....kernels import sfi_local as ksl
from ....kernels import sfi_moves as ksm
from ....kernels.sfi_data import Groups, Trajectory
from ....kernels.sfi_moves import Moves
from ...improvement import below, margin
from ...termination import Budget, StopToken
from .evaluate import batch_costs, kernel_data, plan_use
from .instance import Instance
from .pins import Pins
from .plan import Plan, check_feasible
from .problem import padded

#: Buffers outside a product's category that may give it capacity in one move.
DONORS = 12
#: (Receiver, donor) pairs of capacity transfers scored per period and round.
TRANSFER_PAIRS = 400
#: Lengths of the runs of consecutive periods unpooled in one move (besides single periods).
UNPOOL_RUNS = (2, 3, 4)
#: Quantity steps, as fractions of the orders the buffer serves in its period.
STEPS = (-1.0, -0.5, -0.25, -0.1, -0.02, 0.02, 0.1, 0.25, 0.5, 1.0)


def heuristic_plan(inst: Instance) -> Plan:
    """Dedicated stock for the mean orders at each product's cheapest on-time CODP
    (:func:`_on_time_codp`); no generic. Where the orders exceed the capacity, the units whose
    shortage costs least are not made (:func:`_capacity_cut`).
    """
    C, T = inst.n_categories, inst.n_periods
    d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
    codp = np.repeat(_on_time_codp(inst)[:, None], T, axis=1)
    pdp = np.array([[inst.pdp_candidates(c)[0]] * T for c in range(C)], dtype=np.int64)
    return Plan(pdp, np.zeros((C, T)), codp, _capacity_cut(inst, np.floor(d)))


def _capacity_cut(inst: Instance, want: np.ndarray) -> np.ndarray:
    """``want`` (units per product and period, shape (P, T)) cut to the capacity of each
    period, cheapest shortage first.

    A unit not made is assumed made to order instead, late by the raw material's remaining
    time less the lead time (delay penalty); units below the service level's share of the
    orders also cost the service penalty. Cutting every product alike, as a proportional
    scaling would, cuts the expensive units with the cheap ones: on the bench's 30 x 10 x 52
    instance the constructive plan cost 611.1 M scaled, 595.3 M cut this way (by hand).
    """
    out = want.copy()
    late = np.maximum(0.0, inst.remaining[0] - inst.lead_time)
    delay = inst.delay_penalty * late
    P = want.shape[0]
    for t in range(want.shape[1]):
        over = want[:, t].sum() - inst.capacity[t]
        if over <= 0:
            continue
        keep = np.minimum(np.floor(inst.service_level * want[:, t]), want[:, t])
        units = np.concatenate([want[:, t] - keep, keep])
        cost = np.concatenate([delay, delay + inst.service_penalty])
        who = np.concatenate([np.arange(P), np.arange(P)])
        for j in np.argsort(cost, kind="stable"):
            x = min(units[j], over)
            out[who[j], t] -= x
            over -= x
            if over <= 0:
                break
        out[:, t] = np.floor(out[:, t])
    return out


def _moves(inst: Instance, plan: Plan, d: np.ndarray, dc: np.ndarray, use: np.ndarray,
           near: np.ndarray, rng: np.random.Generator, groups: dict | None = None) -> list:
    """Single and compound changes of ``plan`` in the categories and periods where ``near``
    (bool, shape (C, T)) is True, as lists of ``(array, row, period, new value)`` with array
    0..3 = pdp, generic, codp, dedicated (see :func:`_apply`).

    Single changes: one stage, or one quantity by a step tied to the orders or to the share of
    them that may be late without a service penalty. Compound changes, decisions that only pay
    off together: a quantity moved between a product's dedicated buffer and its category's
    generic buffer, or between adjacent periods of one buffer; products pooled into the
    generic buffer at any PDP (:func:`_pooling_moves`; the plan-wide ones, in every period at
    once, are made apart by :func:`local_search`) or taken out of it
    (:func:`_unpooling_moves`); capacity moved between buffers of a period
    (:func:`_transfer_moves`, drawn by ``rng`` on large instances).
    Moves guided by ``use`` (the buffers' use in the current plan, see
    :func:`.evaluate.plan_use`) cut a buffer to what is drawn from it, grow it by the demand
    its product(s) met elsewhere, or let products take the stock carried into the period.
    ``groups`` caches the pooling groups of ``plan`` between calls (see
    :func:`_pooling_moves`).
    """
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    used_g, used_d, unmet = use[:C], use[C:C + P], use[C + P:]
    moves = []  # each: list of (array index 0..3, row, t, new value)
    # Python floats and lists from here: scalar arithmetic on NumPy scalars costs several
    # times more, and these loops make hundreds of thousands of moves.
    G, D, pdp, codp = (a.tolist() for a in (plan.generic, plan.dedicated, plan.pdp, plan.codp))
    dl, dcl, ug, ud, um = (a.tolist() for a in (d, dc, used_g, used_d, unmet))
    ts_of = [np.flatnonzero(near[c]).tolist() for c in range(C)]
    for c in range(C):
        usable = inst.usable_pdp(c).tolist()
        in_c = np.flatnonzero(inst.category == c)
        members = in_c.tolist()
        Gc, dcc, ugc, pc = G[c], dcl[c], ug[c], pdp[c]
        for t in ts_of[c]:
            moves += [[(0, c, t, k)] for k in usable if k != pc[t]]
            g = Gc[t]
            vals = {0.0, float(round(ugc[t]))} | {g + s_ * dcc[t] for s_ in STEPS}
            vals.add(float(round(g + (float(unmet[in_c, t].sum()) - ugc[t]))))
            vals |= {g + sgn * dl[p][t] for p in members for sgn in (-1, 1)}
            moves += [[(1, c, t, v)] for v in vals if v >= 0 and v != g]
            if t + 1 < T:
                for amount in (g, 0.5 * dcc[t], 0.1 * dcc[t]):
                    for src, dst in ((t, t + 1), (t + 1, t)):
                        x = min(amount, Gc[src])
                        if x > 0:
                            moves.append([(1, c, src, Gc[src] - x), (1, c, dst, Gc[dst] + x)])
    for p in range(P):
        c = int(inst.category[p])
        cands = inst.codp_candidates(p).tolist()
        usable = inst.usable_pdp(c).tolist()
        late_share = 1.0 - float(inst.service_level[p])
        Dp, dp, udp, ump, Gc, pc, cp = D[p], dl[p], ud[p], um[p], G[c], pdp[c], codp[p]
        for t in ts_of[c]:
            moves += [[(2, p, t, k)] for k in cands if k != cp[t] and k >= pc[t]]
            q, dt = Dp[t], dp[t]
            slack = float(round(late_share * dt))
            vals = {0.0, dt, float(round(udp[t])), float(round(q + ump[t])),
                    dt - slack, q - slack, q + slack}
            vals |= {q + s_ * dt for s_ in STEPS}
            moves += [[(3, p, t, v)] for v in vals if v >= 0 and v != q]
            if q > 0:
                # Serve the product from generic stock: the PDP may move anywhere.
                for k in usable:
                    moves.append([(0, c, t, k), (3, p, t, 0.0), (1, c, t, Gc[t] + q)])
                    moves.append([(0, c, t, k), (3, p, t, 0.0), (1, c, t, Gc[t] + dt)])
            for amount in (q, dt, 0.5 * dt):
                x = min(amount, q)
                if x > 0:
                    moves.append([(3, p, t, q - x), (1, c, t, Gc[t] + x)])
                x = min(amount, Gc[t])
                if x > 0:
                    moves.append([(1, c, t, Gc[t] - x), (3, p, t, q + x)])
            if t + 1 < T:
                for amount in (q, dt, 0.5 * dt, 0.1 * dt):
                    for src, dst in ((t, t + 1), (t + 1, t)):
                        x = min(amount, Dp[src])
                        if x > 0:
                            moves.append([(3, p, src, Dp[src] - x), (3, p, dst, Dp[dst] + x)])
    moves += _absorb_moves(inst, plan, d, used_g, used_d, near)
    moves += _pooling_moves(inst, plan, near, every_period=False, groups=groups)
    moves += _transfer_moves(inst, plan, d, use, near, rng)
    moves += _unpooling_moves(inst, plan, use, near)
    return moves


def _on_time_codp(inst: Instance) -> np.ndarray:
    """Each product's cheapest on-time CODP: its lowest candidate from which it is on time
    (holding grows downstream), or its most downstream candidate; shape (P,)."""
    out = np.empty(inst.n_products, dtype=np.int64)
    for p in range(inst.n_products):
        kd = inst.codp_candidates(p)
        ok = kd[inst.remaining[kd] <= inst.lead_time[p]]
        out[p] = ok[0] if ok.size else kd[-1]
    return out


def _unpooling_moves(inst: Instance, plan: Plan, use, near) -> list:
    """Empty a category's generic buffer in one period, or in runs of :data:`UNPOOL_RUNS`
    consecutive periods, into dedicated buffers of the products it served, in proportion to
    what each drew, at their current CODPs or at their cheapest on-time ones; the PDP drops to
    the lowest candidate, which frees the CODPs. Only where ``near`` (shape (C, T)) is
    True."""
    C, P = inst.n_categories, inst.n_products
    unmet = use[C + P:]
    on_time = _on_time_codp(inst)
    moves = []
    for c in range(C):
        members = np.flatnonzero(inst.category == c)
        low = int(inst.pdp_candidates(c)[0])
        edits = ({}, {})  # per variant (current CODPs, on-time CODPs): period -> edits
        for t in np.flatnonzero(near[c]).tolist():
            G = plan.generic[c, t]
            served = members[unmet[members, t] > 0.5]
            if G <= 0 or served.size == 0:
                continue
            share = np.floor(G * unmet[served, t] / unmet[served, t].sum())
            share[0] += G - share.sum()
            for by_t, codps in zip(edits, (plan.codp[served, t], on_time[served])):
                by_t[t] = ([(0, c, t, low), (1, c, t, 0.0)]
                           + [(2, int(p), t, int(k)) for p, k in zip(served, codps)]
                           + [(3, int(p), t, float(plan.dedicated[p, t] + x))
                              for p, x in zip(served, share)])
                moves.append(by_t[t])
        # The same in runs of consecutive periods: stock carried from one unpooled period
        # into the next pays off only when both change.
        for by_t in edits:
            for w in UNPOOL_RUNS:
                for t in by_t:
                    if all(u in by_t for u in range(t + 1, t + w)):
                        moves.append([e for u in range(t, t + w) for e in by_t[u]])
    return moves


def _transfer_moves(inst: Instance, plan: Plan, d, use, near, rng) -> list:
    """Move production capacity within a period from another buffer to one serving a product
    whose demand is not met from its own dedicated stock, in the periods where the cell of
    the product's category (``near``, shape (C, T)) is True: when the capacity binds, no
    buffer can grow alone. Donors: the buffers of the product's category and the
    :data:`DONORS` others that leave the most over, then hold the most; at most
    :data:`TRANSFER_PAIRS` (receiver, donor) pairs per period, drawn by ``rng`` when there
    are more. Amounts: the unmet demand, a quarter of it, 5 % of the orders, and the units
    the donor leaves over."""
    C, P = inst.n_categories, inst.n_products
    qty_all = np.concatenate([plan.generic, plan.dedicated])  # buffers: generic, dedicated
    left_all = np.round(qty_all - use[:C + P])
    unmet = use[C + P:]
    # Each buffer as the (array, row) of its entries.
    where = [(1, b) for b in range(C)] + [(3, p) for p in range(P)]
    own = [(C + np.flatnonzero(inst.category == c)).tolist() for c in range(C)]
    moves = []
    for t in np.flatnonzero(near.any(axis=0)).tolist():
        qty = qty_all[:, t].tolist()
        rank = np.lexsort((-qty_all[:, t], -left_all[:, t]))
        others = {b for b in rank[:DONORS].tolist() if qty[b] > 0}
        pairs = []  # (product, receiver, donor)
        for p in np.flatnonzero((unmet[:, t] > 0.5) & near[inst.category, t]).tolist():
            c = int(inst.category[p])
            donors = sorted(others | {b for b in (c, *own[c]) if qty[b] > 0})
            pairs += [(p, r, b) for r in (c, C + p) for b in donors if b != r]
        if len(pairs) > TRANSFER_PAIRS:
            pairs = [pairs[j] for j in np.sort(rng.choice(len(pairs), TRANSFER_PAIRS,
                                                          replace=False))]
        if not pairs:
            continue
        pp, rr, bb = np.array(pairs, dtype=np.int64).T
        amounts = np.stack([unmet[pp, t], 0.25 * unmet[pp, t], 0.05 * d[pp, t],
                            left_all[bb, t]], axis=1)
        # An amount equal to an earlier one of its pair would repeat a move.
        repeat = np.zeros(amounts.shape, dtype=bool)
        for j in range(1, 4):
            repeat[:, j] = (amounts[:, j:j + 1] == amounts[:, :j]).any(axis=1)
        x = np.round(np.minimum(amounts, qty_all[bb, t][:, None]))
        i, j = np.nonzero((x > 0) & ~repeat)
        for r, b, xi in zip(rr[i].tolist(), bb[i].tolist(), x[i, j].tolist()):
            (ar, rrow), (ab, brow) = where[r], where[b]
            moves.append([(ab, brow, t, qty[b] - xi), (ar, rrow, t, qty[r] + xi)])
    return moves


def _subsets(members: np.ndarray) -> list[np.ndarray]:
    """Groups of a category's products worth pooling: all of them when there are at most
    four; else each one, each pair up to six, all, and all but one."""
    n = members.size
    if n <= 4:
        return [members[[j for j in range(n) if mask >> j & 1]] for mask in range(1, 2**n)]
    out = [members[[j]] for j in range(n)] + [members]
    out += [np.delete(members, j) for j in range(n)]
    if n <= 6:
        out += [members[[a, b]] for a in range(n) for b in range(a + 1, n)]
    return out


def _pooling_moves(inst: Instance, plan: Plan, near: np.ndarray | None, every_period: bool,
                   groups: dict | None = None) -> list:
    """Serve a group of a category's products from its generic buffer at each PDP candidate:
    their dedicated stock moves into the generic buffer (same capacity), in one period (those
    where ``near``, shape (C, T), is True; None: none) or, with ``every_period``, in all
    periods at once (the same structure plan-wide, which single-period
    changes cannot reach when the periods are tied by carried stock). ``groups`` keeps the
    groups of ``plan`` (:func:`_pooling_groups`) from one call to the next: the local search
    makes the moves of one plan a block of periods at a time."""
    groups = {} if groups is None else groups
    T = inst.n_periods
    moves = []
    for c in range(inst.n_categories):
        ts = [] if near is None else np.flatnonzero(near[c]).tolist()
        pdp_c = plan.pdp[c].tolist()
        for k in inst.usable_pdp(c).tolist():
            for pooled, moved, emptied in _pooling_groups(inst, plan, c, k, groups):
                def change(t, c=c, k=k, pooled=pooled, emptied=emptied):
                    return [(0, c, t, k), (1, c, t, pooled[t])] + [(3, p, t, 0.0)
                                                                   for p in emptied]
                if len(emptied) > 1:
                    # One product pooled in one period is a move of _moves already (served
                    # from generic stock, or a PDP move when it holds none).
                    moves += [change(t) for t in ts if moved[t] or pdp_c[t] != k]
                if every_period:
                    moves.append([e for t in range(T) for e in change(t)])
    return moves


def _pooling_groups(inst: Instance, plan: Plan, c: int, k: int, cache: dict) -> list:
    """The groups of category ``c`` worth pooling at PDP ``k`` (:func:`_subsets`, then
    :func:`_on_time_prefixes`), each as the generic quantities with the group pooled (per
    period), whether that moves stock (per period), and the products whose dedicated buffers
    it empties, as lists; kept in ``cache[c]`` (valid while the category's generic and
    dedicated quantities are those of ``plan``: see :func:`_forget_groups`)."""
    mine = cache.setdefault(c, {})
    if k in mine:
        return mine[k]
    G, D = plan.generic, plan.dedicated
    members = np.flatnonzero(inst.category == c)

    def pooling(group):
        shift = D[group].sum(axis=0)
        return (G[c] + shift).tolist(), (shift > 0).tolist(), group.tolist()

    if None not in mine:
        # The subsets are the same at every PDP candidate.
        mine[None] = [pooling(group) for group in _subsets(members)]
    mine[k] = mine[None] + [pooling(group) for group in
                            _on_time_prefixes(inst, members, k, len(mine[None]))]
    return mine[k]


def _forget_groups(cache: dict, inst: Instance, old: Plan | None, new: Plan) -> None:
    """Drop from ``cache`` (:func:`_pooling_groups`) the categories whose generic or dedicated
    quantities differ between plans ``old`` and ``new`` (all of them when ``old`` is None)."""
    if old is None:
        cache.clear()
        return
    moved = (old.generic != new.generic).any(axis=1)
    np.logical_or.at(moved, inst.category, (old.dedicated != new.dedicated).any(axis=1))
    for c in np.flatnonzero(moved).tolist():
        cache.pop(c, None)


def _on_time_prefixes(inst: Instance, members: np.ndarray, k: int, n_subsets: int) -> list:
    """Groups of a category's products for pooling at PDP ``k`` that :func:`_subsets` misses
    on large categories: the products ranked by how much earlier than their lead time they
    are served from stage ``k`` (the ones first that stay on time from generic stock), every
    prefix of that ranking from two products to all but one. Empty when the subsets already
    hold every group (``n_subsets`` = 2 ** n - 1)."""
    n = members.size
    if n_subsets == 2**n - 1:
        return []
    slack = inst.lead_time[members] - inst.remaining[k]
    ranked = members[np.argsort(-slack, kind="stable")]
    return [ranked[:j] for j in range(2, n - 1)]


def _apply(inst: Instance, plan: Plan, move: list, pins: Pins | None = None) -> Plan | None:
    """``plan`` (a feasible one) with ``move`` applied, or None when the result breaks a rule
    of the model (:func:`.plan.violations`) in the periods the move edits, which are the
    only ones that change: a PDP move raises the CODPs below it; quantities stay finite and
    non-negative, capacity holds (to :data:`invswarm.kernels.sfi_moves.CAPACITY_TOL`, as
    :func:`invswarm.kernels.sfi_moves.move_costs` checks), stages are candidates and CODPs
    lie at or after the PDP. With ``pins``, a move that changes a kept decision (a raised
    CODP included) is refused too."""
    arrays = [a.copy() for a in (plan.pdp, plan.generic, plan.codp, plan.dedicated)]
    for which, r, t, v in move:
        arrays[which][r, t] = v
        if which == 0 and not _raise_codps(inst, arrays[2], r, t, v):
            return None
    if pins is not None and pins.breaks(arrays):
        return None
    periods = sorted({t for _, _, t, _ in move})
    pdp, gen, codp, ded = (a[:, periods] for a in arrays)
    used = gen.sum(axis=0) + ded.sum(axis=0)
    S1 = inst.n_stages
    if (not (np.isfinite(gen).all() and np.isfinite(ded).all())
            or np.any(gen < 0) or np.any(ded < 0)
            or np.any(used > inst.capacity[periods] + ksm.CAPACITY_TOL)
            or np.any((pdp < 0) | (pdp >= S1)) or np.any((codp < 0) | (codp >= S1))):
        return None
    if (not inst.pdp_mask[np.arange(inst.n_categories)[:, None], pdp].all()
            or not inst.codp_mask[np.arange(inst.n_products)[:, None], codp].all()
            or np.any(codp < pdp[inst.category])):
        return None
    return Plan(*arrays)


def _flatten(moves: list) -> Moves:
    """Moves as the edit arrays of :func:`invswarm.kernels.sfi_moves.move_costs`."""
    ptr = np.zeros(len(moves) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, moves), np.int64, len(moves)), out=ptr[1:])
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(moves)), np.float64,
                       4 * int(ptr[-1])).reshape(-1, 4)
    arr, row, t = (np.ascontiguousarray(flat[:, j], dtype=np.int64) for j in range(3))
    starts = ptr[:-1]
    return Moves(ptr, arr, row, t, np.ascontiguousarray(flat[:, 3]),
                 np.minimum.reduceat(t, starts), np.maximum.reduceat(t, starts))


def _absorb_moves(inst: Instance, plan: Plan, d, used_g, used_d, near) -> list:
    """Per category and period where ``near`` (shape (C, T)) is True: let the products take
    the stock carried into the period, in service order, each up to the share of its orders
    that may be late without a service penalty, and cut their new stock by as much (the
    generic buffer when a product has no dedicated one). Carried stock not taken is disposed
    at the period's end."""
    G, D = plan.generic, plan.dedicated
    moves = []
    order = inst.order
    for t in np.flatnonzero(near.any(axis=0)).tolist():
        if t == 0:
            cg, cd = inst.init_generic_qty, inst.init_dedicated_qty
        else:
            cg = G[:, t - 1] - used_g[:, t - 1]
            cd = D[:, t - 1] - used_d[:, t - 1]
        for c in np.flatnonzero(near[:, t]).tolist():
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


#: Moves per kernel call of the local search (the time budget is checked between calls).
CHUNK_MOVES = 20_000
#: Plan-wide moves per kernel call (each plays every period).
WIDE_MOVES = 64
#: Moves scored anew together when the gains of the best are out of date (_apply_ranked).
RESCORE = 32
#: Fewer moves than this are scored on one thread.
SMALL_CALL = 256
#: Moves scored that count as one evaluation of the run's budget (docs/embedding.md): a move
#: plays one plan from its first changed period, an evaluation decodes and plays a particle.
MOVES_PER_EVALUATION = 16


class _MoveScorer:
    """Costs of moves of a plan with :func:`invswarm.kernels.sfi_moves.move_costs`."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.data = kernel_data(inst)
        C, P, T, NS = inst.n_categories, inst.n_products, inst.n_periods, inst.n_scenarios
        members = [np.flatnonzero(inst.category == c) for c in range(C)]
        self.groups = Groups(
            np.concatenate([[0], np.cumsum([m.size for m in members])]).astype(np.int64),
            np.concatenate(members).astype(np.int64), np.argsort(inst.order).astype(np.int64))
        kds = [inst.codp_candidates(p) for p in range(P)]
        self.n_kd = np.array([k.size for k in kds], dtype=np.int64)
        self.kd = padded(kds)
        self.tr = Trajectory(
            np.empty((NS, T + 1, C), np.int64), np.empty((NS, T + 1, C)),
            np.empty((NS, T + 1, P), np.int64), np.empty((NS, T + 1, P)),
            np.empty((NS, T + 1, P)), np.empty((NS, T)), np.empty((NS, T, C)),
            np.empty((NS, T, P + 1)), np.empty((NS, T, P, 3)))
        self.plan = None
        self._traced = None  # a copy of the plan `tr` is the trajectory of
        #: Moves scored so far.
        self.scored = 0

    def start(self, plan: Plan) -> float:
        """Score moves of ``plan`` from now on; returns its cost. Its trajectory is played
        from the first period in which it differs from the last plan started (a search
        starts a plan after each move it applies, and a move changes a period or two)."""
        arrays = (plan.pdp, plan.generic, plan.codp, plan.dedicated)
        T = self.inst.n_periods
        t_begin, t_same = 0, T
        if self._traced is not None:
            hit = np.flatnonzero(_changed_periods(self._traced, plan))
            t_begin, t_same = (int(hit[0]), int(hit[-1])) if hit.size else (T, T)
        self.plan = plan
        # A copy: the trajectory must stay that of what was played, whatever the caller
        # does to the plan's arrays afterwards.
        self._traced = Plan(*(a.copy() for a in arrays))
        return ksl.trajectory(*arrays, self.data, self.groups, t_begin, t_same, self.tr)

    def costs(self, moves: list, flat: tuple | None = None) -> np.ndarray:
        """Cost of the plan with each move applied, ``inf`` where it breaks a rule;
        ``flat``: the moves' :func:`_flatten`, when made already."""
        out = np.empty(len(moves))
        self.scored += len(moves)
        if moves:
            p = self.plan
            # A chunk copies the plan: a few moves are scored in one.
            chunks = 4 * numba.get_num_threads() if len(moves) >= SMALL_CALL else 1
            flat = flat if flat is not None else _flatten(moves)
            ksm.move_costs(p.pdp, p.generic, p.codp, p.dedicated, flat, self.groups, self.kd,
                           self.n_kd, self.inst.capacity, self.data, self.tr, chunks, out)
        return out


def carried_states(inst: Instance, plan: Plan, periods) -> list[tuple[np.ndarray, ...]]:
    """What ``plan`` carries into each of ``periods`` under the most probable scenario (the
    first of them on ties), from one play of the plan: the generic buffers' stage and units
    (shape (C,)), the dedicated buffers' stage and units (P,) and the backlog (P,); see
    :meth:`Instance.window`."""
    scorer = _MoveScorer(inst)
    scorer.start(plan)
    s = int(np.argmax(inst.weights))
    return [tuple(a[s, t].copy() for a in scorer.tr[:5]) for t in periods]


def move_costs(inst: Instance, plan: Plan, moves: list) -> np.ndarray:
    """Cost of ``plan`` with each move applied (``inf`` where a move breaks a rule), shape
    (len(moves),); :func:`_moves` describes moves."""
    scorer = _MoveScorer(inst)
    scorer.start(plan)
    return scorer.costs(moves)


@dataclass
class BlockTimes:
    """The longest block of moves seen so far, by kind, in seconds to make and score: a
    local search does not start a block that would overrun its budget. Shared by the local
    searches of one run, so that even a search's first block is predicted."""

    period: float = 0.0
    wide: float = 0.0


def local_search(inst: Instance, plan: Plan, *, time_budget: float = 10.0,
                 max_rounds: int = 10_000, follow_ups: int | None = None,
                 first: np.ndarray | None = None,
                 times: BlockTimes | None = None,
                 stop: StopToken | None = None, pins: Pins | None = None,
                 budget: Budget | None = None) -> tuple[Plan, float]:
    """Improve ``plan`` until no change improves it or the time budget is spent.

    A round goes over the periods a block at a time (blocks of about :data:`CHUNK_MOVES`
    moves): it scores the block's moves (:func:`invswarm.kernels.sfi_moves.move_costs`)
    and applies the best, then, while one still improves, the best of the block's others
    against the plan so far (at most ``follow_ups`` more; by default ``max(30, 2 (C + P))``;
    see :func:`_apply_ranked`). So a round cut short by the time budget has improved the
    periods it reached. A thread makes the next block's moves (:class:`_MoveMaker`, Python)
    while the kernel scores this block's (it releases the GIL), so each block's moves are
    made for the plan as the blocks before the last left it: a move may set a quantity
    derived from that plan, but it is scored against the plan as it is, and the result
    does not depend on the threads' timing. The kernel keeps its Numba threads meanwhile
    (the thread making moves holds the GIL most of the time, so it takes about one core
    while the kernel runs; on one Numba thread the kernel searched less in the same time,
    in development). After a full round's period blocks come the plan-wide moves, in
    blocks of :data:`WIDE_MOVES`. A change in one period moves the costs
    of that period and the next only through the stock and backlog it passes on, and a
    change in one category moves the costs of others only through the make-to-order
    capacity and the production capacity they share; so after the first round the moves are
    made in the (category, period) cells next to the last round's changes (the same
    category, the period before and after); a round there that finds
    nothing is followed by a full round, and only a full round that finds nothing ends the
    search (at a local optimum). On the bench's 30 x 10 x 52 instances a round after the
    first two covers a third of the cells or fewer.
    ``first`` (bool, shape (T,)) limits the first round to some periods (those a caller
    just changed); by default it covers them all. ``times`` carries the block times of
    earlier searches of the same instance (updated in place): a block that the longest of
    its kind says would overrun the budget is not started. ``stop``, when set, ends the search
    before its next block. With ``pins`` (which ``plan`` honours), no move changes a kept
    decision, and cells whose every decision is kept get no moves. ``budget``, the run's,
    ends the search like ``stop`` when one of its terminations is reached; it is charged the
    moves scored (:data:`MOVES_PER_EVALUATION` to an evaluation) and told the cost after each
    block; a block is cut to the evaluations the budget has left, so that an evaluation
    budget holds to the rescoring of one block's follow-ups (at most :data:`RESCORE` moves
    for each move applied).

    Returns the improved plan and its cost. Raises :class:`~invswarm.engine.errors.InputError`
    naming the first field that breaks a rule of the model when ``plan`` is not feasible.
    """
    check_feasible(inst, plan)  # the moves keep a feasible plan feasible (see _apply)
    scorer = _MoveScorer(inst)
    data = scorer.data
    C, T = inst.n_categories, inst.n_periods
    if follow_ups is None:
        follow_ups = max(30, 2 * (inst.n_categories + inst.n_products))
    t_end = time.perf_counter() + time_budget
    pins = pins if pins is not None and not pins.empty else None
    # The (category, period) cells whose moves a round makes.
    movable = ~pins.frozen(inst) if pins is not None else np.ones((C, T), dtype=bool)
    near = movable.copy()
    if first is not None:
        near &= np.asarray(first, dtype=bool)[None]

    def cost_of(p: Plan) -> float:
        return float(batch_costs(inst, p.pdp[None], p.generic[None], p.codp[None],
                                 p.dedicated[None], data=data)[0][0])

    cost = cost_of(plan)
    maker = _MoveMaker(inst)
    per_cell = CHUNK_MOVES  # moves per cell (the first block has one period)
    times = times if times is not None else BlockTimes()
    scored_plan = None  # the plan `use` is for

    def ended() -> bool:
        return (stop is not None and stop.stopped) or (budget is not None and budget.done())

    # One thread makes the next block's moves while the kernel scores this block's.
    with ThreadPoolExecutor(1) as pool:
        for _ in range(max_rounds):
            if time.perf_counter() + times.period > t_end or ended():
                break
            periods = np.flatnonzero(near.any(axis=0))
            cells = np.cumsum(near[:, periods].sum(axis=0))  # the cells up to each period
            changed = np.zeros((C, T), dtype=bool)
            lo, wide, wide_at, blocks, out_of_time = 0, None, 0, 0, False
            ahead = None  # the next block: (its end, its cells, its moves being made)
            while True:
                t_block = time.perf_counter()
                wide_block = lo >= periods.size
                if wide_block and not (near == movable).all():
                    break
                longest = times.wide if wide_block else times.period
                if (blocks or longest) and t_block + longest > t_end or ended():
                    out_of_time = True
                    break
                if scored_plan is not plan:
                    use = plan_use(inst, plan, data)[1]
                    if scorer.plan is not plan:
                        scorer.start(plan)
                    scored_plan = plan
                if not wide_block:
                    if ahead is not None:
                        hi, n_cells, made = ahead
                        new, flat = made.result()
                    else:
                        mask, hi, n_cells = _block(near, periods, cells, lo, per_cell)
                        new, flat = pool.submit(maker.moves, plan, use, mask).result()
                    per_cell = max(1, len(new) // n_cells)
                    lo, ahead = hi, None
                    if lo < periods.size:
                        # Made for the plan as it is before this block's moves are applied.
                        mask, hi_next, n_next = _block(near, periods, cells, lo, per_cell)
                        ahead = (hi_next, n_next, pool.submit(maker.moves, plan, use, mask))
                else:
                    if wide is None:
                        wide = pool.submit(maker.wide_moves, plan).result()
                    new, flat = wide[wide_at:wide_at + WIDE_MOVES], None
                    wide_at += len(new)
                    if not new:
                        break
                if budget is not None and budget.max_evals is not None:
                    allowed = int(budget.evals_left() * MOVES_PER_EVALUATION)
                    if allowed < len(new):
                        new, flat = new[:allowed], None
                    if not new:
                        out_of_time = True
                        break
                scored = scorer.scored
                costs = scorer.costs(new, flat)
                # Only the moves that gain are kept (a large round makes millions of moves).
                keep = np.flatnonzero(costs < below(cost))
                gaining = [new[j] for j in keep.tolist()]
                del new, flat  # freed inside the block's time
                blocks += 1
                # The best move is applied even when the time ran out while scoring: it was
                # paid for.
                plan, cost, block_changed = _apply_ranked(inst, scorer, plan, cost, gaining,
                                                          costs[keep], follow_ups, t_end, pins)
                changed |= block_changed
                if budget is not None:
                    budget.spend((scorer.scored - scored) / MOVES_PER_EVALUATION)
                    budget.record(cost, plan)
                # The longest block so far predicts the next: blocks vary, the deadline does
                # not.
                if wide_block:
                    times.wide = max(times.wide, time.perf_counter() - t_block)
                else:
                    times.period = max(times.period, time.perf_counter() - t_block)
            if not changed.any():
                if (near == movable).all() or out_of_time:
                    break
                near[:] = movable
                continue
            near = changed.copy()
            near[:, 1:] |= changed[:, :-1]
            near[:, :-1] |= changed[:, 1:]
            near &= movable
    # The cost of the whole play (the moves' costs agree with it to rounding).
    return plan, cost_of(plan)


def _block(near: np.ndarray, periods: np.ndarray, cells: np.ndarray, lo: int,
           per_cell: int) -> tuple[np.ndarray, int, int]:
    """The block of a round from its ``lo``-th period on: about :data:`CHUNK_MOVES` moves at
    ``per_cell`` moves per cell, at least one period. Returns its cells (shape (C, T)), the
    index of the period after it and how many cells it has. ``periods``: the round's
    periods; ``cells``: the round's cells up to each of them."""
    done = cells[lo - 1] if lo else 0
    hi = max(lo + 1, int(np.searchsorted(cells, done + CHUNK_MOVES // per_cell, side="right")))
    mask = np.zeros(near.shape, dtype=bool)
    mask[:, periods[lo:hi]] = near[:, periods[lo:hi]]
    return mask, hi, int(cells[hi - 1] - done)


class _MoveMaker:
    """Makes the local search's moves (:func:`_moves`, and the plan-wide pooling moves) in
    one thread at a time, keeping the pooling groups of the last plan it made moves for and
    the draws of the transfer moves (so the search is repeatable)."""

    def __init__(self, inst: Instance):
        self.inst = inst
        self.d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
        self.dc = np.zeros((inst.n_categories, inst.n_periods))
        np.add.at(self.dc, inst.category, self.d)
        self.rng = np.random.default_rng(0)
        self.groups: dict = {}  # pooling groups, by category (see _pooling_groups)
        self.plan = None  # the plan `groups` are for

    def _for(self, plan: Plan) -> None:
        _forget_groups(self.groups, self.inst, self.plan, plan)
        self.plan = plan

    def moves(self, plan: Plan, use: np.ndarray, near: np.ndarray) -> tuple[list, tuple]:
        """:func:`_moves` of ``plan`` in the cells ``near`` (``use``: its buffers' use), and
        their :func:`_flatten`."""
        self._for(plan)
        moves = _moves(self.inst, plan, self.d, self.dc, use, near, self.rng, self.groups)
        return moves, _flatten(moves)

    def wide_moves(self, plan: Plan) -> list:
        """The plan-wide pooling moves of ``plan``."""
        self._for(plan)
        return _pooling_moves(self.inst, plan, None, every_period=True, groups=self.groups)


def _apply_ranked(inst: Instance, scorer: _MoveScorer, plan: Plan, cost: float, moves: list,
                  scored: np.ndarray, follow_ups: int, t_end: float, pins: Pins | None = None
                  ) -> tuple[Plan, float, np.ndarray]:
    """Apply the best of ``moves`` (costs ``scored``, against ``plan``, which ``scorer`` is
    started on), then, while one still improves, the best of the others (at most
    ``follow_ups`` after the first, none after ``t_end``). Once a move is applied, the
    others' gains are out of date: the :data:`RESCORE` best by their last gains are scored
    anew against the plan so far, and the best of all is applied if its gain is up to date,
    else the next best are scored anew (a lazy greedy: a few moves scored per step, not all
    of them). Returns the plan, its cost (as scored) and the (category, period) cells the
    applied moves edit (a product's edits count for its category), shape (C, T)."""
    changed = np.zeros((inst.n_categories, inst.n_periods), dtype=bool)
    applied = 0
    # (cost change, move, version of the plan it was scored against); ties: the first made.
    # Changes, not costs: the costs of moves scored against different plans do not compare.
    line = [(float(c) - cost, j, 0) for j, c in enumerate(scored)]
    heapq.heapify(line)
    version = 0
    while line:
        gain, j, v = line[0]
        if not gain < -margin(cost):
            break
        if v != version:
            # The best ones scored against an older plan, scored anew in one call.
            stale = []
            while line and line[0][2] != version and len(stale) < RESCORE:
                stale.append(heapq.heappop(line)[1])
            if scorer.plan is not plan:
                scorer.start(plan)
            for k, c in zip(stale, scorer.costs([moves[k] for k in stale])):
                heapq.heappush(line, (float(c) - cost, k, version))
            continue
        heapq.heappop(line)
        trial = _apply(inst, plan, moves[j], pins)
        if trial is None:
            continue
        for a, r, t, _ in moves[j]:
            # A PDP move's raised CODPs are its category's.
            changed[r if a <= 1 else inst.category[r], t] = True
        plan, cost = trial, cost + gain
        applied += 1
        version += 1
        if applied > follow_ups or time.perf_counter() > t_end:
            break
    return plan, cost, changed


def _changed_periods(a: Plan, b: Plan) -> np.ndarray:
    """Periods in which two plans differ, shape (T,)."""
    return ((a.pdp != b.pdp).any(axis=0) | (a.generic != b.generic).any(axis=0)
            | (a.codp != b.codp).any(axis=0) | (a.dedicated != b.dedicated).any(axis=0))

