"""Plays of a plan that differs from a base plan in a few categories, against the base plan's
trajectory (the local search's move costs, ``kernels/sfi_moves.py``).

A move edits the decisions of one or a few categories: a category's PDP and generic buffer,
its products' CODPs and dedicated buffers. Within a period, a category's products draw from
their own buffers and their category's; the only source categories share is the
make-to-order capacity, which every product draws from last, in service order. So a play
runs in full only for the categories the move touches (the *dirty* ones). A product of
another category is looked at only where the make-to-order capacity left for it differs from
the base plan's, and then only its make-to-order draw changes: its stock draws, and what they
leave of its demand, are the base plan's. A category whose backlog changes that way is played
in full from the next period on. On the bench's 30 x 10 x 52 instance a move then plays about
one category's products in a period instead of all of them.

The trajectory (:func:`trajectory`) records what that needs, per scenario and period: the
carried state at the start, each category's share of the cost (its buffers and its products'
draws), the make-to-order capacity left before each product, and each product's demand left
after its stock draws and the units of it served on time by then.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .sfi import _take
from .sfi_setup import SETUP_EPS


@njit(cache=True, inline="always")
def _draw(D, a, late, b, pen, ot):
    """What is left of a stock ``a`` and of a demand ``D`` after the draw of
    ``min(D, a)``, each unit ``late`` hours late; adds the draw's delay penalty to ``pen``
    and its units on time to ``ot``."""
    if D > 0.0:
        a, D, p, _, o = _take(D, a, late, b)
        pen += p
        ot += o
    return a, D, pen, ot


@njit(cache=True, inline="always")
def _stock_draws(D, a0, a1, a2, a3, w0, w1, w2, w3, b):
    """``D`` units drawn from four stocks ``a0..a3`` in order, each unit from stock i late by
    ``w_i`` hours (penalty ``b`` per unit-hour). Returns the stocks left, ``D`` left, the
    delay penalty and the units drawn on time."""
    a0, D, pen, ot = _draw(D, a0, w0, b, 0.0, 0.0)
    a1, D, pen, ot = _draw(D, a1, w1, b, pen, ot)
    a2, D, pen, ot = _draw(D, a2, w2, b, pen, ot)
    a3, D, pen, ot = _draw(D, a3, w3, b, pen, ot)
    return a0, a1, a2, a3, D, pen, ot


@njit(cache=True, inline="always")
def _mto_part(mto, D0, D1, ot1, w4, back_extra, b, lam_p, rho_p, need, last):
    """A product's make-to-order draws in one period, given the capacity ``mto`` left before
    it, its backlog ``D0`` and orders ``D1`` left after its stock draws, and ``ot1`` units
    of its orders on time by then (``need``: the units its service level asks for on time).
    Returns the capacity left, the cost that depends on the draws (their delay, the backlog
    lost, the service shortfall, the orders lost at the horizon) and the new backlog."""
    cost = 0.0
    if D0 > 0.0:
        mto, D0, p, _, _ = _take(D0, mto, w4 + back_extra, b)
        cost += p
    cost += lam_p * D0
    on = ot1
    if D1 > 0.0:
        mto, D1, p, _, o = _take(D1, mto, w4, b)
        cost += p
        on += o
    gap = need - on
    if gap > 0.0:
        cost += rho_p * gap
    if last:
        cost += lam_p * D1
    return mto, cost, D1


@njit(cache=True, inline="always")
def _close(k0, x0, left0, k1, x1, left1, hold, value, setup_r, setup_new, omega, B, last):
    """End-of-period cost of a carried buffer (stage ``k0``, ``x0`` units, ``left0`` left)
    and the new buffer of the same kind (stage ``k1``, ``x1`` made, ``left1`` left; setup
    costs ``setup_new``): fulfilment-phase holding, re-setup of the carried one when used,
    disposal of its leftover, setup of the new one when made, and its disposal at the
    horizon."""
    u = x0 - left0
    cost = hold[k0] * B * (x0 - 0.5 * u) + omega * value[k0] * left0
    if u > SETUP_EPS:
        cost += setup_r[k0]
    u = x1 - left1
    cost += hold[k1] * B * (x1 - 0.5 * u)
    if x1 > SETUP_EPS:
        cost += setup_new[k1]
    if last:
        cost += omega * value[k1] * left1
    return cost


@njit(cache=True)
def play_local(s, t_begin, t_same, record, dirty, pdp, gen, codp, ded,
               remaining, value, hold, setup_g, setup_d, setup_r, omega,
               category, order, lead, beta, alpha, rho, lam,
               prep, fulfil, mto_cap, orders,
               ig_stage, ig_qty, id_stage, id_qty, init_backlog, cat_ptr, cat_members, rank,
               tr_gk, tr_gx, tr_dk, tr_dx, tr_bk, tr_cost, tr_ccost, tr_mto, tr_rest,
               cg_k, cg_x, cd_k, cd_x, ng_k, nd_k, rem_cg, rem_ng, rem_cd, rem_nd, bk, newbk,
               ccost, changed, dpos):
    """Cost of a plan under scenario ``s``, played from period ``t_begin`` for the categories
    flagged in ``dirty`` (see the module's docstring).

    The plan must equal the trajectory's base plan outside the dirty categories, and inside
    them before ``t_begin`` and after ``t_same``; after ``t_same``, once the dirty
    categories' carried state is the trajectory's again, the rest costs what it costs in the
    base plan and the play stops. ``dirty`` (bool, shape (C,)) grows as categories' backlogs
    change. With ``record`` (every category dirty) the play writes the trajectory instead:
    from ``t_begin`` (the trajectory before it must be the plan's; from the initial state
    when 0), up to the first period after ``t_same`` whose carried state is the
    trajectory's (the plan is the trajectory's base plan after ``t_same``, so the rest of
    the trajectory stays the plan's).

    Parameters
    ----------
    pdp, gen, codp, ded : ndarray, shapes (C, T), (C, T), (P, T), (P, T)
        The plan.
    cat_ptr, cat_members : ndarray of int64, shapes (C + 1,), (P,)
        Products of category ``c``: ``cat_members[cat_ptr[c]:cat_ptr[c + 1]]``.
    rank : ndarray of int64, shape (P,)
        Place of each product in the service order ``order``.
    tr_gk, tr_gx : ndarray of int64 / float64, shape (NS, T + 1, C)
        Carried generic stage and units at the start of each period and after the last.
    tr_dk, tr_dx, tr_bk : ndarray of int64 / float64 / float64, shape (NS, T + 1, P)
        Carried dedicated stage and units, and backlog, likewise.
    tr_cost : ndarray, shape (NS, T)
        Cost of each period.
    tr_ccost : ndarray, shape (NS, T, C)
        Each category's share of it.
    tr_mto : ndarray, shape (NS, T, P + 1)
        Make-to-order capacity left before the product at each place of the service order,
        and after the last (units).
    tr_rest : ndarray, shape (NS, T, P, 3)
        Per product: backlog and orders left after its stock draws, and its orders served on
        time by them (units).
    cg_k ... newbk : ndarray
        Scratch state, shapes (C,) and (P,).
    ccost : ndarray, shape (C,)
        Scratch: the dirty categories' costs in a period.
    changed : ndarray of bool, shape (P,)
        Scratch, all False (and left so): products of clean categories whose backlog
        changed in a period.
    dpos : ndarray of int64, shape (P,)
        Scratch: places of the dirty categories' products in the service order.

    The instance arrays are those of :func:`invswarm.kernels.sfi.sfi_costs`. Returns the cost.
    """
    C = cg_k.shape[0]
    P = cd_k.shape[0]
    T = prep.shape[0]
    total = 0.0
    for c in range(C):
        if dirty[c]:
            _load(s, t_begin, c, record and t_begin == 0, ig_stage, ig_qty, id_stage, id_qty,
                  init_backlog, cat_ptr, cat_members, tr_gk, tr_gx, tr_dk, tr_dx, tr_bk,
                  cg_k, cg_x, cd_k, cd_x, bk)
    nd = _dirty_places(dirty, cat_ptr, cat_members, rank, dpos)
    # The periods' costs summed in order, as a play from the first period sums them: the
    # cost of a plan is the same to the last bit however it is played.
    for t in range(t_begin):
        total += tr_cost[s, t]
    ended = False  # played through the last period
    for t in range(t_begin, T):
        if record:
            _record(s, t, cg_k, cg_x, cd_k, cd_x, bk, tr_gk, tr_gx, tr_dk, tr_dx, tr_bk)
        A = prep[t]
        B = fulfil[t]
        back_extra = prep[t - 1] + fulfil[t - 1] if t > 0 else prep[0] + fulfil[0]
        last = t == T - 1
        for c in range(C):
            if not dirty[c]:
                continue
            cost_c = hold[cg_k[c]] * cg_x[c] * A
            rem_cg[c] = cg_x[c]
            ng_k[c] = pdp[c, t]
            rem_ng[c] = gen[c, t]
            for m in range(cat_ptr[c], cat_ptr[c + 1]):
                p = cat_members[m]
                cost_c += hold[cd_k[p]] * cd_x[p] * A
                rem_cd[p] = cd_x[p]
                nd_k[p] = codp[p, t]
                rem_nd[p] = ded[p, t]
            ccost[c] = cost_c
        # The products in service order, from the first dirty one; clean ones only while the
        # make-to-order capacity left differs from the trajectory's.
        j = 0
        oi = dpos[0] if nd > 0 else P
        mto = mto_cap[t] if record else tr_mto[s, t, oi]
        delta = 0.0  # cost change of clean categories' products, by their make-to-order draws
        any_changed = False
        while oi < P:
            p = order[oi]
            c = category[p]
            L = lead[p]
            b = beta[p]
            w4 = max(remaining[0] - L, 0.0)
            need = alpha[p] * orders[s, p, t]
            if not dirty[c]:
                base = tr_mto[s, t, oi]
                if mto == base:
                    # Back in step: skip to the next dirty product.
                    oi = dpos[j] if j < nd else P
                    mto = tr_mto[s, t, oi]
                    continue
                D0 = tr_rest[s, t, p, 0]
                D1 = tr_rest[s, t, p, 1]
                if mto >= D0 and mto - D0 >= D1 and base >= D0 and base - D0 >= D1:
                    # Served in full either way: the same draws and costs.
                    mto = (mto - D0) - D1
                    oi += 1
                    continue
                ot1 = tr_rest[s, t, p, 2]
                _, was, _ = _mto_part(base, D0, D1, ot1, w4, back_extra, b, lam[p], rho[p],
                                      need, last)
                mto, now, left = _mto_part(mto, D0, D1, ot1, w4, back_extra, b, lam[p],
                                           rho[p], need, last)
                delta += now - was
                if left != tr_bk[s, t + 1, p]:
                    newbk[p] = left
                    changed[p] = True
                    any_changed = True
                oi += 1
                continue
            if record:
                tr_mto[s, t, oi] = mto
            w0 = max(remaining[cd_k[p]] - L, 0.0)
            w1 = max(remaining[nd_k[p]] - L, 0.0)
            w2 = max(remaining[cg_k[c]] - L, 0.0)
            w3 = max(remaining[ng_k[c]] - L, 0.0)
            a0, a1, a2, a3, D0, pen0, _ = _stock_draws(
                bk[p], rem_cd[p], rem_nd[p], rem_cg[c], rem_ng[c], w0 + back_extra,
                w1 + back_extra, w2 + back_extra, w3 + back_extra, b)
            a0, a1, a2, a3, D1, pen1, ot1 = _stock_draws(
                orders[s, p, t], a0, a1, a2, a3, w0, w1, w2, w3, b)
            if record:
                tr_rest[s, t, p, 0] = D0
                tr_rest[s, t, p, 1] = D1
                tr_rest[s, t, p, 2] = ot1
            mto, cost_p, newbk[p] = _mto_part(mto, D0, D1, ot1, w4, back_extra, b, lam[p],
                                              rho[p], need, last)
            ccost[c] += pen0 + pen1 + cost_p
            rem_cd[p] = a0
            rem_nd[p] = a1
            rem_cg[c] = a2
            rem_ng[c] = a3
            j += 1
            oi += 1
        if record:
            tr_mto[s, t, P] = mto
        cost_t = 0.0
        for c in range(C):
            if not dirty[c]:
                continue
            cost_c = _close(cg_k[c], cg_x[c], rem_cg[c], ng_k[c], gen[c, t], rem_ng[c], hold,
                            value, setup_r, setup_g, omega, B, last)
            cg_k[c] = ng_k[c]
            cg_x[c] = rem_ng[c]
            for m in range(cat_ptr[c], cat_ptr[c + 1]):
                p = cat_members[m]
                cost_c += _close(cd_k[p], cd_x[p], rem_cd[p], nd_k[p], ded[p, t], rem_nd[p],
                                 hold, value, setup_r, setup_d, omega, B, last)
                cd_k[p] = nd_k[p]
                cd_x[p] = rem_nd[p]
                bk[p] = newbk[p]
            cost_c += ccost[c]
            if record:
                tr_ccost[s, t, c] = cost_c
                cost_t += cost_c
            else:
                cost_t += cost_c - tr_ccost[s, t, c]
        if record:
            tr_cost[s, t] = cost_t
        else:
            cost_t += tr_cost[s, t] + delta
        total += cost_t
        if any_changed:
            # Categories whose backlog changed through the make-to-order capacity are played
            # in full from the next period, from the trajectory's state but for those
            # backlogs. (``changed`` is all False again afterwards.)
            for c in range(C):
                if dirty[c]:
                    continue
                hit = False
                for m in range(cat_ptr[c], cat_ptr[c + 1]):
                    hit = hit or changed[cat_members[m]]
                if not hit:
                    continue
                if not last:
                    _load(s, t + 1, c, False, ig_stage, ig_qty, id_stage, id_qty,
                          init_backlog, cat_ptr, cat_members, tr_gk, tr_gx, tr_dk, tr_dx,
                          tr_bk, cg_k, cg_x, cd_k, cd_x, bk)
                    dirty[c] = True
                for m in range(cat_ptr[c], cat_ptr[c + 1]):
                    p = cat_members[m]
                    if changed[p]:
                        bk[p] = newbk[p]
                        changed[p] = False
            nd = _dirty_places(dirty, cat_ptr, cat_members, rank, dpos)
        if last:
            ended = True
            break
        if t >= t_same and _same_state(
                s, t + 1, dirty, cat_ptr, cat_members, cg_k, cg_x, cd_k, cd_x, bk,
                tr_gk, tr_gx, tr_dk, tr_dx, tr_bk):
            for u in range(t + 1, T):
                total += tr_cost[s, u]
            break
    if record and ended:
        _record(s, T, cg_k, cg_x, cd_k, cd_x, bk, tr_gk, tr_gx, tr_dk, tr_dx, tr_bk)
    return total


@njit(cache=True)
def _record(s, t, cg_k, cg_x, cd_k, cd_x, bk, tr_gk, tr_gx, tr_dk, tr_dx, tr_bk):
    """The carried state into the trajectory at the start of period ``t``."""
    for c in range(cg_k.shape[0]):
        tr_gk[s, t, c] = cg_k[c]
        tr_gx[s, t, c] = cg_x[c]
    for p in range(cd_k.shape[0]):
        tr_dk[s, t, p] = cd_k[p]
        tr_dx[s, t, p] = cd_x[p]
        tr_bk[s, t, p] = bk[p]


@njit(cache=True)
def _dirty_places(dirty, cat_ptr, cat_members, rank, dpos):
    """The places in the service order of the dirty categories' products, ascending, into
    ``dpos``; returns how many."""
    n = 0
    for c in range(dirty.shape[0]):
        if not dirty[c]:
            continue
        for m in range(cat_ptr[c], cat_ptr[c + 1]):
            # Insertion into the sorted prefix: few products, mostly one category's.
            v = rank[cat_members[m]]
            i = n
            while i > 0 and dpos[i - 1] > v:
                dpos[i] = dpos[i - 1]
                i -= 1
            dpos[i] = v
            n += 1
    return n


@njit(cache=True)
def _load(s, t, c, initial, ig_stage, ig_qty, id_stage, id_qty, init_backlog,
          cat_ptr, cat_members, tr_gk, tr_gx, tr_dk, tr_dx, tr_bk,
          cg_k, cg_x, cd_k, cd_x, bk):
    """Category ``c``'s carried state at the start of period ``t``: the instance's initial
    state when ``initial``, else the trajectory's."""
    if initial:
        cg_k[c] = ig_stage[c]
        cg_x[c] = ig_qty[c]
    else:
        cg_k[c] = tr_gk[s, t, c]
        cg_x[c] = tr_gx[s, t, c]
    for m in range(cat_ptr[c], cat_ptr[c + 1]):
        p = cat_members[m]
        if initial:
            cd_k[p] = id_stage[p]
            cd_x[p] = id_qty[p]
            bk[p] = init_backlog[p]
        else:
            cd_k[p] = tr_dk[s, t, p]
            cd_x[p] = tr_dx[s, t, p]
            bk[p] = tr_bk[s, t, p]


@njit(cache=True)
def _same_state(s, t, dirty, cat_ptr, cat_members, cg_k, cg_x, cd_k, cd_x, bk,
                tr_gk, tr_gx, tr_dk, tr_dx, tr_bk):
    """Whether the dirty categories' carried state equals the trajectory's at the start of
    period ``t`` (the clean ones' does)."""
    for c in range(cg_k.shape[0]):
        if not dirty[c]:
            continue
        if cg_k[c] != tr_gk[s, t, c] or cg_x[c] != tr_gx[s, t, c]:
            return False
        for m in range(cat_ptr[c], cat_ptr[c + 1]):
            p = cat_members[m]
            if cd_k[p] != tr_dk[s, t, p] or cd_x[p] != tr_dx[s, t, p] \
                    or bk[p] != tr_bk[s, t, p]:
                return False
    return True


@njit(cache=True)
def trajectory(pdp, gen, codp, ded,
               remaining, value, hold, setup_g, setup_d, setup_r, omega,
               category, order, lead, beta, alpha, rho, lam,
               prep, fulfil, mto_cap, orders, weights,
               ig_stage, ig_qty, id_stage, id_qty, init_backlog, cat_ptr, cat_members, rank,
               t_begin, t_same, tr_gk, tr_gx, tr_dk, tr_dx, tr_bk, tr_cost, tr_ccost, tr_mto,
               tr_rest):
    """The trajectory of one plan (shapes in :func:`play_local`), for plays of plans that
    differ from it; returns the plan's expected cost. The other parameters are those of
    :func:`invswarm.kernels.sfi.sfi_costs`.

    The trajectory arrays may hold the trajectory of a plan that differs from this one only in
    periods ``t_begin`` to ``t_same``: only what changes from ``t_begin`` on is played again
    (a move's periods and those its stock and backlog reach, not the whole horizon). With
    ``t_begin = 0`` and ``t_same = T`` the arrays' contents are not read.
    """
    C = pdp.shape[0]
    P = codp.shape[0]
    dirty = np.ones(C, dtype=np.bool_)
    changed = np.zeros(P, dtype=np.bool_)
    dpos = np.empty(P, np.int64)
    cg_k, ng_k = np.empty(C, np.int64), np.empty(C, np.int64)
    cd_k, nd_k = np.empty(P, np.int64), np.empty(P, np.int64)
    cg_x, rem_cg, rem_ng, ccost = np.empty(C), np.empty(C), np.empty(C), np.empty(C)
    cd_x, rem_cd, rem_nd, bk, newbk = (np.empty(P), np.empty(P), np.empty(P), np.empty(P),
                                       np.empty(P))
    total = 0.0
    for s in range(orders.shape[0]):
        total += weights[s] * play_local(
            s, t_begin, t_same, True, dirty, pdp, gen, codp, ded,
            remaining, value, hold, setup_g, setup_d, setup_r, omega,
            category, order, lead, beta, alpha, rho, lam,
            prep, fulfil, mto_cap, orders,
            ig_stage, ig_qty, id_stage, id_qty, init_backlog, cat_ptr, cat_members, rank,
            tr_gk, tr_gx, tr_dk, tr_dx, tr_bk, tr_cost, tr_ccost, tr_mto, tr_rest,
            cg_k, cg_x, cd_k, cd_x, ng_k, nd_k, rem_cg, rem_ng, rem_cd, rem_nd, bk, newbk,
            ccost, changed, dpos)
    return total
