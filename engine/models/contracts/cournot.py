"""The retailers' Cournot equilibrium under caps (exact; ``docs/models/contracts.md``), and its
optimality conditions."""

from __future__ import annotations

import numpy as np

from ....kernels import contracts_cournot as kc


def equilibrium(w, k, z) -> tuple[np.ndarray, float]:
    """Contract quantities ``y`` (R, M) and total ``S`` of one contract."""
    w = np.ascontiguousarray(w, np.float64)
    k = np.ascontiguousarray(k, np.float64)
    y = np.zeros(k.shape)
    S = kc.cournot(w, k, np.ascontiguousarray(z, np.float64), y)
    return y, float(S)


def equilibria(w, k, z) -> tuple[np.ndarray, np.ndarray]:
    """Contract quantities (P, R, M) and totals (P,) of ``P`` contracts: ``w`` (P, M), ``k``
    (P, R, M)."""
    w = np.ascontiguousarray(w, np.float64)
    k = np.ascontiguousarray(k, np.float64)
    y = np.zeros(k.shape)
    S = np.zeros(w.shape[0])
    kc.cournot_batch(w, k, np.ascontiguousarray(z, np.float64), y, S)
    return y, S


def kkt_residual(y, w, k, z) -> float:
    """Largest natural residual of the retailers' optimality conditions,
    ``|y[i,j] - clip(y[i,j] + z[i] - S - Y[i] - w[j], 0, k[i,j])|``: zero exactly at an
    equilibrium (each retailer's first-order conditions with her bounds)."""
    y, w, k, z = (np.asarray(a, np.float64) for a in (y, w, k, z))
    Y = y.sum(axis=1)
    marginal = z - y.sum() - Y
    step = y + marginal[:, None] - w[None, :]
    return float(np.abs(y - np.clip(step, 0.0, k)).max())


def retailer_profit(i: int, y, w, z) -> float:
    """Retailer i's contract-stage profit ``(z[i] - S) Y[i] - sum_j w[j] y[i,j]``."""
    y = np.asarray(y, np.float64)
    return float((z[i] - y.sum()) * y[i].sum() - np.dot(w, y[i]))
