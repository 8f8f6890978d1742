"""The SFI decode and cost of many plans in lockstep, one plan per lane.

:func:`invswarm.kernels.sfi._play` plays one plan at a time; its draws branch on the data, and
the branches of different plans go different ways, so the processor mispredicts many of them.
Here every operation of a period runs over a block of plans in the innermost loop, written
without branches (a draw of ``min(D, a)`` units, clipped at 0, changes nothing when it is 0),
and the lanes' work is independent, so the processor overlaps it. (The compiler does not turn
these loops into vector instructions: they write too many arrays for its aliasing checks.)
Each plan's arithmetic is the same sequence of operations as in ``_play``, so the costs
are identical to the last bit (``tests/test_sfi_lanes.py``). The decoder
(:func:`decode_lanes`) is :func:`invswarm.kernels.sfi.decode_one` over a block of particles in
the same way, and writes the layout :func:`block_costs` reads.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lane_costs(lo, hi, pdp, gen, codp, ded,
               remaining, value, hold, setup_g, setup_d, setup_r, omega,
               category, order, lead, beta, alpha, rho, lam,
               prep, fulfil, mto_cap, orders,
               ig_stage, ig_qty, id_stage, id_qty, init_backlog, cost_ps):
    """Cost of plans ``lo:hi`` under every scenario, into ``cost_ps[i * NS + s]``.

    The arguments are those of :func:`invswarm.kernels.sfi.sfi_costs` (plans (NP, C, T) and
    (NP, P, T); the instance arrays).
    """
    C = pdp.shape[1]
    P = codp.shape[1]
    T = prep.shape[0]
    L = hi - lo
    # The block's plans with the plan index innermost.
    pdp_l = np.empty((C, T, L), np.int64)
    gen_l = np.empty((C, T, L))
    codp_l = np.empty((P, T, L), np.int64)
    ded_l = np.empty((P, T, L))
    for j in range(L):
        for c in range(C):
            for t in range(T):
                pdp_l[c, t, j] = pdp[lo + j, c, t]
                gen_l[c, t, j] = gen[lo + j, c, t]
        for p in range(P):
            for t in range(T):
                codp_l[p, t, j] = codp[lo + j, p, t]
                ded_l[p, t, j] = ded[lo + j, p, t]
    block_costs(lo, pdp_l, gen_l, codp_l, ded_l,
                remaining, value, hold, setup_g, setup_d, setup_r, omega,
                category, order, lead, beta, alpha, rho, lam,
                prep, fulfil, mto_cap, orders,
                ig_stage, ig_qty, id_stage, id_qty, init_backlog, cost_ps)


@njit(cache=True)
def block_costs(lo, pdp_l, gen_l, codp_l, ded_l,
                remaining, value, hold, setup_g, setup_d, setup_r, omega,
                category, order, lead, beta, alpha, rho, lam,
                prep, fulfil, mto_cap, orders,
                ig_stage, ig_qty, id_stage, id_qty, init_backlog, cost_ps):
    """:func:`lane_costs` of a block of plans already in lane layout: ``pdp_l``, ``gen_l``
    of shape (C, T, L) and ``codp_l``, ``ded_l`` of shape (P, T, L) hold plans
    ``lo:lo + L``."""
    C = pdp_l.shape[0]
    P = codp_l.shape[0]
    T = prep.shape[0]
    NS = orders.shape[0]
    L = pdp_l.shape[2]
    cg_k = np.empty((C, L), np.int64)
    ng_k = np.empty((C, L), np.int64)
    cg_x = np.empty((C, L))
    rem_cg = np.empty((C, L))
    rem_ng = np.empty((C, L))
    cd_k = np.empty((P, L), np.int64)
    nd_k = np.empty((P, L), np.int64)
    cd_x = np.empty((P, L))
    rem_cd = np.empty((P, L))
    rem_nd = np.empty((P, L))
    bk = np.empty((P, L))
    newbk = np.empty((P, L))
    total = np.empty(L)
    mto = np.empty(L)
    hold_prep = np.empty(L)
    dl0 = np.empty(L)
    dl1 = np.empty(L)
    dl2 = np.empty(L)
    dl3 = np.empty(L)
    dl4 = np.empty(L)
    shortfall = np.empty(L)
    lost = np.empty(L)
    setup_new = np.empty(L)
    setup_reuse = np.empty(L)
    hold_carried = np.empty(L)
    hold_new = np.empty(L)
    disposal = np.empty(L)
    for s in range(NS):
        for j in range(L):
            total[j] = 0.0
        for c in range(C):
            for j in range(L):
                cg_k[c, j] = ig_stage[c]
                cg_x[c, j] = ig_qty[c]
        for p in range(P):
            for j in range(L):
                cd_k[p, j] = id_stage[p]
                cd_x[p, j] = id_qty[p]
                bk[p, j] = init_backlog[p]
        for t in range(T):
            A = prep[t]
            B = fulfil[t]
            back_extra = prep[t - 1] + fulfil[t - 1] if t > 0 else prep[0] + fulfil[0]
            last = t == T - 1
            for j in range(L):
                hold_prep[j] = 0.0
            for c in range(C):
                for j in range(L):
                    hold_prep[j] += hold[cg_k[c, j]] * cg_x[c, j] * A
                    rem_cg[c, j] = cg_x[c, j]
                    ng_k[c, j] = pdp_l[c, t, j]
                    rem_ng[c, j] = gen_l[c, t, j]
            for p in range(P):
                for j in range(L):
                    hold_prep[j] += hold[cd_k[p, j]] * cd_x[p, j] * A
                    rem_cd[p, j] = cd_x[p, j]
                    nd_k[p, j] = codp_l[p, t, j]
                    rem_nd[p, j] = ded_l[p, t, j]
            for j in range(L):
                mto[j] = mto_cap[t]
                dl0[j] = 0.0
                dl1[j] = 0.0
                dl2[j] = 0.0
                dl3[j] = 0.0
                dl4[j] = 0.0
                shortfall[j] = 0.0
                lost[j] = 0.0
            for oi in range(P):
                p = order[oi]
                c = category[p]
                Lp = lead[p]
                b = beta[p]
                w4 = max(remaining[0] - Lp, 0.0)
                q = orders[s, p, t]
                need = alpha[p] * q
                for j in range(L):
                    a0 = rem_cd[p, j]
                    a1 = rem_nd[p, j]
                    a2 = rem_cg[c, j]
                    a3 = rem_ng[c, j]
                    a4 = mto[j]
                    w0 = max(remaining[cd_k[p, j]] - Lp, 0.0)
                    w1 = max(remaining[nd_k[p, j]] - Lp, 0.0)
                    w2 = max(remaining[cg_k[c, j]] - Lp, 0.0)
                    w3 = max(remaining[ng_k[c, j]] - Lp, 0.0)
                    # Backlog: late by the previous period's length too.
                    D = bk[p, j]
                    x = max(min(D, a0), 0.0)
                    a0 -= x
                    D -= x
                    dl0[j] += b * (w0 + back_extra) * x
                    x = max(min(D, a1), 0.0)
                    a1 -= x
                    D -= x
                    dl1[j] += b * (w1 + back_extra) * x
                    x = max(min(D, a2), 0.0)
                    a2 -= x
                    D -= x
                    dl2[j] += b * (w2 + back_extra) * x
                    x = max(min(D, a3), 0.0)
                    a3 -= x
                    D -= x
                    dl3[j] += b * (w3 + back_extra) * x
                    x = max(min(D, a4), 0.0)
                    a4 -= x
                    D -= x
                    dl4[j] += b * (w4 + back_extra) * x
                    lost[j] += lam[p] * D
                    # New orders.
                    D = q
                    on_time_p = 0.0
                    x = max(min(D, a0), 0.0)
                    a0 -= x
                    D -= x
                    dl0[j] += b * w0 * x
                    on_time_p += x if w0 <= 0.0 else 0.0
                    x = max(min(D, a1), 0.0)
                    a1 -= x
                    D -= x
                    dl1[j] += b * w1 * x
                    on_time_p += x if w1 <= 0.0 else 0.0
                    x = max(min(D, a2), 0.0)
                    a2 -= x
                    D -= x
                    dl2[j] += b * w2 * x
                    on_time_p += x if w2 <= 0.0 else 0.0
                    x = max(min(D, a3), 0.0)
                    a3 -= x
                    D -= x
                    dl3[j] += b * w3 * x
                    on_time_p += x if w3 <= 0.0 else 0.0
                    x = max(min(D, a4), 0.0)
                    a4 -= x
                    D -= x
                    dl4[j] += b * w4 * x
                    on_time_p += x if w4 <= 0.0 else 0.0
                    newbk[p, j] = D
                    shortfall[j] += rho[p] * max(need - on_time_p, 0.0)
                    rem_cd[p, j] = a0
                    rem_nd[p, j] = a1
                    rem_cg[c, j] = a2
                    rem_ng[c, j] = a3
                    mto[j] = a4
            for j in range(L):
                setup_new[j] = 0.0
                setup_reuse[j] = 0.0
                hold_carried[j] = 0.0
                hold_new[j] = 0.0
                disposal[j] = 0.0
            for c in range(C):
                for j in range(L):
                    k = cg_k[c, j]
                    x = cg_x[c, j]
                    u = x - rem_cg[c, j]
                    hold_carried[j] += hold[k] * B * (x - 0.5 * u)
                    setup_reuse[j] += setup_r[k] if u > 0.0 else 0.0
                    disposal[j] += omega * value[k] * rem_cg[c, j]
                    k = ng_k[c, j]
                    x = gen_l[c, t, j]
                    u = x - rem_ng[c, j]
                    hold_new[j] += hold[k] * B * (x - 0.5 * u)
                    setup_new[j] += setup_g[k] if x > 0.0 else 0.0
                    cg_k[c, j] = k
                    cg_x[c, j] = rem_ng[c, j]
                    if last:
                        disposal[j] += omega * value[k] * rem_ng[c, j]
            for p in range(P):
                for j in range(L):
                    k = cd_k[p, j]
                    x = cd_x[p, j]
                    u = x - rem_cd[p, j]
                    hold_carried[j] += hold[k] * B * (x - 0.5 * u)
                    setup_reuse[j] += setup_r[k] if u > 0.0 else 0.0
                    disposal[j] += omega * value[k] * rem_cd[p, j]
                    k = nd_k[p, j]
                    x = ded_l[p, t, j]
                    u = x - rem_nd[p, j]
                    hold_new[j] += hold[k] * B * (x - 0.5 * u)
                    setup_new[j] += setup_d[k] if x > 0.0 else 0.0
                    cd_k[p, j] = k
                    cd_x[p, j] = rem_nd[p, j]
                    bk[p, j] = newbk[p, j]
                    if last:
                        disposal[j] += omega * value[k] * rem_nd[p, j]
                        lost[j] += lam[p] * newbk[p, j]
            for j in range(L):
                total[j] += (setup_new[j] + setup_reuse[j] + hold_prep[j] + hold_carried[j]
                             + hold_new[j] + (dl0[j] + dl2[j]) + (dl1[j] + dl3[j]) + dl4[j]
                             + shortfall[j] + disposal[j] + lost[j])
        for j in range(L):
            cost_ps[(lo + j) * NS + s] = total[j]


@njit(cache=True)
def decode_lanes(xT, kg, n_kg, kd, n_kd, first_kd, category, ub_g, ub_q, snap_g, win_g,
                 snap_q, win_q, capacity, pdp_l, gen_l, codp_l, ded_l):
    """:func:`invswarm.kernels.sfi.decode_one` of a block of particles in lockstep.

    The same plans to the last bit, with the particle innermost: the snapping of a buffer's
    quantity runs over the block for each snap point, so the lanes' comparisons are
    independent (one particle at a time, each point waits for the previous one's select).

    Parameters
    ----------
    xT : ndarray, shape (n_var, L)
        The particles as columns.
    kg, n_kg, kd, n_kd, first_kd, category, ub_g, ub_q, snap_g, win_g, snap_q, win_q, capacity
        As for :func:`invswarm.kernels.sfi.decode_one`.
    pdp_l, gen_l, codp_l, ded_l : ndarray, shapes (C, T, L), (C, T, L), (P, T, L), (P, T, L)
        The plans (written), in the layout of :func:`block_costs`.
    """
    C = kg.shape[0]
    P = kd.shape[0]
    T = capacity.shape[0]
    L = xT.shape[1]
    og = (C + P) * T
    od = og + C * T
    used = np.empty(L)
    best = np.empty(L)
    dist = np.empty(L)
    for t in range(T):
        for j in range(L):
            used[j] = 0.0
        for c in range(C):
            m = n_kg[c]
            xs = xT[c * T + t]
            for j in range(L):
                pdp_l[c, t, j] = kg[c, min(int(xs[j] * m), m - 1)]
            _snap_lanes(xT[og + c * T + t], ub_g[c, t], snap_g[c, t], win_g[c, t], best, dist)
            for j in range(L):
                q = np.floor(best[j] + 0.5)
                gen_l[c, t, j] = q
                used[j] += q
        for p in range(P):
            xs = xT[C * T + p * T + t]
            cat = category[p]
            for j in range(L):
                f = first_kd[p, pdp_l[cat, t, j]]
                m = n_kd[p] - f
                codp_l[p, t, j] = kd[p, f + min(int(xs[j] * m), m - 1)]
            _snap_lanes(xT[od + p * T + t], ub_q[p, t], snap_q[p, t], win_q[p, t], best, dist)
            for j in range(L):
                q = np.floor(best[j] + 0.5)
                ded_l[p, t, j] = q
                used[j] += q
        # A lane within capacity keeps its whole units: floor(q * 1.0) is q.
        for j in range(L):
            best[j] = capacity[t] / used[j] if used[j] > capacity[t] else 1.0
        for c in range(C):
            for j in range(L):
                gen_l[c, t, j] = np.floor(gen_l[c, t, j] * best[j])
        for p in range(P):
            for j in range(L):
                ded_l[p, t, j] = np.floor(ded_l[p, t, j] * best[j])


@njit(cache=True, inline="always")
def _snap_lanes(xs, ub, points, win, best, dist):
    """``best[j]``: ``xs[j] ub`` snapped as by :func:`invswarm.kernels.sfi._snap` to
    ``points`` (padding, of negative half-width, skipped); ``dist`` is scratch."""
    for j in range(xs.shape[0]):
        best[j] = xs[j] * ub
        dist[j] = np.inf
    for k in range(points.shape[0]):
        w = win[k]
        if w < 0.0:
            continue
        pt = points[k]
        for j in range(xs.shape[0]):
            e = abs(xs[j] * ub - pt)
            near = (e <= w) & (e < dist[j])
            best[j] = pt if near else best[j]
            dist[j] = e if near else dist[j]
