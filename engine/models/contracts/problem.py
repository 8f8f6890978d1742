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


#: Shares of a manufacturer's capacity put on one retailer by :func:`concentrations`.
CONCENTRATIONS = (0.5, 0.75, 0.9, 0.95, 0.98, 1.0)
#: How far below its cheapest rival (in the price coordinate of the unit cube) an undercutting
#: deviation quotes.
UNDERCUT = 1e-7


def concentrations(inst: Instance, plan: Plan, j: int) -> np.ndarray:
    """Manufacturer j's structured deviations from ``plan`` as particles (n, 1 + R): a share
    ``f`` in :data:`CONCENTRATIONS` of its capacity on one retailer, the rest over the others
    in proportion to its current caps (evenly when it has none), at its current price, at its
    cheapest rival's price and just below it. These are the deviations that win when prices
    tie: at a tie a retailer splits her purchase in proportion to the caps, just below it she
    buys from the cheaper source first (the best response jumps there)."""
    R = inst.n_retailers
    cur = encode_block(inst, j, plan)
    others = [jj for jj in range(inst.n_manufacturers) if jj != j]
    prices = [cur[0]]
    if others:
        ca, span = inst.unit_cost[j], inst.price_cap - inst.unit_cost[j]
        rival = (min(plan.w[jj] for jj in others) - ca) / span if span > 0 else 0.0
        prices += [rival, rival - UNDERCUT]
    out = []
    for i in range(R):
        rest = np.delete(cur[1:], i)
        rest = rest / rest.sum() if rest.sum() > 0 else np.full(R - 1, 1.0 / max(R - 1, 1))
        for f in CONCENTRATIONS:
            caps = np.insert((1.0 - f) * rest, i, f)
            for x0 in prices:
                out.append(np.concatenate([[x0], caps]))
    return np.clip(np.array(out), 0.0, 1.0)


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


def polish(problem, x: np.ndarray, cost: float, step: float = 0.05, min_step: float = 1e-9,
           max_batches: int = 150) -> tuple[np.ndarray, float]:
    """Compass search from ``x``: the ``2 n`` moves of ``step`` along each axis (clipped to
    the cube) are evaluated in one batch; move to the best if it lowers the cost and double
    the step (up to its start), else halve it; stop below ``min_step`` or after
    ``max_batches`` batches. Doubling after a move keeps a long slope from being walked at the
    smallest step; the bound stops a zigzag along a ridge oblique to the axes (a price
    tracking a rival's while caps shift), where each move gains a little."""
    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0).copy()
    n = x.size
    top = step
    for _ in range(max_batches):
        if step < min_step:
            break
        cand = np.repeat(x[None, :], 2 * n, axis=0)
        idx = np.arange(n)
        cand[2 * idx, idx] += step
        cand[2 * idx + 1, idx] -= step
        np.clip(cand, 0.0, 1.0, out=cand)
        c = problem.evaluate(cand)
        b = int(np.argmin(c))
        if c[b] < cost:
            x, cost = cand[b].copy(), float(c[b])
            step = min(2.0 * step, top)
        else:
            step *= 0.5
    return x, cost


def _clearing(inst: Instance) -> tuple[float, np.ndarray]:
    """The common price at which the retailers' uncapped equilibrium buys exactly the total
    capacity (clipped to ``[max ca, w_max]``), and each retailer's share of what they then buy
    (equal shares when nobody buys)."""
    R = inst.n_retailers
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
    return price, (Y / S if S > 0 else np.full(R, 1.0 / R))


def clearing_plan(inst: Instance) -> Plan:
    """Every manufacturer offers its whole capacity at the market-clearing price (see
    :func:`_clearing`), split among the retailers in proportion to what each then buys."""
    price, share = _clearing(inst)
    return Plan.from_arrays(np.full(inst.n_manufacturers, price),
                            np.outer(share, inst.capacity))


def _corner(rows: np.ndarray, cols: np.ndarray, row_order, col_order) -> np.ndarray:
    """The north-west corner allocation: fill the cells in the given orders of rows and
    columns, each as far as its row total and column total leave room. Returns (R, M)."""
    rows, cols = rows.astype(np.float64).copy(), cols.astype(np.float64).copy()
    k = np.zeros((rows.size, cols.size))
    a = b = 0
    while a < rows.size and b < cols.size:
        i, j = row_order[a], col_order[b]
        q = min(rows[i], cols[j])
        k[i, j] = q
        rows[i] -= q
        cols[j] -= q
        if rows[i] <= 1e-12 * max(1.0, q):
            a += 1
        else:
            b += 1
    return k


def clearing_plans(inst: Instance) -> list[tuple[str, Plan]]:
    """The market-clearing contracts the equilibrium search starts from: the common clearing
    price, every capacity offered in full, the caps split among the retailers (a) in
    proportion to what each buys (``proportional``, :func:`clearing_plan`), (b) by the
    north-west corner rule with the retailers in decreasing purchase and the manufacturers
    in decreasing capacity (``largest first``: few, large relationships) and (c) in
    increasing capacity (``smallest first``). Duplicates are dropped."""
    price, share = _clearing(inst)
    K = inst.capacity
    targets = share * K.sum()
    by_share = np.argsort(-share, kind="stable")
    by_cap = np.argsort(-K, kind="stable")
    w = np.full(inst.n_manufacturers, price)
    prop = clearing_plan(inst)
    out = [("proportional", prop)]

    def add(name, k):
        if not any(np.allclose(k, p.k, rtol=1e-12, atol=1e-9) for _, p in out):
            out.append((name, Plan.from_arrays(w, k)))

    corners = [(name, _corner(targets, K, by_share, cols))
               for name, cols in (("largest first", by_cap), ("smallest first", by_cap[::-1]))]
    for name, k in corners:
        add(name, k)
    for name, k in corners:
        add(f"halfway to {name}", 0.5 * (prop.k + k))
    return out
