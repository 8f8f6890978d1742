"""Numba kernels of the network redeployment model: simulate firms and materials over the
horizon for a whole batch of plans.

A plan enters as its *moves* (shipments and loan paybacks) sorted by material and departure
period; the moves leaving in one period leave in the order of :func:`departure_rank`, whatever
the order they are given in, so a plan's cost depends on its moves only. Stock of a (firm,
material) is a vector over expiry buckets (``e < T``: last usable period ``e``; ``e = T``:
usable to the horizon's end). Only the
(firm, material) pairs a plan touches are simulated; every other pair keeps its baseline
figures, computed once by :func:`baseline`.

Per firm the kernels accumulate ``ACC`` columns: holding cost, shortage cost, waste cost,
backlogged unit-periods, delays (periods whose requirement is not fully met in the period),
wasted units, and requirement units met in their period.
"""

import numpy as np
from numba import njit, prange

HOLD, SHORT, WASTE, BACK_UNITS, DELAYS, WASTE_UNITS, MET = range(7)
N_ACC = 7
# Move kinds (as in engine/models/network/plan.py).
PERMANENT, LOAN, PAYBACK = 0, 1, 2
# Feasibility flags (bits).
UNCOVERED, DONOR_BACKLOG, DONOR_STOCK, ROLE = 1, 2, 4, 8
# Trajectory columns of the detailed simulation.
TR_STOCK, TR_BACKLOG, TR_WASTE, TR_MET = range(4)
# Breakdown columns and KPI columns of the batch outputs.
N_BREAK = 5
N_KPI = 8
# Firm columns: own cost, transfer costs paid, payments made minus received, units met.
N_FIRM = 4


@njit(cache=True)
def departure_rank(link, dep, kind, m, link_to, lead, req):
    """Rank of a move among the moves leaving in its period (lower leaves first).

    Paybacks leave before shipments; then the move that arrives first; then the one whose
    receiver's requirements next need the material first (the first period from the arrival
    on with a positive requirement, the horizon's end if none); then the lower receiver.
    Moves of equal rank from one sender share a link and an arrival, so which of them leaves
    first changes nothing.

    Parameters
    ----------
    link, dep, kind, m : int
        The move's link, departure period (0-based), kind and material.
    link_to, lead : ndarray of int64, shape (L,)
    req : ndarray, shape (N, M, T)
        Requirements (units).

    Returns
    -------
    int
    """
    N = req.shape[0]
    T = req.shape[2]
    arrival = dep + lead[link]
    j = link_to[link]
    need = arrival
    while need < T and req[j, m, need] <= 0.0:
        need += 1
    shipment = 0 if kind == PAYBACK else 1
    return ((shipment * (T + 1) + arrival) * (T + 1) + need) * N + j


@njit(cache=True)
def departure_ranks(mv_link, mv_mat, mv_dep, mv_kind, link_to, lead, req, out):
    """:func:`departure_rank` of every move, into ``out`` (K,)."""
    for k in range(mv_link.size):
        out[k] = departure_rank(mv_link[k], mv_dep[k], mv_kind[k], mv_mat[k], link_to, lead,
                                req)


@njit(cache=True)
def material(m, mv_link, mv_dep, mv_qty, mv_kind, a, b, touched, stock, check, tol, acc,
             traj, tm, move_short):
    """Simulate material ``m`` for the touched firms under moves ``a:b``.

    Parameters
    ----------
    m : int
    mv_link, mv_dep, mv_qty, mv_kind : ndarray, shape (K,)
        Moves; ``a:b`` are material ``m``'s, sorted by departure. Within a period they leave
        in the order of :func:`departure_rank` (ties in the order given).
    touched : ndarray of bool, shape (N,)
        Firms to simulate (every sender and receiver of the moves).
    stock : Stock
        The instance (:data:`invswarm.kernels.network_data.Stock`); its donor protection is
        read only with ``check``.
    check : bool
        Check donor protection and roles (off for the baseline itself).
    tol : float
        Absolute tolerance of the feasibility checks, in units.
    acc : ndarray, shape (N, N_ACC)
        Accumulators, added to for the touched firms.
    traj : ndarray, shape (N, M', T, 4) or (0, 0, 0, 0)
        When not empty: end stock, backlog, waste, units met in period of every touched firm,
        written at ``traj[:, tm]``.
    tm : int
    move_short : ndarray, shape (K,) or (0,)
        When not empty: units of each move its sender could not cover.

    Returns
    -------
    int
        Feasibility flags (0: feasible).
    """
    lots, rec, req = stock.lots, stock.receipts, stock.requirements
    rbucket, link_from, link_to = stock.receipt_bucket, stock.link_from, stock.link_to
    lead, hold, short, value = stock.lead, stock.hold, stock.shortage, stock.value
    floor, base_back = stock.floor, stock.base_backlog
    N = touched.size
    T = req.shape[2]
    B = T + 1
    flags = 0
    detail = traj.shape[0] > 0
    donor = np.zeros(N, np.bool_)
    receiver = np.zeros(N, np.bool_)
    for k in range(a, b):
        if mv_kind[k] != PAYBACK:
            donor[link_from[mv_link[k]]] = True
            receiver[link_to[mv_link[k]]] = True
    if check:
        for f in range(N):
            if donor[f] and receiver[f]:
                flags |= ROLE
    stock = np.zeros((N, B))
    backlog = np.zeros(N)
    comp = np.zeros((b - a, B))
    rank = np.empty(b - a, np.int64)
    for k in range(a, b):
        rank[k - a] = departure_rank(mv_link[k], mv_dep[k], mv_kind[k], m, link_to, lead, req)
    leaving = np.empty(b - a, np.int64)
    for f in range(N):
        if touched[f]:
            for e in range(B):
                stock[f, e] = lots[f, m, e]
    nxt = a
    for t in range(T):
        # 1. arrivals: receipts, then moves that left lead periods ago
        for f in range(N):
            if touched[f]:
                stock[f, rbucket[m, t]] += rec[f, m, t]
        for k in range(a, b):
            lk = mv_link[k]
            if mv_dep[k] + lead[lk] == t:
                j = link_to[lk]
                for e in range(B):
                    stock[j, e] += comp[k - a, e]
        # 2. moves leave by rank (stable insertion sort: few leave in one period), first
        # expiry first, from lots still usable on arrival
        n_t = 0
        while nxt < b and mv_dep[nxt] == t:
            s = n_t
            while s > 0 and rank[leaving[s - 1] - a] > rank[nxt - a]:
                leaving[s] = leaving[s - 1]
                s -= 1
            leaving[s] = nxt
            n_t += 1
            nxt += 1
        for s in range(n_t):
            k = leaving[s]
            lk = mv_link[k]
            i = link_from[lk]
            arr = t + lead[lk]
            left = mv_qty[k]
            for e in range(arr, B):
                take = min(left, stock[i, e])
                stock[i, e] -= take
                comp[k - a, e] = take
                left -= take
                if left <= 0.0:
                    break
            if left > tol:
                flags |= UNCOVERED
            if move_short.size > 0:
                move_short[k] = max(left, 0.0)
        # 3. consumption (backlog first, then the period's requirement), 4. waste and holding
        for f in range(N):
            if not touched[f]:
                continue
            need = backlog[f] + req[f, m, t]
            used = 0.0
            for e in range(t, B):
                if used >= need:
                    break
                take = min(need - used, stock[f, e])
                stock[f, e] -= take
                used += take
            met = min(req[f, m, t], max(0.0, used - backlog[f]))
            backlog[f] = need - used
            waste = stock[f, t]
            stock[f, t] = 0.0
            held = 0.0
            for e in range(t + 1, B):
                held += stock[f, e]
            acc[f, HOLD] += hold[f, m] * held
            acc[f, SHORT] += short[f, m] * backlog[f]
            acc[f, WASTE] += value[m] * waste
            acc[f, WASTE_UNITS] += waste
            acc[f, BACK_UNITS] += backlog[f]
            acc[f, MET] += met
            if met < req[f, m, t] - 1e-6:
                acc[f, DELAYS] += 1.0
            if detail:
                traj[f, tm, t, TR_STOCK] = held
                traj[f, tm, t, TR_BACKLOG] = backlog[f]
                traj[f, tm, t, TR_WASTE] = waste
                traj[f, tm, t, TR_MET] = met
            if check and donor[f]:
                if backlog[f] > base_back[f, m, t] + tol:
                    flags |= DONOR_BACKLOG
                if held < floor[f, m, t] - tol:
                    flags |= DONOR_STOCK
    return flags


@njit(cache=True)
def _plan(p, ptr, moves, stock, costs, prepaid, touched, acc, traj, move_short, out_break,
          out_kpi, out_firm):
    """Cost of plan ``p`` of a batch; returns its feasibility flags."""
    mv_link, mv_mat, mv_dep = moves.link, moves.material, moves.departure
    mv_qty, mv_kind, mv_dur = moves.quantity, moves.kind, moves.duration
    link_from, link_to, req = stock.link_from, stock.link_to, stock.requirements
    ucost, fixed, price, fee = costs.unit_cost, costs.fixed_cost, costs.price, costs.loan_fee
    base_fm, base_firm = costs.base_pair, costs.base_firm
    N = touched.size
    L = link_from.size
    T = req.shape[2]
    for f in range(N):
        for c in range(N_ACC):
            acc[f, c] = base_firm[f, c]
    paid = np.zeros(N)
    payments = np.zeros(N)  # made minus received
    by_dst = np.zeros((L, T))
    by_src = np.zeros((L, T))
    flags = 0
    unit = 0.0
    n_tr = 0.0
    u_tr = 0.0
    n_loan = 0.0
    u_loan = 0.0
    a = ptr[p]
    end = ptr[p + 1]
    while a < end:
        m = mv_mat[a]
        b = a
        while b < end and mv_mat[b] == m:
            b += 1
        touched[:] = False
        for k in range(a, b):
            touched[link_from[mv_link[k]]] = True
            touched[link_to[mv_link[k]]] = True
        for f in range(N):
            if touched[f]:
                for c in range(N_ACC):
                    acc[f, c] -= base_fm[f, m, c]
        flags |= material(m, mv_link, mv_dep, mv_qty, mv_kind, a, b, touched, stock, True,
                          costs.tol, acc, traj, m, move_short)
        for k in range(a, b):
            lk = mv_link[k]
            q = mv_qty[k]
            i = link_from[lk]
            j = link_to[lk]
            c = ucost[lk, m] * q
            unit += c
            if mv_kind[k] == PAYBACK:
                paid[i] += c
                by_src[lk, mv_dep[k]] += q
            else:
                paid[j] += c
                by_dst[lk, mv_dep[k]] += q
                n_tr += 1.0
                u_tr += q
                if mv_kind[k] == LOAN:
                    n_loan += 1.0
                    u_loan += q
                    pay = fee * q * mv_dur[k]
                else:
                    pay = price[m] * q
                payments[j] += pay
                payments[i] -= pay
        a = b
    fix = 0.0
    for lk in range(L):
        for t in range(T):
            tot = by_dst[lk, t] + by_src[lk, t]
            if tot > 0.0 and not prepaid[lk, t]:
                fix += fixed[lk]
                # the fixed cost is shared by the payers in proportion to their units
                paid[link_to[lk]] += fixed[lk] * by_dst[lk, t] / tot
                paid[link_from[lk]] += fixed[lk] * by_src[lk, t] / tot
    hs = 0.0
    ss = 0.0
    ws = 0.0
    for c in range(N_KPI):
        out_kpi[p, c] = 0.0
    for f in range(N):
        hs += acc[f, HOLD]
        ss += acc[f, SHORT]
        ws += acc[f, WASTE]
        out_kpi[p, 0] += acc[f, BACK_UNITS]
        out_kpi[p, 1] += acc[f, DELAYS]
        out_kpi[p, 2] += acc[f, WASTE_UNITS]
        out_kpi[p, 3] += acc[f, MET]
        out_firm[p, f, 0] = acc[f, HOLD] + acc[f, SHORT] + acc[f, WASTE]
        out_firm[p, f, 1] = paid[f]
        out_firm[p, f, 2] = payments[f]
        out_firm[p, f, 3] = acc[f, MET]
    out_kpi[p, 4] = n_tr
    out_kpi[p, 5] = u_tr
    out_kpi[p, 6] = n_loan
    out_kpi[p, 7] = u_loan
    out_break[p, 0] = hs
    out_break[p, 1] = ss
    out_break[p, 2] = ws
    out_break[p, 3] = unit
    out_break[p, 4] = fix
    return flags


@njit(cache=True, parallel=True)
def network_costs(ptr, moves, stock, costs, prepaid, out_cost, out_flags, out_break, out_kpi,
                  out_firm):
    """Network cost of a batch of plans (one per ``prange`` iteration).

    Parameters
    ----------
    ptr : ndarray of int64, shape (P + 1,)
        Plan ``p``'s moves are ``ptr[p]:ptr[p + 1]`` of the move arrays.
    moves : MoveArrays
        Moves (:data:`invswarm.kernels.network_data.MoveArrays`) in kernel order.
    stock, costs : Stock, Costs
        The instance and its baseline (:data:`invswarm.kernels.network_data.Stock`,
        :data:`~invswarm.kernels.network_data.Costs`).
    prepaid : ndarray of bool, shape (L, T)
        Link-periods whose fixed cost is already paid by shipments outside the batch (all
        False for whole plans; a search over one material's shipments sets the others').
    out_cost : ndarray, shape (P,)
        Network cost: holding + shortage + waste + unit and fixed transfer costs.
    out_flags : ndarray of int64, shape (P,)
        Feasibility flags, 0 when the plan may be carried out.
    out_break : ndarray, shape (P, 5)
        Holding, shortage, waste, unit transfer, fixed transfer cost.
    out_kpi : ndarray, shape (P, 8)
        Backlogged unit-periods, delays, wasted units, units met in period, transfers,
        transferred units, loans, loaned units.
    out_firm : ndarray, shape (P, N, 4)
        Per firm: own cost, transfer costs paid, payments made minus received, units met.
    """
    P = ptr.size - 1
    N = stock.lots.shape[0]
    for p in prange(P):
        touched = np.zeros(N, np.bool_)
        acc = np.zeros((N, N_ACC))
        flags = _plan(p, ptr, moves, stock, costs, prepaid, touched, acc,
                      np.zeros((0, 0, 0, 0)), np.zeros(0), out_break, out_kpi, out_firm)
        out_flags[p] = flags
        s = 0.0
        for c in range(N_BREAK):
            s += out_break[p, c]
        out_cost[p] = s


@njit(cache=True)
def plan_detail(moves, stock, costs, traj, move_short, out_break, out_kpi, out_firm):
    """One plan, with its trajectories (``traj`` pre-filled with the baseline's) and the
    shortfall of every move; returns the feasibility flags."""
    N = stock.lots.shape[0]
    ptr = np.array([0, moves.link.size], np.int64)
    prepaid = np.zeros((stock.link_from.size, stock.requirements.shape[2]), np.bool_)
    return _plan(0, ptr, moves, stock, costs, prepaid, np.zeros(N, np.bool_), np.zeros((N, N_ACC)),
                 traj, move_short, out_break, out_kpi, out_firm)


@njit(cache=True)
def baseline(stock, listed, base_fm, traj):
    """Every listed (firm, material) on its own, with no shipments (``stock``'s donor
    protection is not read).

    Writes ``base_fm`` (N, M, N_ACC) and ``traj`` (N, M, T, 4).
    """
    N, M = stock.requirements.shape[:2]
    z = np.zeros(0, np.int64)
    zf = np.zeros(0)
    for m in range(M):
        acc = np.zeros((N, N_ACC))
        touched = listed[:, m].copy()
        material(m, z, z, zf, z, 0, 0, touched, stock, False, 0.0, acc, traj, m, zf)
        for f in range(N):
            for c in range(N_ACC):
                base_fm[f, m, c] = acc[f, c]
