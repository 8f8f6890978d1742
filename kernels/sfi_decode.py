"""The SFI decoder: a point of the unit cube to a feasible plan (docs/models/sfi.md,
"Encoding"), one particle at a time (:func:`decode_one`) or a block of particles in lockstep
(:func:`decode_lanes`, for the swarm's loop in ``kernels/sfi_swarm.py``; the same plans).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def decode_one(x, dec, pdp, gen, codp, ded):
    """Decode one particle of the unit cube into a feasible plan (written into the outputs).

    Layout of ``x`` (length ``2 (C + P) T``): PDP choices ``[c * T + t]``, then CODP choices
    ``[C T + p * T + t]``, then generic quantities, then dedicated quantities, in the same order.
    A choice in ``[0, 1)`` picks among the candidates in equal slices; the CODP picks among the
    candidates at or after the PDP; the PDP choices are the usable candidates only
    (``Instance.usable_pdp``), so no PDP needs repair. Quantities are
    ``x * ub``, moved to the nearest snap point (an amount of orders the buffer may be meant to
    serve exactly) when within that point's window, then rounded to whole units: the plateaus
    let the swarm settle on plans whose buffers match their orders exactly, which leave nothing
    behind (a few units left over cost a re-setup when the next period uses them). A period over
    capacity is scaled down to it and rounded down.

    Parameters
    ----------
    x : ndarray, shape (2 (C + P) T,)
    dec : Decoding
        The decoder's tables (:data:`invswarm.kernels.sfi_data.Decoding`): candidates, bounds
        ``ub`` (``most_generic``, ``most_dedicated``), snap points and capacity.
    pdp, gen, codp, ded : ndarray, shapes (C, T), (C, T), (P, T), (P, T)
        The plan (written).
    """
    C = dec.usable_pdp.shape[0]
    P = dec.codp_candidates.shape[0]
    T = dec.capacity.shape[0]
    og = (C + P) * T
    od = og + C * T
    for t in range(T):
        used = 0.0
        for c in range(C):
            m = dec.n_usable_pdp[c]
            j = min(int(x[c * T + t] * m), m - 1)
            pdp[c, t] = dec.usable_pdp[c, j]
            q = np.floor(_snap(x[og + c * T + t] * dec.most_generic[c, t], dec.snap_generic,
                               dec.window_generic, c, t) + 0.5)
            gen[c, t] = q
            used += q
        for p in range(P):
            f = dec.first_codp[p, pdp[dec.category[p], t]]
            m = dec.n_codp_candidates[p] - f
            j = min(int(x[C * T + p * T + t] * m), m - 1)
            codp[p, t] = dec.codp_candidates[p, f + j]
            q = np.floor(_snap(x[od + p * T + t] * dec.most_dedicated[p, t], dec.snap_dedicated,
                               dec.window_dedicated, p, t) + 0.5)
            ded[p, t] = q
            used += q
        if used > dec.capacity[t]:
            scale = dec.capacity[t] / used
            for c in range(C):
                gen[c, t] = np.floor(gen[c, t] * scale)
            for p in range(P):
                ded[p, t] = np.floor(ded[p, t] * scale)


@njit(cache=True, inline="always")
def _snap(q, points, win, r, t):
    """``q`` moved to the nearest of ``points[r, t]`` within that point's half-width
    ``win[r, t]``; ties go to the lower point. Selects, not branches: every point is looked at,
    and whether ``q`` is near one is random."""
    best = q
    dist = np.inf
    for j in range(points.shape[2]):
        e = abs(q - points[r, t, j])
        near = (e <= win[r, t, j]) & (e < dist)
        best = points[r, t, j] if near else best
        dist = e if near else dist
    return best


@njit(parallel=True, cache=True)
def decode_swarm(X, dec, pdp, gen, codp, ded):
    """:func:`decode_one` for every row of ``X`` (NP, n) into plan arrays (NP, ...)."""
    for i in prange(X.shape[0]):
        decode_one(X[i], dec, pdp[i], gen[i], codp[i], ded[i])


@njit(cache=True)
def decode_lanes(xT, dec, pdp_l, gen_l, codp_l, ded_l):
    """:func:`decode_one` of a block of particles in lockstep.

    The same plans to the last bit, with the particle innermost: the snapping of a buffer's
    quantity runs over the block for each snap point, so the lanes' comparisons are
    independent (one particle at a time, each point waits for the previous one's select).

    Parameters
    ----------
    xT : ndarray, shape (n_var, L)
        The particles as columns.
    dec : Decoding
        As for :func:`decode_one`.
    pdp_l, gen_l, codp_l, ded_l : ndarray, shapes (C, T, L), (C, T, L), (P, T, L), (P, T, L)
        The plans (written), in the layout of :func:`block_costs`.
    """
    C = dec.usable_pdp.shape[0]
    P = dec.codp_candidates.shape[0]
    T = dec.capacity.shape[0]
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
            m = dec.n_usable_pdp[c]
            xs = xT[c * T + t]
            # Indices are unsigned where they are made per lane: no check for negative ones.
            for j in range(L):
                pdp_l[c, t, j] = dec.usable_pdp[c, np.uint64(min(int(xs[j] * m), m - 1))]
            _snap_lanes(xT[og + c * T + t], dec.most_generic[c, t], dec.snap_generic[c, t],
                        dec.window_generic[c, t], best, dist)
            for j in range(L):
                q = np.floor(best[j] + 0.5)
                gen_l[c, t, j] = q
                used[j] += q
        for p in range(P):
            xs = xT[C * T + p * T + t]
            cat = dec.category[p]
            for j in range(L):
                f = dec.first_codp[p, np.uint64(pdp_l[cat, t, j])]
                m = dec.n_codp_candidates[p] - f
                j_codp = np.uint64(f + min(int(xs[j] * m), m - 1))
                codp_l[p, t, j] = dec.codp_candidates[p, j_codp]
            _snap_lanes(xT[od + p * T + t], dec.most_dedicated[p, t], dec.snap_dedicated[p, t],
                        dec.window_dedicated[p, t], best, dist)
            for j in range(L):
                q = np.floor(best[j] + 0.5)
                ded_l[p, t, j] = q
                used[j] += q
        # A lane within capacity keeps its whole units: floor(q * 1.0) is q.
        for j in range(L):
            best[j] = dec.capacity[t] / used[j] if used[j] > dec.capacity[t] else 1.0
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
