"""The manufacturers' decisions as points of the unit cube (repair, never penalty), and the two
objectives the swarm minimizes: one manufacturer's best response, the whole chain's profit."""

from __future__ import annotations

import numpy as np

from .cournot import equilibrium
from .evaluate import KernelData, run
from .instance import Instance
from .plan import Plan


def decode_block(inst: Instance, j: int, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Manufacturer j's prices (P,) and caps (P, R) from particles ``X`` (P, 1 + R):
    ``w = ca + x_0 (w_max - ca)``, ``k_i = K x_{1+i} / max(1, sum_i x_{1+i})``."""
    X = np.clip(np.asarray(X, np.float64), 0.0, 1.0)
    ca = inst.unit_cost[j]
    w = ca + X[:, 0] * (inst.price_cap - ca)
    raw = X[:, 1:]
    k = inst.capacity[j] * raw / np.maximum(1.0, raw.sum(axis=1))[:, None]
    return w, k


def encode_block(inst: Instance, j: int, plan: Plan) -> np.ndarray:
    """The particle (1 + R,) that decodes to manufacturer j's part of ``plan``."""
    ca, span = inst.unit_cost[j], inst.price_cap - inst.unit_cost[j]
    x = np.zeros(1 + inst.n_retailers)
    x[0] = (plan.w[j] - ca) / span if span > 0 else 0.0
    if inst.capacity[j] > 0:
        x[1:] = plan.k[:, j] / inst.capacity[j]
    return np.clip(x, 0.0, 1.0)


class _Batched:
    """Shared parts: shape checks and evaluation counting."""

    n_var: int

    def __init__(self, data: KernelData):
        self.data = data
        self.inst = data.inst
        self.evaluations = 0

    def _check(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_var:
            raise ValueError(f"X: expected shape (particles, {self.n_var}), got {X.shape}")
        return X

    def arrays(self, X) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def decode(self, x) -> Plan:
        W, K = self.arrays(self._check(np.asarray(x)[None, :]))
        return Plan.from_arrays(W[0], K[0])


class BestResponseProblem(_Batched):
    """Manufacturer j's choice against the other manufacturers' fixed plans; the cost of a
    particle is minus j's expected profit.

    Parameters
    ----------
    data : KernelData
    plan : Plan
        Everyone's current plan (j's part is replaced by the particle's).
    j : int
    """

    def __init__(self, data: KernelData, plan: Plan, j: int):
        super().__init__(data)
        self.plan = plan
        self.j = int(j)
        self.n_var = 1 + self.inst.n_retailers

    def arrays(self, X):
        P = X.shape[0]
        w, k = decode_block(self.inst, self.j, X)
        W = np.tile(self.plan.w, (P, 1))
        K = np.tile(self.plan.k, (P, 1, 1))
        W[:, self.j] = w
        K[:, :, self.j] = k
        return W, K

    def encode(self, plan: Plan) -> np.ndarray:
        return encode_block(self.inst, self.j, plan)

    def evaluate(self, X) -> np.ndarray:
        X = self._check(X)
        self.evaluations += X.shape[0]
        out = run(self.data, *self.arrays(X))
        return -out.expected[:, self.inst.n_retailers + self.j]


class SystemProblem(_Batched):
    """Every manufacturer's decisions at once (``M (1 + R)`` variables); the cost of a particle
    is minus the expected profit of the whole chain."""

    def __init__(self, data: KernelData):
        super().__init__(data)
        self.block = 1 + self.inst.n_retailers
        self.n_var = self.inst.n_manufacturers * self.block

    def arrays(self, X):
        inst, b = self.inst, self.block
        P, M, R = X.shape[0], inst.n_manufacturers, inst.n_retailers
        W = np.zeros((P, M))
        K = np.zeros((P, R, M))
        for j in range(M):
            W[:, j], K[:, :, j] = decode_block(inst, j, X[:, j * b:(j + 1) * b])
        return W, K

    def encode(self, plan: Plan) -> np.ndarray:
        return np.concatenate([encode_block(self.inst, j, plan)
                               for j in range(self.inst.n_manufacturers)])

    def evaluate(self, X) -> np.ndarray:
        X = self._check(X)
        self.evaluations += X.shape[0]
        return -run(self.data, *self.arrays(X)).expected.sum(axis=1)


def polish(problem, x: np.ndarray, cost: float, step: float = 0.05, min_step: float = 1e-9
           ) -> tuple[np.ndarray, float]:
    """Compass search from ``x``: the ``2 n`` moves of ``step`` along each axis (clipped to
    the cube) are evaluated in one batch; move to the best if it lowers the cost, else halve
    the step; stop below ``min_step``."""
    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0).copy()
    n = x.size
    while step >= min_step:
        cand = np.repeat(x[None, :], 2 * n, axis=0)
        idx = np.arange(n)
        cand[2 * idx, idx] += step
        cand[2 * idx + 1, idx] -= step
        np.clip(cand, 0.0, 1.0, out=cand)
        c = problem.evaluate(cand)
        b = int(np.argmin(c))
        if c[b] < cost:
            x, cost = cand[b].copy(), float(c[b])
        else:
            step *= 0.5
    return x, cost


def clearing_plan(inst: Instance) -> Plan:
    """Where the best responses start: every manufacturer offers its whole capacity at the
    common price at which the retailers' uncapped equilibrium buys exactly the total capacity
    (clipped to ``[max ca, w_max]``), split among the retailers in proportion to what each
    then buys (equally when nobody buys)."""
    R, M = inst.n_retailers, inst.n_manufacturers
    total = float(inst.capacity.sum())
    huge = np.full((R, 1), 1e12 + 10 * total)

    def bought(price: float) -> tuple[np.ndarray, float]:
        y, S = equilibrium(np.array([price]), huge, inst.z)
        return y[:, 0], S

    lo, hi = float(inst.unit_cost.max()), float(inst.price_cap)
    if bought(lo)[1] <= total:
        price = lo
    elif bought(hi)[1] >= total:
        price = hi
    else:
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if bought(mid)[1] > total:
                lo = mid
            else:
                hi = mid
        price = hi
    Y, S = bought(price)
    share = Y / S if S > 0 else np.full(R, 1.0 / R)
    return Plan.from_arrays(np.full(M, price), np.outer(share, inst.capacity))
