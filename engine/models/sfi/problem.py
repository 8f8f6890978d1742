"""The SFI model as an optimisation problem over the unit cube (see ``engine/encoding.py``)."""

from __future__ import annotations

import numba
import numpy as np

from ....kernels import sfi_decode as kdecode
from ....kernels import sfi_swarm as kswarm
from ....kernels.pso import StepRule, Subspace, Swarm
from ....kernels.sfi_data import Decoding
from ....kernels.sfi_lanes import LANES
from ...encoding import Block, Encoding, choice_to_unit
from .evaluate import kernel_data
from .instance import Instance, worth_making
from .plan import Plan


class SfiProblem:
    """Decode and evaluate swarms of SFI plans.

    A particle has ``2 (C + P) T`` variables: the PDP of each category and period and the CODP
    of each product and period (categorical), then the generic and dedicated quantities
    (continuous, as a share of the most a buffer can ever serve: its period's backlog and
    orders and the next period's orders). Every particle decodes to a feasible plan.
    """

    def __init__(self, inst: Instance, snap_tol: float = 0.03):
        self.inst = inst
        self.snap_tol = float(snap_tol)
        C, P, T = inst.n_categories, inst.n_products, inst.n_periods
        self.encoding = Encoding((
            Block("pdp", "categorical", C * T), Block("codp", "categorical", P * T),
            Block("generic", "continuous", C * T), Block("dedicated", "continuous", P * T)))
        self.n_var = self.encoding.n_var
        # Only usable PDPs are choices: the others would have to be repaired to one of them.
        kgs = [inst.usable_pdp(c) for c in range(C)]
        kds = [inst.codp_candidates(p) for p in range(P)]
        self.kg = padded(kgs)
        self.n_kg = np.array([k.size for k in kgs], dtype=np.int64)
        self.kd = padded(kds)
        self.n_kd = np.array([k.size for k in kds], dtype=np.int64)
        # First CODP candidate at or after each stage (the last candidate when none is).
        stages = np.arange(int(max(self.kg.max(), self.kd.max())) + 1)
        self.first_kd = np.array([np.minimum(np.searchsorted(k, stages), k.size - 1)
                                  for k in kds], dtype=np.int64).reshape(P, stages.size)
        self.ub_g, self.ub_q = worth_making(inst)
        self.snap_g, self.snap_q = snap_points(inst)
        self.decode_data = Decoding(
            self.kg, self.n_kg, self.kd, self.n_kd, self.first_kd, inst.category, self.ub_g,
            self.ub_q, self.snap_g, _windows(self.snap_g, self.snap_tol), self.snap_q,
            _windows(self.snap_q, self.snap_tol), inst.capacity)
        self.data = kernel_data(inst)

    # ------------------------------------------------------------- decoding
    def decode_arrays(self, X: np.ndarray) -> tuple[np.ndarray, ...]:
        """Plan arrays ``(pdp, generic, codp, dedicated)`` of a swarm ``X`` (NP, n_var)."""
        X = self._check(X)
        NP = X.shape[0]
        C, P, T = self.inst.n_categories, self.inst.n_products, self.inst.n_periods
        pdp = np.empty((NP, C, T), np.int64)
        gen = np.empty((NP, C, T))
        codp = np.empty((NP, P, T), np.int64)
        ded = np.empty((NP, P, T))
        kdecode.decode_swarm(X, self.decode_data, pdp, gen, codp, ded)
        return pdp, gen, codp, ded

    def decode(self, x: np.ndarray) -> Plan:
        """The plan of one particle."""
        pdp, gen, codp, ded = self.decode_arrays(np.asarray(x, dtype=np.float64)[None])
        return Plan(pdp[0], gen[0], codp[0], ded[0])

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Expected cost of every particle of ``X`` (NP, n_var); returns shape (NP,)."""
        X = self._check(X)
        cost = np.empty(X.shape[0])
        kswarm.swarm_costs(X, self.decode_data, self.data, _blocks(X.shape[0]), cost)
        return cost

    def encode(self, plan: Plan) -> np.ndarray:
        """A particle that decodes to ``plan`` where the encoding can express it.

        Quantities above a buffer's bound are cut to it, and a stage choice the decoder would
        repair comes out repaired.
        """
        inst = self.inst
        C, P, T = inst.n_categories, inst.n_products, inst.n_periods
        x = np.empty(self.n_var)
        e = self.encoding
        xs = {name: x[e.slice(name)].reshape(-1, T) for name in ("pdp", "codp", "generic",
                                                                  "dedicated")}
        for c in range(C):
            kg = self.kg[c, :self.n_kg[c]]
            for t in range(T):
                j = int(np.searchsorted(kg, plan.pdp[c, t]))
                xs["pdp"][c, t] = choice_to_unit(min(j, kg.size - 1), kg.size)
        for p in range(P):
            kd = self.kd[p, :self.n_kd[p]]
            for t in range(T):
                feasible = kd[kd >= plan.pdp[inst.category[p], t]]
                j = int(np.searchsorted(feasible, plan.codp[p, t]))
                xs["codp"][p, t] = choice_to_unit(min(j, feasible.size - 1), feasible.size)
        with np.errstate(divide="ignore", invalid="ignore"):
            xs["generic"][:] = np.where(self.ub_g > 0, plan.generic / self.ub_g, 0.0)
            xs["dedicated"][:] = np.where(self.ub_q > 0, plan.dedicated / self.ub_q, 0.0)
        np.clip(x, 0.0, 1.0, out=x)
        return x

    def _check(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"X: expected shape (particles, {self.n_var}), got {X.shape}")
        return X

    def restricted(self, base: np.ndarray, idx: np.ndarray) -> Restricted:
        """This problem over the variables ``idx``, the others fixed at ``base``."""
        return Restricted(self, base, idx)

    # ------------------------------------------------------------ fused loop
    def iterate(self, state, it0: int, n_iter: int, max_iter: int, params) -> np.ndarray:
        """Run ``n_iter`` fused PSO iterations on ``state``; returns the best cost per iteration."""
        return self._iterate(state, it0, n_iter, max_iter, params,
                             np.zeros(self.n_var), np.arange(self.n_var, dtype=np.int64), True)

    def _iterate(self, state, it0, n_iter, max_iter, params, base, idx, full) -> np.ndarray:
        NP = state.position.shape[0]
        hist = np.empty(n_iter)
        kswarm.pso_iterations(
            Swarm(state.position, state.velocity, state.best_position, state.best_cost,
                  state.neighbour),
            StepRule(params.topology_code, params.ring_k, params.w0, params.w1, params.c1,
                     params.c2, params.chi, params.vmax, params.boundary_code, max_iter),
            params.seed, it0, n_iter, Subspace(base, idx, full), self.decode_data, self.data,
            _blocks(NP), state.cost, np.empty(NP * self.inst.n_scenarios), hist)
        return hist


class Restricted:
    """An :class:`SfiProblem` over some of its variables, the others fixed at ``base``.

    The decomposition by period uses it: the swarm moves in one period's variables.
    """

    def __init__(self, full: SfiProblem, base: np.ndarray, idx: np.ndarray):
        self.full = full
        self.base = np.ascontiguousarray(base, dtype=np.float64)
        self.idx = np.ascontiguousarray(idx, dtype=np.int64)
        self.n_var = self.idx.size

    def expand(self, X: np.ndarray) -> np.ndarray:
        """Full particles of subspace particles ``X`` (NP, n_var)."""
        full = np.repeat(self.base[None], X.shape[0], axis=0)
        full[:, self.idx] = X
        return full

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        return self.full.evaluate(self.expand(np.atleast_2d(X)))

    def iterate(self, state, it0, n_iter, max_iter, params) -> np.ndarray:
        return self.full._iterate(state, it0, n_iter, max_iter, params, self.base, self.idx,
                                  False)


def _blocks(n_particles: int) -> int:
    """Blocks of particles decoded and played in lockstep per call: the same number per
    thread, as few as keep a block within the lockstep kernel's lanes
    (:data:`~invswarm.kernels.sfi_lanes.LANES`; a block of fewer particles costs a full
    pass). The costs do not depend on the number."""
    threads = numba.get_num_threads()
    return threads * -(-n_particles // (threads * LANES))


def snap_points(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Amounts of (mean) orders a buffer may be meant to serve exactly, per buffer and period.

    Dedicated: the product's orders of the period, of the period and the next, and (first
    period) the orders less its initial dedicated stock. Generic: the orders of each product of
    the category, of all of them, of all but one, and (first period) less the initial generic
    stock. Ascending, padded with +inf; shapes (C, T, m) and (P, T, m).
    """
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
    nxt = np.concatenate([d[:, 1:], np.zeros((P, 1))], axis=1)
    ded = [[{0.0, d[p, t], d[p, t] + nxt[p, t]} for t in range(T)] for p in range(P)]
    for p in range(P):
        ded[p][0].add(max(0.0, d[p, 0] + inst.init_backlog[p] - inst.init_dedicated_qty[p]))
    gen = []
    for c in range(C):
        members = np.flatnonzero(inst.category == c)
        rows = []
        for t in range(T):
            total = d[members, t].sum()
            pts = {0.0, total} | {d[p, t] for p in members} | {total - d[p, t] for p in members}
            if t == 0:
                pts |= {max(0.0, v - inst.init_generic_qty[c]) for v in list(pts)}
            rows.append(pts)
        gen.append(rows)
    return _padded_points(gen), _padded_points(ded)


def _windows(points: np.ndarray, tol: float) -> np.ndarray:
    """Half-width of each snap point's window: ``tol`` of the point, at least ``tol`` units;
    -1 where the points are padded (no quantity is that near)."""
    finite = np.isfinite(points)
    return np.where(finite, tol * np.maximum(np.where(finite, points, 0.0), 1.0), -1.0)


def _padded_points(table: list[list[set]]) -> np.ndarray:
    m = max(len(s) for row in table for s in row)
    out = np.full((len(table), len(table[0]), m), np.inf)
    for i, row in enumerate(table):
        for t, pts in enumerate(row):
            v = sorted(pts)
            out[i, t, :len(v)] = v
    return out


def padded(lists: list[np.ndarray]) -> np.ndarray:
    """Integer lists (each non-empty) as one table (len(lists), longest), each row padded
    with its last entry, so that a kernel may read past a row's end without a bound check."""
    width = max(a.size for a in lists)
    out = np.zeros((len(lists), width), dtype=np.int64)
    for i, a in enumerate(lists):
        out[i, :a.size] = a
        out[i, a.size:] = a[-1]
    return out
