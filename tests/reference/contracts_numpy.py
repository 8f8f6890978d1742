"""The contracts simulation vectorised with NumPy across contracts and demand paths: the
baseline a NumPy user would write (docs/models/contracts.md).

Same arguments and output layouts as :func:`invswarm.kernels.contracts.simulate`; one
disruption scenario at a time, every state an array over the ``P * S`` (contract, path) pairs,
a Python loop over periods. Used by the kernel benchmark and tested against the kernel.
"""

from __future__ import annotations

import numpy as np

from invswarm.kernels.contracts import (
    BACKLOG_COST,
    BACKLOG_UNITS,
    DEMAND,
    GUARANTEED,
    HOLDING,
    N_MONEY,
    N_UNITS,
    OVERTIME,
    POOLED,
    PURCHASE,
    REVENUE,
    SERVED,
    SHIPPED,
)


def simulate(mode, y, price, w, tns_r, tns_m, chain, money, units, var_o, var_d):
    """See :func:`invswarm.kernels.contracts.simulate` (same arguments, same outputs)."""
    (n, lead_r, lead_m, capacity, overtime, ca, ck, hold_r, back_r, hold_m, back_m, cv, u,
     cap_factor) = chain
    for d in range(cap_factor.shape[0]):
        m, un, vo, vd = _scenario(mode, y, price, w, tns_r, tns_m, float(n), lead_r, lead_m,
                                  capacity, overtime, ca, ck, hold_r, back_r, hold_m, back_m,
                                  cv, u, cap_factor[d])
        money[:, d], units[:, d], var_o[:, d], var_d[:, d] = m, un, vo, vd


def _safe(a):
    """``a`` with zeros replaced by ones: a divisor where the quotient is not used."""
    return np.where(a > 0.0, a, 1.0)


def _scenario(mode, y, price, w, tns_r, tns_m, n, lead_r, lead_m, capacity, overtime, ca, ck,
              hold_r, back_r, hold_m, back_m, cv, u, capf):
    P, R, M = y.shape
    S, _, T = u.shape
    N, NQ = P * S, R + M
    NP = NQ + 2
    lead_r = np.asarray(lead_r, np.int64)
    lead_m = np.asarray(lead_m, np.int64)
    LR, LM = max(1, int(lead_r.max())), max(1, int(lead_m.max()))

    def rep(a):
        return np.repeat(np.asarray(a, np.float64), S, axis=0)

    Yp = y.sum(axis=2)
    Y = rep(Yp)                                           # (N, R)
    floor = rep(y / n)                                    # (N, R, M)
    mu_r = Y / n
    mu_m = rep(y.sum(axis=1) / n)                         # (N, M)
    share = rep(np.divide(y, Yp[:, :, None], out=np.zeros_like(y), where=Yp[:, :, None] > 0))
    wN, priceN, tnsR, tnsM = rep(w), rep(price), rep(tns_r), rep(tns_m)
    order = np.repeat(np.argsort(w, axis=1, kind="mergesort"), S, axis=0)
    uN = np.tile(u, (P, 1, 1))                            # path s of every contract
    rows = np.arange(N)
    # the OUT steady state with a full pipeline
    ns = tnsR.copy()
    transit = np.zeros((N, R, LR))
    for i in range(R):
        transit[:, i, :lead_r[i] - 1] = mu_r[:, i, None]
    in_transit = (lead_r - 1) * mu_r
    B = floor.copy()
    E = np.zeros((N, R, M))
    H = tnsM + mu_m
    wip = np.zeros((N, M, LM))
    for j in range(M):
        wip[:, j, :lead_m[j]] = mu_m[:, j, None]
    in_work = lead_m * mu_m
    acc_m = np.zeros((N, NQ, N_MONEY))
    acc_u = np.zeros((N, NQ, N_UNITS))
    # sums of deviations from the series' means (as the kernel: shift-invariant variances)
    m_ord = np.concatenate([mu_r, mu_m, mu_r.sum(1, keepdims=True),
                            mu_m.sum(1, keepdims=True)], axis=1)
    m_dem = np.concatenate([mu_r, mu_m, mu_r.sum(1, keepdims=True),
                            mu_r.sum(1, keepdims=True)], axis=1)
    s1, s2, d1, d2 = (np.zeros((N, NP)) for _ in range(4))
    ordered, faced = np.zeros((N, NP)), np.zeros((N, NP))
    for t in range(T):
        slot_r, slot_m = t % LR, t % LM
        # 1. production arrives
        H += wip[:, :, slot_m]
        in_work -= wip[:, :, slot_m]
        wip[:, :, slot_m] = 0.0
        # 2. manufacturers ship
        if mode == GUARANTEED:
            E += floor
            prio = np.minimum(B, E)
            tot_p = prio.sum(axis=1)
            tot_r = B.sum(axis=1) - tot_p
            short_p = tot_p > H
            left = H - tot_p
            short_r = ~short_p & (tot_r > left)
            fp = np.where(short_p, H / _safe(tot_p), 1.0)
            fr = np.where(short_p, 0.0, np.where(short_r, left / _safe(tot_r), 1.0))
            H = np.where(short_p | short_r, 0.0, left - tot_r)
            x = fp[:, None, :] * prio + fr[:, None, :] * (B - prio)
            B -= x
            E = np.maximum(0.0, E - x)
        else:
            tot = B.sum(axis=1)
            short = tot > H
            f = np.where(short, H / _safe(tot), 1.0)
            H = np.where(short, 0.0, H - tot)
            x = f[:, None, :] * B
            B -= x
            # open orders pooled: manufacturers with stock left, cheapest first
            for m in range(M):
                jd = order[:, m]
                h = H[rows, jd]
                U = B.sum(axis=(1, 2))
                active = (h > 0.0) & (U > 0.0)
                short = U > h
                f = np.where(active, np.where(short, h / _safe(U), 1.0), 0.0)
                H[rows, jd] = np.where(active, np.where(short, 0.0, h - U), h)
                part = f[:, None, None] * B
                B -= part
                x[rows, :, jd] += part.sum(axis=2)
                own = part[rows, :, jd].sum(axis=1)
                acc_u[rows, R + jd, POOLED] += part.sum(axis=(1, 2)) - own
        got = x.sum(axis=2)
        acc_m[:, R:, REVENUE] += (wN[:, None, :] * x).sum(axis=1)
        acc_u[:, R:, SHIPPED] += x.sum(axis=1)
        acc_m[:, :R, REVENUE] += priceN * got
        acc_m[:, :R, PURCHASE] += (wN[:, None, :] * x).sum(axis=2)
        acc_u[:, :R, SHIPPED] += got
        for i in range(R):
            transit[:, i, (slot_r + lead_r[i] - 1) % LR] += got[:, i]
        in_transit += got
        # 3. retailers receive and serve; 4. they order
        ns += transit[:, :, slot_r]
        in_transit -= transit[:, :, slot_r]
        transit[:, :, slot_r] = 0.0
        dem = np.where(mu_r > 0.0, np.maximum(0.0, mu_r * (1.0 + cv * uN[:, :, t])), 0.0)
        acc_u[:, :R, SERVED] += np.minimum(dem, np.maximum(0.0, ns))
        acc_u[:, :R, DEMAND] += dem
        ns -= dem
        pipe = in_transit + B.sum(axis=2)
        o = np.maximum(0.0, tnsR + lead_r * mu_r - pipe - ns)
        oij = o[:, :, None] * share
        if mode == GUARANTEED:
            oij = np.maximum(oij, floor)
        oij = np.where((Y > 0.0)[:, :, None], oij, 0.0)
        B += oij
        placed, recv = oij.sum(axis=2), oij.sum(axis=1)
        acc_m[:, :R, HOLDING] += hold_r * np.maximum(ns, 0.0)
        acc_m[:, :R, BACKLOG_COST] += back_r * np.maximum(-ns, 0.0)
        acc_u[:, :R, BACKLOG_UNITS] += np.maximum(-ns, 0.0)
        # 5. manufacturers produce
        acc_u[:, R:, DEMAND] += recv
        net = H - B.sum(axis=1)
        q = np.maximum(0.0, tnsM + lead_m * mu_m - in_work - net)
        c = capf[:, t] * capacity / n
        q = np.minimum(q, (1.0 + overtime) * c)
        reg = np.minimum(q, c)
        for j in range(M):
            wip[:, j, (slot_m + lead_m[j]) % LM] += q[:, j]
        in_work += q
        acc_m[:, R:, PURCHASE] += ca * reg + ck * (q - reg)
        acc_u[:, R:, OVERTIME] += q - reg
        acc_m[:, R:, HOLDING] += hold_m * np.maximum(net, 0.0)
        acc_m[:, R:, BACKLOG_COST] += back_m * np.maximum(-net, 0.0)
        acc_u[:, R:, BACKLOG_UNITS] += np.maximum(-net, 0.0)
        # the series of the bullwhip: each party, then the two echelons
        ordered[:, :R], ordered[:, R:NQ] = placed, q
        ordered[:, NQ], ordered[:, NQ + 1] = placed.sum(axis=1), q.sum(axis=1)
        faced[:, :R], faced[:, R:NQ] = dem, recv
        faced[:, NQ] = faced[:, NQ + 1] = dem.sum(axis=1)
        ov, dv = ordered - m_ord, faced - m_dem
        s1 += ov
        s2 += ov * ov
        d1 += dv
        d2 += dv * dv
    vo = np.maximum(s2 / T - (s1 / T) ** 2, 0.0)
    vd = np.maximum(d2 / T - (d1 / T) ** 2, 0.0)
    return (acc_m.reshape(P, S, NQ, N_MONEY).mean(axis=1),
            acc_u.reshape(P, S, NQ, N_UNITS).mean(axis=1),
            vo.reshape(P, S, NP).mean(axis=1), vd.reshape(P, S, NP).mean(axis=1))
