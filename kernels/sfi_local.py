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
from .sfi_data import play_state
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
def _close(k0, x0, left0, k1, x1, left1, hold, value, setup_reuse, setup_new, disposal_rate,
           B, last):
    """End-of-period cost of a carried buffer (stage ``k0``, ``x0`` units, ``left0`` left)
    and the new buffer of the same kind (stage ``k1``, ``x1`` made, ``left1`` left; setup
    costs ``setup_new``): fulfilment-phase holding, re-setup of the carried one when used,
    disposal of its leftover, setup of the new one when made, and its disposal at the
    horizon."""
    u = x0 - left0
    cost = hold[k0] * B * (x0 - 0.5 * u) + disposal_rate * value[k0] * left0
    if u > SETUP_EPS:
        cost += setup_reuse[k0]
    u = x1 - left1
    cost += hold[k1] * B * (x1 - 0.5 * u)
    if x1 > SETUP_EPS:
        cost += setup_new[k1]
    if last:
        cost += disposal_rate * value[k1] * left1
    return cost


@njit(cache=True)
def play_local(s, t_begin, t_same, record, dirty, pdp, gen, codp, ded, model, groups, tr,
               state):
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
    model : Model
        The instance (:data:`invswarm.kernels.sfi_data.Model`).
    groups : Groups
        Each category's products and the service order
        (:data:`invswarm.kernels.sfi_data.Groups`).
    tr : Trajectory
        The base plan's trajectory (:data:`invswarm.kernels.sfi_data.Trajectory`).
    state : PlayState
        Scratch (:func:`invswarm.kernels.sfi_data.play_state`); its ``changed`` must be all
        False, and is left so.

    Returns the cost.
    """
    cg_k, cg_x, ng_k = state.generic_stage, state.generic_qty, state.new_generic_stage
    cd_k, cd_x, nd_k = state.dedicated_stage, state.dedicated_qty, state.new_dedicated_stage
    rem_cg, rem_ng = state.left_generic, state.left_new_generic
    rem_cd, rem_nd = state.left_dedicated, state.left_new_dedicated
    bk, newbk = state.backlog, state.next_backlog
    ccost, changed, dpos = state.category_cost, state.changed, state.places
    # Read once: a helper given the whole record would take a reference to each of its arrays
    # at every call.
    hold, value, setup_reuse = model.hold, model.value, model.setup_reuse
    disposal_rate = model.disposal_rate
    C = cg_k.shape[0]
    P = cd_k.shape[0]
    T = model.prep.shape[0]
    total = 0.0
    for c in range(C):
        if dirty[c]:
            _load(s, t_begin, c, record and t_begin == 0, model, groups, tr, state)
    nd = _dirty_places(dirty, groups, dpos)
    # The periods' costs summed in order, as a play from the first period sums them: the
    # cost of a plan is the same to the last bit however it is played.
    for t in range(t_begin):
        total += tr.cost[s, t]
    ended = False  # played through the last period
    for t in range(t_begin, T):
        if record:
            _record(s, t, tr, state)
        A = model.prep[t]
        B = model.fulfil[t]
        back_extra = (model.prep[t - 1] + model.fulfil[t - 1] if t > 0
                      else model.prep[0] + model.fulfil[0])
        last = t == T - 1
        for c in range(C):
            if not dirty[c]:
                continue
            cost_c = model.hold[cg_k[c]] * cg_x[c] * A
            rem_cg[c] = cg_x[c]
            ng_k[c] = pdp[c, t]
            rem_ng[c] = gen[c, t]
            for m in range(groups.ptr[c], groups.ptr[c + 1]):
                p = groups.members[m]
                cost_c += model.hold[cd_k[p]] * cd_x[p] * A
                rem_cd[p] = cd_x[p]
                nd_k[p] = codp[p, t]
                rem_nd[p] = ded[p, t]
            ccost[c] = cost_c
        # The products in service order, from the first dirty one; clean ones only while the
        # make-to-order capacity left differs from the trajectory's.
        j = 0
        oi = dpos[0] if nd > 0 else P
        mto = model.mto_capacity[t] if record else tr.mto[s, t, oi]
        delta = 0.0  # cost change of clean categories' products, by their make-to-order draws
        any_changed = False
        while oi < P:
            p = model.order[oi]
            c = model.category[p]
            L = model.lead_time[p]
            b = model.delay_penalty[p]
            w4 = max(model.remaining[0] - L, 0.0)
            need = model.service_level[p] * model.orders[s, p, t]
            if not dirty[c]:
                base = tr.mto[s, t, oi]
                if mto == base:
                    # Back in step: skip to the next dirty product.
                    oi = dpos[j] if j < nd else P
                    mto = tr.mto[s, t, oi]
                    continue
                D0 = tr.rest[s, t, p, 0]
                D1 = tr.rest[s, t, p, 1]
                if mto >= D0 and mto - D0 >= D1 and base >= D0 and base - D0 >= D1:
                    # Served in full either way: the same draws and costs.
                    mto = (mto - D0) - D1
                    oi += 1
                    continue
                ot1 = tr.rest[s, t, p, 2]
                _, was, _ = _mto_part(base, D0, D1, ot1, w4, back_extra, b,
                                      model.lost_penalty[p], model.service_penalty[p], need,
                                      last)
                mto, now, left = _mto_part(mto, D0, D1, ot1, w4, back_extra, b,
                                           model.lost_penalty[p], model.service_penalty[p],
                                           need, last)
                delta += now - was
                if left != tr.backlog[s, t + 1, p]:
                    newbk[p] = left
                    changed[p] = True
                    any_changed = True
                oi += 1
                continue
            if record:
                tr.mto[s, t, oi] = mto
            w0 = max(model.remaining[cd_k[p]] - L, 0.0)
            w1 = max(model.remaining[nd_k[p]] - L, 0.0)
            w2 = max(model.remaining[cg_k[c]] - L, 0.0)
            w3 = max(model.remaining[ng_k[c]] - L, 0.0)
            a0, a1, a2, a3, D0, pen0, _ = _stock_draws(
                bk[p], rem_cd[p], rem_nd[p], rem_cg[c], rem_ng[c], w0 + back_extra,
                w1 + back_extra, w2 + back_extra, w3 + back_extra, b)
            a0, a1, a2, a3, D1, pen1, ot1 = _stock_draws(
                model.orders[s, p, t], a0, a1, a2, a3, w0, w1, w2, w3, b)
            if record:
                tr.rest[s, t, p, 0] = D0
                tr.rest[s, t, p, 1] = D1
                tr.rest[s, t, p, 2] = ot1
            mto, cost_p, newbk[p] = _mto_part(mto, D0, D1, ot1, w4, back_extra, b,
                                              model.lost_penalty[p], model.service_penalty[p],
                                              need, last)
            ccost[c] += pen0 + pen1 + cost_p
            rem_cd[p] = a0
            rem_nd[p] = a1
            rem_cg[c] = a2
            rem_ng[c] = a3
            j += 1
            oi += 1
        if record:
            tr.mto[s, t, P] = mto
        cost_t = 0.0
        for c in range(C):
            if not dirty[c]:
                continue
            cost_c = _close(cg_k[c], cg_x[c], rem_cg[c], ng_k[c], gen[c, t], rem_ng[c], hold,
                            value, setup_reuse, model.setup_generic, disposal_rate, B, last)
            cg_k[c] = ng_k[c]
            cg_x[c] = rem_ng[c]
            for m in range(groups.ptr[c], groups.ptr[c + 1]):
                p = groups.members[m]
                cost_c += _close(cd_k[p], cd_x[p], rem_cd[p], nd_k[p], ded[p, t], rem_nd[p],
                                 hold, value, setup_reuse, model.setup_dedicated,
                                 disposal_rate, B, last)
                cd_k[p] = nd_k[p]
                cd_x[p] = rem_nd[p]
                bk[p] = newbk[p]
            cost_c += ccost[c]
            if record:
                tr.category_cost[s, t, c] = cost_c
                cost_t += cost_c
            else:
                cost_t += cost_c - tr.category_cost[s, t, c]
        if record:
            tr.cost[s, t] = cost_t
        else:
            cost_t += tr.cost[s, t] + delta
        total += cost_t
        if any_changed:
            # Categories whose backlog changed through the make-to-order capacity are played
            # in full from the next period, from the trajectory's state but for those
            # backlogs. (``changed`` is all False again afterwards.)
            for c in range(C):
                if dirty[c]:
                    continue
                hit = False
                for m in range(groups.ptr[c], groups.ptr[c + 1]):
                    hit = hit or changed[groups.members[m]]
                if not hit:
                    continue
                if not last:
                    _load(s, t + 1, c, False, model, groups, tr, state)
                    dirty[c] = True
                for m in range(groups.ptr[c], groups.ptr[c + 1]):
                    p = groups.members[m]
                    if changed[p]:
                        bk[p] = newbk[p]
                        changed[p] = False
            nd = _dirty_places(dirty, groups, dpos)
        if last:
            ended = True
            break
        if t >= t_same and _same_state(s, t + 1, dirty, groups, tr, state):
            for u in range(t + 1, T):
                total += tr.cost[s, u]
            break
    if record and ended:
        _record(s, T, tr, state)
    return total


@njit(cache=True)
def _record(s, t, tr, state):
    """The carried state into the trajectory at the start of period ``t``."""
    cg_k, cg_x, bk = state.generic_stage, state.generic_qty, state.backlog
    cd_k, cd_x = state.dedicated_stage, state.dedicated_qty
    for c in range(cg_k.shape[0]):
        tr.generic_stage[s, t, c] = cg_k[c]
        tr.generic_qty[s, t, c] = cg_x[c]
    for p in range(cd_k.shape[0]):
        tr.dedicated_stage[s, t, p] = cd_k[p]
        tr.dedicated_qty[s, t, p] = cd_x[p]
        tr.backlog[s, t, p] = bk[p]


@njit(cache=True)
def _dirty_places(dirty, groups, dpos):
    """The places in the service order of the dirty categories' products, ascending, into
    ``dpos``; returns how many."""
    n = 0
    for c in range(dirty.shape[0]):
        if not dirty[c]:
            continue
        for m in range(groups.ptr[c], groups.ptr[c + 1]):
            # Insertion into the sorted prefix: few products, mostly one category's.
            v = groups.rank[groups.members[m]]
            i = n
            while i > 0 and dpos[i - 1] > v:
                dpos[i] = dpos[i - 1]
                i -= 1
            dpos[i] = v
            n += 1
    return n


@njit(cache=True)
def _load(s, t, c, initial, model, groups, tr, state):
    """Category ``c``'s carried state at the start of period ``t``: the instance's initial
    state when ``initial``, else the trajectory's."""
    cg_k, cg_x, bk = state.generic_stage, state.generic_qty, state.backlog
    cd_k, cd_x = state.dedicated_stage, state.dedicated_qty
    if initial:
        cg_k[c] = model.init_generic_stage[c]
        cg_x[c] = model.init_generic_qty[c]
    else:
        cg_k[c] = tr.generic_stage[s, t, c]
        cg_x[c] = tr.generic_qty[s, t, c]
    for m in range(groups.ptr[c], groups.ptr[c + 1]):
        p = groups.members[m]
        if initial:
            cd_k[p] = model.init_dedicated_stage[p]
            cd_x[p] = model.init_dedicated_qty[p]
            bk[p] = model.init_backlog[p]
        else:
            cd_k[p] = tr.dedicated_stage[s, t, p]
            cd_x[p] = tr.dedicated_qty[s, t, p]
            bk[p] = tr.backlog[s, t, p]


@njit(cache=True)
def _same_state(s, t, dirty, groups, tr, state):
    """Whether the dirty categories' carried state equals the trajectory's at the start of
    period ``t`` (the clean ones' does)."""
    cg_k, cg_x, bk = state.generic_stage, state.generic_qty, state.backlog
    cd_k, cd_x = state.dedicated_stage, state.dedicated_qty
    for c in range(cg_k.shape[0]):
        if not dirty[c]:
            continue
        if cg_k[c] != tr.generic_stage[s, t, c] or cg_x[c] != tr.generic_qty[s, t, c]:
            return False
        for m in range(groups.ptr[c], groups.ptr[c + 1]):
            p = groups.members[m]
            if cd_k[p] != tr.dedicated_stage[s, t, p] or cd_x[p] != tr.dedicated_qty[s, t, p] \
                    or bk[p] != tr.backlog[s, t, p]:
                return False
    return True


@njit(cache=True)
def trajectory(pdp, gen, codp, ded, model, groups, t_begin, t_same, tr):
    """The trajectory ``tr`` (:data:`~invswarm.kernels.sfi_data.Trajectory`, written) of one
    plan, for plays of plans that differ from it; returns the plan's expected cost. The
    other parameters are those of :func:`play_local`.

    The trajectory arrays may hold the trajectory of a plan that differs from this one only in
    periods ``t_begin`` to ``t_same``: only what changes from ``t_begin`` on is played again
    (a move's periods and those its stock and backlog reach, not the whole horizon). With
    ``t_begin = 0`` and ``t_same = T`` the arrays' contents are not read.
    """
    C = pdp.shape[0]
    P = codp.shape[0]
    dirty = np.ones(C, dtype=np.bool_)
    state = play_state(C, P)
    total = 0.0
    for s in range(model.orders.shape[0]):
        total += model.weights[s] * play_local(
            s, t_begin, t_same, True, dirty, pdp, gen, codp, ded, model, groups, tr, state)
    return total
