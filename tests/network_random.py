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


def random_shipment(rng: np.random.Generator, inst: Instance, data: KernelData | None = None):
    """One structurally valid shipment (arrays of length 1), or None when none fits. With
    ``data``, the quantity is a random share of what the sender holds without sharing."""
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
        if data is not None:
            held = (inst.lots[i, m].sum() if t == 0 else data.base.traj[i, m, t - 1, 0]) \
                + inst.receipts[i, m, t]
            if held <= 0.1:
                continue
            qty = float(np.round(rng.uniform(0.05, 1.0) * held, 1)) or 0.1
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
    """Add random shipments one by one, keeping those the kernel finds feasible (a refused
    one is retried at a half, a quarter, a tenth and 3 % of its quantity)."""
    plan = Plan.empty()
    for _ in range(tries):
        s = random_shipment(rng, inst, data)
        if s is None:
            continue
        cands = [join(plan, Plan.from_arrays(s.link, s.material, s.period,
                                             np.round(s.qty * f, 2), s.kind, s.ret))
                 for f in (1.0, 0.5, 0.25, 0.1, 0.03)]
        ok = np.flatnonzero(plan_costs(data, cands).flags == 0)
        if ok.size:
            plan = cands[ok[0]]
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
