"""Numba kernel of the contracts model (``docs/models/contracts.md``): the OUT simulation of a
batch of contracts under every disruption scenario and demand path (the retailers' Cournot
equilibrium, which sets the contract quantities, is ``kernels/contracts_cournot.py``).

The demand noise ``u`` (paths, R, T) is drawn by the driver; every contract meets the same
paths (common random numbers).
"""

from collections import namedtuple

import numpy as np
from numba import njit, prange

#: The supply chain as the simulation reads it (``engine/models/contracts/evaluate.py``
#: builds it): ``periods_per_year`` (float); lead times ``lead_r`` (R,) and ``lead_m`` (M,),
#: periods; per manufacturer, shape (M,): ``capacity`` and ``overtime`` (units per period),
#: ``unit_cost`` and ``overtime_cost`` (per unit); holding and backlog costs per unit and
#: period, ``hold_r``, ``back_r`` (R,) and ``hold_m``, ``back_m`` (M,); the retailers' demand
#: ``cv`` (R,); the standardized demand ``noise`` (S, R, T), common to every contract; the
#: share of capacity left, ``cap_factor`` (D, M, T).
Chain = namedtuple("Chain", (
    "periods_per_year", "lead_r", "lead_m", "capacity", "overtime", "unit_cost",
    "overtime_cost", "hold_r", "back_r", "hold_m", "back_m", "cv", "noise", "cap_factor"))

GUARANTEED, FLEXIBLE = 0, 1
# Money columns per party: revenue, purchases (retailer) or production cost (manufacturer),
# holding cost, backlog cost.
REVENUE, PURCHASE, HOLDING, BACKLOG_COST = range(4)
N_MONEY = 4
# Unit columns per party, horizon sums: demand served in its period (retailers), demand faced
# (retailers: consumers; manufacturers: orders received), backlog unit-periods, overtime units,
# units shipped on other manufacturers' orders, units shipped (to a retailer / by a
# manufacturer).
SERVED, DEMAND, BACKLOG_UNITS, OVERTIME, POOLED, SHIPPED = range(6)
N_UNITS = 6


@njit(cache=True)
def _one(mode, y, price, w, tns_r, tns_m, chain, capf, money, units, var_o, var_d):
    """One contract under one disruption scenario ``capf`` (M, T), every demand path (shapes
    as in :func:`simulate`, without the leading contract and scenario axes). Writes path
    means."""
    n, lead_r, lead_m = chain.periods_per_year, chain.lead_r, chain.lead_m
    capacity, overtime = chain.capacity, chain.overtime
    ca, ck = chain.unit_cost, chain.overtime_cost
    hold_r, back_r, hold_m, back_m = chain.hold_r, chain.back_r, chain.hold_m, chain.back_m
    cv, u = chain.cv, chain.noise
    S, R, T = u.shape
    M = w.size
    NQ = R + M
    NP = NQ + 2
    LR = 1
    for i in range(R):
        LR = max(LR, lead_r[i])
    LM = 1
    for j in range(M):
        LM = max(LM, lead_m[j])
    Y = np.zeros(R)
    mu_r = np.zeros(R)
    mu_m = np.zeros(M)
    share = np.zeros((R, M))
    floor = np.zeros((R, M))
    for i in range(R):
        for j in range(M):
            Y[i] += y[i, j]
            floor[i, j] = y[i, j] / n
        mu_r[i] = Y[i] / n
        for j in range(M):
            mu_m[j] += y[i, j] / n
            share[i, j] = y[i, j] / Y[i] if Y[i] > 0.0 else 0.0
    order = np.argsort(w, kind="mergesort")
    ns = np.zeros(R)
    transit = np.zeros((R, LR))
    in_transit = np.zeros(R)
    B = np.zeros((R, M))
    E = np.zeros((R, M))
    H = np.zeros(M)
    wip = np.zeros((M, LM))
    in_work = np.zeros(M)
    x = np.zeros((R, M))
    recv = np.zeros(M)
    acc_m = np.zeros((NQ, N_MONEY))
    acc_u = np.zeros((NQ, N_UNITS))
    s1 = np.zeros(NP)
    s2 = np.zeros(NP)
    d1 = np.zeros(NP)
    d2 = np.zeros(NP)
    vo = np.zeros(NP)
    vd = np.zeros(NP)
    # series means, to accumulate variances of deviations (shift-invariant, less round-off)
    m_ord = np.zeros(NP)
    m_dem = np.zeros(NP)
    for i in range(R):
        m_ord[i] = mu_r[i]
        m_dem[i] = mu_r[i]
        m_ord[NQ] += mu_r[i]
        m_dem[NQ] += mu_r[i]
    for j in range(M):
        m_ord[R + j] = mu_m[j]
        m_dem[R + j] = mu_m[j]
        m_ord[NQ + 1] += mu_m[j]
    m_dem[NQ + 1] = m_dem[NQ]
    for s in range(S):
        # the OUT steady state with a full pipeline
        for i in range(R):
            ns[i] = tns_r[i]
            for q in range(LR):
                transit[i, q] = 0.0
            for q in range(lead_r[i] - 1):
                transit[i, q] += mu_r[i]
            in_transit[i] = (lead_r[i] - 1) * mu_r[i]
            for j in range(M):
                B[i, j] = floor[i, j]
                E[i, j] = 0.0
        for j in range(M):
            H[j] = tns_m[j] + mu_m[j]
            for q in range(LM):
                wip[j, q] = 0.0
            for q in range(lead_m[j]):
                wip[j, q] += mu_m[j]
            in_work[j] = lead_m[j] * mu_m[j]
        for q in range(NP):
            s1[q] = 0.0
            s2[q] = 0.0
            d1[q] = 0.0
            d2[q] = 0.0
        slot_r = 0
        slot_m = 0
        for t in range(T):
            # 1. production arrives
            for j in range(M):
                H[j] += wip[j, slot_m]
                in_work[j] -= wip[j, slot_m]
                wip[j, slot_m] = 0.0
            # 2. manufacturers ship
            if mode == GUARANTEED:
                for i in range(R):
                    for j in range(M):
                        E[i, j] += floor[i, j]
                for j in range(M):
                    tot_p = 0.0
                    tot_b = 0.0
                    for i in range(R):
                        tot_p += min(B[i, j], E[i, j])
                        tot_b += B[i, j]
                    tot_r = tot_b - tot_p
                    if tot_p > H[j]:
                        fp = H[j] / tot_p
                        fr = 0.0
                        H[j] = 0.0
                    else:
                        fp = 1.0
                        left = H[j] - tot_p
                        if tot_r > left:
                            fr = left / tot_r
                            H[j] = 0.0
                        else:
                            fr = 1.0
                            H[j] = left - tot_r
                    for i in range(R):
                        pr = min(B[i, j], E[i, j])
                        x[i, j] = fp * pr + fr * (B[i, j] - pr)
                        B[i, j] -= x[i, j]
                        E[i, j] = max(0.0, E[i, j] - x[i, j])
            else:
                for j in range(M):
                    tot = 0.0
                    for i in range(R):
                        tot += B[i, j]
                    if tot > H[j]:
                        f = H[j] / tot
                        H[j] = 0.0
                    else:
                        f = 1.0
                        H[j] -= tot
                    for i in range(R):
                        x[i, j] = f * B[i, j]
                        B[i, j] -= x[i, j]
                # orders still open are pooled: manufacturers with stock left, cheapest first
                for m in range(M):
                    jd = order[m]
                    if H[jd] <= 0.0:
                        continue
                    U = 0.0
                    for i in range(R):
                        for j in range(M):
                            U += B[i, j]
                    if U <= 0.0:
                        break
                    if U > H[jd]:
                        f = H[jd] / U
                        H[jd] = 0.0
                    else:
                        f = 1.0
                        H[jd] -= U
                    for i in range(R):
                        for j in range(M):
                            part = f * B[i, j]
                            B[i, j] -= part
                            x[i, jd] += part
                            if j != jd:
                                acc_u[R + jd, POOLED] += part
            for i in range(R):
                got = 0.0
                paid = 0.0
                for j in range(M):
                    got += x[i, j]
                    paid += w[j] * x[i, j]
                    acc_m[R + j, REVENUE] += w[j] * x[i, j]
                    acc_u[R + j, SHIPPED] += x[i, j]
                acc_m[i, REVENUE] += price[i] * got
                acc_m[i, PURCHASE] += paid
                acc_u[i, SHIPPED] += got
                a = slot_r + lead_r[i] - 1
                if a >= LR:
                    a -= LR
                transit[i, a] += got
                in_transit[i] += got
            # 3. retailers receive and serve; 4. they order
            tot_d = 0.0
            tot_o = 0.0
            for j in range(M):
                recv[j] = 0.0
            for i in range(R):
                ns[i] += transit[i, slot_r]
                in_transit[i] -= transit[i, slot_r]
                transit[i, slot_r] = 0.0
                d = 0.0
                if mu_r[i] > 0.0:
                    d = max(0.0, mu_r[i] * (1.0 + cv[i] * u[s, i, t]))
                acc_u[i, SERVED] += min(d, max(0.0, ns[i]))
                acc_u[i, DEMAND] += d
                ns[i] -= d
                placed = 0.0
                if Y[i] > 0.0:
                    pipe = in_transit[i]
                    for j in range(M):
                        pipe += B[i, j]
                    o = max(0.0, tns_r[i] + lead_r[i] * mu_r[i] - pipe - ns[i])
                    for j in range(M):
                        oij = o * share[i, j]
                        if mode == GUARANTEED:
                            oij = max(oij, floor[i, j])
                        B[i, j] += oij
                        placed += oij
                        recv[j] += oij
                # 6. the retailer's costs
                acc_m[i, HOLDING] += hold_r[i] * max(ns[i], 0.0)
                acc_m[i, BACKLOG_COST] += back_r[i] * max(-ns[i], 0.0)
                acc_u[i, BACKLOG_UNITS] += max(-ns[i], 0.0)
                dv = d - m_dem[i]
                ov = placed - m_ord[i]
                s1[i] += ov
                s2[i] += ov * ov
                d1[i] += dv
                d2[i] += dv * dv
                tot_d += d
                tot_o += placed
            # 5. manufacturers produce
            tot_q = 0.0
            for j in range(M):
                acc_u[R + j, DEMAND] += recv[j]
                net = H[j]
                for i in range(R):
                    net -= B[i, j]
                q_out = max(0.0, tns_m[j] + lead_m[j] * mu_m[j] - in_work[j] - net)
                c = capf[j, t] * capacity[j] / n
                q_out = min(q_out, (1.0 + overtime[j]) * c)
                reg = min(q_out, c)
                ovt = q_out - reg
                a = slot_m + lead_m[j]
                if a >= LM:
                    a -= LM
                wip[j, a] += q_out
                in_work[j] += q_out
                acc_m[R + j, PURCHASE] += ca[j] * reg + ck[j] * ovt
                acc_u[R + j, OVERTIME] += ovt
                # 6. the manufacturer's costs
                acc_m[R + j, HOLDING] += hold_m[j] * max(net, 0.0)
                acc_m[R + j, BACKLOG_COST] += back_m[j] * max(-net, 0.0)
                acc_u[R + j, BACKLOG_UNITS] += max(-net, 0.0)
                ov = q_out - m_ord[R + j]
                dv = recv[j] - m_dem[R + j]
                s1[R + j] += ov
                s2[R + j] += ov * ov
                d1[R + j] += dv
                d2[R + j] += dv * dv
                tot_q += q_out
            # the two echelons: retailers' orders, production; both over consumer demand
            dv = tot_d - m_dem[NQ]
            ov = tot_o - m_ord[NQ]
            s1[NQ] += ov
            s2[NQ] += ov * ov
            d1[NQ] += dv
            d2[NQ] += dv * dv
            ov = tot_q - m_ord[NQ + 1]
            s1[NQ + 1] += ov
            s2[NQ + 1] += ov * ov
            d1[NQ + 1] += dv
            d2[NQ + 1] += dv * dv
            slot_r += 1
            if slot_r == LR:
                slot_r = 0
            slot_m += 1
            if slot_m == LM:
                slot_m = 0
        for q in range(NP):
            vo[q] += max(s2[q] / T - (s1[q] / T) ** 2, 0.0)
            vd[q] += max(d2[q] / T - (d1[q] / T) ** 2, 0.0)
    for q in range(NQ):
        for c in range(N_MONEY):
            money[q, c] = acc_m[q, c] / S
        for c in range(N_UNITS):
            units[q, c] = acc_u[q, c] / S
    for q in range(NP):
        var_o[q] = vo[q] / S
        var_d[q] = vd[q] / S


@njit(cache=True, parallel=True)
def simulate(mode, y, price, w, tns_r, tns_m, chain, money, units, var_o, var_d):
    """Simulate ``P`` contracts under ``D`` disruption scenarios and ``S`` demand paths.

    Parameters
    ----------
    mode : int
        ``GUARANTEED`` or ``FLEXIBLE``.
    y : ndarray, shape (P, R, M)
        Contract quantities (annual units) from the retailers' equilibrium.
    price : ndarray, shape (P, R)
        Retail prices ``r = z - S``.
    w : ndarray, shape (P, M)
        Wholesale prices.
    tns_r, tns_m : ndarray, shapes (P, R), (P, M)
        OUT safety stocks (units).
    chain : Chain
        The supply chain, its demand noise and its disruption scenarios (:data:`Chain`).
    money : ndarray, shape (P, D, R + M, N_MONEY)
        Out: horizon sums, mean over paths (retailers first, then manufacturers).
    units : ndarray, shape (P, D, R + M, N_UNITS)
        Out: horizon sums, mean over paths.
    var_o, var_d : ndarray, shape (P, D, R + M + 2)
        Out: mean over paths of the variance over the horizon of what each party orders and
        of the demand it faces; then the retailer echelon and the manufacturer echelon.
    """
    P = y.shape[0]
    D = chain.cap_factor.shape[0]
    for job in prange(P * D):
        p = job // D
        d = job % D
        _one(mode, y[p], price[p], w[p], tns_r[p], tns_m[p], chain, chain.cap_factor[d],
             money[p, d], units[p, d], var_o[p, d], var_d[p, d])
