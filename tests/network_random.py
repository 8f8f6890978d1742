"""Random network instances and random plans for the cross-check tests.

Small on purpose (a few firms, materials and periods) and rich in edge cases: short shelf
lives, lots expiring in period 1, loans, several shipments of one sender in one period.
"""

from __future__ import annotations

import numpy as np

from invswarm.engine.models.network import Instance, KernelData, Plan, generate, plan_costs
from invswarm.engine.models.network.plan import LOAN, PERMANENT


def random_instance(rng: np.random.Generator) -> Instance:
    inst = generate(firms=int(rng.integers(2, 6)), materials=int(rng.integers(1, 4)),
                    periods=int(rng.integers(2, 9)), density=float(rng.uniform(0.4, 1.0)),
                    life=(1, 5), expiring=0.7, seed=int(rng.integers(2**31)))
    doc = inst.to_json()
    doc["loans"] = {"durations": sorted({int(d) for d in rng.integers(1, 5, size=2)}),
                    "fee": float(rng.choice([0.0, 0.1]))}
    return Instance.from_json(doc)


def random_shipment(rng: np.random.Generator, inst: Instance):
    """One structurally valid shipment (arrays of length 1), or None when none fits."""
    T = inst.n_periods
    for _ in range(20):
        if inst.n_links == 0:
            return None
        lk = int(rng.integers(inst.n_links))
        i, j = int(inst.link_from[lk]), int(inst.link_to[lk])
        ms = np.flatnonzero(inst.listed[i] & inst.listed[j])
        if ms.size == 0:
            continue
        m = int(rng.choice(ms))
        t = int(rng.integers(0, T))
        if t + inst.lead[lk] > T - 1:
            continue
        qty = float(np.round(rng.uniform(0.5, 80.0), 1))
        rv = int(inst.reverse[lk])
        kind, ret = PERMANENT, -1
        if rv >= 0 and inst.durations.size and rng.random() < 0.4:
            r = t + int(rng.choice(inst.durations))
            if r <= T - 1 and r - inst.lead[rv] >= t + inst.lead[lk]:
                kind, ret = LOAN, r
        return Plan.from_arrays([lk], [m], [t], [qty], [kind], [ret])
    return None


def join(a: Plan, b: Plan) -> Plan:
    return Plan.from_arrays(*(np.concatenate([getattr(a, n), getattr(b, n)])
                              for n in ("link", "material", "period", "qty", "kind", "ret")))


def random_feasible_plan(rng: np.random.Generator, inst: Instance, data: KernelData,
                         tries: int = 12) -> Plan:
    """Add random shipments one by one, keeping those the kernel finds feasible."""
    plan = Plan.empty()
    for _ in range(tries):
        s = random_shipment(rng, inst)
        if s is None:
            break
        cand = join(plan, s)
        if plan_costs(data, [cand]).flags[0] == 0:
            plan = cand
    return plan


def random_plan(rng: np.random.Generator, inst: Instance, n: int = 6) -> Plan:
    """Random shipments, feasible or not."""
    plan = Plan.empty()
    for _ in range(n):
        s = random_shipment(rng, inst)
        if s is not None:
            plan = join(plan, s)
    return plan


def as_reference(plan: Plan, inst: Instance) -> list[dict]:
    return [{"from": int(inst.link_from[lk]), "to": int(inst.link_to[lk]), "material": int(m),
             "period": int(t), "qty": float(q), "kind": "loan" if k == LOAN else "permanent",
             "ret": int(r)}
            for lk, m, t, q, k, r in zip(plan.link, plan.material, plan.period, plan.qty,
                                         plan.kind, plan.ret)]
