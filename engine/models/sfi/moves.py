"""The local search's moves for the SFI model: single and compound changes of a plan's
decisions (:func:`candidate_moves`), and one applied to a plan (:func:`apply_move`).

A move is a list of edits ``(array, row, period, new value)``, array 0..3 = pdp, generic,
codp, dedicated (``kernels/sfi_moves.py``: ``PDP``, ``GENERIC``, ``CODP``, ``DEDICATED``).
"""

from __future__ import annotations

import numpy as np

from ....kernels import sfi_moves as ksm
from .instance import Instance
from .pins import Pins
from .plan import Plan
from .start import on_time_codp

#: Buffers outside a product's category that may give it capacity in one move.
DONORS = 12
#: (Receiver, donor) pairs of capacity transfers scored per period and round.
TRANSFER_PAIRS = 400
#: Lengths of the runs of consecutive periods unpooled in one move (besides single periods).
UNPOOL_RUNS = (2, 3, 4)
#: Quantity steps, as fractions of the orders the buffer serves in its period.
STEPS = (-1.0, -0.5, -0.25, -0.1, -0.02, 0.02, 0.1, 0.25, 0.5, 1.0)


def candidate_moves(inst: Instance, plan: Plan, d: np.ndarray, dc: np.ndarray,
                    use: np.ndarray, near: np.ndarray, rng: np.random.Generator,
                    groups: dict | None = None) -> list:
    """Single and compound changes of ``plan`` in the categories and periods where ``near``
    (bool, shape (C, T)) is True, as lists of ``(array, row, period, new value)`` with array
    0..3 = pdp, generic, codp, dedicated (see :func:`apply_move`).

    Single changes: one stage, or one quantity by a step tied to the orders or to the share of
    them that may be late without a service penalty. Compound changes, decisions that only pay
    off together: a quantity moved between a product's dedicated buffer and its category's
    generic buffer, or between adjacent periods of one buffer; products pooled into the
    generic buffer at any PDP (:func:`pooling_moves`; the plan-wide ones, in every period at
    once, are made apart by :func:`local_search`) or taken out of it
    (:func:`_unpooling_moves`); capacity moved between buffers of a period
    (:func:`_transfer_moves`, drawn by ``rng`` on large instances).
    Moves guided by ``use`` (the buffers' use in the current plan, see
    :func:`.evaluate.plan_use`) cut a buffer to what is drawn from it, grow it by the demand
    its product(s) met elsewhere, or let products take the stock carried into the period.
    ``groups`` caches the pooling groups of ``plan`` between calls (see
    :func:`pooling_moves`).
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
    moves += pooling_moves(inst, plan, near, every_period=False, groups=groups)
    moves += _transfer_moves(inst, plan, d, use, near, rng)
    moves += _unpooling_moves(inst, plan, use, near)
    return moves


def _unpooling_moves(inst: Instance, plan: Plan, use, near) -> list:
    """Empty a category's generic buffer in one period, or in runs of :data:`UNPOOL_RUNS`
    consecutive periods, into dedicated buffers of the products it served, in proportion to
    what each drew, at their current CODPs or at their cheapest on-time ones; the PDP drops to
    the lowest candidate, which frees the CODPs. Only where ``near`` (shape (C, T)) is
    True."""
    C, P = inst.n_categories, inst.n_products
    unmet = use[C + P:]
    on_time = on_time_codp(inst)
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


def pooling_moves(inst: Instance, plan: Plan, near: np.ndarray | None, every_period: bool,
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
                    # One product pooled in one period is a move of candidate_moves already (served
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
    dedicated quantities are those of ``plan``: see :func:`forget_groups`)."""
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


def forget_groups(cache: dict, inst: Instance, old: Plan | None, new: Plan) -> None:
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


def apply_move(inst: Instance, plan: Plan, move: list, pins: Pins | None = None) -> Plan | None:
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
