"""The constructive start of the SFI local search (:func:`heuristic_plan`)."""

from __future__ import annotations

import numpy as np

from .instance import Instance
from .plan import Plan


def heuristic_plan(inst: Instance) -> Plan:
    """Dedicated stock for the mean orders at each product's cheapest on-time CODP
    (:func:`on_time_codp`); no generic. Where the orders exceed the capacity, the units whose
    shortage costs least are not made (:func:`_capacity_cut`).
    """
    C, T = inst.n_categories, inst.n_periods
    d = (inst.weights[:, None, None] * inst.orders).sum(axis=0)
    codp = np.repeat(on_time_codp(inst)[:, None], T, axis=1)
    pdp = np.array([[inst.pdp_candidates(c)[0]] * T for c in range(C)], dtype=np.int64)
    return Plan(pdp, np.zeros((C, T)), codp, _capacity_cut(inst, np.floor(d)))


def _capacity_cut(inst: Instance, want: np.ndarray) -> np.ndarray:
    """``want`` (units per product and period, shape (P, T)) cut to the capacity of each
    period, cheapest shortage first.

    A unit not made is assumed made to order instead, late by the raw material's remaining
    time less the lead time (delay penalty); units below the service level's share of the
    orders also cost the service penalty. Cutting every product alike, as a proportional
    scaling would, cuts the expensive units with the cheap ones: on the bench's 30 x 10 x 52
    instance the constructive plan cost 611.1 M scaled, 595.3 M cut this way (by hand).
    """
    out = want.copy()
    late = np.maximum(0.0, inst.remaining[0] - inst.lead_time)
    delay = inst.delay_penalty * late
    P = want.shape[0]
    for t in range(want.shape[1]):
        over = want[:, t].sum() - inst.capacity[t]
        if over <= 0:
            continue
        keep = np.minimum(np.floor(inst.service_level * want[:, t]), want[:, t])
        units = np.concatenate([want[:, t] - keep, keep])
        cost = np.concatenate([delay, delay + inst.service_penalty])
        who = np.concatenate([np.arange(P), np.arange(P)])
        for j in np.argsort(cost, kind="stable"):
            x = min(units[j], over)
            out[who[j], t] -= x
            over -= x
            if over <= 0:
                break
        out[:, t] = np.floor(out[:, t])
    return out


def on_time_codp(inst: Instance) -> np.ndarray:
    """Each product's cheapest on-time CODP: its lowest candidate from which it is on time
    (holding grows downstream), or its most downstream candidate; shape (P,)."""
    out = np.empty(inst.n_products, dtype=np.int64)
    for p in range(inst.n_products):
        kd = inst.codp_candidates(p)
        ok = kd[inst.remaining[kd] <= inst.lead_time[p]]
        out[p] = ok[0] if ok.size else kd[-1]
    return out
