"""Numba decoder of the network model: a point of the unit cube to a feasible plan.

The swarm does not get one dimension per firm pair, material and period. It gets, for each
*receiver* (a firm and material with a shortage when nobody shares), a priority and a cover
horizon, and for each candidate *arc* (a donor with protected surplus linked to that
receiver), a priority and a kind (off, permanent, or a loan of one of the allowed durations).
The decoder fills shortages earliest first: in each arrival period, receivers by priority, each
from its arcs by priority, as much as the remaining need over the cover horizon and as the
rules allow. Every amount is checked by simulating the material with the kernel's own
``material`` function, so a decoded plan is feasible by construction: shipments covered, donors
protected, one role per firm and material. Materials are decoded independently (the model
decomposes by material but for the fixed link costs, which the swarm's arc choices steer).
"""

import numpy as np
from numba import njit, prange

from .network import LOAN, PAYBACK, PERMANENT, TR_BACKLOG, TR_STOCK, material

OFF = 0


@njit(cache=True)
def _insert(ml, md, mq, mk, mu, n, link, dep, qty, kind, dur):
    """Insert a move keeping the order (departure, paybacks first, insertion); returns its
    position."""
    pos = n
    for k in range(n):
        if md[k] > dep or (md[k] == dep and kind == PAYBACK and mk[k] != PAYBACK):
            pos = k
            break
    for k in range(n, pos, -1):
        ml[k] = ml[k - 1]
        md[k] = md[k - 1]
        mq[k] = mq[k - 1]
        mk[k] = mk[k - 1]
        mu[k] = mu[k - 1]
    ml[pos] = link
    md[pos] = dep
    mq[pos] = qty
    mk[pos] = kind
    mu[pos] = dur
    return pos


@njit(cache=True)
def _remove(ml, md, mq, mk, mu, n, pos):
    for k in range(pos, n - 1):
        ml[k] = ml[k + 1]
        md[k] = md[k + 1]
        mq[k] = mq[k + 1]
        mk[k] = mk[k + 1]
        mu[k] = mu[k + 1]


@njit(cache=True)
def _place(ml, md, mq, mk, mu, n, link, dep, qty, kind, dur, rlink, rdep):
    """Insert a shipment (and its payback when a loan); returns the new count."""
    _insert(ml, md, mq, mk, mu, n, link, dep, qty, kind, dur)
    n += 1
    if kind == LOAN:
        _insert(ml, md, mq, mk, mu, n, rlink, rdep, qty, PAYBACK, 0)
        n += 1
    return n


@njit(cache=True)
def _unplace(ml, md, mq, mk, mu, n, link, dep, kind, rlink, rdep):
    """Remove the last-inserted shipment placed by :func:`_place` (and its payback)."""
    if kind == LOAN:
        pos = -1
        for k in range(n):
            if ml[k] == rlink and md[k] == rdep and mk[k] == PAYBACK:
                pos = k  # the last payback of that link and period is the newest
        _remove(ml, md, mq, mk, mu, n, pos)
        n -= 1
    pos = -1
    for k in range(n):
        if ml[k] == link and md[k] == dep and mk[k] == kind:
            pos = k
    _remove(ml, md, mq, mk, mu, n, pos)
    return n - 1


@njit(cache=True)
def decode_one(x, m_list, mat_recv_ptr, recv_firm, recv_arc_ptr, arc_link, arc_donor,
               n_recv, lots, rec, req, rbucket, link_from, link_to, lead, reverse, durations,
               hold, short, value, floor, base_back, base_traj, tol, n_bisect, cap,
               out_mv, out_mq, out_ship, out_sq):
    """Decode one particle into moves (kernel order) and shipments (plan order).

    Parameters
    ----------
    x : ndarray, shape (n_var,)
        ``[receiver priority (R), receiver cover (R), arc priority (A), arc kind (A)]``.
    m_list : ndarray of int64
        Materials with at least one receiver.
    mat_recv_ptr : ndarray of int64, shape (M + 1,)
        Receivers of material ``m`` are ``mat_recv_ptr[m]:mat_recv_ptr[m + 1]``.
    recv_firm : ndarray of int64, shape (R,)
    recv_arc_ptr : ndarray of int64, shape (R + 1,)
        Arcs of receiver ``r``.
    arc_link, arc_donor : ndarray of int64, shape (A,)
    n_recv : int
        ``R``.
    base_traj : ndarray, shape (N, M, T, 4)
        The baseline's trajectories.
    tol : float
        Feasibility tolerance of the kernel; the decoder checks against ``tol / 10``.
    n_bisect : int
        Halvings when the largest amount the rules allow is not known in closed form.
    cap : int
        Room in the outputs (moves); decoding stops adding shipments when it is full.
    out_mv : ndarray of int64, shape (cap, 5)
        Moves: link, material, departure, kind, duration. ``out_mq`` (cap,): units.
    out_ship : ndarray of int64, shape (cap, 5)
        Shipments: link, material, period, kind, return period. ``out_sq`` (cap,): units.

    Returns
    -------
    (int, int)
        Number of moves and of shipments written.
    """
    N = lots.shape[0]
    T = req.shape[2]
    R = n_recv
    A = arc_link.size
    n_kind = 2 + durations.size
    margin = tol / 10.0
    n_out = 0
    n_ship = 0
    cur = np.zeros((N, 1, T, 4))
    acc = np.zeros((N, 7))
    z = np.zeros(0)
    for mi in range(m_list.size):
        m = m_list[mi]
        r0 = mat_recv_ptr[m]
        r1 = mat_recv_ptr[m + 1]
        n_arc_m = recv_arc_ptr[r1] - recv_arc_ptr[r0]
        room = 2 * T * n_arc_m + 2
        ml = np.zeros(room, np.int64)
        md = np.zeros(room, np.int64)
        mq = np.zeros(room)
        mk = np.zeros(room, np.int64)
        mu = np.zeros(room, np.int64)
        n = 0
        touched = np.zeros(N, np.bool_)
        for f in range(N):
            for t in range(T):
                for c in range(4):
                    cur[f, 0, t, c] = base_traj[f, m, t, c]
        rorder = r0 + np.argsort(-x[r0:r1], kind="mergesort")
        first_ship = n_ship
        for t in range(T):
            for rr in range(rorder.size):
                r = rorder[rr]
                j = recv_firm[r]
                if cur[j, 0, t, TR_BACKLOG] <= tol:
                    continue
                H = min(int(x[R + r] * 4.0), 3)
                need = 0.0
                for s in range(t, min(T, t + H + 1)):
                    need = max(need, cur[j, 0, s, TR_BACKLOG])
                a0 = recv_arc_ptr[r]
                a1 = recv_arc_ptr[r + 1]
                aorder = a0 + np.argsort(-x[2 * R + a0:2 * R + a1], kind="mergesort")
                for aa in range(aorder.size):
                    if need <= tol:
                        break
                    a = aorder[aa]
                    kind_c = min(int(x[2 * R + A + a] * n_kind), n_kind - 1)
                    if kind_c == OFF:
                        continue
                    lk = arc_link[a]
                    i = arc_donor[a]
                    tau = t - lead[lk]
                    if tau < 0:
                        continue
                    kind = PERMANENT
                    dur = 0
                    rlink = -1
                    rdep = -1
                    if kind_c >= 2:
                        kind = LOAN
                        dur = durations[kind_c - 2]
                        rlink = reverse[lk]
                        rdep = tau + dur - lead[rlink]
                        if tau + dur > T - 1 or rdep < t:
                            continue
                    if n_ship >= cap or n_out + n + 2 > cap or n + 2 > room:
                        continue
                    touched[i] = True
                    touched[j] = True
                    # the largest amount that keeps the donor above its floor when removing
                    # a unit lowers its later stock by at most one unit
                    head = need
                    for s in range(tau, T):
                        head = min(head, cur[i, 0, s, TR_STOCK] - floor[i, m, s])
                    lo = 0.0
                    hi = need
                    for trial in range(n_bisect + 2):
                        if trial == 0:
                            q = need
                        elif trial == 1:
                            if head <= lo or head >= hi:
                                continue
                            q = head
                        else:
                            if hi - lo <= 1e-9 * need:
                                break
                            q = 0.5 * (lo + hi)
                        n = _place(ml, md, mq, mk, mu, n, lk, tau, q, kind, dur, rlink, rdep)
                        fl = material(m, ml, md, mq, mk, 0, n, touched, lots, rec, req,
                                      rbucket, link_from, link_to, lead, hold, short, value,
                                      floor, base_back, True, margin, acc, cur, 0, z)
                        n = _unplace(ml, md, mq, mk, mu, n, lk, tau, kind, rlink, rdep)
                        if fl == 0:
                            lo = q
                            if trial == 0:
                                break
                        else:
                            hi = q
                    if lo <= tol:
                        continue
                    n = _place(ml, md, mq, mk, mu, n, lk, tau, lo, kind, dur, rlink, rdep)
                    out_ship[n_ship, 0] = lk
                    out_ship[n_ship, 1] = m
                    out_ship[n_ship, 2] = tau
                    out_ship[n_ship, 3] = kind
                    out_ship[n_ship, 4] = tau + dur if kind == LOAN else -1
                    out_sq[n_ship] = lo
                    n_ship += 1
                    need -= lo
                    # refresh the trajectories of the touched firms
                    material(m, ml, md, mq, mk, 0, n, touched, lots, rec, req, rbucket,
                             link_from, link_to, lead, hold, short, value, floor, base_back,
                             False, 0.0, acc, cur, 0, z)
        if n_ship == first_ship:
            continue
        for k in range(n):
            out_mv[n_out, 0] = ml[k]
            out_mv[n_out, 1] = m
            out_mv[n_out, 2] = md[k]
            out_mv[n_out, 3] = mk[k]
            out_mv[n_out, 4] = mu[k]
            out_mq[n_out] = mq[k]
            n_out += 1
    return n_out, n_ship


@njit(cache=True, parallel=True)
def decode_swarm(X, m_list, mat_recv_ptr, recv_firm, recv_arc_ptr, arc_link, arc_donor,
                 n_recv, lots, rec, req, rbucket, link_from, link_to, lead, reverse, durations,
                 hold, short, value, floor, base_back, base_traj, tol, n_bisect, cap, out_mv,
                 out_mq, out_nmv):
    """Decode a swarm ``X`` (P, n_var) into moves ``out_mv`` (P, cap, 5), ``out_mq`` (P, cap)
    and their counts ``out_nmv`` (P,)."""
    P = X.shape[0]
    for p in prange(P):
        ship = np.zeros((cap, 5), np.int64)
        sq = np.zeros(cap)
        nm, _ = decode_one(X[p], m_list, mat_recv_ptr, recv_firm, recv_arc_ptr, arc_link,
                           arc_donor, n_recv, lots, rec, req, rbucket, link_from, link_to,
                           lead, reverse, durations, hold, short, value, floor, base_back,
                           base_traj, tol, n_bisect, cap, out_mv[p], out_mq[p], ship, sq)
        out_nmv[p] = nm
