"""The SFI decoder, one particle at a time: a point of the unit cube to a feasible plan
(docs/models/sfi.md, "Encoding"). ``kernels/sfi_lanes.py`` decodes a block of particles in
lockstep to the same plans, for the swarm's loop (``kernels/sfi_swarm.py``).
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
