"""PSO kernels: a counter-based random stream, neighbourhood bests, and the swarm update.

Random numbers are a pure function of (seed, iteration, particle, dimension), so the swarm's
path does not depend on how particles are spread over threads or processes.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

#: A swarm's state, updated in place by the fused loops: ``position``, ``velocity`` and
#: ``best_position`` (NP, n) in the unit cube, ``best_cost`` (NP,) and each particle's
#: neighbourhood best ``neighbour`` (NP,, int64).
Swarm = namedtuple("Swarm", ("position", "velocity", "best_position", "best_cost",
                             "neighbour"))

#: The parameters of the step (:func:`update`) over a run: ``topology`` (GBEST or RING) and
#: ``ring_k``; the inertia from ``inertia_start`` to ``inertia_end`` over ``max_iter``
#: iterations; the ``cognitive`` and ``social`` weights, the ``constriction`` factor, the
#: ``max_velocity``; ``boundary`` (CLIP or REFLECT).
StepRule = namedtuple("StepRule", ("topology", "ring_k", "inertia_start", "inertia_end",
                                   "cognitive", "social", "constriction", "max_velocity",
                                   "boundary", "max_iter"))

#: A swarm that moves in some of the variables: particle ``i`` stands for ``base`` (n,) with
#: ``base[index] = X[i]``; with ``full`` True it moves in all of them (``base`` and ``index``
#: are then not read).
Subspace = namedtuple("Subspace", ("base", "index", "full"))

GBEST = 0
RING = 1
CLIP = 0
REFLECT = 1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_ONE = np.uint64(0x3FF0000000000000)  # the bits of 1.0


@njit(cache=True, inline="always")
def _mix(z):
    """splitmix64's finaliser: a bijection of uint64 with good avalanche."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_key(seed, iteration, particle):
    """Key of the random stream of one particle in one iteration."""
    z = _mix(np.uint64(seed) + _GOLDEN)
    z = _mix(z ^ (np.uint64(iteration) * _GOLDEN))
    return _mix(z ^ (np.uint64(particle) * _M1))


@njit(cache=True)
def uniform_pairs(key, out):
    """The first ``out.shape[1]`` pairs of uniform numbers in [0, 1) of a stream, into
    ``out[0, j], out[1, j]``.

    Pair j is the two 32-bit halves ``h`` of one hash of (key, j), as ``h 2**-32`` (32 bits
    are plenty for a velocity's weights, and one hash costs half as much as two). Each ``h``
    becomes the double ``1 + h 2**-32`` by its bits (``h`` at the top of the mantissa), less 1:
    exactly ``h 2**-32``, without integer-to-float conversions, which do not vectorise.
    """
    bits = out.view(np.uint64)
    # j * golden + j, as a running sum (no multiplication): the same bits, mod 2**64.
    step = _GOLDEN + np.uint64(1)
    u = np.uint64(0)
    for j in range(out.shape[1]):
        z = _mix(key ^ u)
        u += step
        bits[0, j] = ((z >> np.uint64(32)) << np.uint64(20)) | _ONE
        bits[1, j] = ((z & _LOW32) << np.uint64(20)) | _ONE
    for j in range(out.shape[1]):
        out[0, j] -= 1.0
        out[1, j] -= 1.0


@njit(cache=True)
def neighbour_best(pbest_cost, topology, k, out):
    """Index of the best personal best in each particle's neighbourhood (ties: lowest index).

    ``topology`` GBEST: the whole swarm; RING: the ``k`` particles on each side.
    """
    n = pbest_cost.shape[0]
    if topology == GBEST:
        best = 0
        for i in range(1, n):
            if pbest_cost[i] < pbest_cost[best]:
                best = i
        for i in range(n):
            out[i] = best
    else:
        for i in range(n):
            best = i
            for off in range(-k, k + 1):
                j = (i + off) % n
                if pbest_cost[j] < pbest_cost[best] or (
                        pbest_cost[j] == pbest_cost[best] and j < best):
                    best = j
            out[i] = best


@njit(cache=True, parallel=True)
def update(X, V, PB, nbr, seed, iteration, w, c1, c2, chi, vmax, boundary):
    """One velocity and position step of every particle, in place.

    Parameters
    ----------
    X, V, PB : ndarray, shape (NP, n)
        Positions, velocities and personal bests, in the unit cube.
    nbr : ndarray of int64, shape (NP,)
        Neighbourhood best of each particle (:func:`neighbour_best`).
    seed, iteration : int
        Key of the random numbers.
    w, c1, c2, chi, vmax : float
        Inertia, cognitive and social weights, constriction factor, velocity bound.
    boundary : int
        CLIP (stop at the face, velocity zeroed) or REFLECT (mirror, velocity reversed).
    """
    NP, n = X.shape
    for i in prange(NP):
        step(X, V, PB, PB, nbr, i, seed, iteration, w, c1, c2, chi, vmax, boundary,
             np.empty((2, n)))


@njit(cache=True)
def step(X, V, PB, G, nbr, i, seed, iteration, w, c1, c2, chi, vmax, boundary, r):
    """The step of particle ``i`` (see :func:`update`), towards its personal best ``PB[i]``
    and the position ``G[nbr[i]]`` of its neighbourhood's best; ``r`` is scratch of shape
    (2, n)."""
    n = X.shape[1]
    uniform_pairs(stream_key(seed, iteration, i), r)
    g = nbr[i]
    reflect = boundary == REFLECT
    for d in range(n):
        x = X[i, d]
        v = chi * (w * V[i, d] + c1 * r[0, d] * (PB[i, d] - x) + c2 * r[1, d] * (G[g, d] - x))
        v = min(max(v, -vmax), vmax)
        x += v
        # Selects rather than branches: whether a particle leaves the cube is random.
        low = x < 0.0
        high = x > 1.0
        if reflect:
            x = -x if low else x
            x = 2.0 - x if high else x
            v = -v if low else v
            v = -v if high else v
        else:
            v = 0.0 if low or high else v
        X[i, d] = min(max(x, 0.0), 1.0)
        V[i, d] = v


@njit(cache=True)
def tell(X, cost, PB, PBf):
    """Personal bests after an evaluation: strictly better costs replace them."""
    return tell_range(0, X.shape[0], X, cost, PB, PBf)


@njit(cache=True)
def tell_range(lo, hi, X, cost, PB, PBf):
    """:func:`tell` of particles ``lo:hi``; returns how many improved."""
    n = X.shape[1]
    improved = 0
    for i in range(lo, hi):
        if cost[i] < PBf[i]:
            PBf[i] = cost[i]
            for d in range(n):
                PB[i, d] = X[i, d]
            improved += 1
    return improved


@njit(cache=True)
def social(PB, nbr, G, gnbr):
    """The positions of the neighbourhood bests ``nbr``, copied: each distinct one into a
    row of ``G`` (NP, n), with ``gnbr[i]`` the row of particle ``i``'s. Returns the number of
    rows used (1 for GBEST).

    Steps that read ``G`` rather than ``PB`` leave the threads free to update their own
    particles' personal bests while other threads still step theirs.
    """
    NP, n = PB.shape
    row = np.full(NP, -1, np.int64)
    m = 0
    for i in range(NP):
        g = nbr[i]
        if row[g] < 0:
            row[g] = m
            for d in range(n):
                G[m, d] = PB[g, d]
            m += 1
        gnbr[i] = row[g]
    return m
