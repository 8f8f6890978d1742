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

from .network import LOAN, PAYBACK, PERMANENT, TR_BACKLOG, TR_STOCK, TR_WASTE, material
from .network_data import MoveList, Offer

OFF = 0


@njit(cache=True)
def _insert(ml, md, mq, mk, mu, n, link, dep, qty, kind, dur):
    """Insert a move keeping the order (departure, insertion); returns its position. The
    kernel orders the moves of one period itself."""
    pos = n
    for k in range(n):
        if md[k] > dep:
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
def _forbidden(codes, code):
    """Whether ``code`` is in the sorted ``codes``."""
    k = np.searchsorted(codes, code)
    return k < codes.size and codes[k] == code


@njit(cache=True)
def _keep(m, kept, reverse, stock, lst, touched, out_ship, out_sq, n_ship):
    """Place material ``m``'s kept shipments (and their paybacks) in its moves ``lst`` and in
    the plan; returns the number of moves and of shipments."""
    n = 0
    for k in range(kept.ptr[m], kept.ptr[m + 1]):
        lk = kept.link[k]
        tau = kept.departure[k]
        kind = kept.kind[k]
        dur = kept.duration[k]
        rlink = -1
        rdep = -1
        if kind == LOAN:
            rlink = reverse[lk]
            rdep = tau + dur - stock.lead[rlink]
        n = _place(lst.link, lst.departure, lst.quantity, lst.kind, lst.duration, n, lk, tau,
                   kept.quantity[k], kind, dur, rlink, rdep)
        touched[stock.link_from[lk]] = True
        touched[stock.link_to[lk]] = True
        out_ship[n_ship, 0] = lk
        out_ship[n_ship, 1] = m
        out_ship[n_ship, 2] = tau
        out_ship[n_ship, 3] = kind
        out_ship[n_ship, 4] = tau + dur if kind == LOAN else -1
        out_sq[n_ship] = kept.quantity[k]
        n_ship += 1
    return n, n_ship


@njit(cache=True)
def _fits(m, offer, q, lst, n, touched, stock, margin, acc):
    """Whether the material's moves ``lst[:n]`` plus the shipment ``offer`` of ``q`` units
    pass every check."""
    lk, tau, kind = offer.link, offer.departure, offer.kind
    rlink, rdep = offer.return_link, offer.return_departure
    ml, md, mq, mk, mu = lst.link, lst.departure, lst.quantity, lst.kind, lst.duration
    n2 = _place(ml, md, mq, mk, mu, n, lk, tau, q, kind, offer.duration, rlink, rdep)
    fl = material(m, ml, md, mq, mk, 0, n2, touched, stock, True, margin, acc,
                  np.zeros((0, 1, 1, 4)), 0, np.zeros(0))
    _unplace(ml, md, mq, mk, mu, n2, lk, tau, kind, rlink, rdep)
    return fl == 0


@njit(cache=True)
def _amount(m, i, j, need, offer, lst, n, touched, cur, stock, margin, acc, n_bisect, tol):
    """The most (up to ``need``) that donor ``i`` may ship to ``j`` as ``offer``, found by
    simulated trials: in full, at a closed-form bound, then by ``n_bisect`` halvings."""
    tau, kind, floor = offer.departure, offer.kind, stock.floor
    T = stock.requirements.shape[2]
    touched[i] = True
    touched[j] = True
    # removing a unit lowers the donor's later stock by at most one unit
    head = need
    if kind == PERMANENT:
        for s in range(tau, T):
            head = min(head, cur[i, 0, s, TR_STOCK] - floor[i, m, s])
    lo = 0.0
    hi = need
    # in full; else the closed-form bound and just above it (usually the answer for stock
    # that does not expire); else a thousandth, which tells whether anything may go at all
    if _fits(m, offer, need, lst, n, touched, stock, margin, acc):
        return need
    if head > tol:
        if not _fits(m, offer, head, lst, n, touched, stock, margin, acc):
            hi = head
        else:
            lo = head
            up = head + max(1e-6 * need, 10 * tol)
            if up >= hi or not _fits(m, offer, up, lst, n, touched, stock, margin, acc):
                return lo
            lo = up
    if lo == 0.0:
        q = hi / 1024.0
        if not _fits(m, offer, q, lst, n, touched, stock, margin, acc):
            return 0.0
        lo = q
    for _ in range(n_bisect):
        if hi - lo <= 1e-9 * need:
            break
        q = 0.5 * (lo + hi)
        if _fits(m, offer, q, lst, n, touched, stock, margin, acc):
            lo = q
        else:
            hi = q
    return lo


@njit(cache=True)
def _commit(m, offer, q, lst, n, touched, cur, stock, acc, out_ship, out_sq, n_ship):
    """Add the shipment ``offer`` of ``q`` units to the material's moves and to the plan, and
    refresh the trajectories of the touched firms; returns the new number of moves."""
    lk, tau, kind, dur = offer.link, offer.departure, offer.kind, offer.duration
    ml, md, mq, mk, mu = lst.link, lst.departure, lst.quantity, lst.kind, lst.duration
    n = _place(ml, md, mq, mk, mu, n, lk, tau, q, kind, dur, offer.return_link,
               offer.return_departure)
    out_ship[n_ship, 0] = lk
    out_ship[n_ship, 1] = m
    out_ship[n_ship, 2] = tau
    out_ship[n_ship, 3] = kind
    out_ship[n_ship, 4] = tau + dur if kind == LOAN else -1
    out_sq[n_ship] = q
    material(m, ml, md, mq, mk, 0, n, touched, stock, False, 0.0, acc, cur, 0, np.zeros(0))
    return n


@njit(cache=True)
def decode_one(x, choices, kept, stock, tol, out_mv, out_mq, out_ship, out_sq):
    """Decode one particle into moves (by material and departure) and shipments.

    Parameters
    ----------
    x : ndarray, shape (n_var,)
        ``[receiver priority (R), receiver cover (R), arc priority (A), arc kind (A),
        rescue priority (RA), rescue kind (RA), rescue advance (RA)]``: the priorities order
        receivers, arcs and rescue arcs; a receiver's cover picks among ``choices.covers``
        (a shipment meets the largest backlog of the next ``cover`` periods); an arc's kind
        is off, permanent, or for each loan duration permanent then a loan, or a loan only; a
        rescue arc (a donor whose stock expires unused, to a firm that could use it before it
        expires) has a kind (off, permanent, loan of each duration) and an advance (arrival 0
        to 3 periods before the expiry).
    choices : Choices
        What the decoder chooses among (:data:`invswarm.kernels.network_data.Choices`).
    kept : Kept
        Shipments every decoded plan has (:data:`invswarm.kernels.network_data.Kept`); every
        amount is tried with them.
    stock : Stock
        The instance (:data:`invswarm.kernels.network_data.Stock`).
    tol : float
        Feasibility tolerance of the kernel (units); the decoder checks against
        ``tol * 1e-4``, so that its plans also meet the exact formulation at the solver's
        tolerance.
    out_mv : ndarray of int64, shape (capacity, 5)
        Moves: link, material, departure, kind, duration. ``out_mq`` (capacity,): units.
    out_ship : ndarray of int64, shape (capacity, 5)
        Shipments: link, material, period, kind, return period. ``out_sq`` (capacity,): units.
        Decoding stops adding shipments when they are full.

    Returns
    -------
    (int, int)
        Number of moves and of shipments written; (-1, -1) when ``choices.halt`` was set
        (the plan is then incomplete).
    """
    m_list, mat_recv_ptr, recv_firm = choices.materials, choices.receiver_ptr, choices.receiver_firm
    recv_arc_ptr, arc_link, arc_donor = choices.arc_ptr, choices.arc_link, choices.arc_donor
    covers, mat_res_ptr, res_link = choices.covers, choices.rescue_ptr, choices.rescue_link
    forbidden, reverse, durations = choices.forbidden, choices.reverse, choices.durations
    base_traj, n_bisect, cap = choices.start, choices.n_bisect, choices.capacity
    lots, req, link_from, link_to = stock.lots, stock.requirements, stock.link_from, stock.link_to
    lead = stock.lead
    N = lots.shape[0]
    T = req.shape[2]
    R = choices.n_receivers
    A = arc_link.size
    n_kind = 2 + 2 * durations.size
    n_cov = covers.size
    M = lots.shape[1]
    n_out = 0
    n_ship = 0
    cur = np.zeros((N, 1, T, 4))
    acc = np.zeros((N, 7))
    for mi in range(m_list.size):
        if choices.halt[0]:
            return -1, -1
        m = m_list[mi]
        r0 = mat_recv_ptr[m]
        r1 = mat_recv_ptr[m + 1]
        n_arc_m = recv_arc_ptr[r1] - recv_arc_ptr[r0]
        q0 = mat_res_ptr[m]
        q1 = mat_res_ptr[m + 1]
        room = 3 * T * (n_arc_m + q1 - q0) + 2 + 2 * (kept.ptr[m + 1] - kept.ptr[m])
        lst = MoveList(np.zeros(room, np.int64), np.zeros(room, np.int64), np.zeros(room),
                       np.zeros(room, np.int64), np.zeros(room, np.int64))
        n = 0
        touched = np.zeros(N, np.bool_)
        for f in range(N):
            for t in range(T):
                for c in range(4):
                    cur[f, 0, t, c] = base_traj[f, m, t, c]
        n, n_ship = _keep(m, kept, reverse, stock, lst, touched, out_ship, out_sq, n_ship)
        margin = tol * 1e-4
        if n > 0 and material(m, lst.link, lst.departure, lst.quantity, lst.kind, 0, n,
                              touched, stock, True, margin, acc, np.zeros((0, 1, 1, 4)), 0,
                              np.zeros(0)) != 0:
            # kept shipments that pass the model's tolerance only: trials get the same
            margin = tol
        rorder = r0 + np.argsort(-x[r0:r1], kind="mergesort")
        for t in range(T):
            for rr in range(rorder.size):
                r = rorder[rr]
                j = recv_firm[r]
                if cur[j, 0, t, TR_BACKLOG] <= tol:
                    continue
                H = covers[min(int(x[R + r] * n_cov), n_cov - 1)]
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
                    if tau < 0 or _forbidden(forbidden, (lk * M + m) * T + tau):
                        continue
                    # kinds: 1 permanent; 2 + 2k: permanent, then a loan of durations[k] for
                    # what protection refuses to give; 3 + 2k: loan of durations[k] only
                    for part in range(2):
                        if need <= tol:
                            break
                        if part == 0 and kind_c >= 3 and (kind_c - 2) % 2 == 1:
                            continue
                        if part == 1 and kind_c == 1:
                            break
                        kind = PERMANENT
                        dur = 0
                        rlink = -1
                        rdep = -1
                        if part == 1:
                            kind = LOAN
                            dur = durations[(kind_c - 2) // 2]
                            rlink = reverse[lk]
                            if rlink < 0:  # no way back: no loan on this arc
                                break
                            rdep = tau + dur - lead[rlink]
                            if tau + dur > T - 1 or rdep < t:
                                break
                        if n_ship >= cap or n_out + n + 2 > cap or n + 2 > room:
                            break
                        offer = Offer(lk, tau, kind, dur, rlink, rdep)
                        q = _amount(m, i, j, need, offer, lst, n, touched, cur, stock,
                                    margin, acc, n_bisect, tol)
                        if q <= tol:
                            continue
                        n = _commit(m, offer, q, lst, n, touched, cur, stock, acc,
                                    out_ship, out_sq, n_ship)
                        n_ship += 1
                        need -= q
        # rescue: stock a donor would waste, to a firm that uses it before it expires
        RA = res_link.size
        base3 = 2 * R + 2 * A
        n_rk = 2 + durations.size
        qorder = q0 + np.argsort(-x[base3 + q0:base3 + q1], kind="mergesort")
        for e in range(T):
            for qq in range(qorder.size):
                ra = qorder[qq]
                lk = res_link[ra]
                i = link_from[lk]
                j = link_to[lk]
                waste = cur[i, 0, e, TR_WASTE]
                if waste <= tol:
                    continue
                kc = min(int(x[base3 + RA + ra] * n_rk), n_rk - 1)
                if kc == OFF:
                    continue
                adv = min(int(x[base3 + 2 * RA + ra] * 4.0), 3)
                arr = max(lead[lk], e - adv)
                if arr > e:
                    continue
                tau = arr - lead[lk]
                if _forbidden(forbidden, (lk * M + m) * T + tau):
                    continue
                use = 0.0
                for s_ in range(arr, e + 1):
                    use += req[j, m, s_]
                want = min(waste, use)
                kind = PERMANENT
                dur = 0
                rlink = -1
                rdep = -1
                if kc >= 2:
                    kind = LOAN
                    dur = durations[kc - 2]
                    rlink = reverse[lk]
                    if rlink < 0:
                        continue
                    rdep = tau + dur - lead[rlink]
                    if tau + dur > T - 1 or rdep < arr:
                        continue
                if want <= tol or n_ship >= cap or n_out + n + 2 > cap or n + 2 > room:
                    continue
                offer = Offer(lk, tau, kind, dur, rlink, rdep)
                q = _amount(m, i, j, want, offer, lst, n, touched, cur, stock, margin, acc,
                            n_bisect, tol)
                if q <= tol:
                    continue
                n = _commit(m, offer, q, lst, n, touched, cur, stock, acc, out_ship, out_sq,
                            n_ship)
                n_ship += 1
        if n == 0:
            continue
        for k in range(n):
            out_mv[n_out, 0] = lst.link[k]
            out_mv[n_out, 1] = m
            out_mv[n_out, 2] = lst.departure[k]
            out_mv[n_out, 3] = lst.kind[k]
            out_mv[n_out, 4] = lst.duration[k]
            out_mq[n_out] = lst.quantity[k]
            n_out += 1
    return n_out, n_ship


@njit(cache=True, parallel=True)
def decode_swarm(X, choices, kept, stock, tol, out_mv, out_mq, out_nmv):
    """Decode a swarm ``X`` (P, n_var) into moves ``out_mv`` (P, capacity, 5), ``out_mq``
    (P, capacity) and their counts ``out_nmv`` (P,; -1 for a particle whose decode was
    halted); the rest as for :func:`decode_one`."""
    P = X.shape[0]
    cap = choices.capacity
    for p in prange(P):
        ship = np.zeros((cap, 5), np.int64)
        sq = np.zeros(cap)
        nm, _ = decode_one(X[p], choices, kept, stock, tol, out_mv[p], out_mq[p], ship, sq)
        out_nmv[p] = nm
