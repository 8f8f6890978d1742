"""Random SFI instances and random feasible plans for the cross-check tests.

Small on purpose (a few stages, products and periods) and rich in edge cases: zero orders,
empty buffers, quantities equal to the demand they meet (ties in the draw rule), several
scenarios, products sharing a category, non-default priorities. The makers take a numpy
Generator; :func:`instances` and :func:`instances_with_plans` are the same makers as
Hypothesis strategies, whose examples shrink (``tests/drawn.py``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from invswarm.engine.models.sfi import Instance, Plan

from .drawn import DrawnRng

#: Least and most stages after the raw one (S), categories and products of an instance.
STAGES, CATEGORIES, PRODUCTS = (2, 7), (1, 3), (1, 5)


def random_instance(rng: np.random.Generator, *, max_periods: int = 5, max_scenarios: int = 3,
                    sizes: tuple[int, int, int, int, int] | None = None) -> Instance:
    """A random instance; ``sizes`` (S, categories, products, periods, scenarios) are used
    instead of drawing them where given (:func:`instances` draws them first, so that each
    shrinks alone)."""
    def size(k: int, least: int, most: int) -> int:
        return int(rng.integers(least, most + 1)) if sizes is None else sizes[k]

    S = size(0, *STAGES)
    tau = np.concatenate([[0], np.cumsum(rng.integers(1, 15, size=S))])
    hold = np.sort(rng.uniform(0, 0.1, size=S + 1).round(4))
    stages = [{
        "name": f"s{s}", "tau": int(tau[s]), "value": round(float(rng.uniform(50, 600)), 2),
        "hold": float(hold[s]), "setup_generic": float(rng.choice([0, rng.uniform(0, 2000)])),
        "setup_dedicated": float(rng.uniform(0, 2000)),
        "setup_reuse": float(rng.choice([0, rng.uniform(0, 800)])),
    } for s in range(S + 1)]
    C = size(1, *CATEGORIES)
    P = size(2, *PRODUCTS)
    T = size(3, 1, max_periods)
    NS = size(4, 1, max_scenarios)
    inner = np.arange(1, S)
    cats = []
    for c in range(C):
        kg = rng.choice(inner, size=int(rng.integers(1, inner.size + 1)), replace=False)
        cats.append({"name": f"c{c}", "pdp_candidates": sorted(kg.tolist())})
    prods = []
    for p in range(P):
        c = int(rng.integers(0, C))
        allowed = inner[inner >= cats[c]["pdp_candidates"][0]]
        kd = rng.choice(allowed, size=int(rng.integers(1, allowed.size + 1)), replace=False)
        prods.append({
            "name": f"p{p}", "category": c, "codp_candidates": sorted(kd.tolist()),
            "lead_time": round(float(rng.uniform(0, tau[-1] * 1.1)), 1),
            "delay_penalty": round(float(rng.uniform(0, 1)), 3),
            "service_level": float(rng.choice([0.0, 1.0, rng.uniform(0.5, 1.0)])),
            "service_penalty": float(rng.uniform(0, 50)),
            "lost_sale_penalty": float(rng.uniform(0, 500)),
            "priority": int(rng.integers(0, 3)),
        })
    base = rng.uniform(0, 100, size=(P, 1))
    orders = np.round(base * rng.uniform(0, 2, size=(NS, P, T)))
    orders[rng.random(size=orders.shape) < 0.15] = 0
    if NS == 1:
        order_doc: object = orders[0].tolist()
    else:
        w = rng.uniform(0.1, 1, size=NS)
        order_doc = {"scenarios": orders.tolist(), "weights": (w / w.sum()).tolist()}
    demand = orders.max(axis=0).sum(axis=0)
    doc = {
        "model": "sfi", "name": "random", "disposal_rate": float(rng.uniform(0, 1)),
        "stages": stages, "categories": cats, "products": prods,
        "periods": {
            "prep": rng.integers(0, 60, size=T).tolist(),
            "fulfil": rng.integers(1, 150, size=T).tolist(),
            "capacity": np.round(demand * rng.uniform(0.5, 1.3, size=T)).tolist(),
            "mto_capacity": np.round(demand * rng.choice([0, 0.1, 0.3], size=T)).tolist(),
        },
        "orders": order_doc,
        "initial": {
            "generic": [{"stage": int(rng.choice(inner)),
                         "qty": float(rng.choice([0, rng.integers(0, 80)]))} for _ in range(C)],
            "dedicated": [{"stage": int(rng.choice(inner)),
                           "qty": float(rng.choice([0, rng.integers(0, 40)]))} for _ in range(P)],
            "backlog": [float(rng.choice([0, rng.integers(0, 50)])) for _ in range(P)],
        },
    }
    return Instance.from_json(doc)


def random_plan(rng: np.random.Generator, inst: Instance) -> Plan:
    """A feasible plan: candidate stages with CODP at or after PDP, capacity respected."""
    C, P, T = inst.n_categories, inst.n_products, inst.n_periods
    pdp = np.empty((C, T), dtype=np.int64)
    codp = np.empty((P, T), dtype=np.int64)
    for t in range(T):
        for c in range(C):
            kg = inst.pdp_candidates(c)
            pdp[c, t] = rng.choice(kg)
        for p in range(P):
            kd = inst.codp_candidates(p)
            ok = kd[kd >= pdp[inst.category[p], t]]
            if ok.size == 0:
                # Move the category's PDP to its lowest candidate, which every CODP follows
                # (earlier products' CODPs stay valid, being above the old, higher PDP).
                pdp[inst.category[p], t] = inst.pdp_candidates(inst.category[p])[0]
                ok = kd
            codp[p, t] = rng.choice(ok)
    d = inst.orders[0]
    dem_c = np.zeros((C, T))
    np.add.at(dem_c, inst.category, d)
    style = rng.integers(0, 3)
    if style == 0:  # exactly the orders: ties between stock and demand
        ded = d * rng.integers(0, 2, size=(P, T))
        gen = dem_c * rng.integers(0, 2, size=(C, T)) / 2
    else:
        ded = np.round(rng.uniform(0, 1.5, size=(P, T)) * d)
        gen = np.round(rng.uniform(0, 1.0, size=(C, T)) * dem_c)
    ded[rng.random(size=ded.shape) < 0.25] = 0
    gen[rng.random(size=gen.shape) < 0.25] = 0
    used = ded.sum(axis=0) + gen.sum(axis=0)
    scale = np.minimum(1.0, inst.capacity / np.maximum(used, 1e-12))
    return Plan(pdp, np.floor(gen * scale), codp, np.floor(ded * scale))


def _drawn_instance(draw, max_periods: int, max_scenarios: int) -> Instance:
    sizes = draw(st.tuples(st.integers(*STAGES), st.integers(*CATEGORIES),
                           st.integers(*PRODUCTS), st.integers(1, max_periods),
                           st.integers(1, max_scenarios)))
    return random_instance(DrawnRng(draw), max_periods=max_periods, max_scenarios=max_scenarios,
                           sizes=sizes)


@st.composite
def instances(draw, max_periods: int = 5, max_scenarios: int = 3) -> Instance:
    """Random instances (:func:`random_instance`) as a strategy."""
    return _drawn_instance(draw, max_periods, max_scenarios)


@st.composite
def instances_with_plans(draw, plans: int, max_periods: int = 5,
                         max_scenarios: int = 3) -> tuple[Instance, list[Plan]]:
    """A random instance and ``plans`` random feasible plans of it (:func:`random_plan`) as
    a strategy."""
    inst = _drawn_instance(draw, max_periods, max_scenarios)
    rng = DrawnRng(draw)
    return inst, [random_plan(rng, inst) for _ in range(plans)]
