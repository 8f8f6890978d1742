"""Random contracts instances and contracts for the cross-checks."""

from __future__ import annotations

import numpy as np

from invswarm.engine.models.contracts import Instance, generate


def random_instance(rng, *, paths=3, periods=16, disruptions=True, mode="guaranteed",
                    max_retailers=3, max_manufacturers=2) -> Instance:
    R = int(rng.integers(1, max_retailers + 1))
    M = int(rng.integers(1, max_manufacturers + 1))
    doc = generate(retailers=R, manufacturers=M, periods=periods,
                   periods_per_year=int(rng.integers(4, 53)),
                   scenarios=int(rng.integers(2, 4)) if disruptions else 1, paths=paths,
                   mode=mode, seed=int(rng.integers(0, 2**31)))
    return Instance.from_json(doc)


def random_contract(rng, inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Prices anywhere in their range (sometimes equal), caps anywhere within capacity
    (sometimes zero, sometimes the whole capacity)."""
    R, M = inst.n_retailers, inst.n_manufacturers
    w = inst.unit_cost + rng.random(M) * (inst.price_cap - inst.unit_cost)
    if M > 1 and rng.random() < 0.2:
        w[1] = w[0] = max(w[0], inst.unit_cost[1], inst.unit_cost[0])
    k = rng.random((R, M)) * (rng.random((R, M)) > 0.15)
    tot = k.sum(axis=0)
    scale = rng.uniform(0.2, 1.0, M) * inst.capacity / np.where(tot > 0, tot, 1.0)
    return w, k * scale
