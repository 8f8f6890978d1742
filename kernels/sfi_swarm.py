"""The SFI swarm's costs and its fused PSO loop: particles decoded and played in lockstep,
a block of particles per thread (``kernels/sfi_lanes.py``), the same costs to the last bit as
:func:`invswarm.kernels.sfi_decode.decode_one` and :func:`invswarm.kernels.sfi.sfi_costs`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import pso
from .sfi import scenario_mean, scenario_mean_range
from .sfi_decode import decode_lanes
from .sfi_lanes import block_costs


@njit(parallel=True, cache=True)
def pso_iterations(swarm, rule, seed, it0, n_iter, subspace, dec, model, n_chunks, cost,
                   cost_ps, best_hist):
    """``n_iter`` PSO iterations (update, decode, evaluate, personal bests) without leaving Numba.

    Iterations are numbered from ``it0``; the inertia falls linearly from
    ``rule.inertia_start`` to ``rule.inertia_end`` over ``rule.max_iter`` iterations.
    ``best_hist[j]`` receives the swarm's best cost after iteration ``j``. The ``swarm``
    (:data:`~invswarm.kernels.pso.Swarm`) is updated in place; ``rule``
    (:data:`~invswarm.kernels.pso.StepRule`) holds the parameters of the step
    (:func:`invswarm.kernels.pso.update`); ``dec`` and ``model`` are the records of
    :func:`~invswarm.kernels.sfi_decode.decode_one` and
    :func:`~invswarm.kernels.sfi.sfi_costs`; ``cost`` (NP,) receives the particles' costs and
    ``cost_ps`` (NP * NS,) is scratch.

    The swarm may move in a subspace (:data:`~invswarm.kernels.pso.Subspace`): particle ``i``
    stands for the full particle ``subspace.base`` with ``base[index] = X[i]``. For the whole
    space, ``subspace.full`` is True (``index`` and ``base`` are then not read).

    Each iteration is one parallel region over ``n_chunks`` blocks of particles, which step,
    decode, are played in lockstep and update their personal bests in the thread that holds
    them. The neighbourhood bests are found, and their positions copied
    (:func:`invswarm.kernels.pso.social`), before it: every step reads bests that no thread is
    writing.
    """
    X, PB, PBf = swarm.position, swarm.best_position, swarm.best_cost
    NP = X.shape[0]
    n_chunks = max(1, min(NP, n_chunks))
    G = np.empty_like(PB)
    gnbr = np.empty(NP, np.int64)
    for it in range(n_iter):
        itg = it0 + it
        pso.neighbour_best(PBf, rule.topology, rule.ring_k, swarm.neighbour)
        pso.social(PB, swarm.neighbour, G, gnbr)
        frac = itg / max(1, rule.max_iter - 1)
        if frac > 1.0:
            frac = 1.0
        w = rule.inertia_start + (rule.inertia_end - rule.inertia_start) * frac
        for chunk in prange(n_chunks):
            lo = chunk * NP // n_chunks
            hi = (chunk + 1) * NP // n_chunks
            _step_chunk(lo, hi, swarm, G, gnbr, seed, itg, w, rule, subspace, dec, model,
                        cost_ps)
            scenario_mean_range(lo, hi, cost_ps, model.weights, cost)
            pso.tell_range(lo, hi, X, cost, PB, PBf)
        best = PBf[0]
        for i in range(1, NP):
            if PBf[i] < best:
                best = PBf[i]
        best_hist[it] = best


#: Particles per tile of :func:`_step_chunk`'s copy into the lane layout (a cache line of
#: doubles).
_TILE = 8


@njit(cache=True)
def _step_chunk(lo, hi, swarm, G, nbr, seed, iteration, w, rule, subspace, dec, model,
                cost_ps):
    """Particles ``lo:hi`` of :func:`pso_iterations`: step (towards the neighbourhood bests
    ``G[nbr[i]]``, with inertia ``w``), then decode and play in lockstep (the block's
    particles as the columns of one array)."""
    X = swarm.position
    base, idx, full = subspace.base, subspace.index, subspace.full
    n = X.shape[1]
    L = hi - lo
    C = dec.usable_pdp.shape[0]
    P = dec.codp_candidates.shape[0]
    T = dec.capacity.shape[0]
    r = np.empty((2, n))
    xT = np.empty((2 * (C + P) * T, L))
    if not full:
        for d in range(xT.shape[0]):
            for j in range(L):
                xT[d, j] = base[d]
    for i0 in range(lo, hi, _TILE):
        i1 = min(i0 + _TILE, hi)
        for i in range(i0, i1):
            pso.step(X, swarm.velocity, swarm.best_position, G, nbr, i, seed, iteration, w,
                     rule.cognitive, rule.social, rule.constriction, rule.max_velocity,
                     rule.boundary, r)
        # A tile of particles at a time, so that each store into xT's rows goes to a cache
        # line that the last few stores loaded: xT is larger than the L1 cache.
        for d in range(n):
            row = d if full else idx[d]
            for i in range(i0, i1):
                xT[row, i - lo] = X[i, d]
    _decode_play(lo, xT, dec, model, cost_ps)


@njit(cache=True)
def _decode_play(lo, xT, dec, model, cost_ps):
    """Particles ``lo:lo + L``, the columns of ``xT`` (n_var, L), decoded and played in
    lockstep: their costs per scenario into ``cost_ps``."""
    L = xT.shape[1]
    C = dec.usable_pdp.shape[0]
    P = dec.codp_candidates.shape[0]
    T = dec.capacity.shape[0]
    pdp_l = np.empty((C, T, L), np.int64)
    gen_l = np.empty((C, T, L))
    codp_l = np.empty((P, T, L), np.int64)
    ded_l = np.empty((P, T, L))
    decode_lanes(xT, dec, pdp_l, gen_l, codp_l, ded_l)
    block_costs(lo, pdp_l, gen_l, codp_l, ded_l, model, cost_ps)


@njit(cache=True)
def swarm_costs(X, dec, model, n_chunks, out_cost):
    """Expected cost of the plan of every particle of ``X`` (NP, n_var), into ``out_cost``.

    The decode of :func:`~invswarm.kernels.sfi_decode.decode_one` and the cost of
    :func:`~invswarm.kernels.sfi.sfi_costs` (same figures to the last bit; ``dec`` and
    ``model`` are their records), for ``n_chunks`` blocks of particles in lockstep, as in
    :func:`pso_iterations`.
    """
    NP = X.shape[0]
    NS = model.orders.shape[0]
    cost_ps = np.empty(NP * NS)
    n_chunks = max(1, min(NP, n_chunks))
    if n_chunks == 1:
        # A parallel region costs more than one small play: stay on this thread.
        _decode_play(0, _columns(X, 0, NP), dec, model, cost_ps)
    else:
        _chunks(X, n_chunks, dec, model, cost_ps)
    scenario_mean(cost_ps, model.weights, out_cost)


@njit(parallel=True, cache=True)
def _chunks(X, n_chunks, dec, model, cost_ps):
    """:func:`_decode_play` of ``n_chunks`` blocks of the rows of ``X``, in parallel."""
    NP = X.shape[0]
    for chunk in prange(n_chunks):
        lo = chunk * NP // n_chunks
        hi = (chunk + 1) * NP // n_chunks
        _decode_play(lo, _columns(X, lo, hi), dec, model, cost_ps)


@njit(cache=True)
def _columns(X, lo, hi):
    """Rows ``lo:hi`` of ``X`` as the columns of a new array (n_var, hi - lo)."""
    xT = np.empty((X.shape[1], hi - lo))
    for j in range(hi - lo):
        for d in range(X.shape[1]):
            xT[d, j] = X[lo + j, d]
    return xT
