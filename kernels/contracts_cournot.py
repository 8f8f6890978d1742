"""The retailers' Cournot equilibrium of a batch of contracts (``docs/models/contracts.md``,
"Strategic stage: the contract"): exact, piece by piece of each retailer's response.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _response(a, segp, segc, G):
    """``g_i(a)``: retailer i's total purchase when ``z[i] - S = a``; also its piece:
    returns ``(Y, price)`` with ``price`` the segment price on a linear piece, or NaN on a
    constant piece."""
    if G == 0 or a <= segp[0]:
        return 0.0, np.nan
    B = 0.0
    for g in range(G):
        if a <= B + segc[g] + segp[g]:
            return a - segp[g], segp[g]
        B += segc[g]
        if g + 1 < G and a <= B + segp[g + 1]:
            return B, np.nan
    return B, np.nan


@njit(cache=True)
def cournot(w, k, z, y):
    """The retailers' equilibrium of one contract (exact; see the model page).

    Parameters
    ----------
    w : ndarray, shape (M,)
        Wholesale prices.
    k : ndarray, shape (R, M)
        Caps (annual units).
    z : ndarray, shape (R,)
        Market power.
    y : ndarray, shape (R, M)
        Out: contract quantities (annual units).

    Returns
    -------
    float
        The total quantity ``S``; the retail prices are ``z - S``.
    """
    R, M = k.shape
    order = np.argsort(w, kind="mergesort")
    segp = np.zeros((R, M))
    segc = np.zeros((R, M))
    nseg = np.zeros(R, np.int64)
    for i in range(R):
        G = 0
        for m in range(M):
            j = order[m]
            if k[i, j] > 0.0:
                if G > 0 and segp[i, G - 1] == w[j]:
                    segc[i, G - 1] += k[i, j]
                else:
                    segp[i, G] = w[j]
                    segc[i, G] = k[i, j]
                    G += 1
        nseg[i] = G
    # kinks of every g_i, as totals S
    kinks = np.empty(R * 2 * M + 1)
    nk = 0
    for i in range(R):
        B = 0.0
        for g in range(nseg[i]):
            if g == 0:
                kinks[nk] = z[i] - segp[i, 0]
                nk += 1
            B += segc[i, g]
            kinks[nk] = z[i] - (B + segp[i, g])
            nk += 1
            if g + 1 < nseg[i]:
                kinks[nk] = z[i] - (B + segp[i, g + 1])
                nk += 1
    ks = np.sort(kinks[:nk])
    lo = 0.0
    hi = np.inf
    for b in range(nk):
        s = ks[b]
        if s <= lo:
            continue
        phi = s
        for i in range(R):
            phi -= _response(z[i] - s, segp[i], segc[i], nseg[i])[0]
        if phi >= 0.0:
            hi = s
            break
        lo = s
    phi0 = 0.0
    for i in range(R):
        phi0 -= _response(z[i], segp[i], segc[i], nseg[i])[0]
    if phi0 >= 0.0:
        S = 0.0
    else:
        mid = lo + 1.0 if hi == np.inf else 0.5 * (lo + hi)
        num = 0.0
        n_lin = 0
        for i in range(R):
            v, pr = _response(z[i] - mid, segp[i], segc[i], nseg[i])
            if np.isnan(pr):
                num += v
            else:
                num += z[i] - pr
                n_lin += 1
        S = num / (1.0 + n_lin)
        S = min(max(S, lo), hi)
    # each retailer's total, filled cheapest segment first, a segment split by the caps
    for i in range(R):
        Y = _response(z[i] - S, segp[i], segc[i], nseg[i])[0]
        for j in range(M):
            y[i, j] = 0.0
        left = Y
        m = 0
        while m < M and left > 0.0:
            j = order[m]
            if k[i, j] <= 0.0:
                m += 1
                continue
            # the segment of price w[j]: sources m .. e-1
            e = m
            width = 0.0
            while e < M and w[order[e]] == w[j]:
                width += k[i, order[e]]
                e += 1
            take = min(left, width)
            for q in range(m, e):
                jj = order[q]
                y[i, jj] = take * (k[i, jj] / width) if take < width else k[i, jj]
            left -= take
            m = e
    return S


@njit(cache=True, parallel=True)
def cournot_batch(w, k, z, y, total):
    """:func:`cournot` of ``P`` contracts: ``w`` (P, M), ``k`` (P, R, M); writes ``y``
    (P, R, M) and ``total`` (P,)."""
    for p in prange(w.shape[0]):
        total[p] = cournot(w[p], k[p], z, y[p])
